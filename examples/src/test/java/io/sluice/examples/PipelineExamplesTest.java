package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import io.sluice.pipeline.Outcome;
import io.sluice.pipeline.Pipeline;
import io.sluice.pipeline.PipelineException;
import io.sluice.pipeline.Result;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The pipeline examples do what their Javadoc says: every value, a timeout, an injected error. */
@Timeout(30)
class PipelineExamplesTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private List<String> lines() {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void theSeedPipelineTitleCasesEveryValueInOrder() throws Exception {
    Result<Long> r =
        PipelineFanOut.run(
            Context.background(),
            List.of("FOO", "BAR", "BAX"),
            Duration.ZERO,
            PipelineFanOut::title,
            out);

    assertEquals(List.of("sink: Foo", "sink: Bar", "sink: Bax"), lines());
    assertEquals(Outcome.COMPLETED, r.outcome());
  }

  @Test
  void theTimeoutStopsTheProducerAndDrainsWhatItProduced() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    CancelableContext ctx = Context.background(clock).withTimeout(Duration.ofSeconds(5));
    AtomicReference<Result<Long>> result = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(
                        PipelineFanOut.run(
                            ctx,
                            List.of("FOO", "BAR", "BAX"),
                            Duration.ofSeconds(3), // the seed's 3 s per item, 5 s timeout
                            PipelineFanOut::title,
                            out));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    // Advance one second at a time, each time once the producer sleeps again (two timers: its
    // sleep and the deadline), so what it produced before the deadline was emitted. Once the
    // deadline has passed, time stands still: the graceful stop must end the producer's sleep by
    // itself (advancing further would let the sleep time out first and produce more).
    while (runner.isAlive() && !ctx.isDone()) {
      while (runner.isAlive() && clock.pendingTimers() < 2 && !ctx.isDone()) {
        Thread.yield();
      }
      if (runner.isAlive() && !ctx.isDone()) {
        clock.advance(Duration.ofSeconds(1));
      }
      Thread.yield();
    }
    runner.join(Duration.ofSeconds(20));

    assertEquals(Outcome.STOPPED_GRACEFULLY, result.get().outcome());
    assertEquals(1L, result.get().value());
    assertEquals(List.of("sink: Foo"), lines());
  }

  @Test
  void anInjectedErrorFailsTheRunWithTheStageAndTheItemAndCancelsTheRest() {
    // S0, S1, S2 ... as many as an int counts: a producer that does not end by itself
    List<String> endless =
        new AbstractList<>() {
          @Override
          public String get(int i) {
            return "S" + i;
          }

          @Override
          public int size() {
            return Integer.MAX_VALUE;
          }
        };
    AtomicInteger titled = new AtomicInteger();
    TrackingThreadFactory threads = new TrackingThreadFactory("fan-out-");

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                PipelineFanOut.run(
                    Context.background(),
                    endless,
                    Duration.ZERO,
                    s -> {
                      titled.incrementAndGet();
                      if (s.equals("s500")) {
                        throw new IllegalArgumentException("oh no");
                      }
                      return PipelineFanOut.title(s);
                    },
                    out,
                    Pipeline.Options.defaults().withThreadFactory(threads)));

    assertEquals("to-title", e.stage());
    assertEquals("s500", e.item().orElseThrow());
    assertEquals("oh no", e.getCause().getMessage());
    // the sink saw an ordered prefix that stops before the failing item ...
    List<String> printed = lines();
    assertTrue(printed.size() <= 500, "printed " + printed.size());
    assertEquals(IntStream.range(0, printed.size()).mapToObj(i -> "sink: S" + i).toList(), printed);
    // ... the producer and the stages stopped: with a producer that does not end, the run ended
    // only because the failure cancelled them, and to-title saw a small part of the stream ...
    assertTrue(titled.get() < Integer.MAX_VALUE / 2, "to-title called " + titled + " times");
    // ... and no thread of the run is left
    threads.assertAllEndedCleanly();
  }

  @Test
  void theErrorChannelPolicyReportsTheFailureAndKeepsTheRest() throws Exception {
    List<String> got = PipelineErrorChannel.skipAndReport(List.of("FOO", "BAR", "BAX"), out);

    assertEquals(List.of("Bar", "Bax"), got);
    assertEquals("error: transformB on foo: oh no", lines().getFirst());
  }

  @Test
  void retriesRecoverAFlakyCallAndDeadLetterAPermanentFailure() throws Exception {
    List<Object> dead = PipelineErrorChannel.retryThenDeadLetter(List.of("foo", "bar", "bax"), out);

    assertEquals(List.of("bax"), dead);
    assertTrue(lines().contains("bar uploaded after 2 attempt(s)"), lines().toString());
    assertEquals("2 uploaded, 1 dead-lettered", lines().getLast());
  }

  @Test
  void theBoundedStepRunsAtMostOneThreadPerItemAndAtMostItsLimitAtOnce() throws Exception {
    PipelineBoundedStep.Observed one = PipelineBoundedStep.run(1, 8, out);
    PipelineBoundedStep.Observed many = PipelineBoundedStep.run(500, 8, out);

    assertEquals(List.of(0), one.results());
    assertEquals(1, one.peakInFlight());
    assertTrue(many.peakInFlight() <= 8, "peak " + many.peakInFlight());
    assertEquals(IntStream.range(0, 500).map(x -> x * x).boxed().toList(), many.results());
    // stage threads (source, dispatcher, collector, terminal's watcher) plus at most one per item,
    // and at least the 8 that ran at once
    int itemThreads = many.threadsStarted() - one.threadsStarted() + 1;
    assertTrue(itemThreads >= 8 && itemThreads <= 500, itemThreads + " threads for 500 items");
  }
}
