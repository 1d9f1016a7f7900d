package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@link Pipeline#context()}: every function of a run sees the run's context, which ends a blocking
 * call when the run fails or stops; and a graceful stop with a limit becomes immediate.
 */
@Timeout(30)
class ContextTest {

  @Test
  void everyFunctionOfARunSeesTheSameContext() throws Exception {
    Set<Context> seen =
        Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));

    Pipeline.range(0, 100)
        .map(
            x -> {
              seen.add(Pipeline.context());
              return x;
            })
        .mapParallel(
            4,
            x -> {
              seen.add(Pipeline.context());
              return x;
            })
        .partitionBy(
            x -> x % 3,
            2,
            x -> {
              seen.add(Pipeline.context());
              return x;
            })
        .split(
            Context.background(),
            x -> {
              seen.add(Pipeline.context());
              return x % 2;
            },
            List.of(
                b -> seen.add(Pipeline.context()),
                Sink.<Integer, Integer>through(
                    p ->
                        p.map(
                            x -> {
                              seen.add(Pipeline.context());
                              return x;
                            }),
                    b -> seen.add(Pipeline.context()))));

    assertEquals(1, seen.size());
    assertTrue(seen.iterator().next().isDone(), "the run's context ends with the run");
  }

  @Test
  void outsideARunThereIsNoPipelineContext() {
    assertThrows(IllegalStateException.class, Pipeline::context);
  }

  @Test
  void aFunctionWaitingOnTheContextEndsWhenTheRunFails() throws Exception {
    CountDownLatch waiting = new CountDownLatch(1);
    AtomicReference<Throwable> cause = new AtomicReference<>();

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 2)
                    .mapParallelUnordered(
                        2,
                        x -> {
                          if (x == 0) {
                            Context ctx = Pipeline.context();
                            waiting.countDown();
                            try {
                              ctx.awaitDone(); // no timeout, no latch: only the run ends it
                            } finally {
                              cause.set(ctx.cause().orElse(null));
                            }
                            return x;
                          }
                          waiting.await();
                          throw new IllegalStateException("boom");
                        })
                    .named("work")
                    .toList(Context.background()));

    assertEquals(1, e.item().orElseThrow());
    assertSame(e, cause.get());
  }

  @Test
  void aGracefulStopLeavesTheContextLiveWhileThePipelineDrains() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean doneDuringDrain = new AtomicBoolean(true);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    inside.await();
                    ctx.cancel();
                    stopped.countDown();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    Result<List<Integer>> r =
        Pipeline.range(0, 3)
            .map(
                x -> {
                  if (x == 0) {
                    inside.countDown();
                    stopped.await();
                    doneDuringDrain.set(Pipeline.context().isDone());
                  }
                  return x;
                })
            .withOptions(Pipeline.Options.defaults().withStopMode(StopMode.GRACEFUL))
            .toList(ctx);

    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    assertFalse(doneDuringDrain.get());
    assertEquals(List.of(0, 1, 2), r.value());
    canceller.join();
  }

  @Test
  void aGracefulStopThatOutlastsItsLimitBecomesImmediate() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    CancelableContext ctx = Context.background(clock).withCancel();
    CountDownLatch stuck = new CountDownLatch(1);
    AtomicReference<Throwable> cause = new AtomicReference<>();
    AtomicReference<Result<List<Integer>>> result = new AtomicReference<>();
    TrackingThreadFactory threads = new TrackingThreadFactory();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(
                        Pipeline.range(0, 10)
                            .map(
                                x -> {
                                  if (x == 5) {
                                    Context c = Pipeline.context();
                                    stuck.countDown();
                                    c.awaitDone(); // a drain that never ends by itself
                                    cause.set(c.cause().orElseThrow());
                                  }
                                  return x;
                                })
                            .withOptions(
                                threads
                                    .options()
                                    .withStopMode(StopMode.GRACEFUL)
                                    .withGracefulStopTimeout(Duration.ofSeconds(5)))
                            .toList(ctx));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    stuck.await();
    IllegalStateException why = new IllegalStateException("shutting down");

    ctx.cancel(why);
    TrackingThreadFactory.awaitTrue(() -> clock.pendingTimers() > 0); // the limit's timer
    clock.advance(Duration.ofSeconds(5).minusNanos(1));
    assertTrue(runner.isAlive(), "still draining before the limit");
    clock.advance(Duration.ofNanos(1));
    runner.join();

    assertEquals(Outcome.STOPPED_IMMEDIATELY, result.get().outcome());
    assertSame(why, cause.get());
    assertEquals(
        List.of(0, 1, 2, 3, 4).subList(0, result.get().value().size()), result.get().value());
    threads.assertAllEnded();
  }
}
