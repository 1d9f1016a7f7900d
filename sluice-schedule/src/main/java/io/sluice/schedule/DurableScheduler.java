package io.sluice.schedule;

import io.sluice.core.Clock;
import io.sluice.jobs.JobStore;
import java.util.List;
import java.util.Optional;

/**
 * Recurring jobs that survive a restart: each definition ({@link RecurringJob}) is kept in a {@link
 * JobStore} (for a durable store, in its journal), and each fire enqueues a normal job there, so
 * retries, timeouts and dead letters apply to it as to any other job.
 *
 * <p>Fires are exactly-once per fire time: the store records a schedule's fire time and its job in
 * one durable change ({@link JobStore#fire}) and refuses a fire time at or before the last one it
 * recorded, so neither a restart nor a race enqueues the same fire twice.
 *
 * <p>At {@link #start} and after every fire, the scheduler looks at the oldest fire time not yet
 * handled (the first after the last recorded fire, or after the definition's last change) and lets
 * the definition's {@link MisfirePolicy} decide what runs: after a restart or a pause longer than
 * the threshold, {@code fire-once} enqueues one job for the missed fire times, {@code skip} none,
 * {@code catch-up N} the latest N. When the queue is full, a fire is tried again every second for
 * as long as it stays within the threshold; past it, it counts as missed. The {@link OverlapPolicy}
 * looks at the job of the previous fire: {@code SKIP} enqueues nothing while it is queued, running
 * or waiting to retry; {@code QUEUE_ONE} enqueues one more only once it is running; {@code
 * ALLOW_CONCURRENT} always enqueues. The runs one resolution releases together ({@code catch-up N}
 * after a pause) count as one fire: the overlap policy looks at the job before the first of them,
 * and if it lets that one through, the rest follow it (they are separate jobs, so run them one at a
 * time with a per-type limit of one where order matters). A fire time the overlap policy holds back
 * is recorded as passed over ({@link io.sluice.jobs.JobStore#skipFire}), so after a restart it does
 * not count as missed.
 *
 * <p>A hung disk does not stop the scheduler: the store refuses a fire at once while its journal is
 * stalled, or cannot say within {@link io.sluice.jobs.JobStoreOptions#ackTimeout()} whether it was
 * recorded. The scheduler then logs one warning per stall and tries the fire every second, as for a
 * full queue, until the store records it or answers that it already has: a fire whose outcome was
 * unknown is never enqueued twice, and is not lost if the disk answers. A stall longer than the
 * misfire threshold counts like a pause: the misfire policy decides what the missed fire times run.
 *
 * <p>Registering the same definition again (at every start of a process, say) changes nothing; a
 * changed definition takes effect at once and keeps the record of the last fire.
 *
 * <p>Thread-safe. Fires run on short-lived virtual threads started by the clock's timers; one lock
 * orders them with {@link #put}, {@link #delete} and {@link #close}. Memory consistency effects:
 * actions before {@link #put} happen-before the fires of that definition.
 */
public sealed interface DurableScheduler extends AutoCloseable permits DurableSchedulerImpl {

  /**
   * Starts a scheduler over the recurring jobs in {@code store}: each is resolved by its misfire
   * policy against the clock's present, then waits for its next fire time. Definitions that cannot
   * be read (written by a newer Sluice, say) are logged and left alone.
   *
   * @param store where definitions live and jobs go
   * @param clock the clock for fire times; {@link Clock#manual} in tests
   * @return the running scheduler
   */
  static DurableScheduler start(JobStore store, Clock clock) {
    return DurableSchedulerImpl.start(store, clock);
  }

  /**
   * Creates or replaces a recurring job, durably (see {@link JobStore#putSchedule}). Waits for the
   * store's write, at most about the store's ack timeout, and for a fire in progress.
   *
   * @param job the definition
   * @return its status after the change
   * @throws IllegalStateException if the scheduler is closed
   * @throws io.sluice.jobs.JournalStalledException if the store's journal is stalled: nothing
   *     changed, put it again later
   * @throws io.sluice.jobs.DurabilityUnknownException if the store did not confirm the change in
   *     time: the scheduler goes on with the definition it had; once the journal answers, put the
   *     definition again, which takes it up whether or not the first put was recorded
   * @throws io.sluice.jobs.JobStoreException if the store failed; nothing changed
   */
  ScheduleStatus put(RecurringJob job);

  /**
   * Deletes a recurring job, durably. Jobs it enqueued already stay.
   *
   * @param name the schedule's name
   * @return true if it existed
   * @throws IllegalStateException if the scheduler is closed
   * @throws io.sluice.jobs.JobStoreException as for {@link #put}; after one the definition goes on
   *     firing here, so delete it again once the journal answers
   */
  boolean delete(String name);

  /**
   * A recurring job's status.
   *
   * @param name the schedule's name
   * @return its status, or empty if there is none by that name
   */
  Optional<ScheduleStatus> status(String name);

  /**
   * Every recurring job's status, by name.
   *
   * @return the statuses
   */
  List<ScheduleStatus> list();

  /**
   * Stops every timer and waits for a fire in progress to finish; nothing fires afterwards. The
   * definitions stay in the store for the next start. Idempotent. On a hung disk the wait is
   * bounded by the store: a fire in progress gives up after about its ack timeout (twice that at
   * worst), and fires waiting to start do not start.
   */
  @Override
  void close();
}
