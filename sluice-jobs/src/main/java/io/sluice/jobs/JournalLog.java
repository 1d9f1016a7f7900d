package io.sluice.jobs;

import io.sluice.jobs.journal.IoMode;
import io.sluice.jobs.journal.Journal;
import io.sluice.jobs.journal.JournalClosedException;
import io.sluice.jobs.journal.JournalException;
import io.sluice.jobs.journal.JournalListener;
import io.sluice.jobs.journal.JournalOptions;
import io.sluice.jobs.journal.ReplayVisitor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongConsumer;

/*
 * The durable store's log: JobRecords written to the journal, replay at open, and compaction.
 *
 * Compaction. Every job has a home: the segment holding its SUBMITTED record. A segment can go once
 * every job whose home it is has finished (SUCCEEDED or DELETED is durable): records in later
 * segments about those jobs are then skipped by replay. `live` counts unfinished jobs per home. A
 * batch being written is counted in the segment that was current when its append began (its home
 * is that one or a later one) and moved to its home once durable, so nothing it needs is released
 * meanwhile. The first segment to keep is the smallest key, or the current segment; everything
 * before it is released. Long-lived dead letters pin their home segment until retried to success
 * or deleted.
 *
 * Schedules. Each SCHEDULE or FIRED record holds a schedule's whole state, so a schedule's home is
 * the segment of its latest record, counted in `liveSchedules`; the older one is superseded once
 * the new one is durable. A schedule that fires rarely would pin its home, and with it every later
 * segment, for as long as it does not fire; so when the oldest schedule home is all that keeps a
 * segment (jobs would let it go), compaction asks the store to rewrite the
 * schedules homed there into the current segment (`rehomer`), after which that segment goes too.
 */
final class JournalLog implements JobLog {

  private static final System.Logger LOG = System.getLogger(JournalLog.class.getName());

  /** The largest batch record: 16 MiB, or half a segment if segments are smaller. */
  static final int MAX_BATCH_BYTES = 16 << 20;

  private final Journal journal;
  private final Object compactionLock = new Object();
  private final TreeMap<Long, Long> live = new TreeMap<>();
  private final TreeMap<Long, Long> liveSchedules = new TreeMap<>();
  private final AtomicBoolean failureLogged = new AtomicBoolean();
  private final AtomicBoolean rehoming = new AtomicBoolean();
  private long released;
  private volatile long lastSeenSegment;
  private volatile LongConsumer rehomer = segment -> {};

  private final int maxRecordBytes;

