package io.sluice.bench;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One virtual-thread producer hands values to one virtual-thread consumer through a channel: the
 * cost of one hand-off, in nanoseconds, for a rendezvous channel and buffers of 16 and 1024.
 *
 * <p>Why: this is the basic operation of every pipeline built on Sluice, and the figure Go quotes
 * for its channels (issue 2, section 4). Peers in the same run: Jox's {@code Channel} (the other
 * channel library for virtual threads), {@link SynchronousQueue} for the rendezvous case and {@link
 * ArrayBlockingQueue} for the buffered ones (the JDK's blocking queues, which virtual threads park
 * on through {@code j.u.c} locks).
 *
 * <p>How: each invocation starts a fresh producer and consumer on virtual threads (the JMH thread
 * only starts and joins them), hands over {@link #N} values from a pre-boxed table (no allocation
 * of values in the loop) and checks the consumer's sum. The score is the invocation time divided by
 * {@code N}, so thread start and join are amortised over a million hand-offs. A measurement of ten
 * iterations hands over well above the ten million values.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
@State(Scope.Benchmark)
public class ChannelHandoffBenchmark {
  /** Hand-offs per invocation. */
  public static final int N = 1_000_000;

  private static final Integer[] VALUES = Values.boxed(1024);
  private static final long EXPECTED_SUM = Values.sumOfCycle(VALUES, N);

  /** Buffer size: 0 is a rendezvous (Go's unbuffered channel). */
  @Param({"0", "16", "1024"})
  public int capacity;

  /**
   * Sluice: {@code Channel.unbuffered()} or {@code Channel.buffered(capacity)}.
   *
   * @throws Exception if a thread failed
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void handoff_sluice() throws Exception {
    io.sluice.core.Channel<Integer> ch =
        capacity == 0
            ? io.sluice.core.Channel.unbuffered()
            : io.sluice.core.Channel.buffered(capacity);
    long sum =
        Pair.run(
            () -> {
              for (int i = 0; i < N; i++) {
                ch.send(VALUES[i & 1023]);
              }
            },
            () -> {
              long s = 0;
              for (int i = 0; i < N; i++) {
                s += ch.receive();
              }
              return s;
            });
    Values.check(EXPECTED_SUM, sum);
  }

  /**
   * Jox: {@code Channel.newRendezvousChannel()} or {@code Channel.newBufferedChannel(capacity)}.
   *
   * @throws Exception if a thread failed
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void handoff_jox() throws Exception {
    com.softwaremill.jox.Channel<Integer> ch =
        capacity == 0
            ? com.softwaremill.jox.Channel.newRendezvousChannel()
            : com.softwaremill.jox.Channel.newBufferedChannel(capacity);
    long sum =
        Pair.run(
            () -> {
              for (int i = 0; i < N; i++) {
                ch.send(VALUES[i & 1023]);
              }
            },
            () -> {
              long s = 0;
              for (int i = 0; i < N; i++) {
                s += ch.receive();
              }
              return s;
            });
    Values.check(EXPECTED_SUM, sum);
  }

  /**
   * The JDK: {@link SynchronousQueue} (capacity 0) or {@link ArrayBlockingQueue}, {@code put} and
   * {@code take}.
   *
   * @throws Exception if a thread failed
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void handoff_jdk() throws Exception {
    BlockingQueue<Integer> q =
        capacity == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(capacity);
    long sum =
        Pair.run(
            () -> {
              for (int i = 0; i < N; i++) {
                q.put(VALUES[i & 1023]);
              }
            },
            () -> {
              long s = 0;
              for (int i = 0; i < N; i++) {
                s += q.take();
              }
              return s;
            });
    Values.check(EXPECTED_SUM, sum);
  }
}
