package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.CancelableContext;
import io.sluice.core.Context;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random pipelines stopped at random points — cancelled immediately or gracefully, failed by an
 * injected error, or ended by take — each checked for its outcome, for what reached the end, and
 * for threads left running. The short run is part of every build; the long one is tagged
 * stress-long.
 */
class RandomStopStressTest {

  private static final List<Function<Pipeline<Long>, Pipeline<Long>>> SHAPES =
      List.of(
          p -> p.map(x -> x),
          p -> p.map(x -> x).filter(x -> true).peek(x -> {}),
          p -> p.mapParallel(8, x -> x),
          p -> p.buffer(50).mapParallel(3, x -> x).map(x -> x),
          p -> p.flatMap(List::of).map(x -> x),
          p -> p.batch(5, java.time.Duration.ofMinutes(1)).flatMap(x -> x));

  @Test
  @Timeout(120)
  void randomStopsEndEveryRunCleanly() throws Exception {
    run(40);
  }

  @Test
  @Tag("stress-long")
  @Timeout(900)
  void manyRandomStopsEndEveryRunCleanly() throws Exception {
    run(2000);
  }

  private static void run(int cases) throws Exception {
    long base = new Random().nextLong();
    for (int c = 0; c < cases; c++) {
      long seed = base + c;
      Random rnd = new Random(seed);
      Function<Pipeline<Long>, Pipeline<Long>> shape = SHAPES.get(rnd.nextInt(SHAPES.size()));
      TrackingThreadFactory threads = new TrackingThreadFactory();
      Pipeline.Options o =
          threads.options().withChunkSize(1 + rnd.nextInt(64)).withBufferSize(1 + rnd.nextInt(256));
      long stopAt = rnd.nextInt(5000);
      int how = rnd.nextInt(4);
      String what = "seed " + seed + ", how " + how + ", stop at " + stopAt;
      AtomicLong emitted = new AtomicLong();
      try (CancelableContext ctx = Context.background().withCancel()) {
        Pipeline<Long> source =
            Pipeline.generate(
                out -> {
                  for (long i = 0; ; i++) {
                    if (i == stopAt && how < 2) {
                      ctx.cancel();
                    }
                    out.emit(i);
                    emitted.incrementAndGet();
                  }
                });
        Pipeline<Long> p = shape.apply(source);
        switch (how) {
          case 0 -> { // immediate cancel: stops, delivers a prefix of the items
            Result<List<Long>> r = p.withOptions(o).toList(ctx);
            assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome(), what);
            assertPrefix(r.value(), what);
          }
          case 1 -> { // graceful cancel: every item the source took arrives
            Result<List<Long>> r = p.withOptions(o.withStopMode(StopMode.GRACEFUL)).toList(ctx);
            assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome(), what);
            assertEquals(emitted.get(), r.value().size(), what);
            assertPrefix(r.value(), what);
          }
          case 2 -> { // injected failure
            try {
              p.map(
                      x -> {
                        if (x == stopAt) {
                          throw new IllegalStateException("injected");
                        }
                        return x;
                      })
                  .withOptions(o)
                  .toList(ctx);
              throw new AssertionError("no failure: " + what);
            } catch (PipelineException e) {
              assertEquals("injected", e.getCause().getMessage(), what);
              assertEquals(stopAt, e.item().orElseThrow(), what);
            }
          }
          default -> { // take
            Result<List<Long>> r = p.take(stopAt).withOptions(o).toList(ctx);
            assertEquals(Outcome.COMPLETED, r.outcome(), what);
            assertEquals(stopAt, r.value().size(), what);
            assertPrefix(r.value(), what);
          }
        }
      }
      threads.assertAllEnded();
    }
  }

  private static void assertPrefix(List<Long> got, String what) {
    for (int i = 0; i < got.size(); i++) {
      if (got.get(i) != i) {
        throw new AssertionError("item " + i + " is " + got.get(i) + ": " + what);
      }
    }
  }
}
