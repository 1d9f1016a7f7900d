package io.sluice.bench;

import io.sluice.core.Context;
import io.sluice.pipeline.Pipeline;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * {@code mapParallel} with a 1 ms blocking call per item (simulated I/O): 100,000 items at
 * parallelism 1,000. The ideal is 100,000 × 1 ms / 1,000 = 100 ms per run (issue 3).
 *
 * <p>Peers in the same run: Reactor's {@code flatMap(..., 1000)} (unordered) and {@code
 * flatMapSequential(..., 1000)} (ordered), each call subscribed on a virtual-thread-per-task
 * executor (Reactor's {@code boundedElastic} would cap the concurrency at ten threads per core);
 * and a bare loop that starts one virtual thread per item under a {@code Semaphore} of 1,000
 * permits ({@code floor}): what the JDK's sleep and thread start cost here, with no pipeline at
 * all. The score is milliseconds per run of 100,000 items.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class PipelineIoBenchmark {
  /** Items per run. */
  public static final int N = 100_000;

  /** Calls in flight at once. */
  public static final int PARALLELISM = 1000;

  private ExecutorService virtualThreads;
  private Scheduler reactorIo;

  /** Starts Reactor's virtual-thread scheduler. */
  @Setup(Level.Trial)
  public void setUp() {
    virtualThreads = Executors.newVirtualThreadPerTaskExecutor();
    reactorIo = Schedulers.fromExecutorService(virtualThreads);
  }

  /** Stops it. */
  @TearDown(Level.Trial)
  public void tearDown() {
    reactorIo.dispose();
    virtualThreads.close();
  }

  private static int call(int x) throws InterruptedException {
    Thread.sleep(1);
    return x;
  }

  private static long check(long n) {
    if (n != N) {
      throw new AssertionError(n + " items, expected " + N);
    }
    return n;
  }

  /**
   * Sluice: {@code mapParallel(1000, call)}, results in input order.
   *
   * @return the number of items
   * @throws InterruptedException never
   */
  @Benchmark
  public long io_sluiceOrdered() throws InterruptedException {
    return check(
        Pipeline.range(0, N)
            .mapParallel(PARALLELISM, PipelineIoBenchmark::call)
            .forEach(Context.background(), x -> {})
            .value());
  }

  /**
   * Sluice: {@code mapParallelUnordered(1000, call)}.
   *
   * @return the number of items
   * @throws InterruptedException never
   */
  @Benchmark
  public long io_sluiceUnordered() throws InterruptedException {
    return check(
        Pipeline.range(0, N)
            .mapParallelUnordered(PARALLELISM, PipelineIoBenchmark::call)
            .forEach(Context.background(), x -> {})
            .value());
  }

  /**
   * Reactor: {@code flatMap(x -> call on a virtual thread, 1000)}, unordered.
   *
   * @return the number of items
   */
  @Benchmark
  public long io_reactor() {
    return check(
        Flux.range(0, N)
            .flatMap(x -> Mono.fromCallable(() -> call(x)).subscribeOn(reactorIo), PARALLELISM)
            .count()
            .block());
  }

  /**
   * Reactor: {@code flatMapSequential(x -> call on a virtual thread, 1000)}, ordered.
   *
   * @return the number of items
   */
  @Benchmark
  public long io_reactorOrdered() {
    return check(
        Flux.range(0, N)
            .flatMapSequential(
                x -> Mono.fromCallable(() -> call(x)).subscribeOn(reactorIo), PARALLELISM)
            .count()
            .block());
  }

  /**
   * No pipeline: one virtual thread per item under a semaphore of 1,000 permits, then wait for all.
   *
   * @return the number of items
   * @throws InterruptedException never
   */
  @Benchmark
  public long io_floor() throws InterruptedException {
    Semaphore permits = new Semaphore(PARALLELISM);
    LongAdder done = new LongAdder();
    for (int i = 0; i < N; i++) {
      permits.acquire();
      int x = i;
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  call(x);
                  done.increment();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } finally {
                  permits.release();
                }
              });
    }
    permits.acquire(PARALLELISM);
    return check(done.sum());
  }

  /**
   * No pipeline, threads reused: 1,000 virtual threads that each take the next item until none is
   * left. What the sleeps alone cost here, without a thread start per item.
   *
   * @return the number of items
   * @throws InterruptedException never
   */
  @Benchmark
  public long io_floorReused() throws InterruptedException {
    java.util.concurrent.atomic.AtomicInteger next =
        new java.util.concurrent.atomic.AtomicInteger();
    LongAdder done = new LongAdder();
    Thread[] threads = new Thread[PARALLELISM];
    for (int t = 0; t < PARALLELISM; t++) {
      threads[t] =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int x; (x = next.getAndIncrement()) < N; ) {
                        call(x);
                        done.increment();
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
    }
    for (Thread t : threads) {
      t.join();
    }
    return check(done.sum());
  }
}
