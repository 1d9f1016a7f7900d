package io.sluice.core;

import java.time.Duration;
import java.time.Instant;

/**
 * The source of time for timers, tickers, context deadlines and sleeps, and the factory for timers
 * and tickers: Go's {@code time} package as an object, so tests can swap the real clock for a
 * {@link ManualClock}.
 *
 * <p>{@link #system()} reads the operating system's clocks and fires timers from one shared timer
 * engine; {@link Time} offers its methods as static functions. {@link #manual(Instant)} makes a
 * clock that moves only when a test advances it, firing due timers on the advancing thread.
 *
 * <p>Memory consistency effects: actions before scheduling a timer happen-before its function runs
 * or its channel delivers.
 */
public abstract sealed class Clock permits SystemClock, ManualClock {
  Clock() {}

  /**
   * The shared system clock.
   *
   * @return the clock backed by {@link System#nanoTime()} and {@link System#currentTimeMillis()}
   */
  public static Clock system() {
    return SystemClock.INSTANCE;
  }

  /**
   * A clock for tests that stands still until {@link ManualClock#advance(Duration)} moves it.
   *
   * @param start the wall-clock instant it starts at
   * @return a new manual clock
   */
  public static ManualClock manual(Instant start) {
    return new ManualClock(start);
  }

  /**
   * The current wall-clock instant.
   *
   * @return now
   */
  public abstract Instant now();

  /**
   * A monotonic reading in nanoseconds, for measuring intervals; like {@link System#nanoTime()},
   * meaningful only as differences between readings of the same clock.
   *
   * @return the reading
   */
  public abstract long nanoTime();

  /**
   * Runs {@code action} on the clock's timer thread once {@link #nanoTime()} reaches {@code
   * deadlineNanos}. For the library's own short, non-blocking actions (cancelling a context, waking
   * a waiter); user functions go through {@code afterFunc}, which gives each run its own thread.
   *
   * @return a handle whose {@code cancel()} stops the action if it has not started
   */
  abstract TimerHandle schedule(long deadlineNanos, Runnable action);

  /** A scheduled internal action. */
  interface TimerHandle {
    /**
     * Stops the action if it has not run yet.
     *
     * @return {@code true} if this call prevented the action from running
     */
    boolean cancel();
  }
}
