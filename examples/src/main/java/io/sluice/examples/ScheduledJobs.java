package io.sluice.examples;

import io.sluice.core.CancelableContext;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import io.sluice.pipeline.Pipeline;
import io.sluice.schedule.CronDialect;
import io.sluice.schedule.ScheduleHandle;
import io.sluice.schedule.Scheduler;
import io.sluice.schedule.Trigger;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;

/**
 * The seed's scheduling patterns on {@link Scheduler}: run a task at a specific time, and Kronika's
 * {@code cron(ctx, start, delay)} as a channel of aligned fire times; plus what a cron schedule
 * does on a day whose 02:30 does not exist.
 *
 * <p>The {@link Scheduling} example builds the same patterns by hand from timers and tickers; here
 * the library does it, with a handle to cancel, misfire and overlap policies, and no thread per
 * schedule. The functions take a {@link Scheduler}, so the tests give them one on a {@link
 * io.sluice.core.ManualClock}; {@link #main} uses the system clock.
 */
public final class ScheduledJobs {
  private ScheduledJobs() {}

  /**
   * Runs {@code task} once at {@code when}: the seed's {@code waitUntil} followed by the work,
   * without a thread waiting in between. Cancel the returned handle to call it off.
   *
   * @param scheduler the scheduler
   * @param when the instant; a past one runs at once
   * @param task the work, run on a virtual thread of its own
   * @return the handle
   */
  static ScheduleHandle runAt(Scheduler scheduler, Instant when, Runnable task) {
    return scheduler.at(when, task);
  }

  /**
   * Fire times {@code start + k * period}, a start in the past moving forward to the next boundary,
   * as a channel that closes when {@code ctx} is done: the seed's {@code cron(ctx, startTime,
   * delay) <-chan time.Time}. No thread feeds it; a reader that falls behind gets the oldest missed
   * fire time and the rest are dropped.
   *
   * @param scheduler the scheduler
   * @param ctx ends the stream
   * @param start the alignment (and the first fire time if it is not in the past)
   * @param period the interval
   * @return the stream
   */
  static ReceiveChannel<Instant> cron(
      Scheduler scheduler, Context ctx, Instant start, Duration period) {
    return scheduler.fireTimes(ctx, Trigger.every(period, start));
  }

  /**
   * A schedule as a pipeline's source: one report line per fire time, until {@code n} are made. The
   * fire times come from {@link #cron} (or any {@code scheduler.fireTimes(ctx, trigger)}, a cron
   * trigger included); {@code take(n)} ends the run, and cancelling {@code ctx} ends the schedule.
   *
   * @param ctx the run's context
   * @param fireTimes the schedule
   * @param n how many reports
   * @return the report lines, in fire-time order
   * @throws InterruptedException if interrupted
   */
  static List<String> reports(Context ctx, ReceiveChannel<Instant> fireTimes, int n)
      throws InterruptedException {
    return Pipeline.from(fireTimes).map(t -> "report for " + t).take(n).toList(ctx).value();
  }

  /**
   * The next {@code n} fire times of a daily 02:30 Unix cron in Berlin from {@code after}: on
   * 2026-03-29 02:30 does not exist, and the run moves to 03:30 summer time.
   *
   * @param after where to start
   * @param n how many
   * @return the fire times, as instants
   */
  static List<Instant> berlinNightly(Instant after, int n) {
    Trigger nightly = Trigger.cron("30 2 * * *", CronDialect.UNIX, ZoneId.of("Europe/Berlin"));
    List<Instant> times = new ArrayList<>();
    Instant cursor = after;
    for (int i = 0; i < n; i++) {
      Optional<Instant> next = nightly.nextAfter(cursor);
      if (next.isEmpty()) {
        break;
      }
      times.add(next.get());
      cursor = next.get();
    }
    return times;
  }

  /**
   * Runs a task 200 ms from now, prints three aligned ticks half a second apart from a start in the
   * past, and the Berlin cron's fire times around the spring change.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    try (Scheduler scheduler = Scheduler.create();
        CancelableContext ctx = Context.background().withCancel()) {
      CountDownLatch ran = new CountDownLatch(1);
      Instant when = scheduler.clock().now().plusMillis(200);
      runAt(
          scheduler,
          when,
          () -> {
            System.out.println("ran at " + Instant.now() + " (due " + when + ")");
            ran.countDown();
          });

      Instant start = scheduler.clock().now().minusSeconds(10); // in the past: next boundary
      ReceiveChannel<Instant> ticks = cron(scheduler, ctx, start, Duration.ofMillis(500));
      for (int i = 0; i < 3; i++) {
        System.out.println("tick " + ticks.receive());
      }
      ran.await();
    }
    ZoneId berlin = ZoneId.of("Europe/Berlin");
    for (Instant t : berlinNightly(Instant.parse("2026-03-27T12:00:00Z"), 3)) {
      System.out.println("cron unix Europe/Berlin 30 2 * * *: " + t + " = " + t.atZone(berlin));
    }
  }
}
