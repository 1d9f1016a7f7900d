package io.sluice.jobs;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;

/** A job as a store holds it. Mutable; guarded by the owning store's lock. */
final class Entry implements JobStore.Claim {
  final JobId id;
  final int hash; // EntryIndex.hash(id)
  final String type;
  private static final byte[] NO_PAYLOAD = new byte[0];

  byte[] payload; // NO_PAYLOAD once finished, so a remembered job does not keep it alive
  final String source;
  final Instant createdAt;
  JobState state = JobState.QUEUED;
  int attempts;
  String lastError;
  Instant dueAt;
  Instant lastAttemptAt; // when the latest attempt was claimed
  Instant finishedAt; // when it succeeded or died

  /**
   * The journal segment holding the record that created this job, or the latest that rewrote it
   * whole (0 in memory).
   */
  long home;

  /** The bytes of this job's part of that record: what it keeps alive in its home (0 in memory). */
  int recordBytes;

  /**
   * Set while a retry or deletion of this dead letter is handed to the log and not yet applied:
   * completes once it is applied, or given up because the log failed. The entry stays DEAD
   * meanwhile, and no other change to it starts.
   */
  java.util.concurrent.CompletableFuture<Void> changing;

  Entry(JobId id, String type, byte[] payload, String source, Instant createdAt, Instant dueAt) {
    this.id = id;
    this.hash = EntryIndex.hash(id);
    this.type = type;
    this.payload = payload;
    this.source = source;
    this.createdAt = createdAt;
    this.dueAt = dueAt;
  }

  Job snapshot() {
    return snapshot(ByteBuffer.wrap(payload));
  }

  /** The job as its handler sees it: a snapshot, taken anew at each call. */
  @Override
  public Job job() {
    return snapshot();
  }

  /** Forgets the payload of a finished job that stays remembered for {@code find}. */
  void dropPayload() {
    payload = NO_PAYLOAD;
  }

  private Job snapshot(ByteBuffer payloadView) {
    boolean waiting = state == JobState.RETRY_WAIT || (state == JobState.QUEUED && dueAt != null);
    return new Job(
        id,
        type,
        payloadView,
        Optional.ofNullable(source),
        createdAt,
        state,
        attempts,
        Optional.ofNullable(lastError),
        waiting ? Optional.ofNullable(dueAt) : Optional.empty(),
        Optional.ofNullable(lastAttemptAt),
        Optional.ofNullable(finishedAt));
  }
}
