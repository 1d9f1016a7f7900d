package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import io.sluice.schedule.ScheduleHandle;
import io.sluice.schedule.Scheduler;
import io.sluice.schedule.SchedulerOptions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The scheduler example, driven by a manual clock: no sleeps. */
@Timeout(30)
class ScheduledJobsTest {
  private static final Instant T0 = Instant.parse("2026-03-29T00:00:00Z");
  private final ManualClock clock = Clock.manual(T0);
  private final Scheduler scheduler =
      Scheduler.create(SchedulerOptions.defaults().withClock(clock));

  @AfterEach
  void close() {
    scheduler.close();
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void runAtRunsTheTaskOnceAtItsTime() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    ScheduleHandle h = ScheduledJobs.runAt(scheduler, T0.plusSeconds(5), ran::countDown);

    clock.advance(Duration.ofSeconds(4));
    assertEquals(0, h.runCount());
    clock.advance(Duration.ofSeconds(1));

    assertTrue(ran.await(10, TimeUnit.SECONDS));
    assertEquals(1, h.runCount());
  }

  @Test
  void runAtCanBeCalledOff() {
    ScheduleHandle h = ScheduledJobs.runAt(scheduler, T0.plusSeconds(5), () -> {});

    assertTrue(h.cancel());
    clock.advance(Duration.ofSeconds(5));

    assertEquals(0, h.runCount());
  }

  @Test
  void cronDeliversAlignedFireTimesFromAPastStartAndClosesOnCancel() throws Exception {
    Duration period = Duration.ofSeconds(1);
    CancelableContext ctx = Context.background(clock).withCancel();
    ReceiveChannel<Instant> ticks =
        ScheduledJobs.cron(scheduler, ctx, T0.minusMillis(2500), period);

    clock.advance(Duration.ofMillis(500));
    assertEquals(T0.plusMillis(500), ticks.receive());
    for (int i = 1; i <= 3; i++) {
      clock.advance(period);
      assertEquals(T0.plusMillis(500).plus(period.multipliedBy(i)), ticks.receive());
    }

    ctx.cancel();

    assertInstanceOf(Received.Closed.class, ticks.receiveOrClosed());
  }

  @Test
  void aScheduleFeedsAPipelineThatStopsAfterItsReports() throws Exception {
    Duration period = Duration.ofSeconds(1);
    CancelableContext ctx = Context.background(clock).withCancel();
    ReceiveChannel<Instant> ticks = ScheduledJobs.cron(scheduler, ctx, T0.plusSeconds(1), period);
    CompletableFuture<List<String>> reports = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                reports.complete(ScheduledJobs.reports(ctx, ticks, 3));
              } catch (Throwable t) {
                reports.completeExceptionally(t);
              }
            });

    for (int i = 0; i < 3; i++) {
      // a reader that falls behind loses fire times: advance only once the last one was taken
      while (ticks.len() > 0) {
        Thread.onSpinWait();
      }
      clock.advance(period);
    }

    assertEquals(
        List.of(
            "report for " + T0.plusSeconds(1),
            "report for " + T0.plusSeconds(2),
            "report for " + T0.plusSeconds(3)),
        reports.get(10, TimeUnit.SECONDS));
    ctx.cancel(); // ends the schedule: no timer is left (checked after each test)
  }

  @Test
  void theBerlinNightlyCronMovesToTheShiftedInstantOnTheSpringChange() {
    assertEquals(
        List.of(
            Instant.parse("2026-03-28T01:30:00Z"),
            Instant.parse("2026-03-29T01:30:00Z"),
            Instant.parse("2026-03-30T00:30:00Z")),
        ScheduledJobs.berlinNightly(Instant.parse("2026-03-27T12:00:00Z"), 3));
  }
}
