package io.sluice.jobs;

import io.sluice.core.Clock;
import io.sluice.core.Timer;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/*
 * The single-process store: every job in memory, every change recorded in a JobLog (the journal,
 * or nothing for the in-memory store).
 *
 * Design. One ReentrantLock guards all state but two counters; everything done under it is O(1)
 * or O(log n) and never blocks, except admission's bounded wait for room. Admission takes the lock
 * only when it must wait: the bounds are `occupied` (an AtomicLong: queued + running + retryWait +
 * room reserved by submits in flight), which a submit raises by CAS while it stays within the
 * capacity, and `heldBytes`, raised the same way within the payload byte limit. A submit that
 * finds either bound full may wait for both (see Waiting for room). The one slow step, making a
 * submitted batch durable, runs outside the lock, after the reservation (so the bounds hold while
 * the journal writes). A durable batch is then pushed on `arrivals`, a lock-free stack, and the
 * next holder of the lock that looks at the queues moves every arrived batch into them, oldest
 * first; a submit that finds claimers waiting takes the lock and does it at once, so an idle
 * worker wakes; one such submit at a time (`admitting`), the others' batches going with it.
 * Thousands of submitters woken by one group commit would otherwise queue on the lock one by one, parking and unparking, while the workers that
 * empty the queue wait behind them. (`waitingClaims` is volatile: a claimer raises it and then
 * looks at `arrivals`; a submit pushes and then reads it; so an arrival is never left behind while
 * a claimer sleeps.) Jobs cannot be claimed before they are durable, so no record about a job can
 * precede the record that created it. Every other record is queued to the log under the lock, so
 * per job the log sees changes in the order they happened.
 *
 * Waiting for room. A submit that may wait registers its need (jobs and bytes) in `roomNeeds` and
 * waits on `room`. Whoever gives room back (a job that finishes, a dead letter deleted, a
 * reservation undone) wakes one waiter, and only if the smallest needs of jobs and of bytes both
 * fit (`smallestNeed`, `smallestBytesNeed`: volatile, so this check takes no lock). A woken waiter
 * that cannot reserve passes the wake-up on only if some registered need fits both bounds, checked
 * exactly under the lock; so the chain of wake-ups ends where nothing fits, instead of circling
 * among waiters that each need the room another one lacks.
 *
 * Queues. Due jobs wait in one FIFO per type; claims visit the types round-robin so a busy type
 * cannot starve another, and ask the engine's TypeGate before taking a job of a type. Jobs that
 * are not yet due (a start time, or waiting to retry) sit in a priority queue by due time; one
 * clock timer, armed for the earliest, moves them to their type's FIFO when they fall due.
 *
 * Relocation. The journal's compaction may ask for the jobs homed in old segments to be rewritten
 * whole into the newest one (JournalLog's class comment says when). It finds them by scanning
 * `byId` a few thousand slots per acquisition of the lock, so a large store never stalls its
 * workers for a scan; then, under the lock, checks each one is still alive (neither finished nor
 * deleted) and still homed there, queues one record of the state of a group of them, and returns;
 * waits without the lock until the records are forced; and then, under the lock again, moves each
 * one still alive to the record's segment. A change to a job while this runs is recorded after the
 * record that holds its earlier state (both are queued under the lock), so replay applies it on
 * top; a job that finished before its record was queued is not in it; one that finished after
 * keeps its old home, which its finishing record names, and is not moved. A job missed by the scan
 * (the table changed between parts) keeps its home until a later pass.
 *
 * Schedules. Recurring definitions sit in `schedules`, guarded by `scheduleLock`, which is held
 * across each change's journal write so changes to schedules reach the journal in the order they
 * happen (they are rare; jobs never wait for this lock). A fire reserves room like a submit, then
 * writes the schedule's new state and the job as one record. Lock order: scheduleLock, then lock.
 * A hung disk bounds the hold: a change is refused at once while the journal is stalled, and a
 * write waits at most the ack timeout. A change not confirmed by then is `unconfirmed`: the map
 * keeps the state before it, and the change becomes the state only once its record is durable
 * (found by the next holder of the lock that looks: a change to that schedule, a read, a
 * compaction). Until then other changes to that schedule are refused, so nothing is recorded on
 * top of a state the store does not know, and the previous home stays counted (superseded only
 * once the new record is durable), so compaction cannot release the one record that holds the
 * schedule if the new one never lands. Why the state before and not the state after: it is what a
 * restart finds if the record is lost, a fire's job is not queued before it is durable (as a
 * submit's), and a retried fire of the same time is then refused as NOT_DUE once the first one
 * shows, so a caller that retries after a timeout never enqueues a fire twice.
 *
 * Dead letters. Retrying or deleting one is durable before it returns, as a submit is, and the
 * log is waited on outside the lock, at most the ack timeout. So the change is marked first, under
 * the lock (`Entry.changing`; a retry reserves its room too), its record written, and only once
 * that is durable applied, under the lock again: until then the job stays a dead letter in every
 * view. A marked job gets no other record meanwhile: a dead letter has no attempts, a second
 * change to it waits for the first to settle (at most the ack timeout, then JournalStalled), and
 * relocation neither rewrites nor moves it. A failed record leaves it as it was (and gives the
 * room back); one not confirmed in time (DurabilityUnknown) is applied or given up by the log's
 * completion, whenever it comes.
 *
 * Lookup. `byId` (an EntryIndex: a hash table of the entries themselves, no node per job) holds
 * every entry find() can return: the live ones and the most recently finished ones, which stay
 * where they are when they finish (one map operation per job fewer than moving them to a map of
 * their own); `finished` lists the latter, oldest first, and the oldest beyond the retention leaves
 * both. The engine reports on the entries its claims handed out, so finishing a job looks up
 * nothing by id.
 *
 * Invariants (checkInvariants):
 *   queued + running + retryWait == number of entries by id that are neither DEAD nor SUCCEEDED
 *   the SUCCEEDED entries by id are exactly those in `finished`, at most the retention
 *   every QUEUED entry is in exactly one of: its type's FIFO, the delayed queue
 *   every RETRY_WAIT entry is in the delayed queue; no other state is in any queue
 *   dead == deadIndex.size(); occupied >= queued + running + retryWait, the difference being
 *     room reserved by submits in flight or arrived; occupied <= max(capacity, the pending jobs
 *     a recovery found): every raise but recovery's is a reservation within the capacity
 *   deadBytes == the payload bytes of the DEAD entries; heldBytes >= the payload bytes of the
 *     entries neither SUCCEEDED nor deleted, the difference being batches in flight (the same
 *     moments as occupied); heldBytes <= payloadBytesLimit, except after a recovery
 *   every entry with a change in flight (`changing`) is DEAD and in deadIndex
 *   for every unconfirmed schedule change: the schedule's state in `schedules` is the one before
 *     it (absent for a new schedule), and the state after it is in no map
 */
final class LocalJobStore implements JobStore {

  private static final System.Logger LOG = System.getLogger(LocalJobStore.class.getName());

  /**
   * How long a rejected submitter is told to wait while the store has not yet measured how fast
   * jobs finish, and the least it is ever told.
   */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  /** The longest wait a rejected submitter is told: also the answer when jobs stopped finishing. */
  static final Duration MAX_RETRY_AFTER = Duration.ofSeconds(30);

  private final JobStoreOptions options;
  private final Clock clock;
  private final JobLog log;
  private final long maxRecordBytes; // the log's: no batch whose record is larger is admitted

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition ready = lock.newCondition();
  private final Condition room = lock.newCondition();

  private final EntryIndex byId = new EntryIndex(); // live jobs and remembered finished ones
  private final ArrayDeque<Entry> finished = new ArrayDeque<>(); // remembered, oldest first
  private final TreeMap<JobId, Entry> deadIndex = new TreeMap<>();
  private final Map<String, ArrayDeque<Entry>> fifoByType = new HashMap<>();
  private final List<String> types = new ArrayList<>();
  private final PriorityQueue<Entry> delayed =
      new PriorityQueue<>(
          (a, b) -> {
            int c = a.dueAt.compareTo(b.dueAt);
            return c != 0 ? c : a.id.compareTo(b.id);
          });

  private final ReentrantLock scheduleLock = new ReentrantLock();
  private final TreeMap<String, ScheduleEntry> schedules = new TreeMap<>();
  // changes the journal did not confirm in time, by schedule name; under scheduleLock
  private final Map<String, Unconfirmed> unconfirmed = new HashMap<>();

