package io.sluice.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where jobs live between submission and completion: admission, the queue, the record of every
 * state change, dead letters, and recovery after a restart.
 *
 * <p>{@link JobEngine} runs workers over a store and never looks behind this interface, so the
 * store can be swapped without touching the workers or the HTTP layer: {@link #inMemory(int)} keeps
 * jobs in memory only; {@link #open(JobStoreOptions)} keeps them in a local journal that survives a
 * crash; a store shared by several nodes (PostgreSQL) fits the same methods.
 *
 * <p>Implementations are thread-safe. Memory consistency effects: actions in a thread before it
 * submits a job happen-before the attempt that {@link #claim} hands out for it.
 */
public interface JobStore extends AutoCloseable {

  /**
   * A store that keeps jobs in memory only: fast, bounded, and empty after a restart.
   *
   * @param capacity the most pending jobs it admits, at least 1
   * @return the store
   */
  static JobStore inMemory(int capacity) {
    return LocalJobStore.inMemory(JobStoreOptions.defaults().withCapacity(capacity));
  }

  /**
   * Opens a durable store in {@code options.directory()}: replays its journal (every accepted job
   * without a completion is pending again) and then admits new jobs. An open that fails, at any
   * step and with any exception or error, leaves nothing running: the journal it opened is closed
   * again (a failure to close it is added to the thrown one as suppressed), so the directory can be
   * opened again at once.
   *
   * @param options where and how
   * @return the open store
   * @throws java.io.IOException if the journal cannot be read or created; a journal written by a
   *     newer version of Sluice is refused with a message saying so
   */
  static JobStore open(JobStoreOptions options) throws java.io.IOException {
    return LocalJobStore.open(options);
  }

  /**
   * Submits a batch: all of it is accepted, or none of it.
   *
   * <p>Returns at once with a {@link Admission.Rejected} if there is no room for the whole batch
   * and {@code maxWait} is zero; otherwise waits up to {@code maxWait} for room. Room is room for
   * the jobs (the capacity) and for their payload bytes ({@link
   * JobStoreOptions#payloadBytesLimit()}): the wait ends when both are free, as jobs finish or dead
   * letters are deleted. An accepted batch is durable under the store's policy before this returns.
   *
   * <p>A batch that can never fit is refused at once, whatever {@code maxWait}, as {@link
   * Admission.Reason#TOO_LARGE} with a zero {@link Admission.Rejected#retryAfter()} and a message
   * naming the limit: more jobs than the capacity, more payload bytes than {@link
   * JobStoreOptions#payloadBytesLimit()}, or, in a durable store, a batch whose journal record (the
   * payloads plus about 50 bytes per job and its type and source) would pass 16 MiB or half of
   * {@link JobStoreOptions#segmentBytes()}, whichever is less. The in-memory store writes no record
   * and has no such limit.
   *
   * @param specs the jobs, at least one
   * @param maxWait how long to wait for room; zero to answer at once
   * @return the admission
   * @throws InterruptedException if interrupted while waiting for room or for the journal; nothing
   *     was accepted if interrupted while waiting for room, while a batch being written may still
   *     become durable (and then runs)
   * @throws DurabilityUnknownException if the journal did not confirm the batch durable within
   *     {@link JobStoreOptions#ackTimeout()} (a hung disk): it may still be recorded, and then its
   *     jobs run; the exception carries their ids
   * @throws JournalStalledException if the journal is stalled: refused at once, nothing recorded
   * @throws JobStoreException if the journal failed
   */
  Admission submit(List<JobSpec> specs, Duration maxWait) throws InterruptedException;

  /**
   * Takes the next due job whose type {@code gate} admits, and starts an attempt: the job is then
   * {@link JobState#RUNNING} with its attempt count one higher. Jobs of one type come out in the
   * order they became due; types take turns.
   *
   * <p>Waits until such a job is due. Interruption throws {@link InterruptedException}.
   *
   * @param gate says whether an attempt of a type may start now (a per-type limit)
   * @return the job, or empty once {@link #stopClaims()} was called
   * @throws InterruptedException if interrupted while waiting
   */
  Optional<Job> claim(TypeGate gate) throws InterruptedException;

  /**
   * The workers' claim: records that the attempts of {@code succeeded} succeeded, then takes up to
   * {@code claimer.batch()} due jobs and starts an attempt of each, as {@link #claim(TypeGate)}
   * does, waiting until at least one is due. Claiming several at once and recording successes with
   * the next claim saves a store round trip per job (a lock here, a query in a database); a store
   * hands out more than one only of a type its gate does not limit, and no more than an even share
   * of what is due among {@code claimer.claimers()}, so claims do not pile up in one worker while
   * others idle.
   *
   * <p>The default claims one job by {@link #claim(TypeGate)} and records successes one by one by
   * {@link #succeeded(JobId)}.
   *
   * @param succeeded claims this store handed out whose attempts succeeded; recorded even if the
   *     call then throws or finds claims stopped. Read only during the call.
   * @param claimer who claims
   * @return the claims, in the order their attempts should run; empty once {@link #stopClaims()}
   *     was called
   * @throws InterruptedException if interrupted while waiting; {@code succeeded} is recorded
   */
  default List<Claim> claim(List<? extends Claim> succeeded, Claimer claimer)
      throws InterruptedException {
    for (Claim c : succeeded) {
      succeeded(c.job().id());
    }
    Optional<Job> job = claim(claimer.gate());
    return job.isEmpty() ? List.of() : List.of(new IdClaim(job.get()));
  }

  /**
   * Records that the running attempt of a claim {@link #claim(List, Claimer)} handed out succeeded.
   * The default records it by id.
   *
   * @param claim the claim
   */
  default void succeeded(Claim claim) {
    succeeded(claim.job().id());
  }

  /**
   * Records that the running attempt of a claim failed. The default records it by id.
   *
   * @param claim the claim
   * @param error what went wrong, for people
   * @param retryAt when to try again; empty to make the job dead
   */
  default void failed(Claim claim, String error, Optional<Instant> retryAt) {
    failed(claim.job().id(), error, retryAt);
  }

  /**
   * Gives back a claim whose attempt was stopped from outside or never began (claimed in a batch,
   * then the engine stopped): the job is queued again and the attempt is not counted. The default
   * gives it back by id.
   *
   * @param claim the claim
   */
  default void abandoned(Claim claim) {
    abandoned(claim.job().id());
  }

  /** Tells waiting {@link #claim} calls that a gate may now admit a type it refused before. */
  void gateOpened();

  /**
   * Records that the running attempt of {@code id} succeeded: the job is finished.
   *
   * @param id the job
   */
  void succeeded(JobId id);

  /**
   * Records that the running attempt of {@code id} failed.
   *
   * @param id the job
   * @param error what went wrong, for people
   * @param retryAt when to try again; empty to make the job dead
   */
  void failed(JobId id, String error, Optional<Instant> retryAt);

  /**
   * Gives back a running attempt that was stopped from outside (the engine shutting down): the job
   * is queued again and the attempt is not counted as a failure.
   *
   * @param id the job
   */
  void abandoned(JobId id);

  /**
   * A snapshot of a job. A finished job is remembered for a while (see {@link
   * JobStoreOptions#finishedRetention()}), without its payload.
   *
   * @param id the job
   * @return the job, or empty if unknown or forgotten
   */
  Optional<Job> find(JobId id);

  /**
   * A page of dead letters, in id order.
   *
   * @param after the last id of the previous page; empty for the first page
   * @param limit the most to return, at least 1
   * @return the page
   */
  List<Job> deadLetters(Optional<JobId> after, int limit);

  /**
   * Queues a dead letter again with a fresh count of attempts, if the queue has room for it.
   *
   * <p>A dead letter takes no room in the queue; queued again, it does, like a new job. So this
   * reserves room first and never waits for room: with none, the job stays a dead letter and the
   * answer is {@link Admission.Reason#QUEUE_FULL} with a fair time to wait, so that retrying every
   * dead letter cannot push the queue past its capacity.
   *
   * <p>The change is durable under the store's policy before this returns, as a submitted batch is:
   * under {@link Durability#ALWAYS} (the default) no crash after an {@link Admission.Accepted}
   * brings the job back as a dead letter; under a policy that forces less often, a crash of the
   * machine may, as it may lose a submitted batch (the in-memory store keeps nothing anyway). Until
   * the record is durable the job stays a dead letter in every view, and it is queued only once it
   * is. Waits for the journal uninterruptibly (the interrupt status is kept) and at most about
   * {@link JobStoreOptions#ackTimeout()}, as {@link #submit} does; a retry or {@link #deleteDead}
   * of the same dead letter that another call is recording waits for that one first, as long at
   * most, and then answers by what it left.
   *
   * @param id the job
   * @return {@link Admission.Accepted} with {@code id} if it is queued again; else {@link
   *     Admission.Rejected} with {@link Admission.Reason#QUEUE_FULL} (no room now), {@link
   *     Admission.Reason#SHUTTING_DOWN} (after {@link #stopAdmission()}) or {@link
   *     Admission.Reason#NOT_A_DEAD_LETTER} (unknown, never dead, already retried or deleted)
   * @throws JournalStalledException if the journal is stalled, or another call's change to this
   *     dead letter was not confirmed within the ack timeout: refused, nothing recorded, it stays a
   *     dead letter; safe to try again
   * @throws DurabilityUnknownException if the journal did not confirm the retry within the ack
   *     timeout; its one id is the job's. The job stays a dead letter until the journal answers,
   *     then is queued if the record landed (its room is kept for it meanwhile), or stays dead if
   *     the journal failed
   * @throws JobStoreException if the journal failed: the job stays a dead letter in this store,
   *     which refuses further work; whether a restart finds it retried depends on whether the
   *     failed write reached the disk. Or if the store was closed after this call took room for the
   *     job (nothing recorded, it stays); a retry that starts after the close is answered {@link
   *     Admission.Reason#SHUTTING_DOWN}
   */
  Admission retryDead(JobId id);

  /**
   * Deletes a dead letter for good.
   *
   * <p>Durable under the store's policy before this returns true, as {@link #retryDead} is (under
   * {@link Durability#ALWAYS}, no crash after the answer brings the dead letter back). Until the
   * record is durable the job stays a dead letter in every view; its payload bytes are given back
   * once it is. Waits for the journal as {@link #retryDead} does, with the same bounds.
   *
   * @param id the job
   * @return true if it was a dead letter and is now gone; false if it is not a dead letter
   *     (unknown, never dead, already retried or deleted)
   * @throws JournalStalledException as for {@link #retryDead}: nothing recorded, it stays
   * @throws DurabilityUnknownException if the journal did not confirm the deletion within the ack
   *     timeout; its one id is the job's. The job stays a dead letter until the journal answers,
   *     and is gone then if the record landed
   * @throws JobStoreException if the journal failed: as for {@link #retryDead}, the dead letter
   *     stays in this store, and a restart may or may not find it deleted; or if the store is
   *     closed (nothing recorded, it stays)
   */
  boolean deleteDead(JobId id);

  /**
   * Creates or replaces the recurring job definition {@code name}; durable under the store's policy
   * before this returns. Putting the definition a schedule already has changes nothing and writes
   * nothing, so a process may register its schedules at every start. A replaced definition keeps
   * the schedule's record of its last fire.
   *
   * <p>Waits for other changes to schedules to finish and for the journal write, uninterruptibly
   * (the interrupt status is kept) and at most about {@link JobStoreOptions#ackTimeout()} for the
   * write. The same bounds and exceptions hold for {@link #deleteSchedule}, {@link #fire} and
   * {@link #skipFire}; reads of schedules wait for a change in progress, so as long.
   *
   * @param name the schedule's name (see {@link StoredSchedule#checkName})
   * @param definition the definition's text, kept as it is
   * @return true if the store changed; false if it already had exactly this definition
   * @throws IllegalArgumentException if the name is not valid
   * @throws JournalStalledException if the journal is stalled, or an earlier change to this
   *     schedule is not yet confirmed durable: refused at once, nothing recorded, safe to retry
   * @throws DurabilityUnknownException if the journal did not confirm the change within the ack
   *     timeout: the store shows the schedule unchanged until the journal answers, then as recorded
   * @throws JobStoreException if the journal failed; the schedule is then unchanged
   */
  boolean putSchedule(String name, String definition);

  /**
   * Deletes the recurring job definition {@code name}, durably. Jobs it already enqueued stay.
   *
   * @param name the schedule's name
   * @return true if it existed
   * @throws JournalStalledException as for {@link #putSchedule}: nothing recorded
   * @throws DurabilityUnknownException as for {@link #putSchedule}: the schedule stays until the
   *     journal answers
   * @throws JobStoreException if the journal failed
   */
  boolean deleteSchedule(String name);

  /**
   * A recurring job definition.
   *
   * @param name the schedule's name
   * @return it, or empty if there is none by that name
   */
  Optional<StoredSchedule> schedule(String name);

  /**
   * Every recurring job definition, by name.
   *
   * @return them
   */
  List<StoredSchedule> schedules();

  /**
   * Records that schedule {@code name} fired at {@code fireTime} and enqueues its job, as one
   * durable change: after a crash, either both are there or neither is. So a scheduler that
   * restarts sees the last fire it recorded and never enqueues the same fire twice.
   *
   * <p>Answers at once: {@link Admission.Reason#QUEUE_FULL} if the queue has no room, {@link
   * Admission.Reason#TOO_LARGE} if the job's payload can never fit (as for {@link #submit}), {@link
   * Admission.Reason#NOT_DUE} if the schedule is gone or already has a fire at or after {@code
   * fireTime}, {@link Admission.Reason#SHUTTING_DOWN} after {@link #stopAdmission()}.
   *
   * @param name the schedule
   * @param fireTime the fire time this job is for
   * @param job the job to enqueue
   * @return the admission; when accepted, its one id is the job's
   * @throws JournalStalledException as for {@link #putSchedule}: nothing recorded, safe to retry
   * @throws DurabilityUnknownException if the journal did not confirm the fire within the ack
   *     timeout; its one id is the job's. If the record lands, the job is queued and the schedule
   *     shows the fire, so trying the same fire time again is safe: it is refused as {@link
   *     Admission.Reason#NOT_DUE} once recorded, and as {@link JournalStalledException} while the
   *     outcome is unknown
   * @throws JobStoreException if the journal failed; nothing was recorded
   */
  Admission fire(String name, Instant fireTime, JobSpec job);

  /**
   * Records that schedule {@code name}'s fire time {@code fireTime} passed without a job (its
   * overlap policy held the fire back while the previous job was unfinished), durably: a scheduler
   * that restarts then counts it as done, not as missed. The schedule's last job stays the one it
   * enqueued before.
   *
   * @param name the schedule
   * @param fireTime the fire time passed over
   * @return false if the schedule is gone or already has a fire at or after {@code fireTime}
   *     (nothing recorded)
   * @throws JournalStalledException as for {@link #putSchedule}: nothing recorded, safe to retry
   * @throws DurabilityUnknownException as for {@link #fire}, without an id
   * @throws JobStoreException if the journal failed; nothing was recorded
   */
  boolean skipFire(String name, Instant fireTime);

  /**
   * How many jobs are in each state.
   *
   * @return the counts
   */
  JobCounts counts();

  /**
   * How many pending jobs (queued, running or waiting to retry) there are of each type. Looks at
   * every pending job: for a check at start, not for metrics that are read often.
   *
   * @return the counts by type; types with no pending job are left out
   */
  Map<String, Long> pendingByType();

  /**
   * Takes nothing new: every later {@link #submit} is rejected with {@link
   * Admission.Reason#SHUTTING_DOWN}.
   */
  void stopAdmission();

  /** Hands out no more attempts: waiting and later {@link #claim} calls return empty. */
  void stopClaims();

  /**
   * Stops admission and claims, makes every recorded change durable, and releases the store's
   * files. What is pending stays pending, for the next open.
   *
   * <p>Waits for the journal's last write and force, through interrupts, with no time limit: a disk
   * that hangs (a write or fsync that never returns) holds this call for as long as it hangs, since
   * a stuck system call cannot be ended from Java. Submits and schedule changes made meanwhile give
   * up after {@link JobStoreOptions#ackTimeout()}; a caller that must bound its own stop runs this
   * on a thread of its own and stops waiting when it decides to (ADR 15).
   */
  @Override
  void close();

  /** Says whether an attempt of a type may start now. */
  @FunctionalInterface
  interface TypeGate {
    /**
     * Takes a slot for one attempt of {@code type} if one is free.
     *
     * @param type the job type
     * @return true if the slot was taken
     */
    boolean tryEnter(String type);

    /**
     * Whether attempts of {@code type} have no limit, so that one claim may take several of them
     * (each still enters the gate). A claimer holding several jobs of a limited type would hold
     * that many of its slots while it runs them one at a time.
     *
     * @param type the job type
     * @return true if unlimited; the default says false
     */
    default boolean unlimited(String type) {
      return false;
    }
  }

  /**
   * Who claims, for {@link #claim(List, Claimer)}.
   *
   * @param gate the per-type limits
   * @param batch the most jobs one claim takes, at least 1
   * @param claimers how many claim side by side (the workers), at least 1: one claim takes no more
   *     than an even share of the due jobs among them
   */
  record Claimer(TypeGate gate, int batch, int claimers) {
    /** Checks the arguments. */
    public Claimer {
      Objects.requireNonNull(gate, "gate");
      if (batch < 1 || claimers < 1) {
        throw new IllegalArgumentException(
            "batch and claimers must be at least 1, got " + batch + " and " + claimers);
      }
    }
  }

  /**
   * An attempt a store handed out by {@link #claim(List, Claimer)}: the job as its handler sees it,
   * and whatever the store needs to report on it without looking it up. Report on a claim only to
   * the store that made it.
   */
  interface Claim {
    /**
     * The job, with the attempt counted.
     *
     * @return the job
     */
    Job job();
  }

  /**
   * The default {@link Claim}: the job, reported on by its id.
   *
   * @param job the job
   */
  record IdClaim(Job job) implements Claim {}
}
