package io.sluice.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Where a {@link LocalJobStore} records what happens to its jobs so that a restart can rebuild
 * them. The records of a job's attempts ({@link #started}, {@link #succeeded}, {@link #failed},
 * {@link #abandoned}) are only queued, and the methods return at once; the store calls them under
 * its lock, so records about one job reach the log in the order the changes happened. The records a
 * caller is answered about ({@link #submitted}, {@link #retried}, {@link #deleted} and the
 * schedules') are waited for, outside the lock: the store lets no other record about their job or
 * schedule be written meanwhile.
 */
interface JobLog extends AutoCloseable {

  /** The in-memory store's log: it records nothing, so a restart starts empty. */
  JobLog NONE =
      new JobLog() {
        @Override
        public long submitted(List<Entry> batch, Duration timeout) {
          return 0;
        }

        @Override
        public void started(List<Entry> entries, Instant at) {}

        @Override
        public void succeeded(List<Entry> entries, Instant at) {}

        @Override
        public void failed(Entry entry, Instant at) {}

        @Override
        public void abandoned(Entry entry) {}

        @Override
        public void retried(Entry entry, Duration timeout) {}

        @Override
        public void deleted(Entry entry, Duration timeout) {}

        @Override
        public long scheduled(ScheduleEntry schedule, Duration timeout) {
          return 0;
        }

        @Override
        public long fired(ScheduleEntry schedule, Entry job, Duration timeout) {
          return 0;
        }

        @Override
        public void unscheduled(String name, Duration timeout) {}

        @Override
        public void superseded(long home) {}

        @Override
        public CompletableFuture<Long> relocated(List<Entry> entries, int[] sizes) {
          return CompletableFuture.failedFuture(
              new UnsupportedOperationException("the in-memory store has no journal"));
        }

        @Override
        public void rehomed(long from, int fromBytes, long to, int toBytes) {}

        @Override
        public void close() {}
      };

  /**
   * Records a new batch and waits until it is durable under the store's policy, at most about
   * {@code timeout}. Waits without giving up on interruption and keeps the interrupt status.
   *
   * @return the segment holding the batch
   * @throws NotYetDurable if the timeout passed first: the batch may still be recorded, and the
   *     exception's future says whether
   * @throws JobStoreException if the journal failed; nothing of the batch counts as accepted
   */
  long submitted(List<Entry> batch, Duration timeout) throws NotYetDurable;

  /**
   * Whether the log's disk looks hung: a write has been running longer than the stall threshold. A
   * volatile read; the in-memory log never stalls.
   */
  default boolean stalled() {
    return false;
  }

  /**
   * A record handed to the log that was not confirmed durable in time. {@link #outcome} completes
   * with the record's segment once it is durable, after the log has counted it there, or fails if
   * the journal failed or closed first; it completes on the journal's threads, so its stages must
   * be quick.
   */
  final class NotYetDurable extends Exception {
    private static final long serialVersionUID = 1L;

    final transient CompletableFuture<Long> outcome;

    NotYetDurable(CompletableFuture<Long> outcome) {
      super(null, null, false, false);
      this.outcome = outcome;
    }
  }

  /** Attempts started at {@code at}, one per entry (a claim of several jobs is one record). */
  void started(List<Entry> entries, Instant at);

  /** Attempts succeeded, one per entry (one record), recorded at {@code at}. */
  void succeeded(List<Entry> entries, Instant at);

  /**
   * An attempt that failed at {@code at}: {@code entry.state} says whether it waits to retry or is
   * dead.
   */
  void failed(Entry entry, Instant at);

  void abandoned(Entry entry);

  /**
   * Records that a dead letter is queued again with no attempts, and waits until that is durable,
   * at most about {@code timeout}, as {@link #submitted} does.
   *
   * @throws NotYetDurable if the timeout passed first; its future completes once it is durable
   * @throws JobStoreException if the journal failed
   */
  void retried(Entry entry, Duration timeout) throws NotYetDurable;

  /**
   * Records that a dead letter is deleted, and waits until that is durable, at most about {@code
   * timeout}, as {@link #submitted} does; the job no longer keeps its home once it is.
   *
   * @throws NotYetDurable if the timeout passed first; its future completes once it is durable
   * @throws JobStoreException if the journal failed
   */
  void deleted(Entry entry, Duration timeout) throws NotYetDurable;

  /**
   * Records a schedule's whole state and waits until it is durable, at most about {@code timeout},
   * as {@link #submitted} does. The caller then calls {@link #superseded} with the schedule's
   * previous home, if it had one.
   *
   * @return the segment holding the record: the schedule's new home
   * @throws NotYetDurable if the timeout passed first; its future completes with the home
   * @throws JobStoreException if the journal failed
   */
  long scheduled(ScheduleEntry schedule, Duration timeout) throws NotYetDurable;

  /**
   * Records a schedule's whole state again, as {@link #scheduled} does, but forced whatever the
   * durability policy: compaction's rewrite of a schedule whose older record's segment is deleted
   * next.
   *
   * @return the segment holding the record: the schedule's new home
   * @throws NotYetDurable if the timeout passed first; its future completes with the home
   * @throws JobStoreException if the journal failed
   */
  default long rescheduled(ScheduleEntry schedule, Duration timeout) throws NotYetDurable {
    return scheduled(schedule, timeout);
  }

  /**
   * Records a schedule's fire (its state after the fire) and the job it enqueues, as one record,
   * and waits until it is durable, at most about {@code timeout}. The caller then calls {@link
   * #superseded} with the schedule's previous home.
   *
   * @return the segment holding the record: the home of the schedule and of the job
   * @throws NotYetDurable if the timeout passed first; its future completes with the home
   * @throws JobStoreException if the journal failed
   */
  long fired(ScheduleEntry schedule, Entry job, Duration timeout) throws NotYetDurable;

  /**
   * Records that a schedule was deleted and waits until it is durable, at most about {@code
   * timeout}. The caller then calls {@link #superseded} with its home.
   *
   * @throws NotYetDurable if the timeout passed first
   * @throws JobStoreException if the journal failed
   */
  void unscheduled(String name, Duration timeout) throws NotYetDurable;

  /** A schedule's record in segment {@code home} is no longer needed: a later one replaced it. */
  void superseded(long home);

  /**
   * Queues one record of the whole state of {@code entries} (jobs pending or dead), to be forced
   * whatever the durability policy, and returns at once; the store calls it under its lock, so the
   * record's place among the others about these jobs matches the state it holds. Changes nothing in
   * the entries: once the record is durable the store moves each one still alive to its new home
   * with {@link #rehomed}.
   *
   * @param sizes receives each entry's bytes in the record, in order
   * @return completes with the segment holding the record once it is forced, or fails if the
   *     journal failed or closed
   */
  CompletableFuture<Long> relocated(List<Entry> entries, int[] sizes);

  /**
   * A job's home moved from segment {@code from}, where its record took {@code fromBytes}, to the
   * durable record {@link #relocated} wrote in {@code to}, where it takes {@code toBytes}. Called
   * under the store's lock, so a report about the job (which names its home) comes before or after.
   */
  void rehomed(long from, int fromBytes, long to, int toBytes);

  /**
   * The largest record this log writes, in bytes: a batch whose {@link #submitted} record would be
   * larger can never be recorded. Unlimited (Long.MAX_VALUE) unless the log says otherwise.
   */
  default long maxRecordBytes() {
    return Long.MAX_VALUE;
  }

  /** Makes everything recorded so far durable, then releases the log's files. */
  @Override
  void close();
}
