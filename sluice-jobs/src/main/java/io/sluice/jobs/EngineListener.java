package io.sluice.jobs;

import java.time.Duration;

/**
 * Hears what a {@link JobEngine} does, for metrics and logs. Called on worker threads (and on a
 * helper thread for {@link #attemptStuck}, on the shutting-down thread for attempts a shutdown
 * abandons without waiting); must return quickly. Anything it throws (an exception or an error) is
 * logged and ignored.
 */
public interface EngineListener {
  /** A listener that ignores everything. */
  EngineListener NONE = new EngineListener() {};

  /**
   * An attempt ended.
   *
   * @param job the job as it was when the attempt started
   * @param outcome how the attempt ended
   * @param elapsed how long it ran
   */
  default void attemptFinished(Job job, Outcome outcome, Duration elapsed) {}

  /**
   * A failed job will be tried again.
   *
   * @param job the job as it was when the attempt started
   * @param delay the wait before the next attempt
   */
  default void retryScheduled(Job job, Duration delay) {}

  /**
   * An attempt is stuck: it overran its timeout, was interrupted, and its handler did not return
   * within the engine's {@linkplain JobEngine.Builder#interruptGrace interrupt grace}. Its worker
   * thread stays with it and a replacement worker has started; the job stays running. If the
   * handler returns, {@link #attemptFinished} follows with {@link Outcome#TIMED_OUT}.
   *
   * @param job the job as it was when the attempt started
   * @param overdue how long past its timeout the attempt was when found stuck
   */
  default void attemptStuck(Job job, Duration overdue) {}

  /**
   * A job became a dead letter.
   *
   * @param job the job as it was when its last attempt started
   * @param error its last error
   */
  default void died(Job job, String error) {}

  /** How an attempt ended. */
  enum Outcome {
    /** The handler returned. */
    SUCCEEDED,
    /** The handler threw. */
    FAILED,
    /** The attempt overran its timeout. */
    TIMED_OUT,
    /**
     * The engine shut down while it ran; not counted as a failure. Also reported, by the shutdown,
     * for an attempt whose handler did not return after the shutdown's interrupt.
     */
    ABANDONED
  }
}
