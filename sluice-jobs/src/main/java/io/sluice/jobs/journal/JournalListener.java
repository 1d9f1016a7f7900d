package io.sluice.jobs.journal;

/**
 * Observes the journal's writer, for metrics (the server plugs Micrometer in here). {@link
 * #onAcknowledge} is called on the journal's completer thread, {@link #onStall} on its watchdog
 * thread, {@link #onResume} on the writer or the watchdog, every other method on its writer thread;
 * each must be quick and must not block or append: the writer commits nothing (the completer
 * completes nothing) while a call runs. Exceptions thrown from a method are logged and otherwise
 * ignored. All methods do nothing by default.
 */
public interface JournalListener {
  /** A listener that observes nothing. */
  JournalListener NONE = new JournalListener() {};

  /**
   * One group commit: the records drained from the queue at once were written (and, under {@link
   * Durability#ALWAYS}, forced). Called before the appends are completed.
   *
   * @param records records in the commit, at least 1
   * @param bytes bytes of their frames (headers and bodies)
   * @param writeNanos time spent copying and writing them
   * @param forceNanos time spent forcing them, 0 if this commit did not force
   */
  default void onCommit(int records, long bytes, long writeNanos, long forceNanos) {}

  /**
   * One force ({@code fsync}/{@code fdatasync}) of a segment file: the fsync latency.
   *
   * @param nanos how long it took
   */
  default void onForce(long nanos) {}

  /**
   * One append was acknowledged (its future completed or its caller released).
   *
   * @param latencyNanos time from the call of {@code append} to its acknowledgement
   */
  default void onAcknowledge(long latencyNanos) {}

  /**
   * A new segment file was created (and its creation made durable).
   *
   * @param segment its number
   */
  default void onSegmentCreated(long segment) {}

  /**
   * The journal failed for good; every later append fails with {@code failure}.
   *
   * @param failure the failure
   */
  default void onFailure(JournalException failure) {}

  /**
   * A commit (write and force) has been running for longer than {@link
   * JournalOptions#stallThreshold()}: the disk may be hung. Called once per stalled commit; the
   * journal goes on waiting for it (a slow disk that recovers recovers) and calls {@link #onResume}
   * when it ends.
   *
   * @param segment the number of the segment being written
   * @param runningNanos how long the commit has been running
   * @param waiting about how many appends wait for it: those in the commit and those queued behind
   */
  default void onStall(long segment, long runningNanos, int waiting) {}

  /**
   * The stalled commit ended: it completed (its appends are acknowledged), or it failed, and then
   * {@link #onFailure} follows.
   *
   * @param stalledNanos how long the commit ran in all
   */
  default void onResume(long stalledNanos) {}
}
