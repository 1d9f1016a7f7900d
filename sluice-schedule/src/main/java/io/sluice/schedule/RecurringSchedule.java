package io.sluice.schedule;

import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/*
 * The state every recurring schedule shares: the pending fire time and its engine entry, the last
 * run, the count, and how the schedule stops. Guarded by the object's monitor; runCount is also
 * volatile so it can be read without it.
 *
 * Lifecycle: created -> registered with the scheduler -> armed (one engine entry at a time, whose
 * action is this object) -> on each fire, the subclass decides what runs and re-arms -> stopped,
 * either cancelled (cancel(), or the scheduler's shutdown) or finished (no fire time left). A
 * stopped schedule never arms again: every arm happens under the monitor after checking the
 * flags, and stop() sets them under the same monitor and cancels the entry. stop() runs
 * onStopped() once, outside the monitor (a channel schedule closes its channel there).
 *
 * Invariants (checkInvariants): stopped => entry == null && pending == null; entry != null =>
 * pending != null and the entry's deadline is the one armed for pending.
 */
abstract sealed class RecurringSchedule implements ScheduleHandle, Runnable
    permits TriggerSchedule, DelaySchedule {
  final SchedulerImpl scheduler;
  private final String name;

  // Guarded by this.
  private TimerEntry entry;
  Instant pending;
  private Instant lastFire;
  boolean cancelled;
  boolean finished;

  private volatile long runCount;

  RecurringSchedule(SchedulerImpl scheduler, String name) {
    this.scheduler = scheduler;
    this.name = name;
  }

  /** Waits for {@code fireAt}: one engine entry, deadline on the clock's monotonic scale. */
  final void armLocked(Instant fireAt) {
    assert Thread.holdsLock(this) && !stoppedLocked();
    pending = fireAt;
    entry = scheduler.engineSchedule(scheduler.deadlineFor(fireAt), this);
  }

  /** Forgets the entry that just fired; the caller re-arms or stops. */
  final void firedLocked() {
    entry = null;
  }

  /** Counts a run handed to a thread. */
  final void recordRunLocked(Instant fireTime) {
    lastFire = fireTime;
    runCount++;
  }

  /** Takes back {@code runs} counted runs that will not happen; {@code lastRun} was the last. */
  final void withdrawRunsLocked(int runs, Instant lastRun) {
    runCount -= runs;
    lastFire = lastRun;
  }

  final boolean stoppedLocked() {
    return cancelled || finished;
  }

  /** The trigger has no fire time left: stops as finished (not cancelled). */
  final void finish() {
    stop(false);
  }

  /** Stops the schedule; true if this call stopped it. */
  final boolean stop(boolean cancel) {
    synchronized (this) {
      if (stoppedLocked()) {
        return false;
      }
      if (cancel) {
        cancelled = true;
      } else {
        finished = true;
      }
      if (entry != null) {
        entry.cancel();
        entry = null;
      }
      pending = null;
    }
    scheduler.forget(this);
    onStopped();
    return true;
  }

  /** Runs once, after the schedule stopped, outside the monitor. */
  void onStopped() {}

  /** The instant {@code delay} after {@code from}, or {@link Instant#MAX} past the range. */
  static Instant plusSaturated(Instant from, Duration delay) {
    try {
      return from.plus(delay);
    } catch (RuntimeException e) {
      return delay.isNegative() ? Instant.MIN : Instant.MAX;
    }
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final boolean cancel() {
    return stop(true);
  }

  @Override
  public final synchronized Optional<Instant> nextFireTime() {
    return Optional.ofNullable(pending);
  }

  @Override
  public final synchronized Optional<Instant> lastFireTime() {
    return Optional.ofNullable(lastFire);
  }

  @Override
  public final long runCount() {
    return runCount;
  }

  @Override
  public final synchronized boolean isCancelled() {
    return cancelled;
  }

  @Override
  public final synchronized boolean isDone() {
    return stoppedLocked();
  }

  /** Checks the class comment's invariants. */
  final synchronized void checkInvariants() {
    if (stoppedLocked() && (entry != null || pending != null)) {
      throw new AssertionError(name + ": stopped but still armed for " + pending);
    }
    if (entry != null && pending == null) {
      throw new AssertionError(name + ": an engine entry without a pending fire time");
    }
  }

  @Override
  public final String toString() {
    return "ScheduleHandle[" + name + ", runs " + runCount + (isDone() ? ", done" : "") + "]";
  }
}
