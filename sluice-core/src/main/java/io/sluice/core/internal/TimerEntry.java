package io.sluice.core.internal;

/**
 * One action scheduled in a clock's timer engine through {@link TimerEngine#schedule}. Not API: see
 * {@link TimerEngine}.
 *
 * <p>Memory consistency effects: a successful {@link #cancel()} happens-before {@link #isPending()}
 * returns {@code false} in another thread; the engine marks the entry fired before it runs the
 * action.
 */
public interface TimerEntry {
  /**
   * Stops the action if it has not run yet. Never blocks, takes no lock.
   *
   * @return {@code true} if this call prevented the action from running
   */
  boolean cancel();

  /**
   * The clock's {@link io.sluice.core.Clock#nanoTime()} reading at which the action is due.
   *
   * @return the deadline
   */
  long deadlineNanos();

  /**
   * Whether the action is still waiting: neither fired nor cancelled.
   *
   * @return {@code true} while pending
   */
  boolean isPending();

  /**
   * Whether the entry was cancelled before it fired.
   *
   * @return {@code true} once cancelled
   */
  boolean isCancelled();
}
