package io.sluice.jobs;

import io.sluice.jobs.journal.AppendTimeoutException;
import io.sluice.jobs.journal.ChannelOpener;
import io.sluice.jobs.journal.IoMode;
import io.sluice.jobs.journal.Journal;
import io.sluice.jobs.journal.JournalClosedException;
import io.sluice.jobs.journal.JournalException;
import io.sluice.jobs.journal.JournalListener;
import io.sluice.jobs.journal.JournalOptions;
import io.sluice.jobs.journal.ReplayVisitor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/*
 * The durable store's log: JobRecords written to the journal, replay at open, and compaction.
 *
 * Compaction. Every job has a home: the segment holding the record that created it (SUBMITTED or
 * FIRED) or, once compaction rewrote it, its latest RELOCATED record. A segment can go once every
 * job whose home it is has finished (SUCCEEDED or DELETED is durable) or moved to a later home:
 * records in later segments about those jobs are then skipped by replay. `live` counts unfinished
 * jobs per home, and the bytes of their part of the home's record. A batch being written is
 * counted in the segment that was current when its append began (its home is that one or a later
 * one) and moved to its home once durable, so nothing it needs is released meanwhile. The first
 * segment to keep is the smallest key, or the current segment; everything before it is released.
 *
 * Relocation. A job that stays for long - a dead letter until it is retried or deleted, a long
 * retry wait, a far-future start time - would keep its home, and with it every later segment,
 * however little of them is still needed. So compaction looks at the prefixes [first, x) of the
 * closed segments from the oldest home on whose live jobs take at most `relocationThreshold` (f)
 * of their bytes, and releases the sparsest (a dead letter alone in old segments, not with it the
 * half-run head of a backlog behind them) by rewriting its jobs whole into the current segment
 * (the store does it: `relocator`, then JobLog.relocated and rehomed), oldest homes first, at most
 * a segment's worth (and 16 MiB) of live bytes per pass but at least one home. The rewrite is
 * forced whatever the durability policy, and a job's count moves from the old home to the new one
 * only once it is, under the store's lock (so the job's next report names the home it is counted
 * in); until then the old home pins its segment. A pass that empties a home starts the next, which
 * goes on with the rest of the prefix.
 *
 * Why f. A pass that rewrites L bytes lets go of at least L / f bytes, and every byte is let go
 * of at most once, so over the journal's life the rewrites R satisfy R / f <= W + R, where W is
 * what the store wrote for its jobs: R <= W f / (1 - f), a third of W at the default quarter. A
 * backlog that is simply not run yet fills the segments it lives in, so it never falls under the
 * threshold and is never rewritten; a dead letter alone is rewritten each time the segments
 * written after it hold 1 / f times its bytes. Passes go on while some prefix is under the
 * threshold, so afterwards the closed segments hold at most about 1 / f times the live bytes. The
 * cap on a pass's live bytes bounds the work (and memory) of one pass, not what can be released:
 * a dense oldest segment followed by many sparse ones goes too, a segment per pass. The one
 * departure from the bound: a pass cut short by the cap may rewrite the dense head of a prefix at
 * a worse ratio than f; what is left of that prefix is then sparser than f, so the passes after
 * it release it, and the bound holds over them roughly.
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

  /** Rewrites the jobs homed before a segment; see the class comment. */
  @FunctionalInterface
  interface Relocator {
    /**
     * Rewrites every job homed in a segment before {@code segment}.
     *
     * @param segment the first segment whose jobs stay where they are
     * @return how many jobs moved
     */
    int relocateBefore(long segment);
  }

  private final Journal journal;
  private final Object compactionLock = new Object();
  // home -> {unfinished jobs, the bytes of their part of its records}
  private final TreeMap<Long, long[]> live = new TreeMap<>();
  private final TreeMap<Long, Long> liveSchedules = new TreeMap<>();
  private final AtomicBoolean failureLogged = new AtomicBoolean();
  private final AtomicBoolean rehoming = new AtomicBoolean();
  private final ReentrantLock relocating = new ReentrantLock(); // one relocation at a time
  private final LongAdder unsettled = new LongAdder(); // finishing records not yet counted
  private final Object releaseLock = new Object();
  private long released; // guarded by releaseLock
  private volatile long lastSeenSegment;
  private volatile LongConsumer rehomer = segment -> {};
  private volatile Relocator relocator = segment -> 0;

  private final int maxRecordBytes;
  private final double relocationThreshold;
  private final long relocationBudget; // the most live bytes one pass rewrites
  private final StoreObserver observer;

  private JournalLog(Journal journal, JobStoreOptions options) {
    this.journal = journal;
    this.maxRecordBytes = maxRecordBytes(options);
    this.relocationThreshold = options.relocationThreshold();
    // a segment, at most 16 MiB: bounds a pass's writes, and the jobs it holds on to meanwhile
    this.relocationBudget = Math.min(options.segmentBytes(), MAX_BATCH_BYTES);
    this.observer = options.observer();
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
    return openStore(options, ChannelOpener.DEFAULT);
  }

  /**
   * Opens the store with its journal's files opened through {@code opener} (tests: a hung disk).
   */
  static LocalJobStore openStore(JobStoreOptions options, ChannelOpener opener) throws IOException {
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
      journal = Journal.open(journalOptions(options), visitor, opener);
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
    // From here on the journal runs (its threads, its directory's lock): whatever fails while the
    // store takes back what it held (an Error too: an OutOfMemoryError, one out of compaction's
    // disk calls) closes it again, so that the directory can be opened again at once.
    LocalJobStore store = null;
    try {
      JournalLog log = new JournalLog(journal, options);
      store = new LocalJobStore(options, log);
      log.rehomer = store::rehomeSchedulesBefore;
      log.relocator = store::relocateJobsBefore;
      log.lastSeenSegment = journal.currentSegment();
      finished.values().forEach(store::rememberFinished);
      for (Entry e : replay.recoveryOrder()) {
        log.countJobs(e.home, 1, e.recordBytes);
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
    } catch (RuntimeException | Error failure) {
      try {
        if (store != null) {
          store.close(); // its due timer too, and its journal
        } else {
          journal.close();
        }
      } catch (RuntimeException | Error closing) {
        failure.addSuppressed(closing);
      }
      throw failure;
    }
  }

  /**
   * Calls a store observer; its failure, an Error included, is logged, not passed on to the
   * journal's threads: an Error escaping onto the writer failed the journal for good.
   */
  private static void tell(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException | Error e) {
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
        .withStallThreshold(options.stallThreshold())
        .withPreallocate(options.preallocate())
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

              @Override
              public void onStall(long segment, long runningNanos, int waiting) {
                tell(() -> observer.journalStalled(runningNanos, waiting));
              }

              @Override
              public void onResume(long stalledNanos) {
                tell(() -> observer.journalResumed(stalledNanos));
              }
            });
  }

  @Override
  public long submitted(List<Entry> batch, Duration timeout) throws NotYetDurable {
    byte[] body = JobRecords.submitted(batch); // (which sets each job's recordBytes)
    long bytes = 0;
    for (int i = 0, n = batch.size(); i < n; i++) {
      bytes += batch.get(i).recordBytes;
    }
    return appendDurable(JobRecords.SUBMITTED, body, batch.size(), bytes, 0, false, timeout);
  }

  @Override
  public boolean stalled() {
    return journal.stalled();
  }

  @Override
  public long scheduled(ScheduleEntry schedule, Duration timeout) throws NotYetDurable {
    byte[] body = JobRecords.schedule(schedule);
    return appendDurable(JobRecords.SCHEDULE, body, 0, 0, 1, false, timeout);
  }

  @Override
  public long rescheduled(ScheduleEntry schedule, Duration timeout) throws NotYetDurable {
    byte[] body = JobRecords.schedule(schedule);
    return appendDurable(JobRecords.SCHEDULE, body, 0, 0, 1, true, timeout);
  }

  @Override
  public long fired(ScheduleEntry schedule, Entry job, Duration timeout) throws NotYetDurable {
    byte[] body = JobRecords.fired(schedule, job);
    return appendDurable(JobRecords.FIRED, body, 1, job.recordBytes, 1, false, timeout);
  }

  @Override
  public void unscheduled(String name, Duration timeout) throws NotYetDurable {
    appendDurable(JobRecords.UNSCHEDULE, JobRecords.unschedule(name), 0, 0, 0, false, timeout);
  }

  @Override
  public void superseded(long home) {
    if (countLive(liveSchedules, home, -1)) {
      compactLater();
    }
  }

  /**
   * Appends a record that becomes the home of {@code jobs} jobs and {@code schedules} schedules,
   * waits until it is durable, at most about {@code timeout}, and returns the segment that holds
   * it. They are counted live in the segment that was current when the append began (their home is
   * that one or a later one), which keeps it from compaction while the record is written, and moved
   * to their home after: one acquisition of the compaction lock per append unless the journal
   * rolled meanwhile. {@code forced}: forced whatever the durability policy.
   *
   * @throws NotYetDurable if the timeout passed first: the counts stay in the floor until the
   *     record's outcome is known, and the exception's future completes after they moved
   */
  private long appendDurable(
      int type,
      byte[] body,
      long jobs,
      long bytes,
      long schedules,
      boolean forced,
      Duration timeout)
      throws NotYetDurable {
    long floor = countFloor(jobs, bytes, schedules);
    long home;
    try {
      home =
          forced
              ? journal.appendForcedUninterruptibly(type, body, timeout)
              : journal.appendUninterruptibly(type, body, timeout);
    } catch (AppendTimeoutException e) {
      throw new NotYetDurable(
          e.outcome()
              .handle(
                  (segment, failure) -> {
                    if (failure != null) {
                      journalFailed(failure);
                    } else {
                      sawSegment(segment);
                    }
                    settle(floor, failure == null ? segment : null, jobs, bytes, schedules);
                    if (failure != null) {
                      throw failure instanceof CompletionException c
                          ? c
                          : new CompletionException(failure);
                    }
                    return segment;
                  }));
    } catch (JournalClosedException e) {
      // the store was closed (a change racing its close, or a call after it): nothing failed
      settle(floor, null, jobs, bytes, schedules);
      throw new JobStoreException(
          "the job store is closed, so this change was not recorded (a submitted batch is not"
              + " accepted)",
          e);
    } catch (JournalException e) {
      settle(floor, null, jobs, bytes, schedules);
      throw failed(e);
    } catch (RuntimeException | Error e) {
      settle(floor, null, jobs, bytes, schedules);
      throw e;
    }
    sawSegment(home);
    settle(floor, home, jobs, bytes, schedules);
    return home;
  }

  private JobStoreException failed(RuntimeException e) {
    journalFailed(e);
    return new JobStoreException(
        "the job journal failed, so this change was not recorded (a submitted batch is not"
            + " accepted): "
            + e.getMessage()
            + "; check the disk (space, permissions, errors in the system log) and restart",
        e);
  }

  /** Counts a record's jobs and schedules live in the current segment, while it is written. */
  private long countFloor(long jobs, long bytes, long schedules) {
    synchronized (compactionLock) {
      long floor = journal.currentSegment();
      countJobsLocked(floor, jobs, bytes);
      countLiveLocked(liveSchedules, floor, schedules);
      return floor;
    }
  }

  /**
   * Moves a record's counts from {@code floor} to its {@code home} once it is durable, or takes
   * them away if it never was ({@code home} null: the append failed).
   */
  private void settle(long floor, Long home, long jobs, long bytes, long schedules) {
    if (home != null && home == floor) {
      return;
    }
    if (home != null) {
      synchronized (compactionLock) {
        countJobsLocked(home, jobs, bytes);
        countLiveLocked(liveSchedules, home, schedules);
      }
    }
    // Moved to their home, or never written (the append failed): the floor is not theirs.
    boolean emptied = countJobs(floor, -jobs, -bytes);
    emptied |= countLive(liveSchedules, floor, -schedules);
    if (emptied) {
      compactLater();
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
  public void retried(Entry entry, Duration timeout) throws NotYetDurable {
    appendDurable(JobRecords.RETRIED, JobRecords.id(entry.id), 0, 0, 0, false, timeout);
  }

  @Override
  public void deleted(Entry entry, Duration timeout) throws NotYetDurable {
    // Read now: the store moves no job with a change in flight to another home.
    long[] homes = {entry.home};
    long[] bytes = {entry.recordBytes};
    byte[] body = JobRecords.ids(List.of(entry));
    unsettled.increment();
    try {
      appendDurable(JobRecords.DELETED, body, 0, 0, 0, false, timeout);
    } catch (NotYetDurable late) {
      late.outcome.whenComplete((segment, failure) -> settleFinished(failure, homes, bytes));
      throw late;
    } catch (RuntimeException | Error e) {
      unsettled.decrement();
      throw e;
    }
    settleFinished(null, homes, bytes);
  }

  /**
   * Records that {@code entries} finished ({@code type} SUCCEEDED_AT or DELETED, one record with
   * {@code body}) and, once that is durable, counts them out of their homes.
   */
  private void finished(List<Entry> entries, int type, byte[] body) {
    // Read now, under the store's lock: a relocation may move the job's home after this record.
    long[] homes = new long[entries.size()];
    long[] bytes = new long[entries.size()];
    for (int i = 0; i < homes.length; i++) {
      homes[i] = entries.get(i).home;
      bytes[i] = entries.get(i).recordBytes;
    }
    unsettled.increment();
    append(type, body).whenComplete((segment, failure) -> settleFinished(failure, homes, bytes));
  }

  /**
   * Once a finishing record is durable (no {@code failure}), counts its jobs out of their homes and
   * compacts if that emptied one; either way, it is no longer unsettled.
   */
  private void settleFinished(Throwable failure, long[] homes, long[] bytes) {
    try {
      if (failure == null && countFinished(homes, bytes)) {
        compactLater();
      }
    } finally {
      unsettled.decrement();
    }
  }

  /** Counts finished jobs out of their homes; true if that emptied one compaction should see. */
  private boolean countFinished(long[] homes, long[] bytes) {
    boolean released = false;
    for (int i = 0, j; i < homes.length; i = j) { // usually one home: one count per run
      long sum = bytes[i];
      for (j = i + 1; j < homes.length && homes[j] == homes[i]; j++) {
        sum += bytes[j];
      }
      released |= countJobs(homes[i], i - j, -sum);
    }
    return released;
  }

  @Override
  public CompletableFuture<Long> relocated(List<Entry> entries, int[] sizes) {
    byte[] body = JobRecords.relocated(entries, sizes);
    CompletableFuture<Long> future = journal.appendForcedAsync(JobRecords.RELOCATED, body);
    future.whenComplete(
        (segment, failure) -> {
          if (segment != null) {
            sawSegment(segment);
            tell(() -> observer.journalRelocated(entries.size(), body.length));
          }
          if (failure != null) {
            journalFailed(failure);
          }
        });
    return future;
  }

  @Override
  public void rehomed(long from, int fromBytes, long to, int toBytes) {
    boolean emptied;
    synchronized (compactionLock) {
      countJobsLocked(to, 1, toBytes);
      emptied = countJobsLocked(from, -1, -fromBytes);
    }
    if (emptied) {
      compactLater();
    }
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

  /**
   * Adds {@code jobs} and {@code bytes} to {@code home}'s counts; true if that emptied the smallest
   * home or a closed segment (either may let compaction release or relocate something).
   */
  private boolean countJobs(long home, long jobs, long bytes) {
    if (jobs == 0) {
      return false;
    }
    synchronized (compactionLock) {
      return countJobsLocked(home, jobs, bytes);
    }
  }

  private boolean countJobsLocked(long home, long jobs, long bytes) {
    if (jobs == 0) {
      return false;
    }
    long[] counts = live.get(home);
    if (counts == null) {
      live.put(home, new long[] {jobs, bytes});
      return false;
    }
    counts[0] += jobs;
    counts[1] += bytes;
    if (counts[0] != 0) {
      return false;
    }
    boolean first = live.firstKey() == home;
    live.remove(home);
    return first || home < journal.currentSegment();
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
   * alone keep the oldest segments, has them rewritten first; and if a prefix of the closed
   * segments holds few live jobs, has those rewritten so that a later pass releases it (see the
   * class comment). A relocation running on another thread is not waited for.
   */
  void compact() {
    compact(false);
  }

  /**
   * Compacts once the finishing records queued so far are counted, waiting for a relocation or a
   * release running on another thread rather than skipping this one's, and again while that
   * releases or relocates anything: for tests, which then see the journal as compaction leaves it
   * (while nothing else changes the store).
   */
  void compactFully() {
    while (unsettled.sum() > 0) { // finishing records queued before: counted once durable
      Thread.yield();
    }
    for (int i = 0; i < 1_000 && compact(true); i++) {}
  }

  /**
   * One pass; true if it released something or ran a relocation (which may have found that one
   * running meanwhile had moved the jobs, leaving the release to the next pass).
   */
  private boolean compact(boolean wait) {
    long keepFrom;
    long schedulesBefore = Long.MIN_VALUE;
    long relocateBefore;
    synchronized (compactionLock) {
      keepFrom = journal.currentSegment();
      if (!live.isEmpty()) {
        keepFrom = Math.min(keepFrom, live.firstKey());
      }
      if (!liveSchedules.isEmpty() && liveSchedules.firstKey() < keepFrom) {
        schedulesBefore = keepFrom;
        keepFrom = liveSchedules.firstKey();
      }
      relocateBefore = relocationTargetLocked();
    }
    if (schedulesBefore != Long.MIN_VALUE) {
      rehome(schedulesBefore);
    }
    boolean progress = release(keepFrom);
    if (relocateBefore != 0) {
      progress |= relocate(relocateBefore, wait);
    }
    return progress;
  }

  /**
   * Where this pass's relocation ends: 0 if no prefix of the closed segments, from the oldest job
   * home on, has its live jobs take at most the threshold of its bytes; otherwise the end of the
   * longest such prefix, or earlier if its first homes' live bytes already fill the budget (at
   * least one home per pass).
   */
  private long relocationTargetLocked() {
    long current = journal.currentSegment();
    if (relocationThreshold == 0 || live.isEmpty() || live.firstKey() >= current) {
      return 0;
    }
    long prefixEnd = live.firstKey();
    long prefixBytes = 0;
    long liveBytes = 0;
    long target = 0;
    double sparsest = relocationThreshold;
    long budgetEnd = 0;
    for (Map.Entry<Long, long[]> home : live.headMap(current).entrySet()) {
      liveBytes += home.getValue()[1];
      Long next = live.higherKey(home.getKey());
      long end = next == null ? current : Math.min(next, current);
      prefixBytes += journal.closedSegmentBytes(prefixEnd, end);
      prefixEnd = end;
      if (prefixBytes > 0 && (double) liveBytes / prefixBytes <= sparsest) {
        target = end;
        sparsest = (double) liveBytes / prefixBytes;
      }
      if (budgetEnd == 0 || liveBytes <= relocationBudget) {
        budgetEnd = end;
      }
    }
    return Math.min(target, budgetEnd);
  }

  /**
   * Has the store rewrite the jobs homed before {@code segment}, one relocation at a time; true if
   * this one ran.
   */
  private boolean relocate(long segment, boolean wait) {
    if (wait) {
      relocating.lock();
    } else if (!relocating.tryLock()) {
      return false; // the running one's rehomed jobs start the next pass
    }
    try {
      relocator.relocateBefore(segment);
      return true;
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not rewrite old jobs into the current journal segment; the old segments stay on"
              + " disk and are tried again later",
          e);
      return true;
    } finally {
      relocating.unlock();
    }
  }

  /** The number of live jobs and their bytes per home, for tests. */
  Map<Long, List<Long>> liveByHome() {
    synchronized (compactionLock) {
      Map<Long, List<Long>> copy = new TreeMap<>();
      live.forEach((home, counts) -> copy.put(home, List.of(counts[0], counts[1])));
      return copy;
    }
  }

  /** The number of live schedules per home, for tests. */
  Map<Long, Long> schedulesByHome() {
    synchronized (compactionLock) {
      return new TreeMap<>(liveSchedules);
    }
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

  /**
   * Releases the segments before {@code keepFrom}; true if that was news. One release at a time,
   * and a pass that finds the same one running waits for it, so the files are gone when it returns.
   */
  private boolean release(long keepFrom) {
    synchronized (releaseLock) {
      if (keepFrom <= released) {
        return false;
      }
      try {
        journal.releaseSegmentsBefore(keepFrom);
        released = keepFrom;
        return true;
      } catch (JournalClosedException e) {
        return false; // closed while this pass ran: the next open compacts
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "could not release old journal segments; they stay"
                + " on disk and are tried again later",
            e);
        return false;
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
