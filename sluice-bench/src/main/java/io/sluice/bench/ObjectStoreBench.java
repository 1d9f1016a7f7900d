package io.sluice.bench;

import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.ObjectStore;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Durable puts of small objects into the filesystem store from many virtual-thread uploaders, as
 * the ingest service's upload workers make them (every object of a day in one directory): puts per
 * second, put latency (p50, p99, max) and the process's CPU time per put while recording. Modes:
 * {@code store:N} is {@link FilesystemObjectStore} with N writer threads (syncfs per batch); {@code
 * store-none:N} the same without flushes; {@code per-put} is the protocol the store used before
 * batching, for contrast: each uploader writes its temporary file, forces it, renames it and forces
 * the directory (with the directory forces shared by concurrent puts, as the store then did).
 *
 * <p>Each uploader loops: take the time, put one object under a new key, record the latency in its
 * own histogram. The first {@code warmup} seconds are not recorded. A fresh directory per run under
 * {@code --dir} (default the temporary directory), all removed at the end. List a mode twice to see
 * the drift of a run (the file system fills); alternate modes to compare them.
 *
 * <p>Why a plain program and not JMH: as {@link JournalAppendBench}, the result is the throughput
 * of many threads that block on one disk.
 *
 * <p>Run: {@code java --enable-native-access=ALL-UNNAMED -cp sluice-bench/target/benchmarks.jar
 * io.sluice.bench.ObjectStoreBench [--uploaders 64,256] [--seconds 10] [--warmup 3] [--bytes 100]
 * [--modes per-put,store:1,store:2,store:3,store-none:2] [--dir /tmp]}.
 */
public final class ObjectStoreBench {
  private ObjectStoreBench() {}

  /**
   * Runs every mode at every uploader count and prints a table.
   *
   * @param args see the class comment
   * @throws Exception if a put fails
   */
  public static void main(String[] args) throws Exception {
    int[] uploaders = {64, 256};
    int seconds = 10;
    int warmup = 3;
    int bytes = 100;
    List<String> modes = List.of("per-put", "store:1", "store:2", "store:3", "store-none:2");
    Path base = Path.of(System.getProperty("java.io.tmpdir"));
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--uploaders" ->
            uploaders = Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
        case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
        case "--bytes" -> bytes = Integer.parseInt(args[i + 1]);
        case "--modes" -> modes = List.of(args[i + 1].split(","));
        case "--dir" -> base = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.printf(
        "%-14s %9s %12s %9s %9s %9s %11s%n",
        "mode", "uploaders", "puts/s", "p50 ms", "p99 ms", "max ms", "CPU us/put");
    byte[] content = new byte[bytes];
    Arrays.fill(content, (byte) 'x');
    // Directories are removed only at the end: on ext4 without a journal (this machine), creating
    // files shortly after many were deleted is several times slower (the inode allocator skips
    // recently deleted inodes one by one), which would penalise every mode but the first.
    List<Path> dirs = new ArrayList<>();
    try {
      for (int n : uploaders) {
        for (String mode : modes) {
          Path dir = Files.createTempDirectory(base, "sluice-objects-bench");
          dirs.add(dir);
          try (ObjectStore store = open(mode, dir)) {
            run(mode, store, n, warmup, seconds, content);
          }
        }
      }
    } finally {
      for (Path dir : dirs) {
        delete(dir);
      }
    }
  }

  private static ObjectStore open(String mode, Path dir) throws IOException {
    String[] parts = mode.split(":");
    return switch (parts[0]) {
      case "store" ->
          FilesystemObjectStore.open(
              dir, FilesystemObjectStore.Sync.EVERY_PUT, Integer.parseInt(parts[1]));
      case "store-none" ->
          FilesystemObjectStore.open(
              dir, FilesystemObjectStore.Sync.NONE, Integer.parseInt(parts[1]));
      case "per-put" -> new PerPut(dir);
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    };
  }

  private static void run(
      String mode, ObjectStore store, int uploaders, int warmup, int seconds, byte[] content)
      throws InterruptedException {
    AtomicLong sequence = new AtomicLong();
    long start = System.nanoTime();
    long recordFrom = start + warmup * 1_000_000_000L;
    long end = recordFrom + seconds * 1_000_000_000L;
    List<Histogram> histograms = new ArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int u = 0; u < uploaders; u++) {
      Histogram h = new Histogram(60_000_000_000L, 3);
      histograms.add(h);
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      while (true) {
                        long t0 = System.nanoTime();
                        if (t0 >= end) {
                          return;
                        }
                        store.put(
                            "2026/11/27/" + sequence.incrementAndGet() + ".json",
                            content,
                            "application/json");
                        long t1 = System.nanoTime();
                        if (t0 >= recordFrom && t1 <= end) {
                          h.recordValue(t1 - t0);
                        }
                      }
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  }));
    }
    // the process's CPU time over the recorded window, per put recorded: the file system's cost
    // of an object (the writers' system calls) plus the uploaders', which the modes share
    var os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    Thread.sleep(Math.max(0, (recordFrom - System.nanoTime()) / 1_000_000));
    long cpuFrom = os.getProcessCpuTime();
    Thread.sleep(Math.max(0, (end - System.nanoTime()) / 1_000_000));
    long cpu = os.getProcessCpuTime() - cpuFrom;
    for (Thread t : threads) {
      t.join();
    }
    Histogram all = new Histogram(60_000_000_000L, 3);
    histograms.forEach(all::add);
    System.out.printf(
        "%-14s %9d %,12.0f %9.2f %9.2f %9.2f %11.1f%n",
        mode,
        uploaders,
        all.getTotalCount() / (double) seconds,
        all.getValueAtPercentile(50) / 1e6,
        all.getValueAtPercentile(99) / 1e6,
        all.getMaxValue() / 1e6,
        cpu / 1e3 / Math.max(1, all.getTotalCount()));
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }

  /**
   * The store's protocol before batching: each caller forces its own file, and concurrent renames
   * into one directory share a directory force (one that starts after a rename covers it).
   */
  private static final class PerPut implements ObjectStore {
    private final Path root;
    private final ReentrantLock lock = new ReentrantLock();
    private final java.util.concurrent.locks.Condition done = lock.newCondition();
    private long requested;
    private long covered;
    private boolean syncing;

    PerPut(Path root) {
      this.root = root;
    }

    @Override
    public void put(String key, byte[] content, String contentType) throws IOException {
      Path target = root.resolve(key);
      Path dir = target.getParent();
      Files.createDirectories(dir);
      Path temp =
          dir.resolve(".tmp-" + Thread.currentThread().threadId() + "-" + System.nanoTime());
      try (FileChannel channel =
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        channel.write(ByteBuffer.wrap(content));
        channel.force(true);
      }
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
      syncDirectory(dir);
    }

    private void syncDirectory(Path dir) throws IOException {
      lock.lock();
      try {
        long ticket = ++requested;
        while (covered < ticket) {
          if (syncing) {
            done.awaitUninterruptibly();
            continue;
          }
          syncing = true;
          long upTo = requested;
          lock.unlock();
          try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
          } finally {
            lock.lock();
            syncing = false;
            covered = Math.max(covered, upTo);
            done.signalAll();
          }
        }
      } finally {
        lock.unlock();
      }
    }

    @Override
    public java.util.Optional<byte[]> get(String key) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String describe() {
      return "per-put fsyncs";
    }

    @Override
    public void check() {}

    @Override
    public void close() {}
  }
}
