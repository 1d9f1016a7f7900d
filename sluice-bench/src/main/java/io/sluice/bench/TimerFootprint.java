package io.sluice.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Heap bytes per pending timer: one million timers armed (delays between one minute and one hour,
 * so none fires), and the live heap measured before and after with a settled {@link MemoryMXBean}
 * reading (full GCs until the figure stops moving).
 *
 * <p>Why a plain program and not JMH: what is measured is retained memory, a single difference of
 * two readings, not a time per operation; JMH's {@code -prof gc} reports bytes allocated per
 * operation instead, which counts garbage and misses nothing retained only in aggregate (heap
 * arrays, wheel buckets). The array holding the handles is allocated before the first reading, so
 * it is not counted; the handles themselves (what a caller must keep to cancel) are. Target (issue
 * 2): at most 64 bytes per pending timer.
 *
 * <p>Run: {@code java -XX:+UseSerialGC -Xmx4g -cp sluice-bench/target/benchmarks.jar
 * io.sluice.bench.TimerFootprint} (scripts/bench.sh does).
 */
public final class TimerFootprint {
  private static final int N = 1_000_000;
  private static final double TARGET_BYTES = 64;

  private TimerFootprint() {}

  /**
   * Measures each library and prints a table.
   *
   * @param args unused
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    long[] delays = TimerBenchmark.delays(N, Duration.ofMinutes(1), Duration.ofHours(1), 42);
    List<String[]> rows = new ArrayList<>();
    double sluice = Double.NaN;
    for (Supplier<TimerEngines> factory : TimerEngines.all()) {
      String name = null;
      try (TimerEngines engine = factory.get()) {
        name = engine.name;
        double bytes = measure(engine, delays);
        if (engine instanceof TimerEngines.Sluice) {
          sluice = bytes;
        }
        rows.add(
            new String[] {
              name,
              String.format("%.1f", bytes),
              Double.isNaN(sluice) || engine instanceof TimerEngines.Sluice
                  ? "-"
                  : String.format("%.2f", sluice / bytes),
              engine instanceof TimerEngines.Sluice
                  ? (bytes <= TARGET_BYTES ? "met (<= 64 B)" : "NOT met (<= 64 B)")
                  : ""
            });
      } catch (UnsupportedOperationException e) {
        rows.add(new String[] {"Sluice afterFunc", "n/a", "-", "FAILED: " + e.getMessage()});
      }
    }
    System.out.printf("%nHeap bytes per pending timer (%,d pending, settled live heap delta)%n", N);
    System.out.printf("%-28s %14s %14s  %s%n", "library", "bytes/timer", "Sluice/peer", "target");
    for (String[] r : rows) {
      System.out.printf("%-28s %14s %14s  %s%n", (Object[]) r);
    }
  }

  private static double measure(TimerEngines engine, long[] delays) throws InterruptedException {
    Runnable noop = () -> {};
    Object[] timers = new Object[N];
    for (int i = 0; i < 10_000; i++) { // load and warm the engine's classes first
      timers[i] = engine.schedule(delays[i], noop);
    }
    for (int i = 0; i < 10_000; i++) {
      engine.cancel(timers[i]);
      timers[i] = null;
    }
    Thread.sleep(100);
    long before = settledHeapUsed();
    for (int i = 0; i < N; i++) {
      timers[i] = engine.schedule(delays[i], noop);
    }
    Thread.sleep(200); // a wheel's worker moves new timeouts from its queue into buckets
    long after = settledHeapUsed();
    for (int i = 0; i < N; i++) {
      engine.cancel(timers[i]);
    }
    return (after - before) / (double) N;
  }

  /** Live heap after full collections, once two readings agree within 64 KiB. */
  static long settledHeapUsed() throws InterruptedException {
    MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    long previous = Long.MIN_VALUE;
    for (int i = 0; i < 20; i++) {
      System.gc();
      Thread.sleep(50);
      long used = memory.getHeapMemoryUsage().getUsed();
      if (Math.abs(used - previous) < 64 * 1024) {
        return used;
      }
      previous = used;
    }
    return previous;
  }
}
