package io.sluice.jobs;

/** Where a job is in its life. */
public enum JobState {
  /** Accepted and durable, waiting for a worker (or, with a {@code runAt}, for its time). */
  QUEUED,
  /** A worker is running an attempt. */
  RUNNING,
  /** The last attempt failed; the next one is due at {@link Job#nextAttemptAt()}. */
  RETRY_WAIT,
  /** An attempt succeeded. Finished. */
  SUCCEEDED,
  /**
   * Every allowed attempt failed. Kept as a dead letter until it is retried or deleted; it no
   * longer takes room in the queue.
   */
  DEAD;

  /**
   * Whether the job still takes room in the queue: queued, running or waiting to retry.
   *
   * @return true for {@link #QUEUED}, {@link #RUNNING} and {@link #RETRY_WAIT}
   */
  public boolean isPending() {
    return this == QUEUED || this == RUNNING || this == RETRY_WAIT;
  }
}
