package io.sluice.jobs;

import io.sluice.core.Clock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How a {@link JobStore} keeps jobs. Immutable; start from {@link #defaults()} and change what you
 * need with the {@code withX} methods.
 *
 * @param directory where the journal lives; required by {@link JobStore#open}
 * @param capacity the most pending jobs (queued, running, waiting to retry) admitted; a batch that
 *     does not fit is rejected whole
 * @param payloadBytesLimit the most payload bytes held in memory: those of the pending jobs, of the
 *     dead letters and of the batches being admitted; a batch that would pass it waits for room as
 *     for room in the queue, or is rejected whole, and one larger than the limit itself is refused
 *     at once (see {@link JobStore#submit(java.util.List, java.time.Duration)})
 * @param durability when the journal is forced
 * @param segmentBytes the journal rolls to a new file at about this size; a batch is one record of
 *     at most half this size (and at most 16 MiB), and a larger batch is refused
 * @param directIo whether to write the journal with direct I/O: true asks for it and falls back
 *     (with one warning) where the file system refuses; false never uses it
 * @param finishedRetention how many finished jobs {@link JobStore#find} still remembers
 * @param relocationThreshold when compaction rewrites old jobs into the newest journal segment so
 *     that the older segments can go: when the jobs still pending or dead whose records are in the
 *     oldest segments take at most this fraction of those segments' bytes. Between 0 (never: a dead
 *     letter, a long retry wait or a far-future start time then keeps its segment and every later
 *     one on disk) and 1 (exclusive); see {@link #DEFAULT_RELOCATION_THRESHOLD}
 * @param clock the clock for start times and retries
 * @param observer hears commits and replay progress
 * @param ackTimeout how long a submit (or a change to a schedule or a dead letter) waits for the
 *     journal to confirm it durable; then it throws {@link DurabilityUnknownException} (see {@link
 *     #withAckTimeout})
 * @param stallThreshold how long one journal commit (write and force) may run before the journal
 *     counts as stalled, and submits are refused with {@link JournalStalledException} (see {@link
 *     #withStallThreshold})
 * @param preallocate whether the journal writes its next segment's file with zeros in the
 *     background, so that commits overwrite blocks instead of growing the file (see {@link
 *     #withPreallocate})
 */
public record JobStoreOptions(
    Optional<Path> directory,
    int capacity,
    long payloadBytesLimit,
    Durability durability,
    long segmentBytes,
    boolean directIo,
    int finishedRetention,
    double relocationThreshold,
    Clock clock,
    StoreObserver observer,
    Duration ackTimeout,
    Duration stallThreshold,
    boolean preallocate) {

  /** The default {@link #capacity()}. */
  public static final int DEFAULT_CAPACITY = 100_000;

  /**
   * The default {@link #relocationThreshold()}: a quarter. Each rewrite then frees at least four
   * times the bytes it writes, so rewrites add at most a third to what the store writes for its
   * jobs, and the journal holds at most about four times the bytes of the jobs it keeps alive, plus
   * the newest segments. A backlog that is simply not run yet fills its segments, so it is never
   * rewritten.
   */
  public static final double DEFAULT_RELOCATION_THRESHOLD = 0.25;

  /** The default {@link #ackTimeout()}: 30 seconds. */
  public static final Duration DEFAULT_ACK_TIMEOUT = Duration.ofSeconds(30);

  /** The default {@link #stallThreshold()}: 10 seconds, far beyond any healthy fsync. */
  public static final Duration DEFAULT_STALL_THRESHOLD = Duration.ofSeconds(10);

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if a number is out of range
   */
  public JobStoreOptions {
    Objects.requireNonNull(directory, "directory");
    if (capacity < 1) {
      throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
    }
    if (payloadBytesLimit < 1) {
      throw new IllegalArgumentException(
          "payloadBytesLimit must be at least 1, got " + payloadBytesLimit);
    }
    Objects.requireNonNull(durability, "durability");
    if (segmentBytes < 1 << 20) {
      throw new IllegalArgumentException(
          "segmentBytes must be at least 1 MiB, got " + segmentBytes);
    }
    if (finishedRetention < 0) {
      throw new IllegalArgumentException(
          "finishedRetention must not be negative, got " + finishedRetention);
    }
    if (!(relocationThreshold >= 0 && relocationThreshold < 1)) {
      throw new IllegalArgumentException(
          "relocationThreshold must be at least 0 and less than 1, got " + relocationThreshold);
    }
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(observer, "observer");
    Objects.requireNonNull(ackTimeout, "ackTimeout");
    if (ackTimeout.compareTo(Duration.ofMillis(1)) < 0) {
      throw new IllegalArgumentException("ackTimeout must be at least 1 ms, got " + ackTimeout);
    }
    Objects.requireNonNull(stallThreshold, "stallThreshold");
    if (stallThreshold.compareTo(Duration.ofMillis(1)) < 0) {
      throw new IllegalArgumentException(
          "stallThreshold must be at least 1 ms, got " + stallThreshold);
    }
  }

  /**
   * The default {@link #payloadBytesLimit()}: a quarter of the most heap this JVM may use ({@code
   * -Xmx}), so a backlog of large payloads is refused with room to spare instead of ending in an
   * {@link OutOfMemoryError}; at least 16 MiB.
   *
   * @return the limit in bytes
   */
  public static long defaultPayloadBytesLimit() {
    return Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4);
  }

  /**
   * No directory, capacity {@value #DEFAULT_CAPACITY}, payloads held up to {@link
   * #defaultPayloadBytesLimit()}, {@link Durability#ALWAYS}, 64 MiB segments, direct I/O where
   * possible, 10,000 finished jobs remembered, old jobs relocated at {@link
   * #DEFAULT_RELOCATION_THRESHOLD}, the system clock, submits waiting at most {@link
   * #DEFAULT_ACK_TIMEOUT} for the journal, which counts as stalled after {@link
   * #DEFAULT_STALL_THRESHOLD}, the next segment's file written ahead.
   *
   * @return the defaults
   */
  public static JobStoreOptions defaults() {
    return new JobStoreOptions(
        Optional.empty(),
        DEFAULT_CAPACITY,
        defaultPayloadBytesLimit(),
        Durability.ALWAYS,
        64L << 20,
        true,
        10_000,
        DEFAULT_RELOCATION_THRESHOLD,
        Clock.system(),
        StoreObserver.NONE,
        DEFAULT_ACK_TIMEOUT,
        DEFAULT_STALL_THRESHOLD,
        true);
  }

  /**
   * These options with a journal directory.
   *
   * @param directory created if missing
   * @return new options
   */
  public JobStoreOptions withDirectory(Path directory) {
    return with(d -> d.directory = Optional.of(directory));
  }

  /**
   * These options with another capacity.
   *
   * @param capacity at least 1
   * @return new options
   */
  public JobStoreOptions withCapacity(int capacity) {
    return with(d -> d.capacity = capacity);
  }

  /**
   * These options with another limit on the payload bytes held in memory.
   *
   * @param payloadBytesLimit at least 1
   * @return new options
   */
  public JobStoreOptions withPayloadBytesLimit(long payloadBytesLimit) {
    return with(d -> d.payloadBytesLimit = payloadBytesLimit);
  }

  /**
   * These options with another durability policy.
   *
   * @param durability the policy
   * @return new options
   */
  public JobStoreOptions withDurability(Durability durability) {
    return with(d -> d.durability = durability);
  }

  /**
   * These options with another segment size.
   *
   * @param segmentBytes at least 1 MiB
   * @return new options
   */
  public JobStoreOptions withSegmentBytes(long segmentBytes) {
    return with(d -> d.segmentBytes = segmentBytes);
  }

  /**
   * These options with direct I/O asked for, or not.
   *
   * @param directIo whether to try direct I/O
   * @return new options
   */
  public JobStoreOptions withDirectIo(boolean directIo) {
    return with(d -> d.directIo = directIo);
  }

  /**
   * These options remembering another number of finished jobs.
   *
   * @param finishedRetention not negative
   * @return new options
   */
  public JobStoreOptions withFinishedRetention(int finishedRetention) {
    return with(d -> d.finishedRetention = finishedRetention);
  }

  /**
   * These options with another threshold for rewriting old jobs into the newest journal segment.
   *
   * <p>Compaction deletes the oldest segments once nothing in them is needed. A job that stays (a
   * dead letter until it is retried or deleted, a job waiting a long retry or a far-future start
   * time) would keep its segment, and every later one, on disk. So when the jobs still alive in the
   * oldest segments take at most {@code relocationThreshold} of those segments' bytes, compaction
   * writes each one's whole state again into the newest segment (forced, whatever the durability
   * policy) and then deletes the old segments. A higher threshold keeps the journal smaller and
   * writes more: with threshold {@code f} the rewrites add at most {@code f / (1 - f)} to the bytes
   * written for the jobs themselves, and the journal holds at most about {@code 1 / f} times the
   * bytes of the jobs it keeps alive, plus the newest segments.
   *
   * @param relocationThreshold at least 0 (never rewrite), less than 1
   * @return new options
   */
  public JobStoreOptions withRelocationThreshold(double relocationThreshold) {
    return with(d -> d.relocationThreshold = relocationThreshold);
  }

  /**
   * These options with another clock (a {@link Clock#manual} one in tests).
   *
   * @param clock the clock
   * @return new options
   */
  public JobStoreOptions withClock(Clock clock) {
    return with(d -> d.clock = clock);
  }

  /**
   * These options with an observer.
   *
   * @param observer hears commits and replay progress
   * @return new options
   */
  public JobStoreOptions withObserver(StoreObserver observer) {
    return with(d -> d.observer = observer);
  }

  /**
   * These options with another acknowledgement timeout: the longest a submit to a durable store
   * waits for the journal to confirm its batch durable. A healthy disk answers in milliseconds; a
   * hung one (a stuck fsync on a failing device, a frozen network volume) may never answer, and
   * then the submit throws {@link DurabilityUnknownException} with the batch's ids after this long
   * instead of waiting forever. The batch stays in the journal's hands: if it is recorded later its
   * jobs run, and their room stays taken until then; if the journal fails, the room is given back.
   * The wait may run up to half the {@link #stallThreshold()} (at most 2 s) longer, as the journal
   * notices timeouts when it looks for stalls. Changes to schedules and the retry or deletion of a
   * dead letter wait as long at most, the same way. The in-memory store never waits for a journal.
   *
   * @param ackTimeout at least 1 ms
   * @return new options
   */
  public JobStoreOptions withAckTimeout(Duration ackTimeout) {
    return with(d -> d.ackTimeout = ackTimeout);
  }

  /**
   * These options with another stall threshold: a journal commit (write and force) that runs longer
   * is a stall. The journal logs a warning, tells {@link StoreObserver#journalStalled}, and the
   * store refuses new batches at once with {@link JournalStalledException} until the commit ends,
   * rather than queueing more submitters behind a disk that may never answer. The journal is not
   * failed: when the commit ends, it logs that it resumed and everything goes on.
   *
   * @param stallThreshold at least 1 ms
   * @return new options
   */
  public JobStoreOptions withStallThreshold(Duration stallThreshold) {
    return with(d -> d.stallThreshold = stallThreshold);
  }

  /**
   * These options with the journal's next segment file written ahead, or not. On (the default), a
   * background thread writes the next segment's file full of zeros while the current one fills, so
   * that a commit overwrites blocks that exist instead of growing the file, and its force has no
   * block allocation or size change to record: on ext4 here that halved the time of a commit and
   * raised the journal's durable appends at 64 submitters by about a third. It costs one segment
   * ({@link #segmentBytes()}) of disk space ahead and a second, paced write of every segment's
   * bytes; turn it off where disk space or write volume (an SSD's wear) matters more.
   *
   * @param preallocate whether to write the next segment's file ahead
   * @return new options
   */
  public JobStoreOptions withPreallocate(boolean preallocate) {
    return with(d -> d.preallocate = preallocate);
  }

  /** These options with the changes {@code change} makes to a copy, checked as a whole. */
  private JobStoreOptions with(Consumer<Draft> change) {
    Draft d = new Draft(this);
    change.accept(d);
    return d.build();
  }

  /** Options being changed by a {@code with} method: the components, checked anew by build. */
  private static final class Draft {
    Optional<Path> directory;
    int capacity;
    long payloadBytesLimit;
    Durability durability;
    long segmentBytes;
    boolean directIo;
    int finishedRetention;
    double relocationThreshold;
    Clock clock;
    StoreObserver observer;
    Duration ackTimeout;
    Duration stallThreshold;
    boolean preallocate;

    Draft(JobStoreOptions o) {
      directory = o.directory;
      capacity = o.capacity;
      payloadBytesLimit = o.payloadBytesLimit;
      durability = o.durability;
      segmentBytes = o.segmentBytes;
      directIo = o.directIo;
      finishedRetention = o.finishedRetention;
      relocationThreshold = o.relocationThreshold;
      clock = o.clock;
      observer = o.observer;
      ackTimeout = o.ackTimeout;
      stallThreshold = o.stallThreshold;
      preallocate = o.preallocate;
    }

    JobStoreOptions build() {
      return new JobStoreOptions(
          directory,
          capacity,
          payloadBytesLimit,
          durability,
          segmentBytes,
          directIo,
          finishedRetention,
          relocationThreshold,
          clock,
          observer,
          ackTimeout,
          stallThreshold,
          preallocate);
    }
  }
}
