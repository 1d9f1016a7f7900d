package io.sluice.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Heap bytes per pending timer: one million timers armed (delays between one minute and one hour,
 * so none fires), and the live heap measured before and after with a settled {@link MemoryMXBean}
 * reading: full GCs until the live heap after collection stops moving (see {@link
 * #settledHeapUsed()}).
 *
 * <p>Why a plain program and not JMH: what is measured is retained memory, a single difference of
 * two readings, not a time per operation; JMH's {@code -prof gc} reports bytes allocated per
 * operation instead, which counts garbage and misses nothing retained only in aggregate (heap
 * arrays, wheel buckets). The array holding the handles is allocated before the first reading, so
 * it is not counted; the handles themselves (what a caller must keep to cancel) are. Each library
 * is measured in a JVM of its own. Target (issue 2): at most 64 bytes per pending timer.
 *
 * <p>Run: {@code java -XX:+UseSerialGC -Xmx4g -cp sluice-bench/target/benchmarks.jar
 * io.sluice.bench.TimerFootprint} (scripts/bench.sh does).
 */
public final class TimerFootprint {
  private static final int N = 1_000_000;
  private static final double TARGET_BYTES = 64;

  private TimerFootprint() {}

  /**
   * Measures each library of a suite in a JVM of its own (started with this JVM's options), so no
   * library's leftovers count against the next one, and prints a table. With a suite and a
   * library's index in it, measures that one here and prints one result line.
   *
   * @param args nothing or {@code timers} (Sluice's timers and their peers, issue 2), or {@code
   *     schedulers} (Sluice's scheduler, its peers and Quartz, issue 6); then optionally the index
   *     of one library
   * @throws Exception if a child JVM cannot be run
   */
  public static void main(String[] args) throws Exception {
    String suite = args.length > 0 ? args[0] : "timers";
    if (args.length == 2) {
      measureOne(suite, Integer.parseInt(args[1]));
      return;
    }
    List<String[]> rows = new ArrayList<>();
    double sluice = Double.NaN;
    for (int i = 0; i < TimerEngines.suite(suite).size(); i++) {
      String result = runChild(suite, i);
      String[] f = result.split("\t", 4);
      if (f[0].equals("FAILED")) {
        rows.add(new String[] {f[1], "n/a", "-", "FAILED: " + f[2]});
        continue;
      }
      double bytes = Double.parseDouble(f[2]);
      boolean isSluice = Boolean.parseBoolean(f[3]);
      if (i == 0) {
        sluice = bytes; // afterFunc: what users call
      }
      rows.add(
          new String[] {
            f[1],
            String.format("%.1f", bytes),
            isSluice || Double.isNaN(sluice) ? "-" : String.format("%.2f", sluice / bytes),
            isSluice ? (bytes <= TARGET_BYTES ? "met (<= 64 B)" : "NOT met (<= 64 B)") : ""
          });
    }
    System.out.printf(
        "%nHeap bytes per pending timer (%,d pending unless the library says, settled live heap"
            + " delta)%n",
        N);
    System.out.printf("%-28s %14s %14s  %s%n", "library", "bytes/timer", "sluice/peer", "target");
    for (String[] r : rows) {
      System.out.printf("%-28s %14s %14s  %s%n", (Object[]) r);
    }
  }

  /** Runs {@code main(index)} in a new JVM; echoes its output and returns its result line. */
  private static String runChild(String suite, int index) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    command.addAll(
        List.of(
            "-cp",
            System.getProperty("java.class.path"),
            TimerFootprint.class.getName(),
            suite,
            Integer.toString(index)));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String result = null;
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        if (line.startsWith("RESULT\t") || line.startsWith("FAILED\t")) {
          result = line.startsWith("RESULT\t") ? line.substring("RESULT\t".length()) : line;
        } else {
          System.out.println(line);
        }
      }
    }
    int exit = p.waitFor();
    if (result == null) {
      return "FAILED\tlibrary " + index + "\tits JVM exited with " + exit + " and no result";
    }
    return result.startsWith("FAILED") ? result : "OK\t" + result;
  }

  /** Measures one library in this JVM and prints {@code RESULT name bytes} or {@code FAILED}. */
  private static void measureOne(String suite, int index) throws InterruptedException {
    Supplier<TimerEngines> factory = TimerEngines.suite(suite).get(index);
    try (TimerEngines engine = factory.get()) {
      int n = engine.maxPending(N);
      long[] delays = TimerBenchmark.delays(n, Duration.ofMinutes(1), Duration.ofHours(1), 42);
      double bytes = measure(engine, delays);
      String name = n == N ? engine.name : engine.name + String.format(" (%,d)", n);
      System.out.println("RESULT\t" + name + "\t" + bytes + "\t" + engine.isSluice());
    } catch (UnsupportedOperationException e) {
      System.out.println("FAILED\tlibrary " + index + "\t" + e.getMessage());
    }
  }

  private static double measure(TimerEngines engine, long[] delays) throws InterruptedException {
    Runnable noop = TimerEngines.NOOP;
    int n = delays.length;
    Object[] timers = new Object[n];
    for (int i = 0; i < 10_000; i++) { // load and warm the engine's classes first
      timers[i] = engine.schedule(delays[i], noop);
    }
    for (int i = 0; i < 10_000; i++) {
      engine.cancel(timers[i]);
      timers[i] = null;
    }
    Thread.sleep(100);
    long before = settledHeapUsed();
    for (int i = 0; i < n; i++) {
      timers[i] = engine.schedule(delays[i], noop);
    }
    Thread.sleep(200); // a wheel's worker moves new timeouts from its queue into buckets
    long after = settledHeapUsed();
    System.out.printf(
        "%s: live heap %,d B before, %,d B with %,d timers pending%n",
        engine.name, before, after, n);
    for (int i = 0; i < n; i++) {
      engine.cancel(timers[i]);
    }
    return (after - before) / (double) n;
  }

  /**
   * Live heap after full collections, once two agree within 64 KiB: the sum over the heap pools of
   * their usage right after the last collection ({@link MemoryPoolMXBean#getCollectionUsage()}).
   * Not {@link MemoryMXBean}'s current usage, which counts the threads' allocation buffers in eden
   * as used (tens of MB here) and so depends on which threads happened to allocate since.
   */
  static long settledHeapUsed() throws InterruptedException {
    long previous = Long.MIN_VALUE;
    for (int i = 0; i < 20; i++) {
      System.gc();
      long used = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP && pool.getCollectionUsage() != null) {
          used += pool.getCollectionUsage().getUsed();
        }
      }
      if (Math.abs(used - previous) < 64 * 1024) {
        return used;
      }
      previous = used;
      Thread.sleep(20);
    }
    return previous;
  }
}
