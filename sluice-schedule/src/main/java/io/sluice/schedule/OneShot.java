package io.sluice.schedule;

import io.sluice.core.internal.TimerEntry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.Optional;

/*
 * Scheduler.at / after: the compact one-shot. The handle is its own engine action, like core's
 * afterFunc timer, so a pending one-shot costs this object (12-byte header + three compressed
 * references = 24 bytes) and the engine's entry (40 bytes): 64 bytes, the budget.
 *
 * No field is spent on state. The entry's own state (pending, fired, cancelled) is the schedule's,
 * its deadline is the fire time (on the clock's monotonic scale, converted to an instant on
 * demand), and `task` doubles as a flag: the engine fires the entry and then run() finds the
 * scheduler shut down, it swaps the task for SUPPRESSED so the handle does not count a run that
 * never started. The handle is not in any collection: Scheduler.shutdown finds the pending ones by
 * asking the engine to cancel every action that is a OneShot of this scheduler.
 *
 * `entry` is set right after scheduling, with a release store; the engine's run() never reads it.
 * A thread that got the handle through a data race may see it null for a moment; entry() spins
 * until the store lands.
 */
final class OneShot implements ScheduleHandle, Runnable {
  private static final Object SUPPRESSED = new Object();
  private static final VarHandle ENTRY;
  private static final VarHandle TASK;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      ENTRY = lookup.findVarHandle(OneShot.class, "entry", TimerEntry.class);
      TASK = lookup.findVarHandle(OneShot.class, "task", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final SchedulerImpl scheduler;

  @SuppressWarnings("unused") // accessed through TASK
  private Object task;

  @SuppressWarnings("unused") // accessed through ENTRY
  private TimerEntry entry;

  OneShot(SchedulerImpl scheduler, Runnable task) {
    this.scheduler = scheduler;
    this.task = task;
  }

  /** Schedules the handle as its own action; called once, by the creating thread. */
  void arm(long deadlineNanos) {
    ENTRY.setRelease(this, scheduler.engineSchedule(deadlineNanos, this));
  }

  /** The engine's action: hands the task to a thread of its own. */
  @Override
  public void run() {
    Runnable body = (Runnable) TASK.getAcquire(this);
    if (!scheduler.startRun(this, () -> scheduler.runTask(this, body))) {
      TASK.setRelease(this, SUPPRESSED);
    }
  }

  private TimerEntry entry() {
    TimerEntry e;
    while ((e = (TimerEntry) ENTRY.getAcquire(this)) == null) {
      Thread.onSpinWait();
    }
    return e;
  }

  private boolean ran() {
    TimerEntry e = entry();
    return !e.isPending() && !e.isCancelled() && TASK.getAcquire(this) != SUPPRESSED;
  }

  private Instant fireTime() {
    return scheduler.instantAt(entry().deadlineNanos());
  }

  @Override
  public String name() {
    return "at " + fireTime();
  }

  @Override
  public boolean cancel() {
    return entry().cancel();
  }

  @Override
  public Optional<Instant> nextFireTime() {
    return entry().isPending() ? Optional.of(fireTime()) : Optional.empty();
  }

  @Override
  public Optional<Instant> lastFireTime() {
    return ran() ? Optional.of(fireTime()) : Optional.empty();
  }

  @Override
  public long runCount() {
    return ran() ? 1 : 0;
  }

  @Override
  public boolean isCancelled() {
    TimerEntry e = entry();
    return e.isCancelled() || (!e.isPending() && TASK.getAcquire(this) == SUPPRESSED);
  }

  @Override
  public boolean isDone() {
    return !entry().isPending();
  }

  @Override
  public String toString() {
    return "ScheduleHandle[" + name() + (isDone() ? ", done" : "") + "]";
  }
}
