package io.sluice.core;

import io.sluice.core.internal.TimerEntry;
import io.sluice.core.internal.TimerWheel;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A clock for tests that stands still until {@link #advance(Duration)} moves it, firing the timers
 * that fall due on the advancing thread: Caffeine's {@code FakeTicker}, with timers. Create one
 * with {@link Clock#manual(Instant)}; hand it to the code under test, or make contexts with {@link
 * Context#background(Clock)}.
 *
 * <pre>{@code
 * ManualClock clock = Clock.manual(Instant.EPOCH);
 * Timer t = clock.newTimer(Duration.ofSeconds(5));
 * clock.advance(Duration.ofSeconds(4));   // nothing is due yet
 * clock.advance(Duration.ofSeconds(1));   // now t's value is
 * }</pre>
 *
 * <p>{@link #nanoTime()} starts at 0 and {@link #now()} at the start instant; both move only by
 * {@link #advance}. Timers fire in deadline order, those with equal deadlines in the order they
 * were scheduled; while one fires, the clock reads its deadline. The library's internal actions
 * (waking a sleeper, cancelling a context, handing a value to a receiver waiting on a timer
 * channel) run inline; functions given to {@link #afterFunc} still start on their own virtual
 * thread, so a test that needs their effect waits for it (a latch), not for the clock.
 *
 * <p>Scheduling and cancelling never block, so any thread may use the clock while another advances
 * it; advances themselves are serialised.
 *
 * <p>Memory consistency effects: actions before scheduling a timer happen-before it fires;
 * everything a fired timer does inline happens-before {@code advance} returns.
 */
public final class ManualClock extends Clock {
  private final Instant start;
  private final TimerWheel wheel = TimerWheel.manual(this);
  private final ReentrantLock lock = new ReentrantLock();
  private volatile long nanos;

  ManualClock(Instant start) {
    this.start = Objects.requireNonNull(start, "start");
  }

  @Override
  public Instant now() {
    return start.plusNanos(nanos);
  }

  @Override
  public long nanoTime() {
    return nanos;
  }

  /**
   * Moves the clock forward by {@code duration}, firing every timer that falls due, in deadline
   * order. Timers scheduled by what fires are fired too if they fall due within the advance. A zero
   * duration fires what is already due.
   *
   * <p>Waits, without regard to interrupts, for an advance or jump in progress on another thread.
   *
   * @param duration how far to move; not negative
   * @throws IllegalArgumentException if {@code duration} is negative, or would take the clock to
   *     {@link Long#MAX_VALUE} nanoseconds past its start (about 292 years) or further: the reading
   *     that a deadline too far to count in nanoseconds stands for, and that must never come
   * @throws IllegalStateException if called from an action the clock is firing
   */
  public void advance(Duration duration) {
    long delta = delayNanos(duration);
    if (delta < 0) {
      throw new IllegalArgumentException("cannot move a clock backwards: " + duration);
    }
    if (lock.isHeldByCurrentThread()) {
      throw new IllegalStateException("advance() called from a timer the clock is firing");
    }
    lock.lock();
    Throwable failure;
    try {
      long target = target(delta);
      failure = wheel.advanceTo(target, tick -> nanos = Math.max(nanos, tick));
      nanos = target;
    } finally {
      lock.unlock();
    }
    rethrow(failure);
  }

  /**
   * Moves the clock forward by {@code duration} in one step, as if the process had been paused (a
   * garbage-collection pause, a suspended machine): the clock reads the new time first, and then
   * every timer that fell due fires, in deadline order, each seeing the new time. Code that
   * measures how late a timer fired sees the whole jump; {@link #advance(Duration)} instead fires
   * every timer at its own deadline.
   *
   * <p>Waits, without regard to interrupts, for an advance or jump in progress on another thread.
   *
   * @param duration how far to move; not negative
   * @throws IllegalArgumentException if {@code duration} is negative, or would take the clock as
   *     far as {@link #advance(Duration)} refuses to
   * @throws IllegalStateException if called from an action the clock is firing
   */
  public void jump(Duration duration) {
    long delta = delayNanos(duration);
    if (delta < 0) {
      throw new IllegalArgumentException("cannot move a clock backwards: " + duration);
    }
    if (lock.isHeldByCurrentThread()) {
      throw new IllegalStateException("jump() called from a timer the clock is firing");
    }
    lock.lock();
    Throwable failure;
    try {
      nanos = target(delta);
      failure = wheel.advanceTo(nanos);
    } finally {
      lock.unlock();
    }
    rethrow(failure);
  }

  /**
   * The number of timers waiting to fire: scheduled, neither fired nor cancelled. A timer or ticker
   * channel counts only while a receiver waits on it, since only then is its timer scheduled.
   *
   * @return the pending count
   */
  public int pendingTimers() {
    lock.lock();
    try {
      return wheel.liveCount();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Exact: the wall clock is the start plus the monotonic reading. Clock's sampling of the two
   * readings would skew the result by any advance that another thread makes between them, and put a
   * ticker's later tick before its earlier one.
   */
  @Override
  Instant instantAt(long nanos) {
    return start.plusNanos(nanos);
  }

  @Override
  TimerWheel wheel() {
    return wheel;
  }

  @Override
  int cancelMatching(Predicate<? super TimerEntry> filter) {
    lock.lock();
    try {
      return wheel.cancelMatching(filter);
    } finally {
      lock.unlock();
    }
  }

  /** Checks the engine's invariants. */
  void checkInvariants() {
    lock.lock();
    try {
      wheel.checkInvariants();
    } finally {
      lock.unlock();
    }
  }

  /**
   * The reading {@code delta} ns ahead, under the lock. Long.MAX_VALUE is where every saturated
   * deadline lies ("never"), so the clock stops short of it rather than fire them all.
   */
  private long target(long delta) {
    if (delta >= Long.MAX_VALUE - nanos) {
      throw new IllegalArgumentException(
          "a manual clock reads less than Long.MAX_VALUE ns (about 292 years) past its start,"
              + " which stands for never; it reads "
              + nanos
              + " ns and cannot move "
              + delta
              + " ns more");
    }
    return nanos + delta;
  }

  private static void rethrow(Throwable failure) {
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
    if (failure != null) {
      throw new IllegalStateException("a timer action failed", failure);
    }
  }

  @Override
  public String toString() {
    return "ManualClock[" + now() + "]";
  }
}
