package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A run's context stops it — immediately or gracefully — and the terminal says which; an
 * interrupted caller stops it too. Every thread the run started has ended when the terminal
 * returns.
 */
@Timeout(30)
class CancellationTest {

  /** A generator that emits 0, 1, 2 ... forever, counting what the pipeline accepted. */
  private static Pipeline<Long> endless(AtomicLong emitted, CountDownLatch afterMany) {
    return Pipeline.generate(
        out -> {
          for (long i = 0; ; i++) {
            out.emit(i);
            if (emitted.incrementAndGet() == 10_000) {
              afterMany.countDown();
            }
          }
        });
  }

  private static Thread cancelWhen(CountDownLatch latch, CancelableContext ctx) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                latch.await();
                ctx.cancel();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  @Test
  void immediateStopEndsAStageBlockedInUserCodeAndReportsIt() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CountDownLatch blocked = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller = cancelWhen(blocked, ctx);

    Result<Long> r =
        Pipeline.range(0, 1_000_000)
            .map(
                x -> {
                  if (x == 5000) {
                    blocked.countDown();
                    new CountDownLatch(1).await(); // never opens: only an interrupt ends it
                  }
                  return x;
                })
            .withOptions(threads.options())
            .forEach(ctx, x -> {});

    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertTrue(r.value() <= 5000, "consumed " + r.value());
    canceller.join();
    threads.assertAllEnded();
  }

  @Test
  void gracefulStopStopsTheSourceAndDrainsEveryItemAlreadyTaken() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    AtomicLong emitted = new AtomicLong();
    CountDownLatch many = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller = cancelWhen(many, ctx);

    Result<Long> r =
        endless(emitted, many)
            .map(x -> x * 2)
            .mapParallel(8, x -> x + 1)
            .withOptions(threads.options().withStopMode(StopMode.GRACEFUL))
            .forEach(ctx, x -> {});

    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    assertEquals(emitted.get(), r.value());
    assertTrue(r.value() >= 10_000);
    canceller.join();
    threads.assertAllEnded();
  }

  @Test
  void gracefulStopLetsAnItemInsideAStageFinish() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    inside.await();
                    ctx.cancel();
                    release.countDown();
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
                    release.await();
                  }
                  return x * 10;
                })
            .withOptions(Pipeline.Options.defaults().withStopMode(StopMode.GRACEFUL))
            .toList(ctx);

    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    assertEquals(List.of(0, 10, 20), r.value()); // the range was taken as one chunk before the stop
    canceller.join();
  }

  @Test
  void aDeadlineOnTheContextsClockStopsTheRun() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    CancelableContext ctx = Context.background(clock).withTimeout(Duration.ofSeconds(5));
    AtomicReference<Result<Long>> result = new AtomicReference<>();
    AtomicLong emitted = new AtomicLong();
    CountDownLatch many = new CountDownLatch(1);
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(endless(emitted, many).forEach(ctx, x -> {}));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    many.await();

    clock.advance(Duration.ofSeconds(5));
    runner.join();

    assertEquals(Outcome.STOPPED_IMMEDIATELY, result.get().outcome());
  }

  @Test
  void aContextDoneBeforeTheRunStopsItAtOnce() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    Result<List<Integer>> r =
        Pipeline.range(0, 10_000_000).map(x -> x).withOptions(threads.options()).toList(ctx);

    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertTrue(r.value().size() < 10_000_000);
    threads.assertAllEnded();
  }

  @Test
  void interruptingTheCallerStopsTheRunAndThrows() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch many = new CountDownLatch(1);
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    endless(new AtomicLong(), many)
                        .withOptions(threads.options())
                        .forEach(Context.background(), x -> {});
                  } catch (Throwable t) {
                    thrown.set(t);
                  }
                });
    many.await();

    caller.interrupt();
    caller.join();

    assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
    threads.assertAllEnded();
  }

  @Test
  void toChannelClosesTheChannelWithTheFailure() throws Exception {
    Channel<Integer> out = Channel.buffered(100);

    assertThrows(
        PipelineException.class,
        () ->
            Pipeline.range(0, 10)
                .map(
                    x -> {
                      if (x == 5) {
                        throw new IllegalStateException("boom");
                      }
                      return x;
                    })
                .toChannel(Context.background(), out));

    assertTrue(out.isClosed());
    List<Integer> got = new java.util.ArrayList<>();
    ChannelClosedException e =
        assertThrows(
            ChannelClosedException.class,
            () -> {
              for (Integer x : out) {
                got.add(x);
              }
            });
    assertEquals(List.of(0, 1, 2, 3, 4).subList(0, got.size()), got); // at most what passed
    PipelineException why = (PipelineException) e.error().orElseThrow();
    assertEquals("boom", why.getCause().getMessage());
  }

  @Test
  void whatTheShutdownInterruptMakesAFunctionThrowIsNotAFailure() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    Result<List<Integer>> r =
        Pipeline.range(0, 1000)
            .mapParallel(
                4,
                x -> {
                  if (x > 0) {
                    try {
                      new CountDownLatch(1).await(); // a blocking call that never returns
                    } catch (InterruptedException e) {
                      throw new java.io.IOException("closed by interrupt", e); // as NIO does
                    }
                  }
                  return x;
                })
            .take(1)
            .withOptions(threads.options())
            .toList(Context.background());

    assertEquals(Outcome.COMPLETED, r.outcome());
    assertEquals(List.of(0), r.value());
    threads.assertAllEnded();
  }
}
