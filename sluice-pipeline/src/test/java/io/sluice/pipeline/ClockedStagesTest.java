package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.sluice.core.Channel;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** batch's maxWait, throttle and ticks, driven by a manual clock: no sleeps, no timing. */
@Timeout(30)
class ClockedStagesTest {
  private final ManualClock clock = Clock.manual(Instant.EPOCH);
  private final Context ctx = Context.background(clock);

  private static Thread run(ThrowingRunnable r) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                r.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
  }

  private interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  void batchSendsAPartialBatchWhenMaxWaitHasPassed() throws Exception {
    Channel<Integer> in = Channel.unlimited();
    List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    in.send(1);
    in.send(2);
    in.send(3); // all buffered before the run: the source takes them as one chunk
    Thread runner =
        run(() -> Pipeline.from(in).batch(10, Duration.ofSeconds(1)).forEach(ctx, batches::add));
    TrackingThreadFactory.awaitTrue(() -> clock.pendingTimers() > 0);

    assertEquals(List.of(), batches); // waiting for more, or for its timer
    clock.advance(Duration.ofSeconds(1));
    TrackingThreadFactory.awaitTrue(() -> batches.size() == 1);
    in.send(4);
    in.close();
    runner.join();

    assertEquals(List.of(List.of(1, 2, 3), List.of(4)), batches);
  }

  @Test
  void batchSendsAFullBatchAtOnceWhileTheInputWaits() throws Exception {
    Channel<Integer> in = Channel.unlimited();
    List<List<Integer>> batches = new CopyOnWriteArrayList<>();
    in.send(1);
    in.send(2);
    Thread runner =
        run(() -> Pipeline.from(in).batch(2, Duration.ofSeconds(1)).forEach(ctx, batches::add));

    // The clock never moves: a full batch must not wait for its timer, nor for a next item.
    TrackingThreadFactory.awaitTrue(() -> batches.size() == 1);
    in.send(3);
    in.send(4);
    TrackingThreadFactory.awaitTrue(() -> batches.size() == 2);
    in.close();
    runner.join();

    assertEquals(List.of(List.of(1, 2), List.of(3, 4)), batches);
    assertEquals(Instant.EPOCH, clock.now());
  }

  @Test
  void throttlePassesABurstThenOneItemPerInterval() throws Exception {
    List<Integer> got = new CopyOnWriteArrayList<>();
    Thread runner =
        run(() -> Pipeline.range(0, 5).throttle(2, Duration.ofSeconds(1)).forEach(ctx, got::add));

    for (int expected = 2; expected <= 4; expected++) {
      int e = expected;
      TrackingThreadFactory.awaitTrue(() -> got.size() >= e && clock.pendingTimers() > 0);
      assertEquals(expected, got.size()); // the throttle waits on the clock: nothing more passes
      clock.advance(Duration.ofMillis(500));
    }
    runner.join();

    assertEquals(List.of(0, 1, 2, 3, 4), got);
    assertEquals(Instant.EPOCH.plusMillis(1500), clock.now());
  }

  @Test
  void ticksEmitsTheClocksInstantsUntilTakeHasEnough() throws Exception {
    AtomicReference<List<Instant>> got = new AtomicReference<>();
    Thread runner =
        run(() -> got.set(Pipeline.ticks(Duration.ofSeconds(1)).take(3).toList(ctx).value()));

    while (runner.isAlive()) {
      TrackingThreadFactory.awaitTrue(() -> clock.pendingTimers() > 0 || !runner.isAlive());
      if (clock.pendingTimers() > 0) {
        clock.advance(Duration.ofSeconds(1));
      }
    }

    assertEquals(
        List.of(
            Instant.EPOCH.plusSeconds(1),
            Instant.EPOCH.plusSeconds(2),
            Instant.EPOCH.plusSeconds(3)),
        got.get());
  }

  @Test
  void batchWithAMaxWaitTooLongToCountInNanosecondsGroupsBySize() throws Exception {
    // Sluice's rule for durations: one too long for a long of nanoseconds means "never".
    Duration forever = ChronoUnit.FOREVER.getDuration();

    List<List<Integer>> got = Pipeline.range(0, 5).batch(2, forever).toList(ctx).value();

    assertEquals(List.of(List.of(0, 1), List.of(2, 3), List.of(4)), got);
  }

  @Test
  void throttleWithAPeriodTooLongToCountInNanosecondsPassesItsBurst() throws Exception {
    Duration forever = ChronoUnit.FOREVER.getDuration();

    List<Integer> got = Pipeline.range(0, 3).throttle(5, forever).toList(ctx).value();

    assertEquals(List.of(0, 1, 2), got);
  }

  @Test
  void aThrottleInABranchStopsWaitingAsSoonAsTakeAfterItHasEnough() throws Exception {
    // given a broadcast to a branch that throttles to one item per ten minutes and then takes one,
    // and to a sink that holds the run open until the test lets it go on
    List<Integer> first = new CopyOnWriteArrayList<>();
    List<Integer> all = new CopyOnWriteArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    Sink<Integer> throttled =
        Sink.<Integer, Integer>through(
            p -> p.throttle(1, Duration.ofMinutes(10)).take(1), first::addAll);
    Sink<Integer> held =
        batch -> {
          release.await();
          all.addAll(batch);
        };
    TrackingThreadFactory threads = new TrackingThreadFactory();
    FutureTask<Result<Long>> run =
        new FutureTask<>(
            () ->
                Pipeline.range(0, 1_000)
                    .withOptions(threads.options().withChunkSize(10).withBufferSize(10))
                    .broadcast(ctx, List.of(throttled, held)));
    Thread runner = Thread.ofVirtual().start(run);
    try {
      // when take has its item, while the clock never moves (the throttle's wait never ends)
      TrackingThreadFactory.awaitTrue(() -> first.size() == 1);

      // then the throttle stops waiting while the run goes on: its thread ends
      TrackingThreadFactory.awaitTrue(() -> !anyAliveIn(threads, Stages.Throttle.class));
      assertFalse(run.isDone());
      release.countDown();
      Result<Long> r = run.get();
      assertEquals(List.of(0), first);
      assertEquals(IntStream.range(0, 1_000).boxed().toList(), all);
      assertEquals(Outcome.COMPLETED, r.outcome());
      assertEquals(Instant.EPOCH, clock.now());
      threads.assertAllEnded();
    } finally {
      release.countDown();
      runner.interrupt(); // a no-op once the run has ended; else it ends the run and its threads
      runner.join();
    }
  }

  /** Whether a live thread of {@code threads} is running code of {@code stage}. */
  private static boolean anyAliveIn(TrackingThreadFactory threads, Class<?> stage) {
    for (Thread t : threads.threads()) {
      for (StackTraceElement e : t.getStackTrace()) {
        if (e.getClassName().equals(stage.getName()) && t.isAlive()) {
          return true;
        }
      }
    }
    return false;
  }
}