  private int typeCursor;
  private long queued;
  private long running;
  private long retryWait;
  private final AtomicLong occupied = new AtomicLong();
  // payload bytes of the pending jobs, the dead letters and the batches being admitted
  private final AtomicLong heldBytes = new AtomicLong();
  private volatile long deadBytes; // payload bytes of the dead letters; written under the lock
  private final AtomicLong finishedJobs = new AtomicLong(); // left the bound: succeeded or dead
  private final FinishRate finishRate = new FinishRate();
  private final AtomicReference<Arrival> arrivals = new AtomicReference<>();
  // set while one submit takes the lock to admit the arrivals for waiting claimers
  private final AtomicBoolean admitting = new AtomicBoolean();
  private volatile int waitingClaims; // written under the lock
  private final List<RoomNeed> roomNeeds = new ArrayList<>(); // waiting submits; under the lock
  private volatile long smallestNeed = Long.MAX_VALUE; // fewest jobs a waiter needs; under lock
  private volatile long smallestBytesNeed = Long.MAX_VALUE; // fewest bytes; written under lock
  private boolean gateRefused;
  private volatile boolean admissionStopped; // written under the lock
  private boolean claimsStopped;
  private boolean closed;
  private Timer dueTimer;
  private Instant dueTimerAt;

  private long submitted;
  private long recovered;
  private long recoveredPending; // recovered jobs that are not dead: they may exceed the capacity
  private long succeeded;
  private long failedAttempts;
  private long died;

  LocalJobStore(JobStoreOptions options, JobLog log) {
    this.options = options;
    this.clock = options.clock();
    this.log = log;
    this.maxRecordBytes = log.maxRecordBytes();
  }

  Clock clock() {
    return clock;
  }

