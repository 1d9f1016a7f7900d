package io.sluice.jobs;

import java.time.Duration;
import java.util.List;

/**
 * A submitted batch was handed to the journal but not confirmed durable within {@link
 * JobStoreOptions#ackTimeout()}: the disk is stalled (see {@link JournalStalledException}). The
 * outcome is unknown to the caller. If the journal records the batch later, its jobs are queued and
 * run as if the submit had returned normally; if the journal fails instead, they never run and
 * their room in the store is given back. Either way {@link #ids()} names the jobs, so a caller can
 * look them up later ({@link JobStore#find}) instead of submitting again, which may duplicate them.
 */
public final class DurabilityUnknownException extends JobStoreException {
  private static final long serialVersionUID = 1L;

  private final transient List<JobId> ids; // JobId is not Serializable
  private final Duration timeout;

  DurabilityUnknownException(List<JobId> ids, Duration timeout) {
    super(
        "a batch of "
            + ids.size()
            + (ids.size() == 1 ? " job" : " jobs")
            + " was handed to the journal but not confirmed durable within "
            + timeout.toMillis()
            + " ms (the disk is stalled). It may or may not be recorded; if it is, its jobs run."
            + " Look its ids up later rather than submitting it again, which may duplicate them",
        null);
    this.ids = List.copyOf(ids);
    this.timeout = timeout;
  }

  /**
   * The ids of the batch's jobs, in the order submitted.
   *
   * @return the ids
   */
  public List<JobId> ids() {
    return ids;
  }

  /**
   * How long the submit waited for the journal.
   *
   * @return the acknowledgement timeout
   */
  public Duration timeout() {
    return timeout;
  }
}
