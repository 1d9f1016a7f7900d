package io.sluice.jobs;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;

/**
 * A snapshot of one job: what it carries and where it stands. Immutable; a later look at the same
 * job ({@link JobEngine#find}) gives a new snapshot.
 *
 * @param id the id, which also orders jobs by the time they were accepted
 * @param type the type name, which picked the handler
 * @param payload the payload, read-only
 * @param source where the job came from, if the submitter said
 * @param createdAt when it was accepted
 * @param state where it stands
 * @param attempts how many attempts have started
 * @param lastError the last failed attempt's error, if any
 * @param nextAttemptAt when the next attempt is due, while queued with a start time or waiting to
 *     retry
 * @param lastAttemptAt when the latest attempt was handed to a worker, if one was; a worker that
 *     claims several jobs at once runs them in turn, so a job may wait a little after this instant
 *     for the ones before it. Emptied when a dead letter is queued again.
 * @param finishedAt when the job succeeded or became a dead letter, as the store learned of it (for
 *     a success, at most the rest of the worker's claimed jobs later); empty while it is not
 *     finished
 */
public record Job(
    JobId id,
    String type,
    ByteBuffer payload,
    Optional<String> source,
    Instant createdAt,
    JobState state,
    int attempts,
    Optional<String> lastError,
    Optional<Instant> nextAttemptAt,
    Optional<Instant> lastAttemptAt,
    Optional<Instant> finishedAt) {

  /** Makes the payload view read-only. */
  public Job {
    payload = payload.asReadOnlyBuffer();
  }

  /**
   * The payload as a new array.
   *
   * @return a copy of the payload
   */
  public byte[] payloadBytes() {
    ByteBuffer view = payload.duplicate();
    byte[] bytes = new byte[view.remaining()];
    view.get(bytes);
    return bytes;
  }

  @Override
  public String toString() {
    return "Job["
        + id
        + " "
        + type
        + " "
        + state
        + " attempts="
        + attempts
        + lastError.map(e -> " lastError=" + e).orElse("")
        + "]";
  }
}
