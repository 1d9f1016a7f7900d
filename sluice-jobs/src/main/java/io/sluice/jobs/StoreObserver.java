package io.sluice.jobs;

/**
 * Hears what a durable store's journal does, for metrics and progress displays. Methods are called
 * on the store's own threads and must return quickly; anything they throw (an exception or an
 * error) is logged and ignored, except from {@link #replayProgress}, where it abandons the open.
 */
public interface StoreObserver {
  /** An observer that ignores everything. */
  StoreObserver NONE = new StoreObserver() {};

  /**
   * One group commit finished: {@code records} appends written together and, under {@link
   * Durability#ALWAYS}, forced once.
   *
   * @param records appends in the commit
   * @param bytes bytes written
   * @param writeNanos time spent writing
   * @param forceNanos time spent forcing; zero if the commit was not forced
   */
  default void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {}

  /**
   * The journal was forced to stable storage: every force, wherever it happens - in a commit (also
   * reported by {@link #journalCommitted}), on the period of {@link Durability#interval}, when a
   * segment is full and the next begins, and at close. The fsync latency.
   *
   * @param nanos how long the force took
   */
  default void journalForced(long nanos) {}

  /**
   * A journal append was acknowledged: its record is durable under the store's policy.
   *
   * @param latencyNanos time from the append to its acknowledgement
   */
  default void journalAcknowledged(long latencyNanos) {}

  /**
   * Compaction rewrote jobs into the newest journal segment, so that older segments could be
   * deleted (see {@link JobStoreOptions#withRelocationThreshold}): one record, now forced.
   *
   * @param jobs jobs rewritten in the record
   * @param bytes bytes of the record's body
   */
  default void journalRelocated(int jobs, long bytes) {}

  /**
   * Replay at open made progress: called on the thread that opens the store, after each MiB of
   * journal read and each segment. An unchecked exception thrown here abandons the replay: {@link
   * JobStore#open} closes the files it opened, releases the journal's lock and throws it, and the
   * journal keeps every record it held (a way to cancel a long replay when the process is asked to
   * stop).
   *
   * @param bytesDone journal bytes read so far
   * @param bytesTotal journal bytes in all
   */
  default void replayProgress(long bytesDone, long bytesTotal) {}

  /**
   * The journal failed for good (a write or force failed: disk full, I/O error, read-only file
   * system): from now on the store refuses new jobs and records no state change, until it is opened
   * again, which for a service means a restart. Called once, on the journal's writer thread.
   *
   * @param failure the failure; its message says what failed and what to check
   */
  default void journalFailed(RuntimeException failure) {}

  /**
   * A journal commit (write and force) has been running longer than {@link
   * JobStoreOptions#stallThreshold()}: the disk may be hung. Until {@link #journalResumed}, the
   * store refuses new batches with {@link JournalStalledException}. Called once per stalled commit,
   * on the journal's watchdog thread.
   *
   * @param runningNanos how long the commit has been running
   * @param waiting about how many appends wait for it
   */
  default void journalStalled(long runningNanos, int waiting) {}

  /**
   * The stalled commit ended (completed, or failed: then {@link #journalFailed} follows); the store
   * accepts batches again unless the journal failed.
   *
   * @param stalledNanos how long the commit ran in all
   */
  default void journalResumed(long stalledNanos) {}
}
