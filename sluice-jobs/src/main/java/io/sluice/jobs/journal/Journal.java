package io.sluice.jobs.journal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.LinkedTransferQueue;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A durable, append-only journal of opaque records ({@code int} type, {@code byte[]} body) in
 * segment files, with group commit and crash recovery. The job engine journals submissions,
 * completions and state changes through it; the format is described in the {@linkplain
 * io.sluice.jobs.journal package documentation}.
 *
 * <p>{@link #open} replays every readable record into a {@link ReplayVisitor} (cutting off a torn
 * tail, skipping and reporting damaged regions, see {@link #replayReport()}), then accepts appends.
 * One writer thread drains every pending append at once, writes them in one go, forces once (under
 * {@link Durability#ALWAYS}) and then completes all of them, so concurrent submitters share forces.
 *
 * <table class="striped">
 *   <caption>Operations</caption>
 *   <thead><tr><th>operation</th><th>blocks?</th><th>interruption</th><th>closed</th><th>failed
 *       (I/O error)</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #append}</td><td>until durable per policy</td><td>{@code
 *         InterruptedException}: on entry nothing is appended; while waiting the record may or may
 *         not become durable</td><td>{@link JournalClosedException}</td><td>{@link
 *         JournalException}</td></tr>
 *     <tr><td>{@link #appendAsync}</td><td>never</td><td>not affected</td><td>future fails with
 *         {@link JournalClosedException}</td><td>future fails with {@link JournalException}</td></tr>
 *     <tr><td>{@link #appendForcedAsync}</td><td>never (the future completes once
 *         forced)</td><td>not affected</td><td>future fails with {@link
 *         JournalClosedException}</td><td>future fails with {@link JournalException}</td></tr>
 *     <tr><td>{@link #releaseSegmentsBefore}</td><td>deletes files</td><td>not
 *         affected</td><td>{@link JournalClosedException}</td><td>still deletes</td></tr>
 *     <tr><td>{@link #close}</td><td>until pending appends are durable</td><td>keeps waiting,
 *         then restores the interrupt status</td><td>no-op</td><td>closes</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>An append is atomic: after a crash its record is wholly in the journal or wholly absent. Every
 * acknowledged record is replayed after a restart, in append order; records appended by one thread
 * one after another keep their order. There is no cancellation by context: a record handed to the
 * writer is written.
 *
 * <p>Memory consistency effects: actions in a thread before it calls {@code append} or {@code
 * appendAsync} happen-before the writer's write of that record, and the writer's completion of a
 * record happens-before {@code append} returns (or the future completes). Records replayed at open
 * happen-before {@code open} returns.
 *
 * <p>A disk that hangs (a stuck {@code fdatasync} on a dying device, a frozen network volume)
 * leaves the writer stuck in a system call, which no Java code can interrupt. The journal watches
 * for it: a commit (write and force) that has run longer than {@link
 * JournalOptions#stallThreshold()} is a stall, logged once as a warning, reported to {@link
 * JournalListener#onStall} and by {@link #stalled()}; when the commit ends, the journal logs that
 * it resumed and the stall clears. A stall does not fail the journal: a slow disk that recovers,
 * recovers. {@link #appendUninterruptibly(int, byte[], Duration)} bounds a submitter's wait.
 *
 * <p>Only one journal may have a directory open at a time (checked with a file lock on {@code
 * journal.lock}, across processes).
 *
 * <p>Use:
 *
 * <pre>{@code
 * JournalOptions options = JournalOptions.defaults(Path.of("/var/lib/sluice/journal"));
 * try (Journal journal = Journal.open(options, (segment, type, body) -> engine.replay(segment, type, body))) {
 *   long segment = journal.append(SUBMITTED, encode(batch));        // durable when it returns
 *   journal.appendAsync(COMPLETED, encode(id)).thenRun(...);         // durable when it completes
 *   journal.releaseSegmentsBefore(engine.oldestSegmentWithLiveJobs()); // compaction
 * }
 * }</pre>
 */
public final class Journal implements AutoCloseable {
  /*
   * Group commit over an MPSC stack.
   *
   * Submitters push a Pending node onto `head` with a CAS (a Treiber stack; the node already holds
   * both frame checks, computed by the submitter). The one writer thread takes the whole stack with
   * getAndSet(null), reverses it into FIFO order (so one thread's appends stay in order), copies the
   * frames into its aligned buffer, writes, forces once when the policy says so, then hands the batch
   * to the completer thread, which completes every node. Unparking a virtual thread costs about a
   * microsecond, a quarter of a 500-record commit cycle here, so completion runs beside the next
   * commit instead of before it (+20% acknowledgements per second at 1,024 submitters in an A/B run
   * on the loaded machine). The completer is itself a virtual thread: the virtual threads it unparks
   * then go onto its carrier's own work queue instead of through the scheduler's queue for outside
   * submissions, waking idle carriers less often (+38% at the median of five alternating runs of the
   * job engine's durable submits at 1,024 submitters; ADR 10). The writer, which blocks in file I/O,
   * stays a platform thread. No linger: whatever queued up during one commit's write and force is the
   * next commit, so batches grow exactly as fast as the disk is slow.
   *
   * Wake-up: a push that finds the stack empty unparks the writer; the writer parks only after a
   * getAndSet found nothing. A push after that getAndSet sees null and unparks, and an unpark before
   * park makes park return, so no push is ever left unseen (no lost wake-up).
   *
   * End: close() sets closeRequested and unparks the writer. When the writer finds the stack empty
   * and close requested, it swaps in TERMINATED, commits what that swap returned, forces whatever is
   * unforced and closes the segment. A push that sees TERMINATED fails instead (closed, or the stored
   * failure), so nothing can be pushed after the writer's last drain. The writer's last act is to
   * queue TERMINATED for the completer, which stops after completing what came before it. A start
   * that fails after a thread began (a thread that cannot start) ends them the same way before the
   * open throws, so a failed open leaves no thread and no lock behind. An I/O
   * error makes the writer
   * store `failure` first, then fail the batch in flight and everything it drains while swapping in
   * TERMINATED, then exit: the journal is failed for good (no retry of a failed fsync: after one, the
   * kernel may have dropped the dirty pages, so a later success would prove nothing).
   *
   * Segments: the writer rolls to a new segment when a frame would cross segmentBytes (the old one
   * is flushed, forced unless NEVER (then close forces it), closed and added to closedSegments; the
   * new one is created with its header, forced, and the directory forced). releaseSegmentsBefore
   * deletes from closedSegments only, so it never touches the segment being written. With
   * preallocate, a fourth thread (SegmentPreallocator, a platform thread) writes the next segment's
   * file with zeros meanwhile; the roll renames that file (whole, or as far as it got) to the new
   * segment's name instead of creating an empty one. It starts last and closes after the writer.
   *
   * Stalls. The writer stores the start of each stretch of disk I/O (a commit, an interval force,
   * the last force at close) in `busySince` and IDLE after it: two volatile writes per commit, none
   * per append. A watchdog virtual thread wakes every `tickNanos` (a quarter of the stall threshold,
   * between 1 ms and 1 s) and compares: a stretch older than the threshold is a stall, recorded in
   * `stalledSince` (the stretch's start) under `stallLock`, logged and reported once. The writer,
   * after its stretch, reads `stalledSince` and, if set, clears it and logs the resume. The two can
   * cross: the watchdog may mark a stretch the writer has just ended, after the writer looked; so
   * the watchdog also clears a stall whose stretch is no longer the one running, one tick later. The
   * same watchdog gives timed appends their timeout without a timer per append: while a stretch is
   * older than a tick, it walks the commit in flight and the stack and unparks each timed waiter
   * whose deadline has passed (Pending's comment says how the waiter then gives up). The walk races
   * with the writer's reversal of a drained stack, but stays finite: a node's `next` points to an
   * older node until the reversal reaches it and to a newer one after, and the reversal runs from
   * the newest, so a walk that turns toward newer nodes ends at the newest, whose `next` is null
   * (and the completer only ever sets `next` to null).
   *
   * Invariants (checkInvariants): closed segments are all older than the current one; once the writer
   * and completer have ended, head is TERMINATED and no completion is left; counters agree (records >= commits, max per commit <= records);
   * once closed, no stretch of I/O is running, no stall is set, and the watchdog has ended.
   */
  private static final System.Logger LOG = System.getLogger(Journal.class.getName());
  private static final String LOCK_FILE = "journal.lock";
  private static final String PROBE_FILE = "direct-io-probe.tmp";
  private static final VarHandle HEAD;
  private static final long IDLE = Long.MIN_VALUE;
  private static final long MIN_TICK_NANOS = 1_000_000;
  private static final long MAX_TICK_NANOS = 1_000_000_000;

  static {
    try {
      HEAD = MethodHandles.lookup().findVarHandle(Journal.class, "head", Pending.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final JournalOptions options;
  private final Path directory;
  private final ChannelOpener opener;
  private final FileNames names; // renames and deletes, beside the opener (FileNames.of)
  private final IoMode ioMode;
  private final ReplayReport report;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final boolean forceEveryCommit;
  private final boolean forceOnRoll;
  private final long intervalNanos;
  private final JournalListener listener;
  private final boolean observeAcks;
  // closed segment number -> its size in bytes
  private final ConcurrentSkipListMap<Long, Long> closedSegments = new ConcurrentSkipListMap<>();
  private final Object closeLock = new Object();
  private final Thread writer;

  /** Completes committed batches, so that the writer can start the next commit meanwhile. */
  private final Thread completer;

  private final LinkedTransferQueue<Pending> completions = new LinkedTransferQueue<>();

  /** Reports stalls and wakes timed appends past their deadline; see the class comment. */
  private final Thread watchdog;

  /** Writes the next segment's file ahead (JournalOptions.preallocate), or null. */
  private final SegmentPreallocator preallocator;

  private final long stallThresholdNanos;
  private final long tickNanos;
  private final Object stallLock = new Object();
  private volatile long busySince = IDLE; // start of the writer's current stretch of disk I/O
  private volatile long stalledSince = IDLE; // start of the stretch reported as stalled
  private volatile long stalls; // written under stallLock
  private volatile boolean watchdogStop;

  @SuppressWarnings("unused") // accessed through HEAD
  private volatile Pending head;

  private volatile boolean closeRequested;
  private volatile boolean closed;
  private volatile JournalException failure;
  private volatile long currentSegment;

  // Writer-thread state.
  private final ByteBuffer buffer;
  private SegmentWriter segment;
  private volatile Pending inFlight; // read by the watchdog
  private boolean unforced;
  private boolean forceAsked; // a record put since the last force must be forced (appendForced)

  /** Segments closed at a roll without a force (NEVER): close forces them (see finish). */
  private final List<Long> rolledUnforced = new ArrayList<>();

  private long lastForceNanos;

  // Counters: written by the writer thread only, read by stats().
  private volatile long recordsAppended;
  private volatile long bytesAppended;
  private volatile long commits;
  private volatile long forces;
  private volatile long maxRecordsPerCommit;
  private volatile long forceNanosTotal;
  private volatile long forceNanosMax;
  private volatile long segmentsCreated;
  private volatile long segmentsPreallocated; // of segmentsCreated, from a preallocated file
  private final AtomicLong segmentsDeleted = new AtomicLong();

  private Journal(
      JournalOptions options,
      ChannelOpener opener,
      IoMode ioMode,
      Recovery.Result recovered,
      FileChannel lockChannel,
      FileLock lock)
      throws IOException {
    this.options = options;
    this.directory = options.directory();
    this.opener = opener;
    this.names = FileNames.of(opener);
    this.ioMode = ioMode;
    this.report = recovered.report();
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.listener = options.listener();
    this.observeAcks = listener != JournalListener.NONE;
    this.forceEveryCommit = options.durability() instanceof Durability.Always;
    this.forceOnRoll = !(options.durability() instanceof Durability.Never);
    this.intervalNanos =
        options.durability() instanceof Durability.Interval(var every) ? nanos(every) : 0;
    this.buffer = SegmentWriter.alignedBuffer(options.writeBufferBytes());
    this.stallThresholdNanos = nanos(options.stallThreshold());
    this.tickNanos = Math.clamp(stallThresholdNanos / 4, MIN_TICK_NANOS, MAX_TICK_NANOS);
    boolean direct = ioMode == IoMode.DIRECT;
    long last = recovered.lastSegment();
    for (long n : recovered.segments()) {
      if (n != last) {
        closedSegments.put(n, Files.size(SegmentFormat.file(directory, n)));
      }
    }
    if (last == 0) {
      segment = SegmentWriter.create(opener, directory, 1, buffer, direct);
      segmentsCreated = 1;
    } else if (recovered.lastEnd() < 0) {
      SegmentWriter.deleteBlank(names, directory, last);
      segment = SegmentWriter.create(opener, directory, last, buffer, direct);
      segmentsCreated = 1;
    } else if (recovered.lastSalt() == 0) {
      // version 1, or a salt that no frame verified: a segment never mixes versions or salts
      closedSegments.put(last, Files.size(SegmentFormat.file(directory, last)));
      segment = SegmentWriter.create(opener, directory, last + 1, buffer, direct);
      segmentsCreated = 1;
    } else {
      segment =
          SegmentWriter.reopen(
              opener, directory, last, recovered.lastEnd(), recovered.lastSalt(), buffer, direct);
    }
    currentSegment = segment.number;
    preallocator =
        options.preallocate()
            ? new SegmentPreallocator(
                directory, options.segmentBytes(), direct, "sluice-journal-preallocator")
            : null;
    lastForceNanos = System.nanoTime();
    completer = Thread.ofVirtual().name("sluice-journal-completer").unstarted(this::runCompleter);
    watchdog = Thread.ofVirtual().name("sluice-journal-watchdog").unstarted(this::runWatchdog);
    Thread made = null;
    try {
      made = Objects.requireNonNull(options.writerThreadFactory().newThread(this::runWriter));
      writer = made;
      completer.start();
      made.start();
      watchdog.start();
      if (preallocator != null) {
        preallocator.start();
        preallocator.prepare(currentSegment + 1);
      }
    } catch (RuntimeException | Error e) {
      stopAfterFailedStart(made);
      segment.closeQuietly();
      throw e;
    }
  }

  /**
   * Ends the threads a start that failed part way left running (a thread that could not start: a
   * writer thread factory that returned a started thread, no memory for another thread), so that
   * the failed open leaves none behind. The writer, if it runs, finds close requested and nothing
   * appended (nobody has this journal), and ends as at a close, which ends the completer; a
   * completer without a writer is ended by its end marker. Waits for them through interrupts.
   */
  private void stopAfterFailedStart(Thread made) {
    closeRequested = true;
    watchdogStop = true;
    boolean interrupted = false;
    if (made != null && made.isAlive()) {
      LockSupport.unpark(made);
      interrupted = joinUninterruptibly(made);
    } else {
      completions.offer(Pending.TERMINATED);
    }
    LockSupport.unpark(watchdog);
    for (Thread t : List.of(completer, watchdog)) {
      if (t.isAlive()) {
        interrupted |= joinUninterruptibly(t);
      }
    }
    if (preallocator != null) {
      preallocator.close(); // never started, or started last: nothing after it can have failed
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Joins {@code t}, waiting through interrupts; true if the caller was interrupted meanwhile. */
  static boolean joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (t.isAlive()) {
      try {
        t.join();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    return interrupted;
  }

  /**
   * Opens (creating if needed) the journal directory, replays every readable record in order into
   * {@code visitor}, then accepts appends. Blocks while replaying (on the calling thread).
   *
   * @param options the journal's settings
   * @param visitor receives every readable record, and progress
   * @return the open journal
   * @throws JournalFormatException if a segment file comes from a newer format version or is not a
   *     journal segment; the message names the file and what to do
   * @throws IOException if the directory cannot be created, is locked by another open journal, or
   *     cannot be read or written, or if {@link IoMode#DIRECT} was asked for and the filesystem
   *     refuses it
   */
  public static Journal open(JournalOptions options, ReplayVisitor visitor) throws IOException {
    return open(options, visitor, ChannelOpener.DEFAULT);
  }

  /**
   * Opens the journal as {@link #open(JournalOptions, ReplayVisitor)} does, with its files opened
   * through {@code opener}: for tests that inject a failing or hanging disk around the real files.
   *
   * @param options the journal's settings
   * @param visitor receives every readable record, and progress
   * @param opener opens the files
   * @return the open journal
   * @throws IOException as {@link #open(JournalOptions, ReplayVisitor)}
   */
  public static Journal open(JournalOptions options, ReplayVisitor visitor, ChannelOpener opener)
      throws IOException {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(visitor, "visitor");
    Path dir = options.directory().toAbsolutePath();
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      SegmentWriter.syncDirectory(opener, dir.getParent()); // the new directory's entry, durably
    }
    FileChannel lockChannel =
        FileChannel.open(
            dir.resolve(LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock;
      try {
        lock = lockChannel.tryLock();
      } catch (OverlappingFileLockException e) {
        lock = null;
      }
      if (lock == null) {
        throw new IOException(
            dir
                + " is in use by another open journal (in this or another process holds "
                + LOCK_FILE
                + "); close that journal first");
      }
      IoMode mode = resolveIoMode(options, opener);
      releaseStaleSegments(dir, opener);
      Recovery.Result recovered = new Recovery(dir, visitor).run();
      removeLeftoverReleased(dir, FileNames.of(opener));
      SegmentPreallocator.removeLeftovers(dir, FileNames.of(opener));
      return new Journal(options, opener, mode, recovered, lockChannel, lock);
    } catch (IOException | RuntimeException | Error e) {
      lockChannel.close();
      throw e;
    }
  }

  private static IoMode resolveIoMode(JournalOptions options, ChannelOpener opener)
      throws IOException {
    if (options.ioMode() == IoMode.BUFFERED) {
      return IoMode.BUFFERED;
    }
    Path probe = options.directory().resolve(PROBE_FILE);
    Exception refused;
    if (SegmentWriter.DIRECT == null) {
      refused = new UnsupportedOperationException("this JDK has no ExtendedOpenOption.DIRECT");
    } else {
      refused = probeDirect(probe, opener);
    }
    if (refused == null) {
      return IoMode.DIRECT;
    }
    if (options.ioMode() == IoMode.DIRECT) {
      throw new IOException(
          "direct I/O (O_DIRECT) was asked for, but the filesystem of "
              + options.directory()
              + " refuses it ("
              + refused
              + "); use IoMode.AUTO or BUFFERED, or put the journal on a filesystem that supports"
              + " it (ext4, xfs)",
          refused);
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "The filesystem of "
            + options.directory()
            + " refuses direct I/O ("
            + refused
            + "); the journal writes through the page cache and forces with fdatasync instead."
            + " Durability is the same; throughput may be lower. Put the journal on ext4 or xfs"
            + " for direct I/O.");
    return IoMode.BUFFERED;
  }

  /** Opens a file with O_DIRECT and writes one aligned block; returns why that failed, or null. */
  private static Exception probeDirect(Path probe, ChannelOpener opener) throws IOException {
    try (FileChannel ch =
        opener.open(
            probe,
            Set.of(
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING,
                SegmentWriter.DIRECT))) {
      ch.write(SegmentWriter.alignedBuffer(SegmentFormat.BLOCK), 0);
      return null;
    } catch (IOException | UnsupportedOperationException e) {
      return e;
    } finally {
      Files.deleteIfExists(probe);
    }
  }

  /**
   * Appends one record atomically and waits until it is durable per {@link
   * JournalOptions#durability()}: forced to the device under {@link Durability#ALWAYS}, written
   * otherwise. Waits by parking, which suits virtual threads. The caller must not change {@code
   * body} while the call runs (its checks are computed on entry).
   *
   * @param type the record type, opaque to the journal
   * @param body the record body, at most {@link JournalOptions#maxRecordBytes()} bytes
   * @return the number of the segment that holds the record (for {@link #releaseSegmentsBefore})
   * @throws InterruptedException if the thread was interrupted on entry (nothing was appended) or
   *     while waiting (the record may or may not become durable)
   * @throws IllegalArgumentException if the body is larger than the maximum; nothing is written
   * @throws JournalException if the journal failed (now or earlier) to write or force
   * @throws JournalClosedException if the journal is closed
   */
  public long append(int type, byte[] body) throws InterruptedException {
    Pending p = new Pending(type, checkSize(body), Thread.currentThread(), null, false);
    if (Thread.interrupted()) {
      throw new InterruptedException("interrupted before appending; nothing was appended");
    }
    enqueue(p);
    return p.await();
  }

  /**
   * Appends one record atomically and waits until it is durable per policy, as {@link #append}
   * does, but without giving up on interruption: the wait is one commit, and a caller that must
   * know whether its record is durable cannot learn it once it stops waiting. The interrupt status
   * is kept.
   *
   * @param type the record type, opaque to the journal
   * @param body the record body, at most {@link JournalOptions#maxRecordBytes()} bytes
   * @return the number of the segment that holds the record
   * @throws IllegalArgumentException if the body is larger than the maximum; nothing is written
   * @throws JournalException if the journal failed (now or earlier) to write or force
   * @throws JournalClosedException if the journal is closed
   */
  public long appendUninterruptibly(int type, byte[] body) {
    Pending p = new Pending(type, checkSize(body), Thread.currentThread(), null, false);
    enqueue(p);
    return p.awaitUninterruptibly();
  }

  /**
   * Appends one record atomically and waits until it is durable per policy, as {@link
   * #appendUninterruptibly(int, byte[])} does, but at most about {@code timeout}: a submitter's
   * bound on a disk that hangs. The timeout is noticed by the journal's watchdog, which looks every
   * quarter of {@link JournalOptions#stallThreshold()} (between 1 ms and 1 s) while a commit runs,
   * so the wait may last up to about two such periods longer. Interruption does not end the wait;
   * the interrupt status is kept.
   *
   * @param type the record type, opaque to the journal
   * @param body the record body, at most {@link JournalOptions#maxRecordBytes()} bytes
   * @param timeout how long to wait for the acknowledgement
   * @return the number of the segment that holds the record
   * @throws AppendTimeoutException if the record was not acknowledged in time: it was handed to the
   *     writer and may or may not become durable; the exception's future says which
   * @throws IllegalArgumentException if the body is larger than the maximum; nothing is written
   * @throws JournalException if the journal failed (now or earlier) to write or force
   * @throws JournalClosedException if the journal is closed
   */
  public long appendUninterruptibly(int type, byte[] body, Duration timeout)
      throws AppendTimeoutException {
    return appendTimed(type, body, false, timeout);
  }

  /**
   * Appends one record atomically and waits until it is forced to the device, whatever {@link
   * JournalOptions#durability()} says, at most about {@code timeout}: {@link #appendForcedAsync}
   * waited on as {@link #appendUninterruptibly(int, byte[], Duration)} waits (interruption does not
   * end the wait and the interrupt status is kept; the timeout is noticed by the watchdog).
   *
   * @param type the record type, opaque to the journal
   * @param body the record body, at most {@link JournalOptions#maxRecordBytes()} bytes
   * @param timeout how long to wait for the force
   * @return the number of the segment that holds the record
   * @throws AppendTimeoutException if the record was not forced in time: it was handed to the
   *     writer and may or may not become durable; the exception's future says which
   * @throws IllegalArgumentException if the body is larger than the maximum; nothing is written
   * @throws JournalException if the journal failed (now or earlier) to write or force
   * @throws JournalClosedException if the journal is closed
   */
  public long appendForcedUninterruptibly(int type, byte[] body, Duration timeout)
      throws AppendTimeoutException {
    return appendTimed(type, body, true, timeout);
  }

  private long appendTimed(int type, byte[] body, boolean forced, Duration timeout)
      throws AppendTimeoutException {
    long nanos = Math.max(0, nanos(timeout));
    Pending p = new Pending(type, checkSize(body), Thread.currentThread(), null, forced, nanos);
    enqueue(p);
    return p.awaitUninterruptiblyTimed();
  }

  /**
   * Whether a commit has been running longer than {@link JournalOptions#stallThreshold()} and is
   * still running: the disk may be hung. Clears when that commit ends. A plain volatile read.
   *
   * @return true while stalled
   */
  public boolean stalled() {
    return stalledSince != IDLE;
  }

  /**
   * Appends one record atomically without waiting. The future completes with the segment number
   * when the record is durable per policy, or fails with {@link JournalException} or {@link
   * JournalClosedException}. It is completed on the journal's completer thread, so attach only
   * quick non-async stages (or use the {@code ...Async} variants); cancelling it does not withdraw
   * the record. The caller must not change {@code body} until the future completes.
   *
   * @param type the record type, opaque to the journal
   * @param body the record body, at most {@link JournalOptions#maxRecordBytes()} bytes
   * @return the future segment number
   * @throws IllegalArgumentException if the body is larger than the maximum; nothing is written
   */
  public CompletableFuture<Long> appendAsync(int type, byte[] body) {
    return appendAsync(type, body, false);
  }

  /**
   * Appends one record atomically without waiting, as {@link #appendAsync} does, but the future
   * completes only once the record is forced to the device, whatever {@link
   * JournalOptions#durability()} says: for a record that replaces records in older segments, which
   * are then deleted. The force is shared with the commit it falls in.
   *
   * @param type the record type, opaque to the journal
   * @param body the record body, at most {@link JournalOptions#maxRecordBytes()} bytes
   * @return the future segment number
   * @throws IllegalArgumentException if the body is larger than the maximum; nothing is written
   */
  public CompletableFuture<Long> appendForcedAsync(int type, byte[] body) {
    return appendAsync(type, body, true);
  }

  private CompletableFuture<Long> appendAsync(int type, byte[] body, boolean force) {
    CompletableFuture<Long> future = new CompletableFuture<>();
    Pending p = new Pending(type, checkSize(body), null, future, force);
    try {
      enqueue(p);
    } catch (JournalException | JournalClosedException e) {
      future.completeExceptionally(e);
    }
    return future;
  }

  /**
   * A duration in nanoseconds, saturated: the options and timeouts accept any duration, and one
   * beyond about 292 years means "never" here rather than an ArithmeticException.
   */
  private static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  private byte[] checkSize(byte[] body) {
    Objects.requireNonNull(body, "body");
    if (body.length > options.maxRecordBytes()) {
      throw new IllegalArgumentException(
          "record body of "
              + body.length
              + " bytes exceeds the journal's maxRecordBytes ("
              + options.maxRecordBytes()
              + "); nothing was written");
    }
    return body;
  }

  private void enqueue(Pending p) {
    for (; ; ) {
      Pending h = (Pending) HEAD.getVolatile(this);
      if (h == Pending.TERMINATED) {
        throw terminated();
      }
      p.next = h;
      if (HEAD.compareAndSet(this, h, p)) {
        if (h == null) {
          LockSupport.unpark(writer);
        }
        return;
      }
    }
  }

  private RuntimeException terminated() {
    JournalException f = failure;
    if (f != null) {
      return new JournalException(f.getMessage(), f);
    }
    return new JournalClosedException("the journal in " + directory + " is closed");
  }

  /**
   * Deletes every closed segment whose number is below {@code segment}: the engine promises their
   * records are no longer needed. The segment being written is never deleted, whatever the
   * argument. Each file is first renamed out of the segments' names, oldest first, and the
   * directory forced once, so the release is durable (also when a later rename failed); a crash
   * before that force may undo any of the renames, and open then releases again every segment
   * numbered below a released file before replay, so a released segment never comes back without
   * the later ones (see the comment in the code); only then is each emptied, 4 MiB at a time from
   * its end, and deleted, one step at a time under the journal's lock (so a close waits for one
   * step at most, and a file a close interrupts is deleted at the next open). Deleting a whole
   * segment at once made the file system free (and, mounted with {@code discard}, trim) all its
   * blocks in one call, which held up the next commits' forces behind it: 12 ms for a 64 MiB
   * segment on this project's test machine, against about 1 ms per step this way.
   *
   * @param segment the first segment to keep
   * @throws JournalClosedException if the journal is closed
   * @throws UncheckedIOException if a file cannot be renamed or deleted, or the directory cannot be
   *     forced (the journal stays usable; the segments not yet renamed stay, and a released file
   *     left behind is deleted at the next open)
   */
  public void releaseSegmentsBefore(long segment) {
    List<Path> released = new ArrayList<>();
    IOException failed = null;
    synchronized (closeLock) {
      if (closed) {
        throw new JournalClosedException("the journal in " + directory + " is closed");
      }
      // Every rename, oldest first, then one force of the directory. Until that force each rename
      // may reach the disk or not, in any order, so a crash may bring back an older segment under
      // its name while a later one stays released, and the later one may hold the records (a job's
      // completion) that made the older one releasable. Releases go oldest first, so a segment
      // numbered below a released file was released too: open releases it again before replay
      // (releaseStaleSegments), and one force per call is enough.
      try {
        for (Long n : closedSegments.headMap(segment).keySet()) {
          Path away = SegmentFormat.releasedFile(directory, n);
          try {
            names.move(SegmentFormat.file(directory, n), away);
            released.add(away);
          } catch (NoSuchFileException gone) {
            // deleted behind the journal's back: nothing to free
          }
          closedSegments.remove(n);
          segmentsDeleted.incrementAndGet();
        }
      } catch (IOException e) {
        failed = e; // the later segments stay
      }
      if (!released.isEmpty()) {
        // also when a later rename failed: those done must not come back after a crash
        try {
          SegmentWriter.syncDirectory(opener, directory);
        } catch (IOException e) {
          failed = addTo(failed, e);
          // the renames may not be durable: a crash could bring them back as segments, which
          // must then be whole (open releases them again); they stay until the next open
          released.clear();
        }
      }
    }
    for (Path file : released) {
      try {
        removeReleased(file);
      } catch (IOException e) {
        failed = addTo(failed, e);
      }
    }
    if (failed != null) {
      throw new UncheckedIOException("could not delete journal segments in " + directory, failed);
    }
  }

  /** How much of a released segment's file one truncation frees (see releaseSegmentsBefore). */
  static final long RELEASE_CHUNK_BYTES = 4L << 20;

  /**
   * Empties a released segment's file from its end, a chunk at a time, then deletes it. Each step
   * holds closeLock, as the renames do, and none is taken once the journal is closed: nothing
   * touches the directory after close returns (which waits for one step at most), and a file left
   * then is deleted at the next open.
   */
  private void removeReleased(Path file) throws IOException {
    FileChannel ch;
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      try {
        ch = opener.open(file, Set.of(StandardOpenOption.WRITE));
      } catch (NoSuchFileException gone) {
        return;
      }
    }
    try (ch) {
      for (long size = ch.size(); size > RELEASE_CHUNK_BYTES; ) {
        size -= RELEASE_CHUNK_BYTES;
        synchronized (closeLock) {
          if (closed) {
            return;
          }
          ch.truncate(size);
        }
      }
    }
    synchronized (closeLock) {
      if (!closed) {
        names.deleteIfExists(file);
      }
    }
  }

  /**
   * Releases again, before replay, every segment numbered below a released file: a crash before a
   * release's directory force can leave any of its renames undone (see releaseSegmentsBefore), and
   * such a segment must not be replayed without the later ones its release counted on. The renames
   * are forced before replay, so that deleting the released files afterwards cannot bring one back.
   */
  static void releaseStaleSegments(Path dir, ChannelOpener opener) throws IOException {
    long newestReleased = -1;
    List<Long> segments = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        String name = f.getFileName().toString();
        if (name.endsWith(SegmentFormat.RELEASED_SUFFIX)) {
          long n =
              SegmentFormat.parseFileName(
                  name.substring(0, name.length() - SegmentFormat.RELEASED_SUFFIX.length()));
          newestReleased = Math.max(newestReleased, n);
        } else {
          long n = SegmentFormat.parseFileName(name);
          if (n >= 0) {
            segments.add(n);
          }
        }
      }
    }
    FileNames names = FileNames.of(opener);
    boolean moved = false;
    for (long n : segments) {
      if (n < newestReleased) {
        names.move(SegmentFormat.file(dir, n), SegmentFormat.releasedFile(dir, n));
        moved = true;
      }
    }
    if (moved) {
      SegmentWriter.syncDirectory(opener, dir);
    }
  }

  /**
   * Deletes the released segments' files a crash left before they were emptied; they are no longer
   * segments (see releaseSegmentsBefore).
   */
  private static void removeLeftoverReleased(Path dir, FileNames names) throws IOException {
    for (Path f : FileNames.endingWith(dir, SegmentFormat.RELEASED_SUFFIX)) {
      names.deleteIfExists(f);
    }
  }

  private static IOException addTo(IOException first, IOException next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  /**
   * The number of the segment being written.
   *
   * @return the current segment number
   */
  public long currentSegment() {
    return currentSegment;
  }

  /**
   * The bytes of the closed segments numbered from {@code from} (inclusive) to {@code to}
   * (exclusive) that are still on disk: what releasing them would free. The segment being written
   * is never counted.
   *
   * @param from the first segment number
   * @param to the segment number after the last
   * @return their sizes in bytes, headers and padding included; 0 if there are none
   */
  public long closedSegmentBytes(long from, long to) {
    if (from >= to) {
      return 0;
    }
    long bytes = 0;
    for (long size : closedSegments.subMap(from, to).values()) {
      bytes += size;
    }
    return bytes;
  }

  /**
   * What replay found at open: records, segments, bytes, the cut-off tail, damaged regions.
   *
   * @return the replay report
   */
  public ReplayReport replayReport() {
    return report;
  }

  /**
   * A snapshot of the counters since open.
   *
   * @return the statistics
   */
  public JournalStats stats() {
    return new JournalStats(
        ioMode,
        recordsAppended,
        bytesAppended,
        commits,
        forces,
        maxRecordsPerCommit,
        forceNanosTotal,
        forceNanosMax,
        segmentsCreated,
        segmentsPreallocated,
        segmentsDeleted.get(),
        stalled(),
        stalls);
  }

  /**
   * Completes every pending append durably (forcing, whatever the policy), then closes the files
   * and releases the directory. Later appends fail with {@link JournalClosedException}. Blocks
   * until the writer has finished; if interrupted meanwhile it keeps waiting and restores the
   * interrupt status before returning. Idempotent. After an I/O failure it only closes.
   *
   * <p>There is no time limit: a writer stuck in a write or force that the disk never completes
   * holds this call as long (see {@link #stalled()}); a caller that must bound its stop closes on a
   * thread of its own and gives up waiting for it.
   */
  @Override
  public void close() {
    synchronized (closeLock) {
      if (closed) {
        return;
      }
      closeRequested = true;
      LockSupport.unpark(writer);
      boolean interrupted = false;
      for (Thread t : List.of(writer, completer, watchdog)) {
        if (t == watchdog) {
          watchdogStop = true;
          LockSupport.unpark(watchdog);
        }
        while (t.isAlive()) {
          try {
            t.join();
          } catch (InterruptedException e) {
            interrupted = true;
          }
        }
      }
      if (preallocator != null) {
        preallocator.close(); // the writer is done: nothing takes its file any more
      }
      try {
        lock.release();
        lockChannel.close();
      } catch (IOException e) {
        LOG.log(System.Logger.Level.WARNING, "could not release " + LOCK_FILE, e);
      }
      closed = true;
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  // ---- The writer thread ----

  private void runWriter() {
    try {
      for (; ; ) {
        Pending batch = (Pending) HEAD.getAndSet(this, (Pending) null);
        if (batch != null) {
          commit(reverse(batch));
        } else if (closeRequested) {
          finish();
          return;
        } else {
          idle();
        }
      }
    } catch (Throwable t) {
      fail(t);
    }
  }

  private static Pending reverse(Pending p) {
    Pending prev = null;
    while (p != null) {
      Pending next = p.next;
      p.next = prev;
      prev = p;
      p = next;
    }
    return prev;
  }

  private void idle() throws IOException {
    if (intervalNanos > 0 && unforced) {
      long wait = intervalNanos - (System.nanoTime() - lastForceNanos); // no overflow
      if (wait <= 0) {
        beginIo(System.nanoTime());
        force();
        endIo();
      } else {
        LockSupport.parkNanos(this, wait);
      }
    } else {
      LockSupport.park(this);
    }
  }

  private void commit(Pending batch) throws IOException {
    inFlight = batch;
    long started = System.nanoTime();
    beginIo(started);
    int records = 0;
    long bytes = 0;
    for (Pending p = batch; p != null; p = p.next) {
      int frame = p.frameBytes();
      if (!segment.fits(frame, options.segmentBytes())) {
        roll();
      }
      segment.put(p);
      p.segment = segment.number;
      forceAsked |= p.force;
      records++;
      bytes += frame;
    }
    segment.flush();
    unforced = true;
    long written = System.nanoTime();
    long forceNanos = 0;
    if (forceEveryCommit
        || forceAsked
        || intervalNanos > 0 && written - lastForceNanos >= intervalNanos) {
      forceNanos = force();
    }
    recordsAppended += records;
    bytesAppended += bytes;
    commits++;
    if (records > maxRecordsPerCommit) {
      maxRecordsPerCommit = records;
    }
    try {
      listener.onCommit(records, bytes, written - started, forceNanos);
    } catch (RuntimeException e) {
      listenerFailed(e);
    }
    inFlight = null;
    endIo();
    completions.offer(batch);
  }

  private void runCompleter() {
    boolean interrupted = false;
    for (; ; ) {
      Pending batch;
      try {
        batch = completions.take();
      } catch (InterruptedException e) {
        interrupted = true; // nobody may stop the completer but the writer's end marker
        continue;
      }
      if (batch == Pending.TERMINATED) {
        break;
      }
      completeAll(batch, observeAcks ? System.nanoTime() : 0);
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void completeAll(Pending batch, long now) {
    for (Pending p = batch; p != null; ) {
      Pending next = p.next;
      p.next = null;
      p.complete();
      if (observeAcks) {
        try {
          listener.onAcknowledge(now - p.enqueuedNanos);
        } catch (RuntimeException e) {
          listenerFailed(e);
        }
      }
      p = next;
    }
  }

  private void roll() throws IOException {
    segment.flush();
    if (forceOnRoll || forceAsked) {
      force();
    } else {
      rolledUnforced.add(segment.number);
    }
    segment.close();
    long next = segment.number + 1;
    closedSegments.put(segment.number, Files.size(segment.file)); // padding included, as at open
    Path preallocated = preallocator == null ? null : preallocator.take(next);
    segment =
        SegmentWriter.create(
            opener, directory, next, buffer, ioMode == IoMode.DIRECT, preallocated);
    segmentsCreated++;
    if (preallocated != null) {
      segmentsPreallocated++;
    }
    if (preallocator != null) {
      preallocator.prepare(next + 1);
    }
    currentSegment = next;
    unforced = false;
    try {
      listener.onSegmentCreated(next);
    } catch (RuntimeException e) {
      listenerFailed(e);
    }
  }

  private long force() throws IOException {
    long started = System.nanoTime();
    segment.force();
    long nanos = System.nanoTime() - started;
    counted(started, nanos);
    unforced = false;
    forceAsked = false;
    return nanos;
  }

  /** Counts a force of a segment file that started at {@code started} and took {@code nanos}. */
  private void counted(long started, long nanos) {
    forces++;
    forceNanosTotal += nanos;
    if (nanos > forceNanosMax) {
      forceNanosMax = nanos;
    }
    lastForceNanos = started + nanos;
    try {
      listener.onForce(nanos);
    } catch (RuntimeException e) {
      listenerFailed(e);
    }
  }

  private void finish() throws IOException {
    Pending rest = (Pending) HEAD.getAndSet(this, Pending.TERMINATED);
    if (rest != null) {
      commit(reverse(rest));
    }
    if (unforced || !rolledUnforced.isEmpty()) {
      beginIo(System.nanoTime());
      if (unforced) {
        force();
      }
      forceRolledSegments();
      endIo();
    }
    segment.close();
    completions.offer(Pending.TERMINATED);
  }

  /**
   * Forces the segments closed at a roll without a force (under NEVER), so that close leaves every
   * record durable, not only those of the last segment. A segment released since is skipped: close
   * holds closeLock, so none is deleted meanwhile.
   */
  private void forceRolledSegments() throws IOException {
    for (long n : rolledUnforced) {
      Path file = SegmentFormat.file(directory, n);
      FileChannel ch;
      try {
        ch = opener.open(file, Set.of(StandardOpenOption.WRITE));
      } catch (NoSuchFileException released) {
        continue;
      }
      long started = System.nanoTime();
      try (ch) {
        ch.force(false);
      }
      counted(started, System.nanoTime() - started);
    }
    rolledUnforced.clear();
  }

  private void fail(Throwable cause) {
    JournalException f =
        new JournalException(
            "The journal in "
                + directory
                + " failed to write or force segment "
                + (segment == null ? "?" : segment.file)
                + " ("
                + cause
                + "). It accepts no more appends: records acknowledged before are durable, the"
                + " failed ones may or may not be in the journal. Fix the cause (disk full?"
                + " read-only or failing device?) and restart; replay recovers what is there.",
            cause);
    failure = f;
    endIo(); // a stall ends here too; onFailure follows
    LOG.log(System.Logger.Level.ERROR, f.getMessage(), cause);
    try {
      listener.onFailure(f);
    } catch (RuntimeException e) {
      listenerFailed(e);
    }
    failAll(inFlight, f);
    inFlight = null;
    failAll((Pending) HEAD.getAndSet(this, Pending.TERMINATED), f);
    if (segment != null) {
      segment.closeQuietly();
    }
    completions.offer(Pending.TERMINATED);
  }

  private static void failAll(Pending list, JournalException f) {
    if (list == Pending.TERMINATED) {
      return; // the sentinel is shared and never completed
    }
    for (Pending p = list; p != null; ) {
      Pending next = p.next;
      p.next = null;
      if (p.isWaiting()) {
        p.fail(f);
      }
      p = next;
    }
  }

  // ---- Stalls: the watchdog ----

  private void beginIo(long now) {
    busySince = now;
  }

  /** Ends a stretch of disk I/O; clears a stall of it, if one was reported. */
  private void endIo() {
    busySince = IDLE;
    if (stalledSince != IDLE) {
      resume();
    }
  }

  private void runWatchdog() {
    while (!watchdogStop) {
      LockSupport.parkNanos(this, tickNanos);
      long since = busySince;
      if (stalledSince != IDLE && stalledSince != since) {
        resume(); // the writer ended the stretch before this one marked it
      }
      if (since == IDLE) {
        continue;
      }
      long now = System.nanoTime();
      if (now - since >= stallThresholdNanos && stalledSince != since) {
        stall(since);
      }
      if (now - since >= tickNanos) {
        wakeExpired(now);
      }
    }
    // close stops the watchdog after the writer has ended, so no stretch runs now; a stall this
    // thread marked just as the writer ended its stretch would otherwise outlive the journal.
    resume();
  }

  private void stall(long since) {
    synchronized (stallLock) {
      if (busySince != since || stalledSince == since) {
        return;
      }
      stalledSince = since;
      stalls++;
      long running = System.nanoTime() - since;
      int waiting = waiting();
      long segmentNumber = currentSegment;
      LOG.log(
          System.Logger.Level.WARNING,
          "The journal in "
              + directory
              + " has been writing and forcing segment "
              + SegmentFormat.file(directory, segmentNumber).getFileName()
              + " for "
              + Duration.ofNanos(running).toMillis()
              + " ms (stall threshold "
              + options.stallThreshold().toMillis()
              + " ms), and about "
              + waiting
              + " appends wait for it: the disk may be hung (a stuck fsync on a failing device or"
              + " a frozen network volume). The journal keeps waiting; check the device.");
      try {
        listener.onStall(segmentNumber, running, waiting);
      } catch (RuntimeException e) {
        listenerFailed(e);
      }
    }
  }

  private void resume() {
    synchronized (stallLock) {
      long since = stalledSince;
      if (since == IDLE || busySince == since) {
        return;
      }
      stalledSince = IDLE;
      long stalledNanos = System.nanoTime() - since;
      LOG.log(
          System.Logger.Level.INFO,
          "The journal in "
              + directory
              + " resumed after "
              + Duration.ofNanos(stalledNanos).toMillis()
              + " ms: the stalled commit ended");
      try {
        listener.onResume(stalledNanos);
      } catch (RuntimeException e) {
        listenerFailed(e);
      }
    }
  }

  /** About how many appends wait: in the commit in flight and on the stack (see the comment). */
  private int waiting() {
    int n = 0;
    for (Pending p = inFlight; p != null && n < Integer.MAX_VALUE; p = p.next) {
      n++;
    }
    Pending h = (Pending) HEAD.getVolatile(this);
    if (h != Pending.TERMINATED) {
      for (Pending p = h; p != null && n < Integer.MAX_VALUE; p = p.next) {
        n++;
      }
    }
    return n;
  }

  /** Unparks every timed waiter whose deadline has passed, so it can give up. */
  private void wakeExpired(long now) {
    for (Pending p = inFlight; p != null; p = p.next) {
      p.wakeIfExpired(now);
    }
    Pending h = (Pending) HEAD.getVolatile(this);
    if (h != Pending.TERMINATED) {
      for (Pending p = h; p != null; p = p.next) {
        p.wakeIfExpired(now);
      }
    }
  }

  /** The journal's threads: writer, completer, watchdog; for tests. */
  List<Thread> threads() {
    return List.of(writer, completer, watchdog);
  }

  private static void listenerFailed(RuntimeException e) {
    LOG.log(System.Logger.Level.WARNING, "journal listener threw; ignored", e);
  }

  void checkInvariants() {
    long current = currentSegment;
    for (long n : closedSegments.keySet()) {
      if (n >= current) {
        throw new AssertionError("closed segment " + n + " >= current " + current);
      }
    }
    if (recordsAppended < commits || maxRecordsPerCommit > recordsAppended) {
      throw new AssertionError("counters: " + stats());
    }
    if (!writer.isAlive() && !completer.isAlive()) {
      if (!completions.isEmpty()) {
        throw new AssertionError(
            "completions left after the completer ended: " + completions.size());
      }
      if (HEAD.getVolatile(this) != Pending.TERMINATED) {
        throw new AssertionError("writer ended but the stack is not terminated");
      }
      if (failure == null && segment != null) {
        segment.checkInvariants();
      }
    }
    if (closed && (busySince != IDLE || stalledSince != IDLE || watchdog.isAlive())) {
      throw new AssertionError("closed, but busy, stalled or watched");
    }
  }
}
