package io.sluice.schedule;

import static io.sluice.schedule.TriggerTest.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import io.sluice.core.TryReceived;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Schedules as channels of fire times: the seed's {@code cron(ctx, start, delay)}. */
@Timeout(60)
class FireTimesTest {
  static final Instant T0 = t("2026-03-28T12:00:00Z");
  static final Duration SECOND = Duration.ofSeconds(1);

  final ManualClock clock = Clock.manual(T0);
  final TestThreads threads = new TestThreads();
  final Scheduler scheduler =
      Scheduler.create(SchedulerOptions.defaults().withClock(clock).withThreadFactory(threads));
  final CancelableContext ctx = Context.background(clock).withCancel();

  @AfterEach
  void nothingOutlivesClose() {
    ctx.cancel();
    scheduler.close();
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, threads.count()); // a channel schedule never needs a thread
  }

  @Test
  void givenAStartInThePast_whenReading_thenFireTimesComeAlignedToTheStart() throws Exception {
    ReceiveChannel<Instant> ticks =
        scheduler.fireTimes(ctx, Trigger.every(SECOND, T0.minusMillis(2500)));

    clock.advance(Duration.ofMillis(500));
    assertEquals(T0.plusMillis(500), ticks.receive());
    clock.advance(SECOND);
    assertEquals(T0.plusMillis(1500), ticks.receive());
    assertEquals(0, ticks.len());
  }

  @Test
  void
      givenAConsumerThatFallsBehind_whenSeveralFireTimesPass_thenItGetsTheOldestAndTheRestAreDropped()
          throws Exception {
    ReceiveChannel<Instant> ticks = scheduler.fireTimes(ctx, Trigger.every(SECOND, T0));

    clock.advance(Duration.ofSeconds(3)); // 0, 1, 2, 3 s fall due; nobody reads

    assertEquals(T0, ticks.receive());
    assertInstanceOf(TryReceived.WouldBlock.class, ticks.tryReceive());
    clock.advance(SECOND);
    assertEquals(T0.plusSeconds(4), ticks.receive());
  }

  @Test
  void givenAConsumerThatStopsReading_whenManyFireTimesPass_thenOneTimerAndNoThreadRemain() {
    ReceiveChannel<Instant> ticks = scheduler.fireTimes(ctx, Trigger.every(SECOND, T0));

    for (int i = 0; i < 100; i++) {
      clock.advance(SECOND);
    }

    assertEquals(1, clock.pendingTimers());
    assertEquals(1, ticks.len());
    assertEquals(0, threads.count());
  }

  @Test
  void givenAStream_whenTheContextIsCancelled_thenTheChannelClosesAndTheTimerIsGone()
      throws Exception {
    ReceiveChannel<Instant> ticks = scheduler.fireTimes(ctx, Trigger.every(SECOND, T0));
    clock.advance(Duration.ZERO);
    assertEquals(T0, ticks.receive());

    ctx.cancel();

    assertInstanceOf(Received.Closed.class, ticks.receiveOrClosed()); // waits for the hook
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenACancelledContext_whenTheNextFireTimeComesBeforeTheHookRan_thenNothingIsDelivered()
      throws Exception {
    CancelableContext own = Context.background(clock).withCancel();
    ReceiveChannel<Instant> ticks = scheduler.fireTimes(own, Trigger.every(SECOND, T0));

    own.cancel();
    clock.advance(Duration.ZERO);

    assertInstanceOf(Received.Closed.class, ticks.receiveOrClosed());
  }

  @Test
  void givenAContextAlreadyDone_whenAskingForFireTimes_thenTheChannelIsClosedAtOnce() {
    CancelableContext done = Context.background(clock).withCancel();
    done.cancel();

    ReceiveChannel<Instant> ticks = scheduler.fireTimes(done, Trigger.every(SECOND, T0));

    assertTrue(ticks.isClosed());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenAOneShotTrigger_whenItFires_thenTheValueIsDeliveredAndTheChannelCloses()
      throws Exception {
    ReceiveChannel<Instant> ticks = scheduler.fireTimes(ctx, Trigger.at(T0.plusSeconds(5)));

    clock.advance(Duration.ofSeconds(5));

    assertEquals(T0.plusSeconds(5), ticks.receive());
    assertInstanceOf(Received.Closed.class, ticks.receiveOrClosed());
  }

  @Test
  void givenAStream_whenTheSchedulerCloses_thenTheChannelCloses() throws Exception {
    ReceiveChannel<Instant> ticks = scheduler.fireTimes(ctx, Trigger.every(SECOND, T0));

    scheduler.close();

    assertTrue(ticks.isClosed());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenAConsumerBlockedOnTheStream_whenInterrupted_thenInterruptedException()
      throws Exception {
    ReceiveChannel<Instant> ticks =
        scheduler.fireTimes(ctx, Trigger.every(SECOND, T0.plusSeconds(5)));
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread consumer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    ticks.receive();
                  } catch (Throwable e) {
                    outcome.set(e);
                  }
                });
    TestThreads.untilBlocked(consumer);

    consumer.interrupt();
    consumer.join();

    assertInstanceOf(InterruptedException.class, outcome.get());
  }

  @Test
  void
      givenAConsumerThatDropsTheChannelUncancelled_whenItIsCollected_thenTheScheduleStopsAtItsNextFire() {
    WeakReference<ReceiveChannel<Instant>> ref = abandon();
    long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (ref.get() != null) {
      if (System.nanoTime() > giveUp) {
        throw new AssertionError("the abandoned channel was never collected");
      }
      System.gc();
      Thread.yield();
    }
    assertEquals(1, clock.pendingTimers());

    clock.advance(SECOND);

    assertEquals(0, clock.pendingTimers());
    assertEquals(0, ((SchedulerImpl) scheduler).liveRecurring());
  }

  private WeakReference<ReceiveChannel<Instant>> abandon() {
    return new WeakReference<>(scheduler.fireTimes(ctx, Trigger.every(SECOND, T0.plusSeconds(1))));
  }

  @Test
  void givenAShutDownScheduler_whenAskingForFireTimes_thenIllegalState() {
    scheduler.shutdown();

    assertThrows(
        IllegalStateException.class, () -> scheduler.fireTimes(ctx, Trigger.every(SECOND, T0)));
  }
}
