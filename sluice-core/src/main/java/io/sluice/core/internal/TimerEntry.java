package io.sluice.core.internal;

import io.sluice.core.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * <strong>Not API.</strong> One entry of a clock's timer engine: a deadline, and what to do when it
 * comes. The engine stores entries themselves, so a subclass is its own entry: an owner that keeps
 * one object per pending timer extends this class, schedules the object with {@link
 * TimerEngine#schedule(TimerEntry)} and hands the same object out as its handle (the scheduler's
 * one-shot schedules do). {@link TimerEngine#schedule(Clock, long, Runnable)} makes an entry that
 * runs a {@link Runnable}. See {@link TimerEngine} for who may use this package.
 *
 * <p>An entry is pending until it fires or is cancelled, whichever comes first; it never changes
 * after that. {@link #fire()} runs at most once, on the engine's thread, and never after a {@link
 * #cancel()} that returned {@code true}.
 *
 * <p>Memory consistency effects: actions in a thread before it schedules an entry happen-before
 * {@link #fire()} runs; a successful {@link #cancel()} happens-before {@link #isPending()} returns
 * {@code false} in another thread; the engine marks the entry fired before {@link #fire()} runs.
 */
public abstract class TimerEntry {
  static final int PENDING = 0;
  static final int FIRED = 1;
  static final int CANCELLED = 2;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(TimerEntry.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final long deadline;
  final TimerWheel wheel;
  TimerEntry next; // inbound stack link, then the slot list link; engine-owned once drained

  @SuppressWarnings("unused") // accessed through STATE
  private volatile int state;

  /**
   * An entry of {@code clock}'s engine, due when its {@link Clock#nanoTime()} reaches {@code
   * deadlineNanos}; pending, but not in the engine until {@link TimerEngine#schedule(TimerEntry)}.
   *
   * @param clock the clock whose engine will hold the entry
   * @param deadlineNanos when it is due, on {@code clock}'s {@code nanoTime()} scale
   */
  protected TimerEntry(Clock clock, long deadlineNanos) {
    this(TimerEngine.wheelOf(clock), deadlineNanos);
  }

  TimerEntry(TimerWheel wheel, long deadlineNanos) {
    this.deadline = deadlineNanos;
    this.wheel = wheel;
  }

  /**
   * What the entry does when it falls due. The engine calls it once, on its thread (or on the
   * thread that advances a {@link io.sluice.core.ManualClock}), after marking the entry fired, and
   * never once it is cancelled. It must be short and must not block: every timer of the clock waits
   * for it. What it throws is reported as the engine's failure (the thread's uncaught exception
   * handler, or {@code ManualClock.advance}'s exception); later entries still fire.
   */
  protected abstract void fire();

  /**
   * Called once, by the thread whose {@link #cancel()} succeeded, before the engine learns of the
   * cancellation: the place to drop references that the engine, which may hold a cancelled entry
   * until its next sweep, should not keep alive. Does nothing by default. Must not block.
   */
  protected void onCancel() {}

  /**
   * Stops the entry if it has not fired yet. Never blocks, takes no lock: one CAS, and in one call
   * out of sixteen on average an atomic add to the engine's count of cancelled entries.
   *
   * @return {@code true} if this call prevented {@link #fire()} from running
   */
  public final boolean cancel() {
    if (!STATE.compareAndSet(this, PENDING, CANCELLED)) {
      return false;
    }
    onCancel();
    wheel.onCancelled();
    return true;
  }

  /**
   * The clock whose engine holds the entry: what an owner that schedules again (a reset) needs,
   * without a field of its own.
   *
   * @return the clock the entry was made for
   */
  protected final Clock clock() {
    return wheel.clock;
  }

  /**
   * The clock's {@link Clock#nanoTime()} reading at which the entry is due.
   *
   * @return the deadline
   */
  public final long deadlineNanos() {
    return deadline;
  }

  /**
   * Whether the entry still waits: neither fired nor cancelled.
   *
   * @return {@code true} while pending
   */
  public final boolean isPending() {
    return lvState() == PENDING;
  }

  /**
   * Whether the entry was cancelled before it fired. A subclass that is also a handle may widen
   * this to its own notion of cancelled; the engine never calls it.
   *
   * @return {@code true} once cancelled
   */
  public boolean isCancelled() {
    return lvState() == CANCELLED;
  }

  final int lvState() {
    return (int) STATE.getVolatile(this);
  }

  final boolean casFire() {
    return STATE.compareAndSet(this, PENDING, FIRED);
  }
}
