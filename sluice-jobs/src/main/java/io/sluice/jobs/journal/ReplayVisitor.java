package io.sluice.jobs.journal;

import java.nio.ByteBuffer;

/**
 * Receives the journal's records, in append order, while {@link Journal#open} replays it. Called on
 * the thread that called {@code open}, one call at a time. An exception thrown from a method aborts
 * the open and propagates from it.
 */
@FunctionalInterface
public interface ReplayVisitor {
  /** A visitor that ignores everything. */
  ReplayVisitor IGNORE = (segment, type, body) -> {};

  /**
   * One record.
   *
   * @param segment the number of the segment that holds it (what {@link Journal#append} returned)
   * @param type the record's type
   * @param body a read-only view of the record's body, valid only during this call (it may be
   *     mapped file memory): copy what you keep
   */
  void record(long segment, int type, ByteBuffer body);

  /**
   * Progress of a long replay, for a progress bar: called at least after every segment and about
   * every MiB. The default does nothing.
   *
   * @param bytesDone bytes of segment files read so far
   * @param totalBytes bytes of all segment files found at open
   */
  default void progress(long bytesDone, long totalBytes) {}
}
