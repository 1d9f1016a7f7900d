package io.sluice.bench;

import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Select over two channels: Sluice's {@code Select.select(a.onReceive(..), b.onReceive(..))} side
 * by side with Jox's {@code Select.select(a.receiveClause(..), b.receiveClause(..))}.
 *
 * <p>Why: select is how Go code multiplexes (fan-in, cancellation, timeouts); issue 2 quotes Go at
 * about 120 ns for a two-way select on this machine and asks Sluice to be at least twice as fast as
 * Jox.
 *
 * <ul>
 *   <li>{@code twoWay_*}: two virtual-thread producers each feed {@link #N}/2 values into their own
 *       channel; one virtual-thread consumer runs {@link #N} selects over both. Score: ns per
 *       select (each select also is one hand-off). The clauses are built per select, as code writes
 *       them.
 *   <li>{@code withDefault_*}: a select over two empty channels with a default clause, on the JMH
 *       thread: the price of a non-blocking poll (Go's {@code select { ... default: }}), with no
 *       contention and no parking.
 * </ul>
 *
 * <p>Sluice picks uniformly at random among ready clauses (Go's rule); Jox prefers the first ready
 * clause. With both producers keeping their channels full, Jox's bias costs it nothing here, so the
 * comparison does not favour Sluice.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SelectBenchmark {
  /** Selects per invocation of a {@code twoWay_*} benchmark. */
  public static final int N = 1_000_000;

  private static final Integer[] VALUES = Values.boxed(1024);
  private static final long EXPECTED_SUM = 2 * Values.sumOfCycle(VALUES, N / 2);
  private static final Function<Integer, Integer> IDENTITY = v -> v;
  private static final Integer NOTHING = 0;
  private static final Supplier<Integer> DEFAULT = () -> NOTHING;

  /** The channels' capacity for {@code twoWay_*}. */
  @State(Scope.Benchmark)
  public static class Capacity {
    /** Buffer size: 0 is a rendezvous. */
    @Param({"0", "16"})
    public int capacity;
  }

  /** Two empty channels of each library, for {@code withDefault_*}. */
  @State(Scope.Thread)
  public static class Empty {
    io.sluice.core.Channel<Integer> sluiceA;
    io.sluice.core.Channel<Integer> sluiceB;
    com.softwaremill.jox.Channel<Integer> joxA;
    com.softwaremill.jox.Channel<Integer> joxB;

    /** Creates the channels. */
    @Setup
    public void setUp() {
      sluiceA = io.sluice.core.Channel.buffered(16);
      sluiceB = io.sluice.core.Channel.buffered(16);
      joxA = com.softwaremill.jox.Channel.newBufferedChannel(16);
      joxB = com.softwaremill.jox.Channel.newBufferedChannel(16);
    }
  }

  /**
   * Sluice, two producers and a selecting consumer.
   *
   * @param c the capacity
   * @throws Exception if a thread failed
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void twoWay_sluice(Capacity c) throws Exception {
    io.sluice.core.Channel<Integer> a = io.sluice.core.Channel.buffered(c.capacity);
    io.sluice.core.Channel<Integer> b = io.sluice.core.Channel.buffered(c.capacity);
    long sum =
        Pair.run(
            new Pair.Body[] {() -> produce(a), () -> produce(b)},
            () -> {
              long s = 0;
              for (int i = 0; i < N; i++) {
                s += io.sluice.core.Select.select(a.onReceive(IDENTITY), b.onReceive(IDENTITY));
              }
              return s;
            });
    Values.check(EXPECTED_SUM, sum);
  }

  /**
   * Jox, two producers and a selecting consumer.
   *
   * @param c the capacity
   * @throws Exception if a thread failed
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void twoWay_jox(Capacity c) throws Exception {
    com.softwaremill.jox.Channel<Integer> a = joxChannel(c.capacity);
    com.softwaremill.jox.Channel<Integer> b = joxChannel(c.capacity);
    long sum =
        Pair.run(
            new Pair.Body[] {() -> produce(a), () -> produce(b)},
            () -> {
              long s = 0;
              for (int i = 0; i < N; i++) {
                s +=
                    com.softwaremill.jox.Select.select(
                        a.receiveClause(IDENTITY), b.receiveClause(IDENTITY));
              }
              return s;
            });
    Values.check(EXPECTED_SUM, sum);
  }

  /**
   * Sluice, a select with a default clause over two empty channels.
   *
   * @param e the channels
   * @return the default's value
   * @throws InterruptedException never: nothing blocks
   */
  @Benchmark
  @OperationsPerInvocation(1)
  public Integer withDefault_sluice(Empty e) throws InterruptedException {
    return io.sluice.core.Select.select(
        e.sluiceA.onReceive(IDENTITY),
        e.sluiceB.onReceive(IDENTITY),
        io.sluice.core.Select.onDefault(DEFAULT));
  }

  /**
   * Jox, a select with a default clause over two empty channels.
   *
   * @param e the channels
   * @return the default's value
   * @throws InterruptedException never: nothing blocks
   */
  @Benchmark
  @OperationsPerInvocation(1)
  public Integer withDefault_jox(Empty e) throws InterruptedException {
    return com.softwaremill.jox.Select.select(
        e.joxA.receiveClause(IDENTITY),
        e.joxB.receiveClause(IDENTITY),
        com.softwaremill.jox.Select.defaultClause(DEFAULT));
  }

  private static com.softwaremill.jox.Channel<Integer> joxChannel(int capacity) {
    return capacity == 0
        ? com.softwaremill.jox.Channel.newRendezvousChannel()
        : com.softwaremill.jox.Channel.newBufferedChannel(capacity);
  }

  private static void produce(io.sluice.core.Channel<Integer> ch) throws InterruptedException {
    for (int i = 0; i < N / 2; i++) {
      ch.send(VALUES[i & 1023]);
    }
  }

  private static void produce(com.softwaremill.jox.Channel<Integer> ch)
      throws InterruptedException {
    for (int i = 0; i < N / 2; i++) {
      ch.send(VALUES[i & 1023]);
    }
  }
}