  /**
   * A map of the most recently finished jobs, in the order they finished, that forgets the oldest
   * beyond {@code retention}.
   */
  static LinkedHashMap<JobId, Entry> finishedMap(int retention) {
    return new LinkedHashMap<>() {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<JobId, io.sluice.jobs.Entry> eldest) {
        return size() > retention;
      }
    };
  }

  static LocalJobStore inMemory(JobStoreOptions options) {
    return new LocalJobStore(options, JobLog.NONE);
  }

  static LocalJobStore open(JobStoreOptions options) throws IOException {
    return JournalLog.openStore(options);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Adds a job found in the journal at start, in state QUEUED, RETRY_WAIT (with dueAt) or DEAD;
   * called before the store is shared.
   */
  void recover(Entry entry) {
    lock.lock();
    try {
      recovered++;
      heldBytes.addAndGet(entry.payload.length);
      if (entry.state == JobState.DEAD) {
        deadBytes += entry.payload.length;
        deadIndex.put(entry.id, entry);
        byId.put(entry);
        return;
      }
      recoveredPending++;
      occupied.incrementAndGet();
      insert(entry, clock.now());
    } finally {
      lock.unlock();
    }
  }

  /** Remembers a job the journal shows finished, for {@link #find}; before the store is shared. */
  void rememberFinished(Entry entry) {
    lock.lock();
    try {
      if (options.finishedRetention() > 0) {
        byId.put(entry);
      }
      remember(entry);
    } finally {
      lock.unlock();
    }
  }

  /** Adds a schedule found in the journal at start; called before the store is shared. */
  void recoverSchedule(ScheduleEntry schedule) {
    scheduleLock.lock();
    try {
      schedules.put(schedule.name, schedule);
    } finally {
      scheduleLock.unlock();
    }
  }

  // ---------------------------------------------------------------- admission

  @Override
  public Admission submit(List<JobSpec> specs, Duration maxWait) throws InterruptedException {
    Objects.requireNonNull(maxWait, "maxWait");
    if (specs.isEmpty()) {
      throw new IllegalArgumentException("a batch needs at least one job");
    }
    int n = specs.size();
    long bytes = 0;
    for (int i = 0; i < n; i++) {
      bytes += specs.get(i).payloadArray().length;
    }
    if (bytes + (long) n * JobRecords.MAX_SUBMITTED_OVERHEAD_PER_JOB > maxRecordBytes) {
      Admission.Rejected tooLarge = recordTooLarge(specs); // near the limit: measure exactly
      if (tooLarge != null) {
        return tooLarge;
      }
    }
    if (log.stalled()) {
      throw journalStalled(n);
    }
    Admission.Rejected rejected = reserve(n, bytes, maxWait);
    if (rejected != null) {
      return rejected;
    }
    Instant now = clock.now();
    long idMillis = System.currentTimeMillis(); // one clock read per batch, not per id
    List<Entry> batch;
    List<JobId> ids;
    if (n == 1) { // the most common batch: immutable lists, which Admission.Accepted need not copy
      Entry entry = newEntry(specs.getFirst(), now, idMillis);
      batch = List.of(entry);
      ids = List.of(entry.id);
    } else {
      batch = new ArrayList<>(n);
      ids = new ArrayList<>(n);
      for (JobSpec spec : specs) {
        Entry entry = newEntry(spec, now, idMillis);
        batch.add(entry);
        ids.add(entry.id);
      }
    }
    long home;
    try {
      home = log.submitted(batch, options.ackTimeout());
    } catch (JobLog.NotYetDurable e) {
      throw durabilityUnknown(batch, ids, e);
    } catch (RuntimeException | Error e) {
      unreserve(n, bytes);
      throw e;
    }
    arrive(batch, home);
    return new Admission.Accepted(ids);
  }

  /**
   * A batch the log holds but did not confirm in time keeps its room: it arrives in the queues if
   * its record becomes durable, and gives the room back if the journal fails or closes first.
   */
  private DurabilityUnknownException durabilityUnknown(
      List<Entry> batch, List<JobId> ids, JobLog.NotYetDurable late) {
    arriveWhenDurable(batch, late);
    LOG.log(
        System.Logger.Level.DEBUG, // the journal warns once per stall; this is once per batch
        "a batch of "
            + batch.size()
            + " jobs was not confirmed durable within "
            + options.ackTimeout().toMillis()
            + " ms; it stays in the journal's hands (first id "
            + ids.getFirst()
            + ")");
    return new DurabilityUnknownException(ids, options.ackTimeout());
  }

  /**
   * Hands a batch whose record was not confirmed in time to the queues once it is durable, or gives
   * its room back if the journal fails or closes first.
   */
  private void arriveWhenDurable(List<Entry> batch, JobLog.NotYetDurable late) {
    int n = batch.size();
    long bytes = 0;
    for (Entry entry : batch) {
      bytes += entry.payload.length;
    }
    long reserved = bytes;
    late.outcome.whenComplete(
        (home, failure) -> {
          if (failure == null) {
            arrive(batch, home);
          } else {
            unreserve(n, reserved);
          }
        });
  }

  private static JournalStalledException journalStalled(int n) {
    return new JournalStalledException(
        "the job journal is stalled (a write or force has run longer than the stall threshold:"
            + " the disk may be hung), so this batch of "
            + n
            + (n == 1 ? " job" : " jobs")
            + " was refused at once; nothing of it was recorded. Submit it again once the journal"
            + " resumes");
  }

  /**
   * Refuses a batch whose record is larger than the log takes: it can never be written, however
   * long the submitter waits. Null if it fits.
   */
  private Admission.Rejected recordTooLarge(List<JobSpec> specs) {
    long size = JobRecords.submittedSizeOf(specs);
    if (size <= maxRecordBytes) {
      return null;
    }
    return new Admission.Rejected(
        Admission.Reason.TOO_LARGE,
        Duration.ZERO,
        "a batch of "
            + specs.size()
            + (specs.size() == 1 ? " job" : " jobs")
            + " makes a journal record of "
            + size
            + " bytes and can never fit: a durable store records a batch as one record of at most "
            + maxRecordBytes
            + " bytes (16 MiB, or half of JobStoreOptions.segmentBytes() if that is less);"
            + " submit smaller batches or smaller payloads");
  }

  /** A durable batch whose room is reserved, on its way into the queues. */
  private static final class Arrival {
    final List<Entry> batch;
    Arrival next; // older while on the stack, newer once reversed

    Arrival(List<Entry> batch) {
      this.batch = batch;
    }
  }

  /**
   * Hands a durable batch whose room was reserved to the queues: pushed on {@code arrivals}, and
   * moved into the queues at once if a claimer is waiting, else by the next holder of the lock.
   */
  private void arrive(List<Entry> batch, long home) {
    for (Entry entry : batch) {
      entry.home = home;
    }
    Arrival arrival = new Arrival(batch);
    Arrival head;
    do {
      head = arrivals.get();
      arrival.next = head;
    } while (!arrivals.compareAndSet(head, arrival));
    // One submit at a time takes the lock for the waiting claimers; the others' arrivals go with
    // it. A submit that sees `admitting` set pushed before the taker clears it, and the taker
    // drains after clearing it, so that arrival is in the drain.
    if (waitingClaims > 0 && !admitting.get() && admitting.compareAndSet(false, true)) {
      lock.lock();
      try {
        admitting.set(false);
        admitArrivals();
      } finally {
        lock.unlock();
      }
    }
  }

  /** Moves every arrived batch into the queues, oldest first. Holds the lock. */
  private void admitArrivals() {
    if (arrivals.get() == null) {
      return;
    }
    Arrival newest = arrivals.getAndSet(null);
    Arrival oldest = null;
    while (newest != null) {
      Arrival next = newest.next;
      newest.next = oldest;
      oldest = newest;
      newest = next;
    }
    Instant now = clock.now();
    for (Arrival a = oldest; a != null; a = a.next) {
      submitted += a.batch.size();
      for (Entry entry : a.batch) {
        insert(entry, now);
      }
    }
  }

  private Entry newEntry(JobSpec spec, Instant now, long idMillis) {
    Instant due = spec.runAt().filter(t -> t.isAfter(now)).orElse(null);
    return new Entry(
        JobId.next(idMillis),
        spec.type(),
        spec.payloadArray(),
        spec.source().orElse(null),
        now,
        due);
  }

  /**
   * Reserves room for {@code n} jobs of {@code bytes} payload bytes in all, waiting up to {@code
   * maxWait} for room in the queue and for payload bytes alike, or says why not. A batch that no
   * wait can help (more jobs than the capacity, more bytes than the limit) is refused at once.
   */
  private Admission.Rejected reserve(int n, long bytes, Duration maxWait)
      throws InterruptedException {
    if (bytes > options.payloadBytesLimit()) {
      return payloadsTooLarge(bytes);
    }
    if (n > options.capacity()) {
      return new Admission.Rejected(
          Admission.Reason.TOO_LARGE,
          Duration.ZERO,
          "a batch of "
              + n
              + " jobs can never fit: the queue holds at most "
              + options.capacity()
              + "; submit smaller batches");
    }
    if (tryReserve(n, bytes)) {
      return null;
    }
    long remaining = maxWait.isNegative() ? 0 : toNanosSaturated(maxWait);
    if (remaining == 0 || admissionStopped) {
      return rejection(n, bytes);
    }
    lock.lockInterruptibly();
    try {
      RoomNeed need = new RoomNeed(n, bytes);
      roomNeeds.add(need);
      updateSmallestNeeds();
      boolean reserved = false;
      try {
        while (!(reserved = tryReserveWaiting(n, bytes)) && !admissionStopped && remaining > 0) {
          if (need.fits(free(), freeBytes())) {
            continue; // room came back while this one tried, and whoever gave it saw none: retry
          }
          if (someNeedFits()) {
            room.signal(); // another waiter fits where this one does not: wake one in its place
          }
          remaining = room.awaitNanos(remaining);
        }
      } finally {
        roomNeeds.remove(need);
        updateSmallestNeeds();
        if (someNeedFits()) {
          room.signal(); // room left over, or a wake-up this one will not use: pass it on
        }
      }
      return reserved ? null : rejection(n, bytes);
    } finally {
      lock.unlock();
    }
  }

  /** What a waiting submit needs; compared by identity, since two may need the same. */
  private static final class RoomNeed {
    final int jobs;
    final long bytes;

    RoomNeed(int jobs, long bytes) {
      this.jobs = jobs;
      this.bytes = bytes;
    }

    boolean fits(long freeJobs, long freeBytes) {
      return jobs <= freeJobs && bytes <= freeBytes;
    }
  }

  /** Recomputes the smallest needs from {@code roomNeeds}. Holds the lock. */
  private void updateSmallestNeeds() {
    long jobs = Long.MAX_VALUE;
    long bytes = Long.MAX_VALUE;
    for (RoomNeed need : roomNeeds) {
      jobs = Math.min(jobs, need.jobs);
      bytes = Math.min(bytes, need.bytes);
    }
    smallestNeed = jobs;
    smallestBytesNeed = bytes;
  }

  /** Whether some waiting submit fits both bounds now, exactly. Holds the lock. */
  private boolean someNeedFits() {
    long free = free();
    long freeBytes = freeBytes();
    for (RoomNeed need : roomNeeds) {
      if (need.fits(free, freeBytes)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether a waiting submit may fit now: the smallest needs are met, which every fitting waiter
   * needs (but the smallest of each may belong to different waiters). No lock.
   */
  private boolean aNeedMayFit() {
    return free() >= smallestNeed && freeBytes() >= smallestBytesNeed;
  }

  /**
   * Reserves room for {@code n} jobs and {@code bytes} payload bytes if both are free now and
   * admission is open; otherwise reserves nothing (a waiter that the undone job room would fit is
   * woken, as by any room given back).
   */
  private boolean tryReserve(int n, long bytes) {
    if (!tryReserve(n)) {
      return false;
    }
    if (!tryReserveBytes(bytes)) {
      unreserve(n);
      return false;
    }
    return true;
  }

  /**
   * {@link #tryReserve(int, long)} for a waiter, which holds the lock: undoing the job room wakes
   * no one, since every other waiter tries only under the lock too, and the waiter passes on a
   * wake-up itself if another need fits (a wake-up here could circle among waiters that all lack
   * bytes).
   */
  private boolean tryReserveWaiting(int n, long bytes) {
    if (!tryReserve(n)) {
      return false;
    }
    if (!tryReserveBytes(bytes)) {
      occupied.addAndGet(-n);
      return false;
    }
    return true;
  }

  private boolean tryReserveBytes(long bytes) {
    long limit = options.payloadBytesLimit();
    while (true) {
      long now = heldBytes.get();
      if (now + bytes > limit) {
        return false;
      }
      if (heldBytes.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /** Why {@link #tryReserveBytes} refused {@code bytes}. */
  private Admission.Rejected bytesRejection(long bytes) {
    long held = heldBytes.get();
    long dead = deadBytes;
    Duration retryAfter = retryAfter(1);
    return new Admission.Rejected(
        Admission.Reason.QUEUE_FULL,
        retryAfter,
        "the store already holds "
            + held
            + " bytes of payloads (its limit is "
            + options.payloadBytesLimit()
            + "), no room for "
            + bytes
            + " more; retry after "
            + retryAfter.toSeconds()
            + " s"
            + (dead > 0
                ? ". Dead letters hold "
                    + dead
                    + " of those bytes: retry or delete them to make room"
                : ""));
  }

  /** The refusal of payloads larger than the store ever holds. */
  private Admission.Rejected payloadsTooLarge(long bytes) {
    return new Admission.Rejected(
        Admission.Reason.TOO_LARGE,
        Duration.ZERO,
        "a batch of "
            + bytes
            + " payload bytes can never fit: the store holds at most "
            + options.payloadBytesLimit()
            + " bytes of payloads; submit smaller batches");
  }

  private long free() {
    return options.capacity() - occupied.get();
  }

  private long freeBytes() {
    return options.payloadBytesLimit() - heldBytes.get();
  }

  /**
   * Reserves room for {@code n} jobs if there is room now and admission is open. A reservation that
   * races {@link #stopAdmission} is undone, so none succeeds once the stop is visible.
   */
  private boolean tryReserve(int n) {
    long capacity = options.capacity();
    while (!admissionStopped) {
      long now = occupied.get();
      if (now + n > capacity) {
        return false;
      }
      if (occupied.compareAndSet(now, now + n)) {
        if (admissionStopped) {
          unreserve(n);
          return false;
        }
        return true;
      }
    }
    return false;
  }

  /** Why {@link #tryReserve(int, long)} refused {@code n} jobs of {@code bytes} payload bytes. */
  private Admission.Rejected rejection(int n, long bytes) {
    if (admissionStopped || free() >= n) {
      return admissionStopped ? rejection(n) : bytesRejection(bytes);
    }
    return rejection(n);
  }

  /** Why {@link #tryReserve(int)} refused {@code n} jobs. */
  private Admission.Rejected rejection(int n) {
    if (admissionStopped) {
      return new Admission.Rejected(
          Admission.Reason.SHUTTING_DOWN,
          Duration.ZERO,
          "the job store is shutting down and takes no new jobs");
    }
    long free = Math.max(0, options.capacity() - occupied.get());
    Duration retryAfter = retryAfter(Math.max(1, n - free));
    return new Admission.Rejected(
        Admission.Reason.QUEUE_FULL,
        retryAfter,
        "the queue has room for "
            + free
            + " more jobs, not "
            + n
            + "; retry after "
            + retryAfter.toSeconds()
            + " s");
  }

  /**
   * How long until about {@code jobs} more jobs have finished, at the rate jobs finished lately: at
   * least {@link #RETRY_AFTER} (also the answer before any rate is known), at most {@link
   * #MAX_RETRY_AFTER} (also the answer when none finished for a second or more, e.g. while every
   * upload fails and waits to retry).
   */
  private Duration retryAfter(long jobs) {
    double perSecond = finishRate.perSecond(clock.nanoTime(), finishedJobs.get());
    if (Double.isNaN(perSecond)) {
      return RETRY_AFTER;
    }
    if (perSecond <= 0) {
      return MAX_RETRY_AFTER;
    }
    double seconds = Math.ceil(jobs / perSecond);
    return Duration.ofSeconds(
        (long) Math.min(MAX_RETRY_AFTER.toSeconds(), Math.max(RETRY_AFTER.toSeconds(), seconds)));
  }

  /**
   * The rate at which jobs finished, measured between rejections at least a second apart; only
   * rejected submitters ask, so it costs nothing while admission has room.
   */
  private static final class FinishRate {
    private static final long WINDOW_NANOS = 1_000_000_000L;
    private boolean sampled;
    private long sampleNanos;
    private long sampleFinished;
    private double perSecond = Double.NaN;

    synchronized double perSecond(long nowNanos, long finished) {
      if (!sampled) {
        sampled = true;
      } else if (nowNanos - sampleNanos >= WINDOW_NANOS) {
        perSecond = (finished - sampleFinished) * 1e9 / (nowNanos - sampleNanos);
      } else {
        return perSecond;
      }
      sampleNanos = nowNanos;
      sampleFinished = finished;
      return perSecond;
    }
  }

  /**
   * Gives back room: a reservation not used, or a job that left the bound (finished, dead).
   *
   * <p>Wakes one waiting submitter, and only if the smallest waiting needs now fit: with the queue
   * at its bound, waking every waiter at each finished job would wake them all to let one in. A
   * woken waiter that does not fit, or that leaves room over, wakes the next if some need fits (see
   * {@link #reserve}); the waiters' needs are known exactly, so the chain stops where nothing fits.
   * Payload bytes given back first (as a finished job does) count for the waiters woken here.
   */
  private void unreserve(int n) {
    occupied.addAndGet(-n);
    roomFreed();
  }

  /** Gives back room for {@code n} jobs and {@code bytes} payload bytes reserved but not used. */
  private void unreserve(int n, long bytes) {
    heldBytes.addAndGet(-bytes);
    unreserve(n);
  }

  /**
   * Wakes one waiting submitter if the room just given back may fit one; see {@link #unreserve}.
   */
  private void roomFreed() {
    if (aNeedMayFit()) {
      lock.lock();
      try {
        room.signal();
      } finally {
        lock.unlock();
      }
    }
  }

  private static long toNanosSaturated(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return Long.MAX_VALUE;
    }
  }

  // ---------------------------------------------------------------- schedules

  /** One schedule change's journal write, waiting at most {@code timeout}: the record's segment. */
  @FunctionalInterface
  private interface ScheduleWrite {
    long append(Duration timeout) throws JobLog.NotYetDurable;
  }

  /**
   * A change to a schedule that the journal did not confirm within the ack timeout: the state
   * before it ({@code before}; null for a new schedule), the state after it ({@code after}; null
   * for a deletion), and the record's outcome. See Schedules in the class comment.
   */
  private record Unconfirmed(
      ScheduleEntry before, ScheduleEntry after, CompletableFuture<Long> outcome) {}

  @Override
  public boolean putSchedule(String name, String definition) {
    StoredSchedule.checkName(name);
    Objects.requireNonNull(definition, "definition");
    lockForChange(name);
    try {
      ScheduleEntry current = schedules.get(name);
      if (current != null && current.definition.equals(definition)) {
        return false;
      }
      ScheduleEntry next =
          current == null ? new ScheduleEntry(name, definition, clock.now()) : current.copy();
      next.definition = definition;
      next.updatedAt = clock.now();
      try {
        change(name, current, next, timeout -> log.scheduled(next, timeout));
      } catch (JobLog.NotYetDurable late) {
        throw scheduleUnknown(name, "new definition", List.of());
      }
      return true;
    } finally {
      scheduleLock.unlock();
    }
  }

  @Override
  public boolean deleteSchedule(String name) {
    Objects.requireNonNull(name, "name");
    lockForChange(name);
    try {
      ScheduleEntry current = schedules.get(name);
      if (current == null) {
        return false;
      }
      try {
        change(
            name,
            current,
            null,
            timeout -> {
              log.unscheduled(name, timeout);
              return 0;
            });
      } catch (JobLog.NotYetDurable late) {
        throw scheduleUnknown(name, "deletion", List.of());
      }
      return true;
    } finally {
      scheduleLock.unlock();
    }
  }

  @Override
  public Optional<StoredSchedule> schedule(String name) {
    Objects.requireNonNull(name, "name");
    scheduleLock.lock();
    try {
      settleKnown();
      ScheduleEntry current = schedules.get(name);
      return current == null ? Optional.empty() : Optional.of(current.snapshot());
    } finally {
      scheduleLock.unlock();
    }
  }

  @Override
  public List<StoredSchedule> schedules() {
    scheduleLock.lock();
    try {
      settleKnown();
      return schedules.values().stream().map(ScheduleEntry::snapshot).toList();
    } finally {
      scheduleLock.unlock();
    }
  }

  @Override
  public Admission fire(String name, Instant fireTime, JobSpec job) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(fireTime, "fireTime");
    Objects.requireNonNull(job, "job");
    lockForChange(name);
    try {
      ScheduleEntry current = schedules.get(name);
      if (current == null || (current.lastFire != null && !fireTime.isAfter(current.lastFire))) {
        return new Admission.Rejected(
            Admission.Reason.NOT_DUE,
            Duration.ZERO,
            current == null
                ? "there is no schedule named " + name
                : "schedule " + name + " already fired for " + current.lastFire);
      }
      long bytes = job.payloadArray().length;
      if (bytes > options.payloadBytesLimit()) {
        return payloadsTooLarge(bytes);
      }
      if (bytes + JobRecords.MAX_SUBMITTED_OVERHEAD_PER_JOB > maxRecordBytes) {
        // near the limit: measure exactly (the FIRED record also holds the schedule, a few hundred
        // bytes that the journal's own check still catches)
        Admission.Rejected tooLarge = recordTooLarge(List.of(job));
        if (tooLarge != null) {
          return tooLarge;
        }
      }
      if (!tryReserve(1, bytes)) {
        return rejection(1, bytes);
      }
      Entry entry = newEntry(job, clock.now(), System.currentTimeMillis());
      ScheduleEntry next = current.copy();
      next.lastFire = fireTime;
      next.lastJob = entry.id;
      long home;
      try {
        home = change(name, current, next, timeout -> log.fired(next, entry, timeout));
      } catch (JobLog.NotYetDurable late) {
        arriveWhenDurable(List.of(entry), late);
        throw scheduleUnknown(name, "fire for " + fireTime, List.of(entry.id));
      } catch (RuntimeException | Error e) {
        unreserve(1, bytes);
        throw e;
      }
      arrive(List.of(entry), home);
      return new Admission.Accepted(List.of(entry.id));
    } finally {
      scheduleLock.unlock();
    }
  }

  @Override
  public boolean skipFire(String name, Instant fireTime) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(fireTime, "fireTime");
    lockForChange(name);
    try {
      ScheduleEntry current = schedules.get(name);
      if (current == null || (current.lastFire != null && !fireTime.isAfter(current.lastFire))) {
        return false;
      }
      ScheduleEntry next = current.copy();
      next.lastFire = fireTime;
      try {
        // a SCHEDULE record holds the whole state, lastFire too
        change(name, current, next, timeout -> log.scheduled(next, timeout));
      } catch (JobLog.NotYetDurable late) {
        throw scheduleUnknown(name, "skip of its fire for " + fireTime, List.of());
      }
      return true;
    } finally {
      scheduleLock.unlock();
    }
  }

  /**
   * Rewrites every schedule whose latest record is in a segment before {@code segment}, so that
   * segment can be released (called by the journal's compaction). Does nothing while the journal is
   * stalled, and stops at a rewrite not confirmed in time: the segment stays for a later pass.
   */
  void rehomeSchedulesBefore(long segment) {
    scheduleLock.lock();
    try {
      if (closed()) {
        return;
      }
      settleKnown();
      for (ScheduleEntry s : List.copyOf(schedules.values())) {
        if (s.home >= segment || unconfirmed.containsKey(s.name)) {
          continue;
        }
        if (log.stalled()) {
          return; // the journal warned; compaction tries again once it resumes
        }
        try {
          // forced: the old record's segment goes next
          change(s.name, s, s.copy(), timeout -> log.rescheduled(s, timeout));
        } catch (JobLog.NotYetDurable late) {
          return; // settles like any unconfirmed change
        }
      }
    } finally {
      scheduleLock.unlock();
    }
  }

  /**
   * Takes {@code scheduleLock} for a change to schedule {@code name}, and settles an unconfirmed
   * change to it. Refuses at once while the journal is stalled (before waiting for the lock) and
   * while that change's outcome is still unknown.
   *
   * @throws JournalStalledException if refused; the lock is not held
   */
  private void lockForChange(String name) {
    if (log.stalled()) {
      throw scheduleStalled(name);
    }
    scheduleLock.lock();
    try {
      Unconfirmed earlier = unconfirmed.get(name);
      if (earlier != null) {
        if (!earlier.outcome().isDone()) {
          throw earlierUnconfirmed(name);
        }
        unconfirmed.remove(name);
        settle(name, earlier);
      }
    } catch (RuntimeException | Error e) {
      scheduleLock.unlock();
      throw e;
    }
  }

  /**
   * Records the change of schedule {@code name} from {@code before} (null: new) to {@code after}
   * (null: deleted) with {@code write}, waiting at most the ack timeout, and applies it once it is
   * durable. Holds {@code scheduleLock}.
   *
   * @return the record's segment
   * @throws JournalStalledException if the journal is stalled: nothing was written
   * @throws JobLog.NotYetDurable if not confirmed in time: the change is unconfirmed, the state
   *     before it stays
   */
  private long change(String name, ScheduleEntry before, ScheduleEntry after, ScheduleWrite write)
      throws JobLog.NotYetDurable {
    if (log.stalled()) { // became stalled while this caller waited for the lock
      throw scheduleStalled(name);
    }
    long home;
    try {
      home = write.append(options.ackTimeout());
    } catch (JobLog.NotYetDurable late) {
      unconfirmed.put(name, new Unconfirmed(before, after, late.outcome));
      throw late;
    }
    apply(name, before, after, home);
    return home;
  }

  /** Makes a durable change to schedule {@code name} the store's state. Holds scheduleLock. */
  private void apply(String name, ScheduleEntry before, ScheduleEntry after, long home) {
    if (after == null) {
      schedules.remove(name);
    } else {
      after.home = home;
      schedules.put(name, after);
    }
    if (before != null) {
      log.superseded(before.home);
    }
  }

  /**
   * Applies an unconfirmed change whose outcome is known: durable, it becomes the state; failed,
   * the journal failed or closed, and the state before it stays (the journal records nothing after
   * a failure, and the store refuses every change). Holds scheduleLock.
   */
  private void settle(String name, Unconfirmed u) {
    if (!u.outcome().isCompletedExceptionally()) {
      apply(name, u.before(), u.after(), u.outcome().join());
    }
  }

  /** Settles every unconfirmed change whose outcome is known. Holds scheduleLock. */
  private void settleKnown() {
    if (unconfirmed.isEmpty()) {
      return;
    }
    for (var it = unconfirmed.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Unconfirmed> e = it.next();
      if (e.getValue().outcome().isDone()) {
        it.remove();
        settle(e.getKey(), e.getValue());
      }
    }
  }

  private static JournalStalledException scheduleStalled(String name) {
    return new JournalStalledException(
        "the job journal is stalled (a write or force has run longer than the stall threshold:"
            + " the disk may be hung), so this change to schedule "
            + name
            + " was refused at once; nothing of it was recorded. Try again once the journal"
            + " resumes");
  }

  private static JournalStalledException earlierUnconfirmed(String name) {
    return new JournalStalledException(
        "an earlier change to schedule "
            + name
            + " is not yet confirmed durable (the disk may be hung), so this one was refused at"
            + " once; nothing of it was recorded. Try again once the journal answers: the schedule"
            + " then shows whether the earlier change was recorded");
  }

  private DurabilityUnknownException scheduleUnknown(String name, String what, List<JobId> ids) {
    return new DurabilityUnknownException(
        "schedule "
            + name
            + "'s "
            + what
            + " was handed to the journal but not confirmed durable within "
            + options.ackTimeout().toMillis()
            + " ms (the disk is stalled). It may or may not be recorded: the store shows the"
            + " schedule as it was until the journal answers, then as the journal says (and a"
            + " fire's job runs if it was recorded). Other changes to this schedule are refused"
            + " until then",
        ids,
        options.ackTimeout());
  }

  private boolean closed() {
    lock.lock();
    try {
      return closed;
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- relocation

  /** Slots of {@code byId} that one acquisition of the lock scans for jobs to relocate. */
  private static final int RELOCATION_SCAN_SLOTS = 4096;

  /** The body a relocation record is filled to; a larger job makes a record of its own. */
  private static final int RELOCATION_RECORD_BYTES = 1 << 20;

  /**
   * Called by a relocation with "found" (its jobs are chosen, nothing is queued yet) and "forced"
   * (its records are durable, no job has moved yet): a hook for tests that change jobs or copy the
   * journal at those moments.
   */
  volatile Consumer<String> relocationStep = step -> {};

  private final AtomicBoolean tooLargeToRelocateLogged = new AtomicBoolean();

  /** One relocation record on its way: its jobs, where they were, and their parts of it. */
  private record Relocation(
      List<Entry> entries, long[] homes, int[] sizes, CompletableFuture<Long> segment) {}

  /**
   * Rewrites every job homed in a segment before {@code segment} into the newest one and moves it
   * there once that is durable (called by the journal's compaction; see the class comment).
   *
   * @return how many jobs moved
   */
  int relocateJobsBefore(long segment) {
    Set<Entry> found = homedBefore(segment);
    if (found.isEmpty()) {
      return 0;
    }
    relocationStep.accept("found");
    List<Relocation> written = writeRelocations(found, segment);
    long[] durable = new long[written.size()];
    for (int i = 0; i < durable.length; i++) {
      try {
        durable[i] = written.get(i).segment().join();
      } catch (CompletionException | CancellationException e) {
        durable[i] = -1; // the journal failed or closed: these jobs stay where they are
      }
    }
    relocationStep.accept("forced");
    int moved = 0;
    long movedBytes = 0;
    lock.lock();
    try {
      for (int i = 0; i < durable.length; i++) {
        if (durable[i] < 0) {
          continue;
        }
        Relocation r = written.get(i);
        for (int k = 0; k < r.entries().size(); k++) {
          Entry e = r.entries().get(k);
          if (alive(e) && e.home == r.homes()[k]) {
            log.rehomed(e.home, e.recordBytes, durable[i], r.sizes()[k]);
            e.home = durable[i];
            e.recordBytes = r.sizes()[k];
            moved++;
            movedBytes += r.sizes()[k];
          }
        }
      }
    } finally {
      lock.unlock();
    }
    if (LOG.isLoggable(System.Logger.Level.DEBUG)) {
      LOG.log(
          System.Logger.Level.DEBUG,
          "compaction rewrote "
              + moved
              + " jobs ("
              + movedBytes
              + " bytes) homed before journal segment "
              + segment
              + " into the newest segment; "
              + (found.size() - moved)
              + " found there finished meanwhile or stay");
    }
    return moved;
  }

  /** The jobs neither finished nor deleted whose home is before {@code segment}. */
  private Set<Entry> homedBefore(long segment) {
    Set<Entry> found = new LinkedHashSet<>(); // by identity: Entry keeps Object's equals
    int capacity = -1;
    int slot = 0;
    while (slot >= 0) {
      lock.lock();
      try {
        if (closed) {
          return Set.of();
        }
        if (byId.capacity() != capacity) {
          slot = 0; // (re)start: growth moved every entry; the set drops those seen twice
          capacity = byId.capacity();
        }
        slot =
            byId.forEach(
                slot,
                RELOCATION_SCAN_SLOTS,
                e -> {
                  if (e.home < segment && e.state != JobState.SUCCEEDED) {
                    found.add(e);
                  }
                });
      } finally {
        lock.unlock();
      }
    }
    return found;
  }

  /**
   * Queues records of the state of {@code found}, each group under the lock, skipping the jobs that
   * finished or moved since they were found.
   */
  private List<Relocation> writeRelocations(Set<Entry> found, long segment) {
    List<Relocation> written = new ArrayList<>();
    long recordBytes = Math.min(RELOCATION_RECORD_BYTES, maxRecordBytes);
    java.util.Iterator<Entry> it = found.iterator();
    Entry carried = null; // the first of the next record
    while (carried != null || it.hasNext()) {
      lock.lock();
      try {
        if (closed) {
          break;
        }
        List<Entry> group = new ArrayList<>();
        long size = Integer.BYTES;
        while (carried != null || it.hasNext()) {
          Entry e = carried != null ? carried : it.next();
          carried = null;
          if (!alive(e) || e.home >= segment) {
            continue;
          }
          int bytes = JobRecords.relocatedSize(e);
          if (Integer.BYTES + (long) bytes > maxRecordBytes) {
            tooLargeToRelocate(e, bytes);
            continue;
          }
          if (!group.isEmpty() && size + bytes > recordBytes) {
            carried = e;
            break;
          }
          group.add(e);
          size += bytes;
        }
        if (group.isEmpty()) {
          continue;
        }
        long[] homes = new long[group.size()];
        for (int k = 0; k < homes.length; k++) {
          homes[k] = group.get(k).home;
        }
        int[] sizes = new int[group.size()];
        written.add(new Relocation(group, homes, sizes, log.relocated(group, sizes)));
      } finally {
        lock.unlock();
      }
    }
    return written;
  }

  /**
   * Whether {@code e} is still one of this store's jobs, pending or dead, and is not changing: a
   * dead letter whose retry or deletion is in flight is not rewritten (the rewrite would follow
   * that record in the journal with the state before it) nor moved (a deletion's record counts it
   * out of the home it has now). Holds the lock.
   */
  private boolean alive(Entry e) {
    return e.state != JobState.SUCCEEDED && byId.get(e.id) == e && e.changing == null;
  }

  private void tooLargeToRelocate(Entry e, int bytes) {
    if (tooLargeToRelocateLogged.compareAndSet(false, true)) {
      LOG.log(
          System.Logger.Level.WARNING,
          "job "
              + e.id
              + " cannot be rewritten into the newest journal segment: with its state (last error"
              + " of "
              + (e.lastError == null ? 0 : e.lastError.length())
              + " characters) it makes a record of "
              + bytes
              + " bytes, more than the journal's "
              + maxRecordBytes
              + ". It keeps its old segment, and every later one, on disk until it finishes"
              + " (logged once)");
    }
  }

  // ---------------------------------------------------------------- queues

  /** Puts a QUEUED or RETRY_WAIT entry where it waits. */
  private void insert(Entry entry, Instant now) {
    byId.put(entry);
    if (entry.state == JobState.RETRY_WAIT) {
      retryWait++;
      delay(entry);
      return;
    }
    queued++;
    if (entry.dueAt != null && entry.dueAt.isAfter(now)) {
      delay(entry);
    } else {
      entry.dueAt = null;
      enqueueDue(entry);
    }
  }

  private void enqueueDue(Entry entry) {
    ArrayDeque<Entry> fifo = fifoByType.get(entry.type);
    if (fifo == null) {
      fifo = new ArrayDeque<>();
      fifoByType.put(entry.type, fifo);
      types.add(entry.type);
    }
    fifo.addLast(entry);
    if (waitingClaims > 0) {
      ready.signal();
    }
  }

  private void delay(Entry entry) {
    delayed.add(entry);
    if (delayed.peek() == entry) {
      armDueTimer(entry.dueAt);
    }
  }

  private void armDueTimer(Instant at) {
    if (closed || (dueTimer != null && dueTimerAt != null && !at.isBefore(dueTimerAt))) {
      return;
    }
    Duration delay = Duration.between(clock.now(), at);
    dueTimerAt = at;
    if (dueTimer == null) {
      dueTimer = clock.afterFunc(delay, this::promoteDue);
    } else {
      dueTimer.reset(delay);
    }
  }

  /** The due timer's function: moves every job that is due to its type's FIFO. */
  private void promoteDue() {
    lock.lock();
    try {
      dueTimerAt = null;
      Instant now = clock.now();
      Entry head;
      while ((head = delayed.peek()) != null && !head.dueAt.isAfter(now)) {
        delayed.poll();
        if (head.state == JobState.RETRY_WAIT) {
          retryWait--;
          queued++;
          head.state = JobState.QUEUED;
        }
        head.dueAt = null;
        enqueueDue(head);
      }
      if (head != null) {
        armDueTimer(head.dueAt);
      }
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- attempts

  @Override
  public Optional<Job> claim(TypeGate gate) throws InterruptedException {
    List<Claim> claims = claim(List.of(), new Claimer(gate, 1, 1));
    return claims.isEmpty() ? Optional.empty() : Optional.of(claims.getFirst().job());
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here in one acquisition of the lock, handing out the store's entries themselves, so that
   * reporting on them needs no lookup by id. Nothing but its claimer's reports changes a RUNNING
   * entry, so the claimer may read it (and take its snapshot) without the lock until it reports.
   * Interruption throws only after {@code succeeded} is recorded: the lock is then taken
   * uninterruptibly. One STARTED record covers the claimed jobs, one SUCCEEDED record the
   * successes.
   */
  @Override
  public List<Claim> claim(List<? extends Claim> succeeded, Claimer claimer)
      throws InterruptedException {
    Objects.requireNonNull(claimer, "claimer");
    // One clock read, before the lock (a read costs ~30 ns here, and every worker's claim passes
    // through this lock), serves the successes and the attempts this claim starts.
    Instant now = clock.now();
    if (succeeded.isEmpty()) {
      lock.lockInterruptibly();
    } else {
      lock.lock();
    }
    try {
      if (!succeeded.isEmpty()) {
        succeededLocked(succeeded, now);
      }
      while (true) {
        if (claimsStopped) {
          return List.of();
        }
        admitArrivals();
        List<Entry> claimed = pollDue(claimer);
        if (claimed != null) {
          for (Entry entry : claimed) {
            entry.state = JobState.RUNNING;
            entry.attempts++;
            entry.lastAttemptAt = now;
          }
          queued -= claimed.size();
          running += claimed.size();
          log.started(claimed, now);
          return List.copyOf(claimed);
        }
        waitingClaims++;
        try {
          if (arrivals.get() == null) {
            ready.await();
            now = clock.now(); // time passed while waiting
          }
        } finally {
          waitingClaims--;
        }
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the next due jobs the claimer may have: the head of the first type's FIFO (round robin)
   * that its gate admits, and of an unlimited type more of the same FIFO, up to the claimer's batch
   * and an even share of that FIFO among the claimers.
   *
   * @return the jobs, or null if none
   */
  private List<Entry> pollDue(Claimer claimer) {
    TypeGate gate = claimer.gate();
    int n = types.size();
    for (int i = 0; i < n; i++) {
      int index = (typeCursor + i) % n;
      String type = types.get(index);
      ArrayDeque<Entry> fifo = fifoByType.get(type);
      if (fifo.isEmpty()) {
        continue;
      }
      if (!gate.tryEnter(type)) {
        gateRefused = true;
        continue;
      }
      typeCursor = index + 1;
      int share = (fifo.size() + claimer.claimers() - 1) / claimer.claimers();
      int most = Math.min(claimer.batch(), share);
      List<Entry> taken = new ArrayList<>(most);
      taken.add(fifo.pollFirst());
      if (most > 1 && gate.unlimited(type)) {
        while (taken.size() < most && !fifo.isEmpty() && gate.tryEnter(type)) {
          taken.add(fifo.pollFirst());
        }
      }
      return taken;
    }
    return null;
  }

  @Override
  public void gateOpened() {
    lock.lock();
    try {
      if (gateRefused && waitingClaims > 0) {
        gateRefused = false;
        ready.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void succeeded(JobId id) {
    lock.lock();
    try {
      succeededLocked(List.of(running(id)), clock.now());
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void succeeded(Claim claim) {
    lock.lock();
    try {
      succeededLocked(List.of(claim), clock.now()); // which checks the claim is running
    } finally {
      lock.unlock();
    }
  }

  /** Records successes, all of them or (if one has no running attempt) none. */
  private void succeededLocked(List<? extends Claim> claims, Instant now) {
    List<Entry> entries = new ArrayList<>(claims.size());
    for (Claim claim : claims) {
      entries.add(claimed(claim));
    }
    long bytes = 0;
    for (Entry entry : entries) {
      entry.state = JobState.SUCCEEDED;
      entry.dueAt = null;
      entry.finishedAt = now;
      bytes += entry.payload.length;
      remember(entry);
    }
    heldBytes.addAndGet(-bytes);
    running -= entries.size();
    succeeded += entries.size();
    finishedJobs.addAndGet(entries.size());
    log.succeeded(entries, now);
    unreserve(entries.size());
  }

  @Override
  public void failed(JobId id, String error, Optional<Instant> retryAt) {
    Objects.requireNonNull(error, "error");
    lock.lock();
    try {
      failedLocked(running(id), error, retryAt);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void failed(Claim claim, String error, Optional<Instant> retryAt) {
    Objects.requireNonNull(error, "error");
    lock.lock();
    try {
      failedLocked(claimed(claim), error, retryAt);
    } finally {
      lock.unlock();
    }
  }

  private void failedLocked(Entry entry, String error, Optional<Instant> retryAt) {
    Instant now = clock.now();
    running--;
    failedAttempts++;
    entry.lastError = error;
    if (retryAt.isPresent()) {
      entry.state = JobState.RETRY_WAIT;
      entry.dueAt = retryAt.get();
      retryWait++;
      // Recorded while it waits to retry: a retry due at once is queued next, and the record,
      // which reads the state, would then hold no retry time, which replay takes for a death.
      log.failed(entry, now);
      delay(entry);
      promoteIfDue(entry);
    } else {
      entry.state = JobState.DEAD;
      entry.dueAt = null;
      entry.finishedAt = now;
      died++;
      finishedJobs.incrementAndGet();
      deadBytes += entry.payload.length;
      deadIndex.put(entry.id, entry);
      unreserve(1);
      log.failed(entry, now);
    }
  }

  /** A retry due at once goes straight to its FIFO instead of through the timer. */
  private void promoteIfDue(Entry entry) {
    if (!entry.dueAt.isAfter(clock.now()) && delayed.peek() == entry) {
      delayed.poll();
      retryWait--;
      queued++;
      entry.state = JobState.QUEUED;
      entry.dueAt = null;
      enqueueDue(entry);
    }
  }

  @Override
  public void abandoned(JobId id) {
    lock.lock();
    try {
      abandonedLocked(running(id));
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void abandoned(Claim claim) {
    lock.lock();
    try {
      abandonedLocked(claimed(claim));
    } finally {
      lock.unlock();
    }
  }

  private void abandonedLocked(Entry entry) {
    running--;
    queued++;
    entry.attempts--;
    entry.state = JobState.QUEUED;
    log.abandoned(entry);
    enqueueDue(entry);
  }

  private Entry running(JobId id) {
    admitArrivals(); // so a job submitted but not yet queued is reported as QUEUED, not unknown
    Entry entry = byId.get(Objects.requireNonNull(id, "id"));
    if (entry == null) {
      throw new IllegalStateException("job " + id + " has no running attempt (it is unknown)");
    }
    return checkRunning(entry);
  }

  /** The running entry of a claim: this store's own, or found by the claim's id. */
  private Entry claimed(Claim claim) {
    return claim instanceof Entry entry ? checkRunning(entry) : running(claim.job().id());
  }

  private static Entry checkRunning(Entry entry) {
    if (entry.state != JobState.RUNNING) {
      throw new IllegalStateException(
          "job " + entry.id + " has no running attempt (it is " + entry.state + ")");
    }
    return entry;
  }

  /**
   * Keeps a finished entry findable by id, without its payload, forgetting the oldest beyond the
   * retention. The entry stays in {@code byId} (recovery puts it there first), so finishing a job
   * costs no map insert.
   */
  private void remember(Entry entry) {
    if (options.finishedRetention() == 0) {
      byId.remove(entry);
      return;
    }
    entry.dropPayload();
    finished.addLast(entry);
    if (finished.size() > options.finishedRetention()) {
      Entry oldest = finished.pollFirst();
      byId.remove(oldest);
    }
  }

  // ---------------------------------------------------------------- queries and dead letters

  @Override
  public Optional<Job> find(JobId id) {
    Objects.requireNonNull(id, "id");
    lock.lock();
    try {
      admitArrivals();
      Entry entry = byId.get(id);
      return entry == null ? Optional.empty() : Optional.of(entry.snapshot());
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<Job> deadLetters(Optional<JobId> after, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, got " + limit);
    }
    lock.lock();
    try {
      Collection<Entry> tail =
          after.isPresent() ? deadIndex.tailMap(after.get(), false).values() : deadIndex.values();
      List<Job> page = new ArrayList<>(Math.min(limit, tail.size()));
      for (Entry entry : tail) {
        if (page.size() == limit) {
          break;
        }
        page.add(entry.snapshot());
      }
      return page;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Admission retryDead(JobId id) {
    Marked m = markDeadLetter(id, "retry", true);
    if (m == NOT_DEAD) {
      return new Admission.Rejected(
          Admission.Reason.NOT_A_DEAD_LETTER,
          Duration.ZERO,
          "job " + id + " is not a dead letter (unknown, never dead, or retried or deleted)");
    }
    if (m == NO_ROOM) {
      return noRoomToRetry(id);
    }
    changeDurably(m.entry, m.change, "retry", true, log::retried, this::requeue);
    return new Admission.Accepted(List.of(id));
  }

  /** A dead letter marked for a change by this call, with that change's future. */
  private record Marked(Entry entry, CompletableFuture<Void> change) {}

  private static final Marked NOT_DEAD = new Marked(null, null);
  private static final Marked NO_ROOM = new Marked(null, null);

  /**
   * Marks dead letter {@code id} for a retry or deletion ({@code what}), after waiting for another
   * call's change to it to settle; a retry ({@code takeRoom}) also reserves the room it takes once
   * queued again (a dead letter holds none). NOT_DEAD if it is not a dead letter, NO_ROOM if the
   * queue has no room for it.
   */
  private Marked markDeadLetter(JobId id, String what, boolean takeRoom) {
    Objects.requireNonNull(id, "id");
    for (; ; ) {
      if (log.stalled()) {
        throw deadLetterStalled(id, what);
      }
      CompletableFuture<Void> earlier;
      lock.lock();
      try {
        Entry entry = deadIndex.get(id);
        if (entry == null) {
          return NOT_DEAD;
        }
        earlier = entry.changing;
        if (earlier == null) {
          if (takeRoom && !tryReserve(1)) {
            return NO_ROOM;
          }
          return new Marked(entry, entry.changing = new CompletableFuture<>());
        }
      } finally {
        lock.unlock();
      }
      awaitEarlierChange(id, earlier); // another call's change is in flight
    }
  }

  private Admission.Rejected noRoomToRetry(JobId id) {
    Admission.Rejected refused = rejection(1);
    return refused.reason() != Admission.Reason.QUEUE_FULL
        ? refused
        : new Admission.Rejected(
            refused.reason(),
            refused.retryAfter(),
            "no room to queue dead letter "
                + id
                + " again, so it stays a dead letter: "
                + refused.message());
  }

  /**
   * Records a change to a dead letter, marked in {@code change}, with {@code record}, and applies
   * it with {@code apply} once that is durable; on a failure it stays a dead letter, and the room a
   * retry {@code reserved} is given back.
   */
  private void changeDurably(
      Entry entry,
      CompletableFuture<Void> change,
      String what,
      boolean reserved,
      DeadLetterRecord record,
      BiConsumer<Entry, CompletableFuture<Void>> apply) {
    try {
      record.write(entry, options.ackTimeout());
    } catch (JobLog.NotYetDurable late) {
      late.outcome.whenComplete(
          (home, failure) -> {
            if (failure == null) {
              apply.accept(entry, change);
            } else {
              keepDead(entry, change, reserved);
            }
          });
      throw deadLetterUnknown(entry.id, what);
    } catch (RuntimeException | Error e) {
      keepDead(entry, change, reserved);
      throw e;
    }
    apply.accept(entry, change);
  }

  /** {@link JobLog#retried} or {@link JobLog#deleted}. */
  @FunctionalInterface
  private interface DeadLetterRecord {
    void write(Entry entry, Duration timeout) throws JobLog.NotYetDurable;
  }

  /** Queues a dead letter whose retry is durable, with a fresh count of attempts. */
  private void requeue(Entry entry, CompletableFuture<Void> change) {
    lock.lock();
    try {
      deadIndex.remove(entry.id);
      entry.changing = null;
      entry.state = JobState.QUEUED;
      entry.attempts = 0;
      entry.lastAttemptAt = null;
      entry.finishedAt = null;
      deadBytes -= entry.payload.length;
      queued++;
      enqueueDue(entry);
    } finally {
      lock.unlock();
    }
    change.complete(null);
  }

  /**
   * Leaves a dead letter as it was after its change failed (the log failed or closed), giving back
   * the room a retry reserved.
   */
  private void keepDead(Entry entry, CompletableFuture<Void> change, boolean reserved) {
    lock.lock();
    try {
      entry.changing = null;
    } finally {
      lock.unlock();
    }
    if (reserved) {
      unreserve(1);
    }
    change.complete(null);
  }

  @Override
  public boolean deleteDead(JobId id) {
    Marked m = markDeadLetter(id, "deletion", false);
    if (m == NOT_DEAD) {
      return false;
    }
    changeDurably(m.entry, m.change, "deletion", false, log::deleted, this::forget);
    return true;
  }

  /** Forgets a dead letter whose deletion is durable, and gives back its payload bytes. */
  private void forget(Entry entry, CompletableFuture<Void> change) {
    lock.lock();
    try {
      deadIndex.remove(entry.id);
      byId.remove(entry);
      entry.changing = null;
      deadBytes -= entry.payload.length;
      heldBytes.addAndGet(-entry.payload.length);
      roomFreed();
    } finally {
      lock.unlock();
    }
    change.complete(null);
  }

  /**
   * Waits, uninterruptibly and at most the ack timeout, for a change to dead letter {@code id} that
   * another call handed to the log.
   *
   * @throws JournalStalledException if it is still not known whether that change is durable
   */
  private void awaitEarlierChange(JobId id, CompletableFuture<Void> change) {
    long deadline = System.nanoTime() + toNanosSaturated(options.ackTimeout());
    boolean interrupted = false;
    try {
      for (; ; ) {
        try {
          change.get(deadline - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS);
          return;
        } catch (InterruptedException e) {
          interrupted = true;
        } catch (java.util.concurrent.ExecutionException e) {
          return; // (never: it only completes normally)
        } catch (java.util.concurrent.TimeoutException e) {
          throw new JournalStalledException(
              "an earlier retry or deletion of dead letter "
                  + id
                  + " is not yet confirmed durable (the disk may be hung), so this change was"
                  + " refused; nothing of it was recorded. Try again once the journal answers: the"
                  + " dead letter then shows whether the earlier change was recorded");
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static JournalStalledException deadLetterStalled(JobId id, String what) {
    return new JournalStalledException(
        "the job journal is stalled (a write or force has run longer than the stall threshold:"
            + " the disk may be hung), so this "
            + what
            + " of dead letter "
            + id
            + " was refused at once; nothing of it was recorded and it stays a dead letter. Try"
            + " again once the journal resumes");
  }

  private DurabilityUnknownException deadLetterUnknown(JobId id, String what) {
    return new DurabilityUnknownException(
        "the "
            + what
            + " of dead letter "
            + id
            + " was handed to the journal but not confirmed durable within "
            + options.ackTimeout().toMillis()
            + " ms (the disk is stalled). It may or may not be recorded: the store shows the job"
            + " as a dead letter until the journal answers, then as the journal says. Other"
            + " changes to it wait for that answer, and are refused while there is none",
        List.of(id),
        options.ackTimeout());
  }

  @Override
  public JobCounts counts() {
    lock.lock();
    try {
      admitArrivals();
      return new JobCounts(
          occupied.get() - running - retryWait,
          running,
          retryWait,
          deadIndex.size(),
          options.capacity(),
          heldBytes.get(),
          deadBytes,
          options.payloadBytesLimit(),
          submitted,
          recovered,
          succeeded,
          failedAttempts,
          died);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Map<String, Long> pendingByType() {
    lock.lock();
    try {
      admitArrivals();
      Map<String, Long> byType = new HashMap<>();
      byId.forEach(
          e -> {
            if (e.state != JobState.SUCCEEDED && e.state != JobState.DEAD) {
              byType.merge(e.type, 1L, Long::sum);
            }
          });
      return Map.copyOf(byType);
    } finally {
      lock.unlock();
    }
  }

  // ---------------------------------------------------------------- shutdown

  @Override
  public void stopAdmission() {
    lock.lock();
    try {
      admissionStopped = true;
      room.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void stopClaims() {
    lock.lock();
    try {
      claimsStopped = true;
      ready.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      admissionStopped = true;
      claimsStopped = true;
      room.signalAll();
      ready.signalAll();
      if (dueTimer != null) {
        dueTimer.stop();
      }
    } finally {
      lock.unlock();
    }
    try {
      log.close();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.ERROR, "closing the job journal failed", e);
      throw e;
    }
  }

  /** Runs one pass of the journal's compaction, as its own triggers do; for tests. */
  void compactNow() {
    if (log instanceof JournalLog journal) {
      journal.compact();
    }
  }

  /**
   * Runs the journal's compaction until it has nothing left to release or relocate, waiting for a
   * pass running on another thread; for tests.
   */
  void compactFully() {
    if (log instanceof JournalLog journal) {
      journal.compactFully();
    }
  }

  /**
   * Checks that what the journal counts alive per home (jobs and their record bytes) is what the
   * entries say; for tests, once the journal is quiet (closed): its counts of finished jobs change
   * when their records are durable, after the entries did.
   */
  void checkHomes() {
    if (!(log instanceof JournalLog journal)) {
      return;
    }
    scheduleLock.lock();
    try {
      settleKnown();
      if (unconfirmed.isEmpty()) { // an unconfirmed change's old home is counted until it settles
        Map<Long, Long> homes = new TreeMap<>();
        schedules.values().forEach(s -> homes.merge(s.home, 1L, Long::sum));
        Map<Long, Long> counted = journal.schedulesByHome();
        check(
            homes.equals(counted),
            "the journal counts schedules " + counted + " per home, the store says " + homes);
      }
    } finally {
      scheduleLock.unlock();
    }
    lock.lock(); // relocation moves entries and counts together under it
    try {
      admitArrivals();
      Map<Long, long[]> counts = new TreeMap<>();
      byId.forEach(
          e -> {
            if (e.state != JobState.SUCCEEDED) {
              long[] c = counts.computeIfAbsent(e.home, h -> new long[2]);
              c[0]++;
              c[1] += e.recordBytes;
            }
          });
      Map<Long, List<Long>> expected = new TreeMap<>();
      counts.forEach((home, c) -> expected.put(home, List.of(c[0], c[1])));
      Map<Long, List<Long>> counted = journal.liveByHome();
      check(
          expected.equals(counted),
          "the journal counts " + counted + " alive per home, the entries say " + expected);
    } finally {
      lock.unlock();
    }
  }

  /** The room taken: pending jobs plus room reserved by batches in flight; for tests. */
  long occupiedRoom() {
    return occupied.get();
  }

  /** Every job the store holds (pending and dead), for tests. */
  java.util.Set<JobId> liveIds() {
    lock.lock();
    try {
      admitArrivals();
      java.util.Set<JobId> ids = new java.util.HashSet<>();
      byId.forEach(
          e -> {
            if (e.state != JobState.SUCCEEDED) {
              ids.add(e.id);
            }
          });
      return java.util.Set.copyOf(ids);
    } finally {
      lock.unlock();
    }
  }

  void checkInvariants() {
    scheduleLock.lock();
    try {
      unconfirmed.forEach(
          (name, u) -> {
            check(
                schedules.get(name) == u.before(),
                "schedule " + name + " changed while a change to it was unconfirmed");
            check(
                u.after() == null || !schedules.containsValue(u.after()),
                "the unconfirmed state of schedule " + name + " is in the map");
          });
    } finally {
      scheduleLock.unlock();
    }
    lock.lock();
    try {
      admitArrivals();
      byId.checkInvariants();
      long[] byState = new long[JobState.values().length];
      long[] bytesByState = new long[JobState.values().length];
      byId.forEach(
          e -> {
            byState[e.state.ordinal()]++;
            bytesByState[e.state.ordinal()] += e.payload.length;
            // (a job finished in a journal written before times were recorded has none)
            boolean done = e.state == JobState.SUCCEEDED || e.state == JobState.DEAD;
            check(
                done || e.finishedAt == null,
                e.id + " is " + e.state + " with finishedAt " + e.finishedAt);
            check(
                e.attempts > 0 || e.lastAttemptAt == null || e.state == JobState.QUEUED,
                e.id + " has no attempts but lastAttemptAt " + e.lastAttemptAt);
          });
      long q = byState[JobState.QUEUED.ordinal()];
      long r = byState[JobState.RUNNING.ordinal()];
      long w = byState[JobState.RETRY_WAIT.ordinal()];
      long d = byState[JobState.DEAD.ordinal()];
      long s = byState[JobState.SUCCEEDED.ordinal()];
      check(
          s == finished.size() && s <= options.finishedRetention(),
          s + " finished entries by id, " + finished.size() + " remembered");
      for (Entry e : finished) {
        check(e.state == JobState.SUCCEEDED && byId.get(e.id) == e, "bad remembered entry " + e.id);
      }
      byId.forEach(
          e ->
              check(
                  e.changing == null || (e.state == JobState.DEAD && deadIndex.get(e.id) == e),
                  e.id + " is changing but is " + e.state + " or not a dead letter"));
      long inFifos = fifoByType.values().stream().mapToLong(ArrayDeque::size).sum();
      check(q == queued, "queued " + queued + " but " + q + " entries are QUEUED");
      check(r == running, "running " + running + " but " + r + " entries are RUNNING");
      check(w == retryWait, "retryWait " + retryWait + " but " + w + " entries wait to retry");
      check(d == deadIndex.size(), d + " DEAD entries but " + deadIndex.size() + " dead letters");
      check(
          inFifos + delayed.size() == q + w,
          "queues hold " + (inFifos + delayed.size()) + " entries, expected " + (q + w));
      for (ArrayDeque<Entry> fifo : fifoByType.values()) {
        for (Entry e : fifo) {
          check(e.state == JobState.QUEUED && byId.get(e.id) == e, "bad FIFO entry " + e.id);
        }
      }
      for (Entry e : delayed) {
        check(
            e.dueAt != null && (e.state == JobState.QUEUED || e.state == JobState.RETRY_WAIT),
            "bad delayed entry " + e.id);
      }
      long deadHeld = bytesByState[JobState.DEAD.ordinal()];
      check(deadBytes == deadHeld, "deadBytes " + deadBytes + " but dead letters hold " + deadHeld);
      long held = deadHeld;
      for (JobState state : List.of(JobState.QUEUED, JobState.RUNNING, JobState.RETRY_WAIT)) {
        held += bytesByState[state.ordinal()];
      }
      check(
          heldBytes.get() >= held,
          "heldBytes " + heldBytes.get() + " is less than the " + held + " that entries hold");
      check(
          occupied.get() >= queued + running + retryWait,
          "occupied "
              + occupied.get()
              + " is less than queued + running + retryWait = "
              + (queued + running + retryWait));
      check(
          occupied.get() <= Math.max(options.capacity(), recoveredPending),
          "occupied "
              + occupied.get()
              + " is more than the capacity "
              + options.capacity()
              + " (and than the "
              + recoveredPending
              + " pending jobs recovered)");
    } finally {
      lock.unlock();
    }
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError(message);
    }
  }
}
