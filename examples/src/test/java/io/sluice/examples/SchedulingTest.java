package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import io.sluice.core.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The scheduling example, driven by a manual clock: milliseconds of test time, no sleeps. */
@Timeout(30)
class SchedulingTest {
  private static final Instant T0 = Instant.parse("2026-03-29T00:00:00Z");
  private final ManualClock clock = Clock.manual(T0);

  /** Waits (without sleeping) until some thread waits on one of the clock's timers. */
  private void awaitWaiter() {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (clock.pendingTimers() == 0) {
      if (System.nanoTime() > giveUp) {
        throw new AssertionError("nobody started waiting on the clock");
      }
      Thread.yield();
    }
  }

  @Test
  void waitUntilReturnsTrueWhenTheInstantComes() throws Exception {
    CompletableFuture<Boolean> reached = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                reached.complete(
                    Scheduling.waitUntil(Context.background(), clock, T0.plusSeconds(5)));
              } catch (Throwable e) {
                reached.completeExceptionally(e);
              }
            });
    awaitWaiter();

    clock.advance(Duration.ofSeconds(5));

    assertTrue(reached.get(20, TimeUnit.SECONDS));
  }

  @Test
  void waitUntilReturnsFalseWhenTheContextEndsFirst() throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    CompletableFuture<Boolean> reached = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                reached.complete(Scheduling.waitUntil(ctx, clock, T0.plusSeconds(5)));
              } catch (Throwable e) {
                reached.completeExceptionally(e);
              }
            });
    awaitWaiter();

    ctx.cancel();

    assertFalse(reached.get(20, TimeUnit.SECONDS));
  }

  @Test
  void aPastStartMovesForwardToTheNextBoundary() {
    Duration hour = Duration.ofHours(1);
    Instant start = Instant.parse("2019-09-17T14:00:00Z");

    Instant next = Scheduling.nextBoundary(Instant.parse("2026-03-29T10:20:00Z"), start, hour);

    assertEquals(Instant.parse("2026-03-29T11:00:00Z"), next);
  }

  @Test
  void aStartOnABoundaryOrInTheFutureIsKept() {
    Instant now = Instant.parse("2026-03-29T10:00:00Z");

    assertEquals(now, Scheduling.nextBoundary(now, now.minusSeconds(7200), Duration.ofHours(1)));
    assertEquals(
        now.plusSeconds(5), Scheduling.nextBoundary(now, now.plusSeconds(5), Duration.ofHours(1)));
  }

  @Test
  void cronDeliversAlignedFireTimesAndClosesOnCancel() throws Exception {
    Duration period = Duration.ofSeconds(1);
    try (CancelableContext ctx = Context.background(clock).withCancel()) {
      ReceiveChannel<Instant> ticks = Scheduling.cron(ctx, clock, T0.minusMillis(2500), period);

      awaitWaiter();
      clock.advance(Duration.ofMillis(500));
      assertEquals(T0.plusMillis(500), ticks.receive());
      for (int i = 1; i <= 3; i++) {
        awaitWaiter();
        clock.advance(period);
        assertEquals(T0.plusMillis(500).plus(period.multipliedBy(i)), ticks.receive());
      }

      ctx.cancel();

      assertTrue(ticks.receiveOrClosed() instanceof Received.Closed<Instant>);
    }
  }

  @Test
  void aCronWhoseConsumerStoppedReadingEndsItsThreadOnCancelInsteadOfBlockingInItsSend()
      throws Exception {
    // given a cron stream nobody reads: the first time fills its buffer, the next tick blocks
    TrackingThreadFactory threads = new TrackingThreadFactory("cron-");
    Duration period = Duration.ofSeconds(1);
    CancelableContext ctx = Context.background(clock).withCancel();
    ReceiveChannel<Instant> ticks = Scheduling.cron(ctx, clock, T0, period, threads);
    Thread feeder = threads.threads().getFirst();
    while (!(feeder.getState() == Thread.State.WAITING
        && Arrays.stream(feeder.getStackTrace()).anyMatch(f -> f.getMethodName().equals("send")))) {
      if (clock.pendingTimers() > 0) {
        clock.advance(period); // a tick the feeder must send, but the stream is full
      }
      Thread.yield(); // until the feeder waits in its send on the full stream (Go's leak)
    }

    // when the consumer cancels without reading
    ctx.cancel();

    // then the feeder ends, its ticker stopped, and the stream holds the first time, then the end
    feeder.join();
    threads.assertAllEndedCleanly();
    assertEquals(0, clock.pendingTimers(), "the ticker was stopped");
    Instant first = ticks.receive();
    assertEquals(0, Duration.between(T0, first).toMillis() % period.toMillis(), "aligned");
    assertTrue(ticks.receiveOrClosed() instanceof Received.Closed<Instant>);
  }

  @Test
  void drainUntilIdleStopsAtTheEndOfTheStream() throws Exception {
    Channel<String> values = Channel.buffered(3);
    values.send("a");
    values.send("b");
    values.close();

    assertEquals(2, Scheduling.drainUntilIdle(values, Duration.ofSeconds(10)));
  }

  @Test
  void drainUntilIdleStopsWhenTheProducerGoesQuiet() throws Exception {
    Channel<String> values = Channel.buffered(3);
    values.send("a");

    assertEquals(1, Scheduling.drainUntilIdle(values, Duration.ofMillis(1)));
  }

  /** Runs {@link Scheduling#drainUntilIdleOneTimer} on its own thread. */
  private CompletableFuture<Integer> drainOneTimer(
      Channel<String> values, Duration idle, Consumer<String> handle) {
    CompletableFuture<Integer> done = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                done.complete(Scheduling.drainUntilIdleOneTimer(values, clock, idle, handle));
              } catch (Throwable e) {
                done.completeExceptionally(e);
              }
            });
    return done;
  }

  /** Waits (without sleeping) until the loop waits on its timer again, or has ended. */
  private void awaitLoopWaitingOrDone(CompletableFuture<Integer> loop) {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (clock.pendingTimers() == 0 && !loop.isDone()) {
      if (System.nanoTime() > giveUp) {
        throw new AssertionError("the loop neither waited nor ended");
      }
      Thread.yield();
    }
  }

  @Test
  void theOneTimerLoopStopsAtTheEndOfTheStream() throws Exception {
    Channel<String> values = Channel.buffered(3);
    values.send("a");
    values.send("b");
    values.close();
    List<String> handled = new CopyOnWriteArrayList<>();

    int n = Scheduling.drainUntilIdleOneTimer(values, clock, Duration.ofSeconds(10), handled::add);

    assertEquals(2, n);
    assertEquals(List.of("a", "b"), handled);
    assertEquals(0, clock.pendingTimers(), "the timer holds no engine entry after the loop");
  }

  @Test
  void theOneTimerLoopEndsAfterExactlyIdleOfQuiet() throws Exception {
    Channel<String> values = Channel.buffered(1);
    values.send("a");
    Duration idle = Duration.ofSeconds(10);

    CompletableFuture<Integer> loop = drainOneTimer(values, idle, s -> {});
    awaitWaiter(); // handled "a", waiting on the reset timer
    clock.advance(idle.minusNanos(1));
    assertFalse(loop.isDone(), "a nanosecond short of idle");
    clock.advance(Duration.ofNanos(1));

    assertEquals(1, loop.get(20, TimeUnit.SECONDS));
  }

  @Test
  void eachValueMovesTheDeadlineOfTheOneTimer() throws Exception {
    Channel<String> values = Channel.unbuffered();
    Duration idle = Duration.ofSeconds(10);
    AtomicInteger handled = new AtomicInteger();
    CompletableFuture<Integer> loop = drainOneTimer(values, idle, s -> handled.incrementAndGet());

    for (int i = 1; i <= 3; i++) {
      awaitWaiter();
      clock.advance(Duration.ofSeconds(9)); // 27 s in all: more than idle, never idle at once
      values.send("v" + i);
      int seen = i;
      long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (handled.get() < seen || clock.pendingTimers() == 0) { // handled, then reset
        if (System.nanoTime() > giveUp) {
          throw new AssertionError("value " + seen + " was not handled");
        }
        Thread.yield();
      }
    }
    assertFalse(loop.isDone());
    clock.advance(idle);

    assertEquals(3, loop.get(20, TimeUnit.SECONDS));
  }

  @Test
  void aTimerThatFellDueWhileAValueWasHandledLeavesNoStaleTimeout() throws Exception {
    Channel<String> values = Channel.buffered(1);
    Duration idle = Duration.ofSeconds(10);
    // Handling "a" takes twice the idle time: the timer falls due with nobody receiving. In Go
    // before 1.23 its value would wait in the channel and end the loop at the next select.
    CompletableFuture<Integer> loop =
        drainOneTimer(
            values,
            idle,
            s -> {
              if (s.equals("a")) {
                clock.advance(idle.multipliedBy(2));
              }
            });
    values.send("a");
    awaitLoopWaitingOrDone(loop);
    assertFalse(loop.isDone(), "the loop ended on a stale timeout");

    values.send("b");
    values.close();

    assertEquals(2, loop.get(20, TimeUnit.SECONDS));
  }

  // ---- the seed's "Stop does not close C" ----

  /** Collects what logger {@code io.sluice.core.Timer} logs while {@code body} runs. */
  private static List<LogRecord> timerWarningsDuring(ThrowingRunnable body) throws Exception {
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            records.add(r);
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger logger = Logger.getLogger("io.sluice.core.Timer");
    logger.addHandler(capture);
    try {
      body.run();
    } finally {
      logger.removeHandler(capture);
    }
    return records;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  private CompletableFuture<Optional<Instant>> awaitTimerInBackground(
      Timer timer, CancelableContext stopped) {
    CompletableFuture<Optional<Instant>> woke = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                woke.complete(Scheduling.awaitTimerUnlessStopped(timer, stopped));
              } catch (Throwable e) {
                woke.completeExceptionally(e);
              }
            });
    return woke;
  }

  @Test
  void aTimerWaiterThatAnotherThreadStopsWakesWithNothingAndNothingIsLogged() throws Exception {
    Timer timer = clock.newTimer(Duration.ofHours(1));
    CancelableContext stopped = Context.background().withCancel();
    CompletableFuture<Optional<Instant>> woke = awaitTimerInBackground(timer, stopped);
    awaitWaiter();

    List<LogRecord> warnings =
        timerWarningsDuring(
            () -> {
              assertTrue(Scheduling.stopAndRelease(timer, stopped));
              assertEquals(Optional.empty(), woke.get(20, TimeUnit.SECONDS));
            });

    assertTrue(warnings.isEmpty(), () -> "unexpected warning: " + warnings);
  }

  @Test
  void aTimerWaiterGetsTheInstantWhenTheTimerFiresBeforeAnyStop() throws Exception {
    Timer timer = clock.newTimer(Duration.ofSeconds(5));
    CancelableContext stopped = Context.background().withCancel();
    CompletableFuture<Optional<Instant>> woke = awaitTimerInBackground(timer, stopped);
    awaitWaiter();

    clock.advance(Duration.ofSeconds(5));

    assertEquals(Optional.of(T0.plusSeconds(5)), woke.get(20, TimeUnit.SECONDS));
    assertFalse(Scheduling.stopAndRelease(timer, stopped), "it had fired");
  }

  @Test
  void theSeedsPlainReceiveStaysBlockedAfterStopAndTheWarningNamesIt() throws Exception {
    Timer timer = clock.newTimer(Duration.ofSeconds(2));
    CompletableFuture<Instant> got = new CompletableFuture<>();
    Thread receiver =
        Thread.ofVirtual()
            .name("seed-receiver")
            .start(
                () -> {
                  try {
                    got.complete(timer.channel().receive()); // <-timer1.C
                  } catch (Throwable e) {
                    got.completeExceptionally(e);
                  }
                });
    awaitWaiter();

    List<LogRecord> warnings = timerWarningsDuring(() -> assertTrue(timer.stop()));

    assertEquals(1, warnings.size(), () -> "warnings: " + warnings);
    assertTrue(warnings.getFirst().getMessage().contains("'seed-receiver'"));
    assertFalse(got.isDone(), "stop does not close the channel: the receiver still waits");
    timer.reset(Duration.ofSeconds(1)); // only a reset (or an interrupt) releases it
    clock.advance(Duration.ofSeconds(1));
    assertEquals(T0.plusSeconds(1), got.get(20, TimeUnit.SECONDS));
    receiver.join();
  }
}
