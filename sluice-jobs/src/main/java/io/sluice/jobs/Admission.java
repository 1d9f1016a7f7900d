package io.sluice.jobs;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The answer to a submission: every job accepted, or none.
 *
 * <p>A batch is all or nothing: either every job in it is durable (under the store's durability
 * policy) and queued, or none of it was kept. {@link JobStore#retryDead} answers with an admission
 * too: a dead letter queued again takes room in the queue like a new job.
 */
public sealed interface Admission {

  /**
   * Every job was accepted and is durable; or, from {@link JobStore#retryDead}, the dead letter is
   * queued again, and that is durable.
   *
   * @param ids the new jobs' ids, in the order of the submitted specs; the retried dead letter's id
   */
  record Accepted(List<JobId> ids) implements Admission {
    /** Copies the list. */
    public Accepted {
      ids = List.copyOf(ids);
    }
  }

  /**
   * Nothing was accepted.
   *
   * @param reason why
   * @param retryAfter a fair time to wait before trying again (zero when trying again cannot help)
   * @param message what happened and what to do, for people
   */
  record Rejected(Reason reason, Duration retryAfter, String message) implements Admission {
    /** Checks the fields. */
    public Rejected {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(retryAfter, "retryAfter");
      Objects.requireNonNull(message, "message");
    }
  }

  /** Why a submission was rejected. */
  enum Reason {
    /** The queue has no room for the whole batch now. Try again later, or submit less at once. */
    QUEUE_FULL,
    /**
     * The batch can never be accepted, however long one waits: more jobs than the queue's capacity,
     * more payload bytes than the store holds, or (in a durable store) a journal record larger than
     * the journal takes. The message names the limit. Trying again cannot help: submit smaller
     * batches.
     */
    TOO_LARGE,
    /** The store is shutting down and takes nothing new. */
    SHUTTING_DOWN,
    /**
     * A schedule's fire ({@link JobStore#fire}) that must not enqueue a job: the schedule does not
     * exist (any more), or a fire at or after that time is already recorded. Trying again cannot
     * help.
     */
    NOT_DUE,
    /**
     * {@link JobStore#retryDead} of a job that is not a dead letter: unknown, never dead, or
     * already retried or deleted. Trying again cannot help.
     */
    NOT_A_DEAD_LETTER
  }
}
