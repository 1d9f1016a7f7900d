package io.sluice.bench;

import io.sluice.jobs.Admission;
import io.sluice.jobs.EngineStats;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.jobs.journal.Durability;
import io.sluice.jobs.journal.IoMode;
import io.sluice.jobs.journal.Journal;
import io.sluice.jobs.journal.JournalListener;
import io.sluice.jobs.journal.JournalOptions;
import io.sluice.jobs.journal.JournalStats;
import io.sluice.jobs.journal.ReplayVisitor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Durable appends of 256-byte records from many concurrent virtual-thread submitters: acknowledged
 * records per second and the acknowledgement latency (p50, p99, p99.9, max), for the journal's
 * group commit under {@link Durability#ALWAYS} and, for contrast, for one force per record (each
 * submitter writes its frame and forces under a lock, as a log without group commit does). Mode
 * {@code unforced} runs the journal under {@link Durability#NEVER}: the same path without the
 * force, which shows the CPU-bound ceiling of the write path on this machine; {@code
 * group-buffered} is {@code group} with {@link IoMode#BUFFERED} (page cache + fdatasync); {@code
 * engine} is the whole durable submit path of the job engine (see {@link #engine}).
 *
 * <p>Each submitter loops: take the time, append, record the latency in its own {@link
 * LatencyBuckets}. The first {@code warmup} seconds are not recorded; then acknowledgements are
 * counted and latencies recorded for {@code seconds}; then the submitters stop and the histograms
 * are merged. A fresh journal directory per run, under {@code --dir} (default: a temporary
 * directory in {@code /tmp}, ext4 here, so direct I/O is used).
 *
 * <p>Why a plain program and not JMH: the result is a throughput and latency distribution of
 * thousands of threads that block on a shared disk, not the time of an operation of the benchmark
 * thread.
 *
 * <p>Run: {@code java -cp sluice-bench/target/benchmarks.jar io.sluice.bench.JournalAppendBench
 * [--submitters 64,256,1024] [--seconds 5] [--warmup 2] [--record 256] [--modes
 * group,per-record,unforced] [--dir /tmp] [--segment-mib 64] [--preallocate true]}.
 */
public final class JournalAppendBench {
  /**
   * The process's CPU time, all threads (the collector's and the journal's too): read over the
   * measured window, it gives the CPU per acknowledgement, a second measure beside the rate for
   * comparing builds on a host whose speed swings between runs.
   */
  private static final com.sun.management.OperatingSystemMXBean PROCESS =
      (com.sun.management.OperatingSystemMXBean)
          java.lang.management.ManagementFactory.getOperatingSystemMXBean();

  private JournalAppendBench() {}

  /**
   * The engine modes' journal segment size in MiB ({@code --segment-mib}); 0: the store's default.
   */
  private static int segmentMib;

  /**
   * Whether the journal modes write the next segment's file ahead ({@code --preallocate}, default
   * true: {@code JournalOptions.preallocate}); the engine modes use the store's default.
   */
  private static boolean preallocate = true;

  /** What a submitter calls: one durable append. */
  private interface Appender extends AutoCloseable {
    void append(byte[] body) throws Exception;

    String describe();

    @Override
    void close() throws IOException;
  }

  /**
   * Runs every mode at every submitter count and prints a table.
   *
   * @param args see the class comment
   * @throws Exception if the journal fails
   */
  public static void main(String[] args) throws Exception {
    int[] submitters = {64, 256, 1024};
    int seconds = 5;
    int warmup = 2;
    int record = 256;
    List<String> modes = List.of("group", "per-record");
    Path base = Path.of(System.getProperty("java.io.tmpdir"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--submitters" ->
            submitters =
                Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        case "--record" -> record = Integer.parseInt(args[i + 1]);
        case "--modes" -> modes = List.of(args[i + 1].split(","));
        case "--dir" -> base = Path.of(args[i + 1]);
        case "--segment-mib" -> segmentMib = Integer.parseInt(args[i + 1]);
        case "--preallocate" -> preallocate = Boolean.parseBoolean(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.printf(
        "Journal durable appends, %d-byte records, %d s measured after %d s warm-up, %d cores,"
            + " load %s%n",
        record,
        seconds,
        warmup,
        Runtime.getRuntime().availableProcessors(),
        Files.readString(Path.of("/proc/loadavg")).trim());
    System.out.printf(
        "%-11s %10s %12s %9s %9s %9s %9s %11s  %s%n",
        "mode",
        "submitters",
        "acks/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "max ms",
        "cpu µs/ack",
        "journal");
    for (String mode : modes) {
      for (int n : submitters) {
        Path dir = Files.createTempDirectory(base, "sluice-journal-bench");
        try {
          run(mode, n, seconds, warmup, record, dir);
        } finally {
          deleteTree(dir);
        }
      }
    }
  }

  private static void run(
      String mode, int submitters, int seconds, int warmup, int record, Path dir) throws Exception {
    try (Appender appender =
        switch (mode) {
          case "group" -> journal(dir, Durability.ALWAYS, IoMode.AUTO);
          case "group-buffered" -> journal(dir, Durability.ALWAYS, IoMode.BUFFERED);
          case "unforced" -> journal(dir, Durability.NEVER, IoMode.AUTO);
          case "per-record" -> perRecordForce(dir);
          case "engine" -> engine(dir, io.sluice.jobs.Durability.ALWAYS, false);
          case "engine-copy" -> engine(dir, io.sluice.jobs.Durability.ALWAYS, true);
          case "engine-unforced" -> engine(dir, io.sluice.jobs.Durability.NEVER, false);
          case "engine-memory" -> engine(null, null, false);
          default -> throw new IllegalArgumentException("unknown mode " + mode);
        }) {
      AtomicLong acks = new AtomicLong();
      // Latencies go into fixed log-linear buckets per submitter, allocated here, and into a
      // histogram only at the end (see LatencyBuckets for why not a growing array or HdrHistogram).
      LatencyBuckets[] latencies = new LatencyBuckets[submitters];
      Phase shared = new Phase();
      List<Thread> threads = new ArrayList<>();
      for (int s = 0; s < submitters; s++) {
        byte[] body = new byte[record];
        body[0] = (byte) s;
        LatencyBuckets mine = latencies[s] = new LatencyBuckets();
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        int p;
                        while ((p = shared.value) < 2) {
                          long t0 = System.nanoTime();
                          appender.append(body);
                          if (p == 1) {
                            mine.record(System.nanoTime() - t0);
                          }
                        }
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    }));
      }
      Thread.sleep(warmup * 1000L);
      shared.value = 1;
      long started = System.nanoTime();
      long cpuStarted = PROCESS.getProcessCpuTime();
      Thread.sleep(seconds * 1000L);
      shared.value = 2;
      long elapsed = System.nanoTime() - started;
      long cpu = PROCESS.getProcessCpuTime() - cpuStarted;
      for (Thread t : threads) {
        t.join();
      }
      Histogram all = new Histogram(60_000_000_000L, 3);
      long counted = 0;
      for (LatencyBuckets l : latencies) {
        l.addTo(all);
        counted += l.total();
      }
      System.out.printf(
          "%-11s %10d %12.0f %9.3f %9.3f %9.3f %9.3f %11.2f  %s%n",
          mode,
          submitters,
          counted * 1e9 / elapsed,
          all.getValueAtPercentile(50) / 1e6,
          all.getValueAtPercentile(99) / 1e6,
          all.getValueAtPercentile(99.9) / 1e6,
          all.getMaxValue() / 1e6,
          cpu / 1e3 / Math.max(1, counted),
          appender.describe());
    }
  }

  /** The stop flag the submitters poll. */
  private static final class Phase {
    volatile int value;
  }

  private static Appender journal(Path dir, Durability durability, IoMode mode) throws IOException {
    Commits commits = new Commits();
    Journal j =
        Journal.open(
            JournalOptions.defaults(dir)
                .withDurability(durability)
                .withIoMode(mode)
                .withPreallocate(preallocate)
                .withListener(commits),
            ReplayVisitor.IGNORE);
    return new Appender() {
      @Override
      public void append(byte[] body) throws Exception {
        j.append(1, body);
      }

      @Override
      public String describe() {
        JournalStats s = j.stats();
        return String.format(
            "%s, %.1f records/commit (max %d), %d forces, mean force %.3f ms; %d of %d segments"
                + " written ahead; %s",
            s.ioMode(),
            s.meanRecordsPerCommit(),
            s.maxRecordsPerCommit(),
            s.forces(),
            s.meanForceNanos() / 1e6,
            s.segmentsPreallocated(),
            s.segmentsCreated(),
            commits);
      }

      @Override
      public void close() {
        j.close();
      }
    };
  }

  /**
   * The engine's queue bound: when the workers fall this far behind, submitters wait for room (up
   * to {@link #WAIT_FOR_ROOM}), so a run measures what the workers get through, not a queue filling
   * up.
   */
  private static final int ENGINE_CAPACITY = 100_000;

  private static final Duration WAIT_FOR_ROOM = Duration.ofSeconds(30);

  /**
   * The whole submit path of issue 4: {@code JobEngine.submit} of one 256-byte job, acknowledged
   * once durable under {@code durability} (over a journaled store in {@code dir}) or at once (in
   * memory, when {@code dir} is null), while 8 workers run the jobs (no-op handler), so over a
   * journal each job also records its start and its completion. A submitter's payload array is
   * never modified, so it is handed over with {@link JobSpec#wrap}, as the ingest API hands over
   * the array its parser made; with {@code copy} ({@code --modes engine-copy}) it goes through
   * {@link JobSpec#of}, which copies it, as a caller that reuses its array must.
   */
  private static Appender engine(Path dir, io.sluice.jobs.Durability durability, boolean copy)
      throws IOException {
    Commits commits = new Commits();
    JobStoreOptions options =
        JobStoreOptions.defaults().withCapacity(ENGINE_CAPACITY).withObserver(commits);
    if (segmentMib > 0) {
      options = options.withSegmentBytes((long) segmentMib << 20);
    }
    JobStore store =
        dir == null
            ? JobStore.inMemory(ENGINE_CAPACITY)
            : JobStore.open(options.withDirectory(dir).withDurability(durability));
    String what =
        (dir == null ? "in-memory store" : "durability " + durability)
            + (copy ? ", payload copied" : "");
    JobEngine engine =
        JobEngine.builder(store).workers(8).handle("bench", (job, ctx) -> {}).start();
    return new Appender() {
      @Override
      public void append(byte[] body) throws Exception {
        JobSpec spec = copy ? JobSpec.of("bench", body) : JobSpec.wrap("bench", body);
        Admission admission = engine.submit(List.of(spec), WAIT_FOR_ROOM);
        if (!(admission instanceof Admission.Accepted)) {
          throw new IllegalStateException("rejected: " + admission);
        }
      }

      @Override
      public String describe() {
        EngineStats stats = engine.stats();
        return "JobEngine.submit, "
            + what
            + "; "
            + stats.jobs().succeeded()
            + " jobs run by 8 workers, "
            + stats.jobs().pending()
            + " pending at the end"
            + (dir == null ? "" : "; " + commits);
      }

      @Override
      public void close() {
        engine.close();
      }
    };
  }

  /**
   * The journal's commits over a whole engine run (warm-up included): how often no commit ended for
   * longer than {@link #GAP_NANOS} — a stall every submitter waiting then sees in its latency — and
   * how long the commit that ended each such gap took, so a stall can be told apart as a slow write
   * or force (a long commit) or a writer that did not run (a short one after a long gap). Called on
   * the journal's writer thread, except the acknowledgement latencies (its completer thread); read
   * after the engine closed. {@code --segment-mib} changes the segment size, to tell a stall that
   * comes with each segment (its roll, its release) from one that does not.
   */
  private static final class Commits implements io.sluice.jobs.StoreObserver, JournalListener {
    private static final long GAP_NANOS = 5_000_000;
    private long last;
    private long count;
    private long gaps;
    private long gapNanos;
    private long longestGap;
    private long longestGapCommit; // the write and force of the commit that ended the longest gap
    private long slowCommits; // write and force over GAP_NANOS
    private long slowWrites; // of which the write alone took over half of it
    private long quickGaps; // gaps ended by a commit well under GAP_NANOS: the writer waited to run
    private long longestCommit;
    private long relocations;
    private long writeNanos;
    private final LatencyBuckets acks = new LatencyBuckets(); // on the completer thread only

    @Override
    public void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {
      long now = System.nanoTime();
      long took = writeNanos + forceNanos;
      this.writeNanos += writeNanos;
      if (count++ > 0) {
        long gap = now - last;
        if (gap > GAP_NANOS) {
          gaps++;
          gapNanos += gap;
          if (took < GAP_NANOS / 2) {
            quickGaps++;
          }
          if (gap > longestGap) {
            longestGap = gap;
            longestGapCommit = took;
          }
        }
      }
      if (took > GAP_NANOS) {
        slowCommits++;
        if (writeNanos > took / 2) {
          slowWrites++;
        }
      }
      longestCommit = Math.max(longestCommit, took);
      last = now;
    }

    @Override
    public void onCommit(int records, long bytes, long writeNanos, long forceNanos) {
      journalCommitted(records, bytes, writeNanos, forceNanos);
    }

    @Override
    public void onAcknowledge(long latencyNanos) {
      acks.record(latencyNanos);
    }

    @Override
    public void journalAcknowledged(long latencyNanos) {
      acks.record(latencyNanos);
    }

    @Override
    public void journalRelocated(int jobs, long bytes) {
      relocations++;
    }

    private double percentile(double p) {
      Histogram h = new Histogram(60_000_000_000L, 3);
      acks.addTo(h);
      return h.getValueAtPercentile(p) / 1e6;
    }

    @Override
    public String toString() {
      return String.format(
          "journal's own ack latency (append to completion, warm-up included) p50 %.3f p99 %.3f"
              + " ms; %d commits (mean write %.3f ms); %d gaps > 5 ms between commits (%.0f ms in"
              + " all, longest %.1f ms, ended by a commit of %.1f ms; %d ended by a commit under 2.5 ms); %d commits > 5 ms (%d"
              + " mostly writing; longest %.1f ms); %d relocations",
          percentile(50),
          percentile(99),
          count,
          writeNanos / 1e6 / Math.max(1, count),
          gaps,
          gapNanos / 1e6,
          longestGap / 1e6,
          longestGapCommit / 1e6,
          quickGaps,
          slowCommits,
          slowWrites,
          longestCommit / 1e6,
          relocations);
    }
  }

  /** No group commit: every append writes its own frame and forces, one at a time. */
  private static Appender perRecordForce(Path dir) throws IOException {
    FileChannel ch =
        FileChannel.open(
            dir.resolve("log"), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    ReentrantLock lock = new ReentrantLock();
    AtomicLong forces = new AtomicLong();
    return new Appender() {
      @Override
      public void append(byte[] body) throws Exception {
        ByteBuffer frame = ByteBuffer.allocate(16 + body.length);
        frame.putInt(body.length).putInt(1).putLong(0).put(body).flip();
        lock.lock();
        try {
          while (frame.hasRemaining()) {
            ch.write(frame);
          }
          ch.force(false);
          forces.incrementAndGet();
        } finally {
          lock.unlock();
        }
      }

      @Override
      public String describe() {
        return "buffered write + force(false) per record under a lock, " + forces + " forces";
      }

      @Override
      public void close() throws IOException {
        ch.close();
      }
    };
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
