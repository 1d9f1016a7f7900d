package io.sluice.examples;

import io.sluice.core.Context;
import io.sluice.pipeline.Pipeline;
import io.sluice.pipeline.Result;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The seed's "maximum efficiency with semaphores": instead of NumCPU goroutines per stage, virtual
 * threads under a limit — {@code mapParallel(limit, fn)}. A single item costs one thread; a
 * thousand items never run more than {@code limit} at once, on at most a thousand threads (fewer: a
 * thread whose item is done takes the next waiting item instead of ending); the results keep their
 * input order.
 */
public final class PipelineBoundedStep {
  private PipelineBoundedStep() {}

  /** What {@link #run} observed. */
  record Observed(List<Integer> results, int peakInFlight, int threadsStarted) {}

  /**
   * Runs a blocking step over {@code items} items with at most {@code limit} at once.
   *
   * @param items how many items
   * @param limit the step's limit
   * @param log where to print
   * @return the results, the most calls seen running at once, and the threads the run started
   * @throws InterruptedException if interrupted
   */
  static Observed run(int items, int limit, PrintStream log) throws InterruptedException {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    AtomicInteger threads = new AtomicInteger();
    ThreadFactory counting =
        r -> {
          threads.incrementAndGet();
          return Thread.ofVirtual().name("step").unstarted(r);
        };
    Result<List<Integer>> r =
        Pipeline.from(IntStream.range(0, items).boxed().toList())
            .mapParallel(
                limit,
                x -> {
                  peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                  try {
                    Thread.sleep(2); // the seed's slow call
                    return x * x;
                  } finally {
                    inFlight.decrementAndGet();
                  }
                })
            .named("step")
            .withOptions(Pipeline.Options.defaults().withThreadFactory(counting))
            .toList(Context.background());
    log.printf(
        "%d item(s), limit %d: at most %d at once, %d thread(s) started in all%n",
        items, limit, peak.get(), threads.get());
    return new Observed(r.value(), peak.get(), threads.get());
  }

  /**
   * One item, then a thousand.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    run(1, 8, System.out);
    run(1000, 8, System.out);
  }
}
