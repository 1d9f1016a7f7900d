package io.sluice.schedule;

import java.time.Duration;
import java.time.Instant;

/*
 * Scheduler.everyWithDelay: the next fire time is `delay` after the previous run ends, so there is
 * no trigger and runs never overlap. While a run is going the schedule is not armed (pending is
 * null). A fire handled later than the misfire threshold is dropped under SKIP (re-armed `delay`
 * from now) and runs under the other policies: there is nothing to catch up.
 */
final class DelaySchedule extends RecurringSchedule {
  private final Duration delay;
  private final Runnable task;
  private final ScheduleOptions options;

  DelaySchedule(SchedulerImpl scheduler, Duration delay, Runnable task, ScheduleOptions options) {
    super(scheduler, options.name().isEmpty() ? "every-with-delay " + delay : options.name());
    this.delay = delay;
    this.task = task;
    this.options = options;
  }

  void start(Duration initialDelay) {
    Instant first = plusSaturated(scheduler.clock().now(), initialDelay);
    synchronized (this) {
      if (!stoppedLocked()) {
        armLocked(first);
      }
    }
  }

  /** The engine's action. */
  @Override
  public synchronized void run() {
    if (stoppedLocked() || pending == null) {
      return;
    }
    firedLocked();
    Instant fireTime = pending;
    Instant now = scheduler.clock().now();
    pending = null;
    boolean missed = Duration.between(fireTime, now).compareTo(options.misfireThreshold()) > 0;
    if (missed && options.misfirePolicy() instanceof MisfirePolicy.Skip) {
      armLocked(plusSaturated(now, delay));
      return;
    }
    if (scheduler.startRun(this, this::runOnce)) {
      recordRunLocked(fireTime);
    } else {
      // No thread (the factory failed and was reported, or shutdown is stopping this schedule):
      // no run will re-arm, so wait a delay from now here; a stop cancels this entry as any other.
      armLocked(plusSaturated(now, delay));
    }
  }

  /** On the run's own thread: the task, then the next fire time. */
  private void runOnce() {
    scheduler.runTask(this, task);
    synchronized (this) {
      if (!stoppedLocked()) {
        armLocked(plusSaturated(scheduler.clock().now(), delay));
      }
    }
  }
}