  private JournalLog(Journal journal, int maxRecordBytes) {
    this.journal = journal;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** The largest record, so the largest batch, a store with these options writes. */
  private static int maxRecordBytes(JobStoreOptions options) {
    // A batch is one record; half a segment leaves room for the largest next to the rest.
    return (int) Math.min(MAX_BATCH_BYTES, options.segmentBytes() / 2);
  }

  @Override
  public long maxRecordBytes() {
    return maxRecordBytes;
  }

  static LocalJobStore openStore(JobStoreOptions options) throws IOException {
    if (options.directory().isEmpty()) {
      throw new IllegalArgumentException(
          "a durable job store needs a directory: JobStoreOptions.withDirectory(path)");
    }
    Map<JobId, Entry> finished = LocalJobStore.finishedMap(options.finishedRetention());
    JobRecords.Replay replay = new JobRecords.Replay(new LinkedHashMap<>(), finished);
    StoreObserver observer = options.observer();
    ReplayVisitor visitor =
        new ReplayVisitor() {
          @Override
          public void record(long segment, int type, ByteBuffer body) {
            replay.apply(segment, type, body);
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
    JournalLog log = new JournalLog(journal, maxRecordBytes(options));
    LocalJobStore store = new LocalJobStore(options, log);
    log.rehomer = store::rehomeSchedulesBefore;
    log.lastSeenSegment = journal.currentSegment();
    finished.values().forEach(store::rememberFinished);
    for (Entry e : replay.jobs.values()) {
      log.countLive(log.live, e.home, 1);
      store.recover(e);
    }
    for (ScheduleEntry s : replay.schedules.values()) {
      log.countLive(log.liveSchedules, s.home, 1);
      store.recoverSchedule(s);
    }
    log.compact();
    if (!replay.jobs.isEmpty() || !replay.schedules.isEmpty()) {
      LOG.log(
          System.Logger.Level.INFO,
          "recovered "
              + replay.jobs.size()
              + " jobs and "
              + replay.schedules.size()
              + " schedules from the journal in "
              + options.directory().get());
    }
    return store;
  }

  /** Calls a store observer; its failure is logged, not passed on to the journal's threads. */
  private static void tell(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "a store observer failed; ignored", e);
    }
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
        // (Set before the segment size, which is checked against it.)
        .withMaxRecordBytes(maxRecordBytes(options))
        .withSegmentBytes(options.segmentBytes())
        .withIoMode(options.directIo() ? IoMode.AUTO : IoMode.BUFFERED)
        .withListener(
            new JournalListener() {
              @Override
              public void onCommit(int records, long bytes, long writeNanos, long forceNanos) {
                tell(() -> observer.journalCommitted(records, bytes, writeNanos, forceNanos));
              }

              @Override
              public void onForce(long nanos) {
                tell(() -> observer.journalForced(nanos));
              }

              @Override
              public void onAcknowledge(long latencyNanos) {
                tell(() -> observer.journalAcknowledged(latencyNanos));
              }

              @Override
              public void onFailure(JournalException failure) {
                tell(() -> observer.journalFailed(failure));
              }
            });
  }

  @Override
  public long submitted(List<Entry> batch) {
    return appendDurable(JobRecords.SUBMITTED, JobRecords.submitted(batch), batch.size(), 0);
  }

  @Override
  public long scheduled(ScheduleEntry schedule) {
    return appendDurable(JobRecords.SCHEDULE, JobRecords.schedule(schedule), 0, 1);
  }

  @Override
  public long fired(ScheduleEntry schedule, Entry job) {
    return appendDurable(JobRecords.FIRED, JobRecords.fired(schedule, job), 1, 1);
  }

  @Override
  public void unscheduled(String name) {
    appendAndWait(JobRecords.UNSCHEDULE, JobRecords.unschedule(name));
  }

  @Override
  public void superseded(long home) {
    if (countLive(liveSchedules, home, -1)) {
      compactLater();
    }
  }

  /**
   * Appends a record that becomes the home of {@code jobs} jobs and {@code schedules} schedules,
   * waits until it is durable, and returns the segment that holds it. They are counted live in the
   * segment that was current when the append began (their home is that one or a later one), which
   * keeps it from compaction while the record is written, and moved to their home after: one
   * acquisition of the compaction lock per append unless the journal rolled meanwhile.
   */
  private long appendDurable(int type, byte[] body, long jobs, long schedules) {
    long floor;
    synchronized (compactionLock) {
      floor = journal.currentSegment();
      countLiveLocked(live, floor, jobs);
      countLiveLocked(liveSchedules, floor, schedules);
    }
    long home = floor;
    boolean written = false;
    try {
      home = appendAndWait(type, body);
      written = true;
      if (home != floor) {
        synchronized (compactionLock) {
          countLiveLocked(live, home, jobs);
          countLiveLocked(liveSchedules, home, schedules);
        }
      }
      return home;
    } finally {
      if (!written || home != floor) {
        // Moved to their home, or never written (the append failed): the floor is not theirs.
        boolean emptied = countLive(live, floor, -jobs);
        emptied |= countLive(liveSchedules, floor, -schedules);
        if (emptied) {
          compactLater();
        }
      }
    }
  }

  @Override
  public void started(List<Entry> entries, Instant at) {
    append(JobRecords.STARTED_AT, JobRecords.timedIds(at, entries));
  }

  @Override
  public void succeeded(List<Entry> entries, Instant at) {
    finished(entries, JobRecords.SUCCEEDED_AT, JobRecords.timedIds(at, entries));
  }

  @Override
  public void failed(Entry entry, Instant at) {
    append(JobRecords.FAILED_AT, JobRecords.failed(entry, at));
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
    List<Entry> entries = List.of(entry);
    finished(entries, JobRecords.DELETED, JobRecords.ids(entries));
  }

  /**
   * Records that {@code entries} finished ({@code type} SUCCEEDED_AT or DELETED, one record with
   * {@code body}) and, once that is durable, counts them out of their homes.
   */
  private void finished(List<Entry> entries, int type, byte[] body) {
    long[] homes = new long[entries.size()];
    for (int i = 0; i < homes.length; i++) {
      homes[i] = entries.get(i).home;
    }
    append(type, body)
        .thenRun(
            () -> {
              boolean released = false;
              for (int i = 0, j; i < homes.length; i = j) { // usually one home: one count per run
                for (j = i + 1; j < homes.length && homes[j] == homes[i]; j++) {}
                released |= countLive(live, homes[i], i - j);
              }
              if (released) {
                compactLater();
              }
            });
  }

  /**
   * Appends and waits until durable, without a future: the submitter parks on its own record and
   * the journal's completer unparks it.
   */
  private long appendAndWait(int type, byte[] body) {
    long segment;
    try {
      segment = journal.appendUninterruptibly(type, body);
    } catch (JournalException | JournalClosedException e) {
      journalFailed(e);
      throw new JobStoreException(
          "the job journal failed, so this change was not recorded (a submitted batch is not"
              + " accepted): "
              + e.getMessage()
              + "; check the disk (space, permissions, errors in the system log) and restart",
          e);
    }
    sawSegment(segment);
    return segment;
  }

  /** A record landed in {@code segment}: a new one may leave an old one kept only by schedules. */
  private void sawSegment(long segment) {
    if (segment > lastSeenSegment) {
      lastSeenSegment = segment;
      compactLater();
    }
  }

  private void journalFailed(Throwable failure) {
    if (failureLogged.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.ERROR,
          "the job journal failed; job state changes are"
              + " no longer recorded and the store refuses new jobs. Fix the disk and restart;"
              + " unfinished jobs are recovered from what was written.",
          failure);
    }
  }

