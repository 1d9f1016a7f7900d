package io.sluice.jobs;

import java.util.List;

/**
 * Where a {@link LocalJobStore} records what happens to its jobs so that a restart can rebuild
 * them. Every method but {@link #submitted} only queues its record and returns at once; the store
 * calls them under its lock, so records about one job reach the log in the order the changes
 * happened.
 */
interface JobLog extends AutoCloseable {

  /** The in-memory store's log: it records nothing, so a restart starts empty. */
  JobLog NONE =
      new JobLog() {
        @Override
        public long submitted(List<Entry> batch) {
          return 0;
        }

        @Override
        public void started(Entry entry) {}

        @Override
        public void succeeded(Entry entry) {}

        @Override
        public void failed(Entry entry) {}

        @Override
        public void abandoned(Entry entry) {}

        @Override
        public void retried(Entry entry) {}

        @Override
        public void deleted(Entry entry) {}

        @Override
        public void close() {}
      };

  /**
   * Records a new batch and waits until it is durable under the store's policy. Waits without
   * giving up on interruption (the write is short) and keeps the interrupt status.
   *
   * @return the segment holding the batch
   * @throws JobStoreException if the journal failed; nothing of the batch counts as accepted
   */
  long submitted(List<Entry> batch);

  void started(Entry entry);

  void succeeded(Entry entry);

  /** A failed attempt: {@code entry.state} says whether it waits to retry or is dead. */
  void failed(Entry entry);

  void abandoned(Entry entry);

  void retried(Entry entry);

  void deleted(Entry entry);

  /** Makes everything recorded so far durable, then releases the log's files. */
  @Override
  void close();
}
