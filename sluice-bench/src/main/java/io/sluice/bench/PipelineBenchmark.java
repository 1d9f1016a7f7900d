package io.sluice.bench;

import io.sluice.core.Context;
import io.sluice.pipeline.Pipeline;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/**
 * A three-stage pipeline (map, filter, map) over ten million integers with trivial functions,
 * summed at the end: the per-item overhead of channel-connected stages (issue 3).
 *
 * <p>Peers in the same run: a plain loop (the floor), a parallel {@code IntStream} (primitive, the
 * fastest the JDK offers), a parallel stream of boxed {@code Integer}s (the same boxing a generic
 * pipeline does), and Reactor's {@code Flux} with {@code publishOn} between the stages (each stage
 * on its own worker, as in Sluice). Sluice's pipeline runs each stage on its own virtual thread,
 * connected by bounded channels of 32768 items passed in chunks of 1024 (the defaults). The score
 * is nanoseconds per item; every variant computes the same sum, checked.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class PipelineBenchmark {
  /** Items per invocation. */
  public static final int N = 10_000_000;

  private static final long EXPECTED = expected();
  private Scheduler reactorStages;

  private static long expected() {
    long sum = 0;
    for (int i = 0; i < N; i++) {
      int x = i * 3;
      if ((x & 1) == 0) {
        sum += x + 1;
      }
    }
    return sum;
  }

  /** Starts Reactor's scheduler for {@code publishOn}. */
  @Setup(Level.Trial)
  public void setUp() {
    reactorStages = Schedulers.newParallel("reactor-stage", 3);
  }

  /** Stops Reactor's scheduler. */
  @TearDown(Level.Trial)
  public void tearDown() {
    reactorStages.dispose();
  }

  private static long check(long sum) {
    if (sum != EXPECTED) {
      throw new AssertionError("sum " + sum + ", expected " + EXPECTED);
    }
    return sum;
  }

  /**
   * Sluice: range → map → filter → map → forEach, each stage on its own virtual thread.
   *
   * @return the sum
   * @throws InterruptedException never
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public long threeStage_sluice() throws InterruptedException {
    long[] sum = {0};
    Pipeline.range(0, N)
        .map(x -> x * 3)
        .filter(x -> (x & 1) == 0)
        .map(x -> x + 1)
        .forEach(Context.background(), x -> sum[0] += x);
    return check(sum[0]);
  }

  /**
   * A plain loop on one thread: the floor.
   *
   * @return the sum
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public long threeStage_loop() {
    long sum = 0;
    for (int i = 0; i < N; i++) {
      int x = i * 3;
      if ((x & 1) == 0) {
        sum += x + 1;
      }
    }
    return check(sum);
  }

  /**
   * A parallel {@code IntStream}: primitive ints, no boxing.
   *
   * @return the sum
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public long threeStage_parallelIntStream() {
    return check(
        IntStream.range(0, N)
            .parallel()
            .map(x -> x * 3)
            .filter(x -> (x & 1) == 0)
            .map(x -> x + 1)
            .asLongStream()
            .sum());
  }

  /**
   * A parallel stream of boxed integers: the boxing a generic pipeline does.
   *
   * @return the sum
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public long threeStage_parallelStream() {
    return check(
        IntStream.range(0, N)
            .parallel()
            .boxed()
            .map(x -> x * 3)
            .filter(x -> (x & 1) == 0)
            .map(x -> x + 1)
            .mapToLong(Integer::longValue)
            .sum());
  }

  /**
   * Reactor: {@code Flux.range} with {@code publishOn} between the stages.
   *
   * @return the sum
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public long threeStage_reactor() {
    long[] sum = {0};
    Flux.range(0, N)
        .map(x -> x * 3)
        .publishOn(reactorStages)
        .filter(x -> (x & 1) == 0)
        .publishOn(reactorStages)
        .map(x -> x + 1)
        .publishOn(reactorStages)
        .doOnNext(x -> sum[0] += x)
        .then()
        .block();
    return check(sum[0]);
  }
}
