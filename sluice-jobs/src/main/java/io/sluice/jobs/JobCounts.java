package io.sluice.jobs;

/**
 * How many jobs a store holds in each state, and totals since it opened.
 *
 * @param queued waiting for a worker or for their start time
 * @param running with an attempt running
 * @param retryWait waiting to retry
 * @param dead dead letters
 * @param capacity the most pending jobs (queued, running, waiting to retry) the store admits
 * @param payloadBytes payload bytes held in memory: the pending jobs', the dead letters' and those
 *     of batches being admitted
 * @param deadPayloadBytes the part of {@code payloadBytes} that dead letters hold
 * @param payloadBytesLimit the most payload bytes the store holds before it refuses batches
 * @param submitted jobs accepted since the store opened (not counting recovered ones)
 * @param recovered jobs found pending or dead in the journal at start
 * @param succeeded jobs that succeeded since the store opened
 * @param failedAttempts attempts that failed since the store opened
 * @param died jobs that became dead letters since the store opened
 */
public record JobCounts(
    long queued,
    long running,
    long retryWait,
    long dead,
    long capacity,
    long payloadBytes,
    long deadPayloadBytes,
    long payloadBytesLimit,
    long submitted,
    long recovered,
    long succeeded,
    long failedAttempts,
    long died) {

  /**
   * Jobs that take room in the queue: queued, running and waiting to retry.
   *
   * @return the pending count
   */
  public long pending() {
    return queued + running + retryWait;
  }
}
