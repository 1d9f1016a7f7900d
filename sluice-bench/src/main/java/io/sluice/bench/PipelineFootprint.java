package io.sluice.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.sluice.core.Context;
import io.sluice.pipeline.Monitor;
import io.sluice.pipeline.Pipeline;
import io.sluice.pipeline.Result;
import io.sluice.pipeline.StageStats;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.ListenerNotFoundException;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Memory stays bounded by the buffers whatever the input's length: runs range → map → filter → map
 * → forEach over inputs of growing length (by default 10, 100 and 300 million integers; issue 3),
 * one after the other in one JVM, and prints for each the time, the largest number of items
 * buffered between stages (sampled from a {@link Monitor}) and the largest heap left after a
 * collection during that run, which is the most the run kept alive. If memory grew with the input,
 * that figure would grow a hundredfold from the first run to the last; it stays flat. Meant to run
 * with a small heap, e.g. {@code -Xmx32m}, so that collections are frequent and a leak would end
 * the run.
 *
 * <pre>{@code java -Xmx32m -XX:+UseSerialGC -cp sluice-bench/target/benchmarks.jar \
 *     io.sluice.bench.PipelineFootprint [items,items,...]}</pre>
 */
public final class PipelineFootprint {
  private PipelineFootprint() {}

  /**
   * Runs the pipeline once per input length.
   *
   * @param args optional: the input lengths, comma-separated (default 10000000,100000000,300000000)
   * @throws Exception if a run fails
   */
  public static void main(String[] args) throws Exception {
    String lengths = args.length > 0 ? args[0] : "10000000,100000000,300000000";
    System.out.printf(
        "max heap %d MB; per run: items, time, most items buffered between stages, collections,"
            + " most heap left after a full collection%n",
        Runtime.getRuntime().maxMemory() >> 20);
    for (String length : lengths.split(",")) {
      run(Integer.parseInt(length.strip().replace("_", "")));
    }
  }

  private static void run(int n) throws Exception {
    System.gc(); // start each run from the previous run's garbage collected
    Thread.sleep(200); // and let that collection's notification pass before watching
    AfterCollections after = AfterCollections.watch();
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
    Result<Long> r;
    try {
      r =
          Pipeline.range(0, n)
              .map(x -> x * 3)
              .filter(x -> (x & 1) == 0)
              .map(x -> x + 1)
              .withOptions(Pipeline.Options.defaults().withMonitor(monitor))
              .forEach(Context.background(), x -> sum[0] += x);
    } finally {
      sampler.interrupt();
      sampler.join();
      Thread.sleep(200); // collection notifications arrive on a service thread, a little later
      after.close();
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.printf(
        "%,13d items in %,7d ms (%.1f ns/item), %,d reached the sink; at most %,d items buffered;"
            + " %,d collections, of them %,d full, at most %.1f MB of heap left after a full one%n",
        n,
        ms,
        ms * 1e6 / n,
        r.value(),
        maxQueued[0],
        after.collections.get(),
        after.fullCollections.get(),
        after.maxAfter.get() / 1048576.0);
  }

  /**
   * The collections while watched, and the largest heap use left after a full one: what was alive
   * then (a young collection's figure would include the old generation's garbage).
   */
  private static final class AfterCollections implements AutoCloseable {
    static final Set<String> HEAP_POOLS =
        ManagementFactory.getMemoryPoolMXBeans().stream()
            .filter(pool -> pool.getType() == MemoryType.HEAP)
            .map(MemoryPoolMXBean::getName)
            .collect(Collectors.toSet());
    final AtomicLong maxAfter = new AtomicLong();
    final AtomicLong collections = new AtomicLong();
    final AtomicLong fullCollections = new AtomicLong();
    private final List<NotificationEmitter> emitters = new ArrayList<>();
    private final NotificationListener listener =
        (notification, handback) -> {
          if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(
              notification.getType())) {
            return;
          }
          var info =
              GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
          collections.incrementAndGet();
          if (!info.getGcAction().contains("major")) {
            return; // a young collection leaves the old generation's garbage in place
          }
          long used = 0;
          for (var pool : info.getGcInfo().getMemoryUsageAfterGc().entrySet()) {
            if (HEAP_POOLS.contains(pool.getKey())) {
              used += pool.getValue().getUsed();
            }
          }
          maxAfter.accumulateAndGet(used, Math::max);
          fullCollections.incrementAndGet();
        };

    static AfterCollections watch() {
      AfterCollections watch = new AfterCollections();
      for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
        if (gc instanceof NotificationEmitter emitter) {
          emitter.addNotificationListener(watch.listener, null, null);
          watch.emitters.add(emitter);
        }
      }
      return watch;
    }

    @Override
    public void close() {
      for (NotificationEmitter emitter : emitters) {
        try {
          emitter.removeNotificationListener(listener);
        } catch (ListenerNotFoundException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }
}
