package io.sluice.jobs;

import io.sluice.jobs.journal.IoMode;
import io.sluice.jobs.journal.Journal;
import io.sluice.jobs.journal.JournalException;
import io.sluice.jobs.journal.JournalListener;
import io.sluice.jobs.journal.JournalOptions;
import io.sluice.jobs.journal.ReplayVisitor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;

/*
 * The durable store's log: JobRecords written to the journal, replay at open, and compaction.
 *
 * Compaction. Every job has a home: the segment holding its SUBMITTED record. A segment can go once
 * every job whose home it is has finished (SUCCEEDED or DELETED is durable): records in later
 * segments about those jobs are then skipped by replay. `live` counts unfinished jobs per home;
 * `inFlight` counts submits being written per the segment that was current when they began (their
 * home is that segment or a later one). The first segment to keep is the smallest key of either,
 * or the current segment; everything before it is released. Long-lived dead letters pin their home
 * segment until retried to success or deleted.
 */
final class JournalLog implements JobLog {

  private static final System.Logger LOG = System.getLogger(JournalLog.class.getName());

  /** The largest batch record: 16 MiB, or half a segment if segments are smaller. */
  static final int MAX_BATCH_BYTES = 16 << 20;

  private final Journal journal;
  private final Object compactionLock = new Object();
  private final TreeMap<Long, Long> live = new TreeMap<>();
  private final TreeMap<Long, Long> inFlight = new TreeMap<>();
  private final AtomicBoolean failureLogged = new AtomicBoolean();
  private long released;

  private JournalLog(Journal journal) {
    this.journal = journal;
  }

