package io.sluice.bench;

import io.sluice.core.Context;
import io.sluice.pipeline.Monitor;
import io.sluice.pipeline.Pipeline;
import io.sluice.pipeline.Result;
import io.sluice.pipeline.StageStats;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * Memory stays bounded by the buffers whatever the input's length: runs range → map → filter → map
 * → forEach over 100 million integers (issue 3) and prints the time, the largest number of items
 * buffered between stages (sampled from a {@link Monitor}) and the heap's peak use after the run.
 * Meant to run with a small heap, e.g. {@code -Xmx32m}: that it finishes at all is the point.
 *
 * <pre>{@code java -Xmx32m -XX:+UseSerialGC -cp sluice-bench/target/benchmarks.jar \
 *     io.sluice.bench.PipelineFootprint [items]}</pre>
 */
public final class PipelineFootprint {
  private PipelineFootprint() {}

  /**
   * Runs the pipeline.
   *
   * @param args optional: the number of items (default 100,000,000)
   * @throws Exception if the run fails
   */
  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000_000;
    Monitor monitor = Monitor.create();
    long[] maxQueued = {0};
    Thread sampler =
        Thread.ofVirtual()
            .start(
                () -> {
                  while (!Thread.currentThread().isInterrupted()) {
                    long q =
                        monitor.snapshot().stages().stream().mapToLong(StageStats::queued).sum();
                    maxQueued[0] = Math.max(maxQueued[0], q);
                    try {
                      Thread.sleep(5);
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    long[] sum = {0};
    long t0 = System.nanoTime();
    Result<Long> r =
        Pipeline.range(0, n)
            .map(x -> x * 3)
            .filter(x -> (x & 1) == 0)
            .map(x -> x + 1)
            .withOptions(Pipeline.Options.defaults().withMonitor(monitor))
            .forEach(Context.background(), x -> sum[0] += x);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    sampler.interrupt();
    sampler.join();
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    System.out.printf(
        "%,d items in %,d ms (%.1f ns/item), %,d reached the sink; max heap %d MB, peak heap used"
            + " %.1f MB (sum of pool peaks), at most %,d items buffered between stages%n",
        n,
        ms,
        ms * 1e6 / n,
        r.value(),
        Runtime.getRuntime().maxMemory() >> 20,
        peak / 1048576.0,
        maxQueued[0]);
    System.out.println(r.report());
  }
}
