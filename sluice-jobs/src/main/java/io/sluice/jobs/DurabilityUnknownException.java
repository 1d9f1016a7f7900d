package io.sluice.jobs;

import java.time.Duration;
import java.util.List;

/**
 * A change was handed to the journal but not confirmed durable within {@link
 * JobStoreOptions#ackTimeout()}: the disk is stalled (see {@link JournalStalledException}). The
 * outcome is unknown to the caller.
 *
 * <p>For a submitted batch: if the journal records it later, its jobs are queued and run as if the
 * submit had returned normally; if the journal fails instead, they never run and their room in the
 * store is given back. Either way {@link #ids()} names the jobs, so a caller can look them up later
 * ({@link JobStore#find}) instead of submitting again, which may duplicate them.
 *
 * <p>For a change to a schedule ({@link JobStore#putSchedule}, {@link JobStore#deleteSchedule},
 * {@link JobStore#fire}, {@link JobStore#skipFire}): the store goes on showing the schedule as it
 * was, and refuses other changes to it with {@link JournalStalledException}, until the journal
 * answers; then it shows the change if it was recorded. A fire's job is then queued too, and {@link
 * #ids()} names it; trying the same fire again is safe, as the store refuses a fire time it already
 * recorded. A restart finds the change if and only if its record reached the disk.
 *
 * <p>For a retry or deletion of a dead letter ({@link JobStore#retryDead}, {@link
 * JobStore#deleteDead}): the same, for the job: it stays a dead letter until the journal answers,
 * other changes to it are refused with {@link JournalStalledException} meanwhile, and then it is
 * queued again or gone if the record was recorded; {@link #ids()} names it.
 */
public final class DurabilityUnknownException extends JobStoreException {
  private static final long serialVersionUID = 1L;

  private final transient List<JobId> ids; // JobId is not Serializable
  private final Duration timeout;

  DurabilityUnknownException(List<JobId> ids, Duration timeout) {
    this(
        "a batch of "
            + ids.size()
            + (ids.size() == 1 ? " job" : " jobs")
            + " was handed to the journal but not confirmed durable within "
            + timeout.toMillis()
            + " ms (the disk is stalled). It may or may not be recorded; if it is, its jobs run."
            + " Look its ids up later rather than submitting it again, which may duplicate them",
        ids,
        timeout);
  }

  DurabilityUnknownException(String message, List<JobId> ids, Duration timeout) {
    super(message, null);
    this.ids = List.copyOf(ids);
    this.timeout = timeout;
  }

  /**
   * The ids of the jobs the change is about: a batch's, in the order submitted; a fire's one job;
   * the dead letter retried or deleted; none for another change to a schedule.
   *
   * @return the ids
   */
  public List<JobId> ids() {
    return ids;
  }

  /**
   * How long the change waited for the journal.
   *
   * @return the acknowledgement timeout
   */
  public Duration timeout() {
    return timeout;
  }
}
