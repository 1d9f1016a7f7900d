package io.sluice.schedule;

import io.sluice.core.internal.TimerEntry;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Instant;
import java.util.Optional;

/*
 * Scheduler.at / after: the compact one-shot. The handle is the timer engine's entry itself (a
 * TimerEntry subclass, scheduled with TimerEngine.schedule(entry)), so a pending one-shot is one
 * object: the entry's 32 bytes (header, state, deadline, wheel, next) plus `scheduler` and `task`,
 * 40 bytes with compressed references. Nothing else is allocated per schedule.
 *
 * No field is spent on state. The entry's own state (pending, fired, cancelled) is the schedule's,
 * its deadline is the fire time (on the clock's monotonic scale, converted to an instant on
 * demand), and `task` doubles as a flag: when the engine fires the entry and fire() finds the
 * scheduler shut down, it swaps the task for SUPPRESSED so the handle does not count a run that
 * never started (and reports itself cancelled). A successful cancel drops the task (onCancel), so
 * the engine, which may hold a cancelled entry until its next sweep, does not keep it alive. The
 * handle is not in any collection: Scheduler.shutdown finds the pending ones by asking the engine
 * to cancel every entry that is a OneShot of this scheduler.
 *
 * Every field a reader needs (deadline, wheel, scheduler) is final, so a handle that reaches
 * another thread through a data race is still whole.
 */
final class OneShot extends TimerEntry implements ScheduleHandle {
  private static final Object SUPPRESSED = new Object();
  private static final VarHandle TASK;

  static {
    try {
      TASK = MethodHandles.lookup().findVarHandle(OneShot.class, "task", Object.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final SchedulerImpl scheduler;

  @SuppressWarnings("unused") // accessed through TASK
  private Object
      task; // the Runnable; SUPPRESSED if fired into a shut-down scheduler; null if cancelled

  /** A pending one-shot due at {@code deadlineNanos}; the caller schedules it. */
  OneShot(SchedulerImpl scheduler, long deadlineNanos, Runnable task) {
    super(scheduler.clock(), deadlineNanos);
    this.scheduler = scheduler;
    this.task = task;
  }

  /** The engine's action: hands the task to a thread of its own. */
  @Override
  protected void fire() {
    Runnable body = (Runnable) TASK.getAcquire(this);
    if (!scheduler.startRun(this, () -> scheduler.runTask(this, body))) {
      TASK.setRelease(this, SUPPRESSED);
    }
  }

  @Override
  protected void onCancel() {
    TASK.setRelease(this, null);
  }

  private boolean ran() {
    return !isPending() && !super.isCancelled() && TASK.getAcquire(this) != SUPPRESSED;
  }

  private Instant fireTime() {
    return scheduler.instantAt(deadlineNanos());
  }

  @Override
  public String name() {
    return "at " + fireTime();
  }

  // cancel() is the entry's: true if it stopped the engine from firing it.

  @Override
  public Optional<Instant> nextFireTime() {
    return isPending() ? Optional.of(fireTime()) : Optional.empty();
  }

  @Override
  public Optional<Instant> lastFireTime() {
    return ran() ? Optional.of(fireTime()) : Optional.empty();
  }

  @Override
  public long runCount() {
    return ran() ? 1 : 0;
  }

  /** Cancelled in the engine, or fired into a shut-down scheduler (no run started). */
  @Override
  public boolean isCancelled() {
    return super.isCancelled() || (!isPending() && TASK.getAcquire(this) == SUPPRESSED);
  }

  @Override
  public boolean isDone() {
    return !isPending();
  }

  @Override
  public String toString() {
    return "ScheduleHandle[" + name() + (isDone() ? ", done" : "") + "]";
  }
}