  static LocalJobStore openStore(JobStoreOptions options) throws IOException {
    if (options.directory().isEmpty()) {
      throw new IllegalArgumentException(
          "a durable job store needs a directory: JobStoreOptions.withDirectory(path)");
    }
    Map<JobId, Entry> jobs = new LinkedHashMap<>();
    int retention = options.finishedRetention();
    Map<JobId, Job> finished =
        new LinkedHashMap<>() {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<JobId, Job> eldest) {
            return size() > retention;
          }
        };
    StoreObserver observer = options.observer();
    ReplayVisitor visitor =
        new ReplayVisitor() {
          @Override
          public void record(long segment, int type, ByteBuffer body) {
            JobRecords.replay(jobs, finished, segment, type, body);
          }

          @Override
          public void progress(long bytesDone, long totalBytes) {
            observer.replayProgress(bytesDone, totalBytes);
          }
        };
    Journal journal;
    try {
      journal = Journal.open(journalOptions(options), visitor);
    } catch (JobRecords.CorruptRecordException e) {
      throw new IOException(
          "a job record in "
              + options.directory().get()
              + " passed its checksum but does not"
              + " parse ("
              + e.getMessage()
              + "); was this journal written by a newer Sluice?",
          e);
    }
    JournalLog log = new JournalLog(journal);
    LocalJobStore store = new LocalJobStore(options, log);
    finished.values().forEach(store::rememberFinished);
    for (Entry e : jobs.values()) {
      log.countLive(e.home, 1);
      store.recover(e);
    }
    log.compact();
    if (!jobs.isEmpty()) {
      LOG.log(
          System.Logger.Level.INFO,
          "recovered " + jobs.size() + " jobs from the journal in " + options.directory().get());
    }
    return store;
  }

  private static JournalOptions journalOptions(JobStoreOptions options) {
    StoreObserver observer = options.observer();
    return JournalOptions.defaults(options.directory().get())
        .withDurability(
            switch (options.durability()) {
              case Durability.Always a -> io.sluice.jobs.journal.Durability.ALWAYS;
              case Durability.Never n -> io.sluice.jobs.journal.Durability.NEVER;
              case Durability.Interval i -> io.sluice.jobs.journal.Durability.interval(i.period());
            })
        // A batch is one record; half a segment leaves room for the largest next to the rest.
        // (Set before the segment size, which is checked against it.)
        .withMaxRecordBytes((int) Math.min(MAX_BATCH_BYTES, options.segmentBytes() / 2))
        .withSegmentBytes(options.segmentBytes())
        .withIoMode(options.directIo() ? IoMode.AUTO : IoMode.BUFFERED)
        .withListener(
            new JournalListener() {
              @Override
              public void onCommit(int records, long bytes, long writeNanos, long forceNanos) {
                try {
                  observer.journalCommitted(records, bytes, writeNanos, forceNanos);
                } catch (RuntimeException e) {
                  LOG.log(System.Logger.Level.WARNING, "a store observer failed; ignored", e);
                }
              }
            });
  }

  @Override
  public long submitted(List<Entry> batch) {
    byte[] body = JobRecords.submitted(batch);
    long floor;
    synchronized (compactionLock) {
      floor = journal.currentSegment();
      inFlight.merge(floor, 1L, Long::sum);
    }
    try {
      long home = awaitUninterruptibly(journal.appendAsync(JobRecords.SUBMITTED, body));
      countLive(home, batch.size());
      return home;
    } finally {
      synchronized (compactionLock) {
        inFlight.merge(floor, -1L, (a, b) -> a + b == 0 ? null : a + b);
      }
    }
  }

  private static long awaitUninterruptibly(CompletableFuture<Long> future) {
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return future.get();
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (ExecutionException e) {
          throw new JobStoreException(
              "the job journal failed, so the batch was not accepted: "
                  + e.getCause().getMessage()
                  + "; check the disk (space, permissions, errors in the system log) and restart",
              e.getCause());
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  @Override
  public void started(Entry entry) {
    append(JobRecords.STARTED, JobRecords.id(entry.id));
  }

  @Override
  public void succeeded(Entry entry) {
    finished(entry, JobRecords.SUCCEEDED);
  }

  @Override
  public void failed(Entry entry) {
    append(JobRecords.FAILED, JobRecords.failed(entry));
  }

  @Override
  public void abandoned(Entry entry) {
    append(JobRecords.ABANDONED, JobRecords.id(entry.id));
  }

  @Override
  public void retried(Entry entry) {
    append(JobRecords.RETRIED, JobRecords.id(entry.id));
  }

  @Override
  public void deleted(Entry entry) {
    finished(entry, JobRecords.DELETED);
  }

  private void finished(Entry entry, int type) {
    long home = entry.home;
    append(type, JobRecords.id(entry.id))
        .thenRun(
            () -> {
              if (countLive(home, -1)) {
                Thread.ofVirtual().name("sluice-journal-compaction").start(this::compact);
              }
            });
  }

  private CompletableFuture<Long> append(int type, byte[] body) {
    CompletableFuture<Long> future = journal.appendAsync(type, body);
    future.whenComplete(
        (segment, failure) -> {
          if (failure != null && failureLogged.compareAndSet(false, true)) {
            LOG.log(
                System.Logger.Level.ERROR,
                "the job journal failed; job state changes are"
                    + " no longer recorded and the store refuses new jobs. Fix the disk and restart;"
                    + " unfinished jobs are recovered from what was written.",
                failure);
          }
        });
    return future;
  }

  /** Adds {@code delta} live jobs to {@code home}; true if the smallest live home went away. */
  private boolean countLive(long home, long delta) {
    synchronized (compactionLock) {
      Long before = live.isEmpty() ? null : live.firstKey();
      live.merge(home, delta, (a, b) -> a + b == 0 ? null : a + b);
      return before != null && before == home && !live.containsKey(home);
    }
  }

  /** Releases every segment before the first one that still holds something needed. */
  void compact() {
    long keepFrom;
    synchronized (compactionLock) {
      keepFrom = journal.currentSegment();
      if (!live.isEmpty()) {
        keepFrom = Math.min(keepFrom, live.firstKey());
      }
      if (!inFlight.isEmpty()) {
        keepFrom = Math.min(keepFrom, inFlight.firstKey());
      }
      if (keepFrom <= released) {
        return;
      }
      released = keepFrom;
    }
    try {
      journal.releaseSegmentsBefore(keepFrom);
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not release old journal segments; they stay"
              + " on disk and are tried again later",
          e);
      synchronized (compactionLock) {
        released = Math.min(released, keepFrom - 1);
      }
    }
  }

  @Override
  public void close() {
    try {
      journal.close();
    } catch (JournalException e) {
      throw new JobStoreException("closing the job journal failed: " + e.getMessage(), e);
    }
  }
}
