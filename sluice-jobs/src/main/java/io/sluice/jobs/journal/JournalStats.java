package io.sluice.jobs.journal;

/**
 * A snapshot of a journal's counters since it was opened. Each counter is exact, but a snapshot
 * taken while appends run may mix counters from neighbouring commits.
 *
 * @param ioMode the I/O mode in effect ({@link IoMode#DIRECT} or {@link IoMode#BUFFERED}, never
 *     {@code AUTO})
 * @param recordsAppended records written
 * @param bytesAppended bytes of their frames, headers included
 * @param commits group commits (one drain of the pending appends, written in one go)
 * @param forces forces of segment files (commits, interval forces, roll-overs, close)
 * @param maxRecordsPerCommit the most records one commit held
 * @param forceNanosTotal time spent forcing, in total
 * @param forceNanosMax the longest force
 * @param segmentsCreated segment files created since open
 * @param segmentsPreallocated those of them whose file had been written ahead with zeros, in whole
 *     or in part ({@link JournalOptions#preallocate()}); the others grew as records came, which
 *     makes commits slower
 * @param segmentsDeleted segments released by {@link Journal#releaseSegmentsBefore}: renamed out of
 *     the segments' names, their files deleted then or, if that could not finish (a failure, a
 *     close), at the next open
 * @param stalled whether a commit has been running longer than {@link
 *     JournalOptions#stallThreshold()} and is still running (see {@link Journal#stalled()})
 * @param stalls stalls since open: commits that ran longer than the threshold
 */
public record JournalStats(
    IoMode ioMode,
    long recordsAppended,
    long bytesAppended,
    long commits,
    long forces,
    long maxRecordsPerCommit,
    long forceNanosTotal,
    long forceNanosMax,
    long segmentsCreated,
    long segmentsPreallocated,
    long segmentsDeleted,
    boolean stalled,
    long stalls) {

  /**
   * The mean number of records per group commit.
   *
   * @return records per commit, 0 before the first commit
   */
  public double meanRecordsPerCommit() {
    return commits == 0 ? 0 : (double) recordsAppended / commits;
  }

  /**
   * The mean time of one force.
   *
   * @return nanoseconds per force, 0 before the first force
   */
  public double meanForceNanos() {
    return forces == 0 ? 0 : (double) forceNanosTotal / forces;
  }
}
