package io.sluice.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The same scheduler on the real clock and the shared timer engine (no timing assertions). */
@Timeout(30)
class SystemClockSchedulerTest {

  @Test
  void givenTheSystemClock_whenOneShotsAndARecurringScheduleAreDue_thenTheyRunAndCloseEndsAll()
      throws Exception {
    TestThreads threads = new TestThreads();
    Scheduler scheduler = Scheduler.create(SchedulerOptions.defaults().withThreadFactory(threads));
    CountDownLatch oneShots = new CountDownLatch(2);
    CountDownLatch recurring = new CountDownLatch(3);
    ScheduleHandle at = scheduler.at(Instant.now().plusMillis(5), oneShots::countDown);
    ScheduleHandle after = scheduler.after(Duration.ofMillis(5), oneShots::countDown);
    ScheduleHandle every = scheduler.every(Duration.ofMillis(5), recurring::countDown);
    ScheduleHandle far = scheduler.after(Duration.ofHours(1), oneShots::countDown);

    assertTrue(oneShots.await(10, TimeUnit.SECONDS));
    assertTrue(recurring.await(10, TimeUnit.SECONDS));
    scheduler.close();

    assertEquals(1, at.runCount());
    assertEquals(1, after.runCount());
    assertTrue(every.runCount() >= 3);
    assertTrue(every.isCancelled());
    assertTrue(far.isCancelled());
    assertFalse(far.cancel());
    threads.assertNoneAlive();
  }

  @Test
  void givenAnInterruptedCaller_whenShuttingDown_thenPendingOneShotsAreStillCancelled() {
    // given: a one-shot due in an hour, and a caller whose interrupt status is set
    Scheduler scheduler = Scheduler.create();
    ScheduleHandle far = scheduler.after(Duration.ofHours(1), () -> {});
    Thread.currentThread().interrupt();

    // when
    scheduler.shutdown();

    // then: the interrupt status stays, and the one-shot left the engine all the same
    assertTrue(Thread.interrupted());
    assertTrue(far.isCancelled());
    assertTrue(far.isDone());
    assertFalse(far.cancel());
  }

  @Test
  void givenTheSystemClock_whenReadingFireTimes_thenTheyArriveInOrderAndCloseWithTheContext()
      throws Exception {
    try (Scheduler scheduler = Scheduler.create();
        CancelableContext ctx = Context.background().withCancel()) {
      ReceiveChannel<Instant> ticks =
          scheduler.fireTimes(ctx, Trigger.every(Duration.ofMillis(2), Instant.now()));
      Instant first = ticks.receive();
      Instant second = ticks.receive();
      assertTrue(second.isAfter(first));

      ctx.cancel();

      while (!(ticks.receiveOrClosed() instanceof io.sluice.core.Received.Closed<Instant>)) {
        // drain the one buffered value, if any
      }
    }
  }
}