  private void compactLater() {
    Thread.ofVirtual().name("sluice-journal-compaction").start(this::compact);
  }

  private CompletableFuture<Long> append(int type, byte[] body) {
    CompletableFuture<Long> future = journal.appendAsync(type, body);
    future.whenComplete(
        (segment, failure) -> {
          if (segment != null) {
            sawSegment(segment);
          }
          if (failure != null) {
            journalFailed(failure);
          }
        });
    return future;
  }

  /** Adds {@code delta} to {@code home}'s count; true if that emptied the smallest home. */
  private boolean countLive(TreeMap<Long, Long> counts, long home, long delta) {
    if (delta == 0) {
      return false;
    }
    synchronized (compactionLock) {
      Long before = counts.isEmpty() ? null : counts.firstKey();
      countLiveLocked(counts, home, delta);
      return before != null && before == home && !counts.containsKey(home);
    }
  }

  private static void countLiveLocked(TreeMap<Long, Long> counts, long home, long delta) {
    if (delta != 0) {
      counts.merge(home, delta, (a, b) -> a + b == 0 ? null : a + b);
    }
  }

  /**
   * Releases every segment before the first one that still holds something needed; if schedules
   * alone keep the oldest segments, has them rewritten first (see the class comment).
   */
  void compact() {
    long keepFrom;
    long schedulesBefore = Long.MIN_VALUE;
    synchronized (compactionLock) {
      keepFrom = journal.currentSegment();
      if (!live.isEmpty()) {
        keepFrom = Math.min(keepFrom, live.firstKey());
      }
      if (!liveSchedules.isEmpty() && liveSchedules.firstKey() < keepFrom) {
        schedulesBefore = keepFrom;
        keepFrom = liveSchedules.firstKey();
      }
    }
    if (schedulesBefore != Long.MIN_VALUE) {
      rehome(schedulesBefore);
    }
    release(keepFrom);
  }

  /** Has the store rewrite the schedules homed before {@code segment}; one rewrite at a time. */
  private void rehome(long segment) {
    if (!rehoming.compareAndSet(false, true)) {
      return;
    }
    try {
      rehomer.accept(segment);
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not rewrite old schedules into the current journal segment; the old segments"
              + " stay on disk and are tried again later",
          e);
    } finally {
      rehoming.set(false);
    }
  }

  private void release(long keepFrom) {
    synchronized (compactionLock) {
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
