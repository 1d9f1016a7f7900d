package io.sluice.bench;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import io.sluice.core.Clock;
import io.sluice.core.Timer;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
import org.openjdk.jmh.infra.BenchmarkParams;

/**
 * A million timers scheduled, then cancelled: nanoseconds per schedule ({@code schedule_*}) and per
 * cancel ({@code cancel_*}) with a million timers pending.
 *
 * <p>Why: servers arm a timeout per request and cancel nearly all of them (Go's {@code
 * time.AfterFunc} and {@code Stop}, context deadlines); issue 2 asks Sluice's timers to schedule
 * and cancel faster than both peers. Peers in the same run: {@link ScheduledThreadPoolExecutor}
 * with {@code setRemoveOnCancelPolicy(true)} (a binary heap under one lock; without the policy,
 * cancelled tasks stay in the heap until due) and Netty's {@link HashedWheelTimer} with a 1 ms tick
 * (a timing wheel whose worker thread moves new and cancelled timeouts in and out of the wheel, so
 * the caller only pays a queue insert — the rest happens on the worker, on the other core).
 *
 * <p>A fourth contender, not a library: {@link ShardedHeapTimers}, a prototype written in this
 * module to measure the alternative ADR 0004 rejected (per-carrier heaps, one min-heap per
 * processor under its own lock), twice: {@code *_heaps} cancels lazily (a CAS; Go's zombies and
 * purge) and {@code *_heapsIndexed} removes the entry from its heap at once (O(log n) under the
 * shard's lock, as STPE's remove-on-cancel does).
 *
 * <p>Sluice is measured twice: {@code *_sluice} through the public {@code Clock.afterFunc} and
 * {@code Timer.stop()} (what users call; it includes the {@code Timer} object), {@code
 * *_sluiceEngine} through the engine's internal {@code TimerEngine.schedule} (what contexts'
 * deadlines and timer channels use).
 *
 * <p>How: each invocation schedules (or cancels) {@link #N} timers; the other half — cancelling
 * what a {@code schedule_*} invocation left, scheduling what a {@code cancel_*} one cancels —
 * happens untimed around it. Delays are uniform between one minute and one hour (fixed seed), so
 * nothing fires during the run and a heap or wheel sees realistic, unordered deadlines. Bodies are
 * a no-op. Score: ns per schedule or cancel.
 *
 * <p>Heap bytes per pending timer are measured by {@link TimerFootprint}, and firing lateness by
 * {@link TimerLateness}: both are plain programs, not JMH benchmarks.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class TimerBenchmark {
  /** Timers per invocation. */
  public static final int N = 1_000_000;

  static final Runnable NOOP = () -> {};
  static final TimerTask WHEEL_NOOP = timeout -> {};

  /** The delays, the same for every library. */
  @State(Scope.Benchmark)
  public static class Delays {
    long[] nanos;
    Duration[] durations;

    /** Draws the delays. */
    @Setup(Level.Trial)
    public void draw() {
      nanos = delays(N, Duration.ofMinutes(1), Duration.ofHours(1), 42);
      durations = new Duration[N];
      for (int i = 0; i < N; i++) {
        durations[i] = Duration.ofNanos(nanos[i]);
      }
    }
  }

  /** Uniform delays in {@code [min, max)}. */
  static long[] delays(int n, Duration min, Duration max, long seed) {
    SplittableRandom random = new SplittableRandom(seed);
    long[] nanos = new long[n];
    for (int i = 0; i < n; i++) {
      nanos[i] = random.nextLong(min.toNanos(), max.toNanos());
    }
    return nanos;
  }

  /**
   * Whether the running benchmark cancels (so the setup must schedule) or schedules (so the
   * teardown must cancel).
   */
  static boolean cancels(BenchmarkParams params) {
    return params.getBenchmark().contains(".cancel_");
  }

  /** Sluice: {@code Clock.system().afterFunc(d, fn)} and {@code timer.stop()}. */
  @State(Scope.Thread)
  public static class Sluice {
    final Clock clock = Clock.system();
    final Timer[] timers = new Timer[N];
    boolean pending;

    /**
     * Schedules the timers a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (cancels(params)) {
        for (int i = 0; i < N; i++) {
          timers[i] = clock.afterFunc(d.durations[i], NOOP);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          timers[i].stop();
        }
        pending = false;
      }
    }
  }

  /**
   * Sluice's engine without the {@code Timer} around it: the internal {@code TimerEngine.schedule}
   * that contexts' deadlines and timers' channels use (see {@link SluiceTimers}).
   */
  @State(Scope.Thread)
  public static class SluiceEngine {
    final Object[] timers = new Object[N];
    boolean pending;

    /**
     * Schedules the timers a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (cancels(params)) {
        for (int i = 0; i < N; i++) {
          timers[i] = SluiceTimers.schedule(d.nanos[i], NOOP);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          SluiceTimers.cancel(timers[i]);
        }
        pending = false;
      }
    }
  }

  /** {@link ScheduledThreadPoolExecutor} with one thread and remove-on-cancel. */
  @State(Scope.Thread)
  public static class Stpe {
    ScheduledThreadPoolExecutor executor;
    final ScheduledFuture<?>[] timers = new ScheduledFuture<?>[N];
    boolean pending;

    /** Starts the executor. */
    @Setup(Level.Trial)
    public void start() {
      executor = new ScheduledThreadPoolExecutor(1);
      executor.setRemoveOnCancelPolicy(true);
    }

    /**
     * Schedules the timers a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (cancels(params)) {
        for (int i = 0; i < N; i++) {
          timers[i] = executor.schedule(NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          timers[i].cancel(false);
        }
        pending = false;
      }
    }

    /** Stops the executor. */
    @TearDown(Level.Trial)
    public void stop() {
      executor.shutdownNow();
    }
  }

  /** Netty's {@link HashedWheelTimer}, 1 ms tick, 512 buckets (its default). */
  @State(Scope.Thread)
  public static class Wheel {
    HashedWheelTimer timer;
    final Timeout[] timers = new Timeout[N];
    boolean pending;

    /** Starts the wheel. */
    @Setup(Level.Trial)
    public void start() {
      timer = new HashedWheelTimer(1, TimeUnit.MILLISECONDS);
      timer.start();
    }

    /**
     * Schedules the timers a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (cancels(params)) {
        for (int i = 0; i < N; i++) {
          timers[i] = timer.newTimeout(WHEEL_NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          timers[i].cancel();
        }
        pending = false;
      }
    }

    /** Stops the wheel. */
    @TearDown(Level.Trial)
    public void stop() {
      timer.stop();
    }
  }

  /** The sharded-heap prototype ({@link ShardedHeapTimers}) with one of its cancel policies. */
  @State(Scope.Thread)
  public abstract static class HeapState {
    ShardedHeapTimers heaps;
    final ShardedHeapTimers.Entry[] timers = new ShardedHeapTimers.Entry[N];
    boolean pending;

    abstract ShardedHeapTimers.CancelPolicy policy();

    /** Starts the shards' firing threads. */
    @Setup(Level.Trial)
    public void start() {
      heaps = ShardedHeapTimers.withVirtualThreadBodies(policy());
    }

    /**
     * Schedules the timers a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (cancels(params)) {
        for (int i = 0; i < N; i++) {
          timers[i] = heaps.schedule(System.nanoTime() + d.nanos[i], NOOP);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          timers[i].cancel();
        }
        pending = false;
      }
    }

    /** Stops the firing threads. */
    @TearDown(Level.Trial)
    public void stop() {
      heaps.close();
    }
  }

  /** The sharded-heap prototype with lazy cancel (Go's zombies and purge). */
  public static class Heaps extends HeapState {
    @Override
    ShardedHeapTimers.CancelPolicy policy() {
      return ShardedHeapTimers.CancelPolicy.LAZY;
    }
  }

  /** The sharded-heap prototype with indexed cancel (O(log n) removal under the shard's lock). */
  public static class HeapsIndexed extends HeapState {
    @Override
    ShardedHeapTimers.CancelPolicy policy() {
      return ShardedHeapTimers.CancelPolicy.INDEXED;
    }
  }

  /**
   * Sluice: {@code Clock.system().afterFunc(d, fn)}, a million times.
   *
   * @param s the timers
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_sluice(Sluice s, Delays d) {
    for (int i = 0; i < N; i++) {
      s.timers[i] = s.clock.afterFunc(d.durations[i], NOOP);
    }
    s.pending = true;
  }

  /**
   * Sluice: {@code timer.stop()} on a million pending timers.
   *
   * @param s the timers
   * @return how many stops prevented a fire (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_sluice(Sluice s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.timers[i].stop()) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }

  /**
   * Sluice's engine (internal {@code TimerEngine.schedule}), a million times.
   *
   * @param s the entries
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_sluiceEngine(SluiceEngine s, Delays d) {
    for (int i = 0; i < N; i++) {
      s.timers[i] = SluiceTimers.schedule(d.nanos[i], NOOP);
    }
    s.pending = true;
  }

  /**
   * Sluice's engine: {@code TimerEntry.cancel()} on a million pending entries.
   *
   * @param s the entries
   * @return how many cancels prevented a fire (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_sluiceEngine(SluiceEngine s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (SluiceTimers.cancel(s.timers[i])) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }

  /**
   * {@code ScheduledThreadPoolExecutor.schedule}, a million times.
   *
   * @param s the executor
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_stpe(Stpe s, Delays d) {
    for (int i = 0; i < N; i++) {
      s.timers[i] = s.executor.schedule(NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
    }
    s.pending = true;
  }

  /**
   * {@code ScheduledFuture.cancel(false)} on a million pending tasks.
   *
   * @param s the executor
   * @return how many cancels succeeded (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_stpe(Stpe s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.timers[i].cancel(false)) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }

  /**
   * {@code HashedWheelTimer.newTimeout}, a million times.
   *
   * @param s the wheel
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_wheel(Wheel s, Delays d) {
    for (int i = 0; i < N; i++) {
      s.timers[i] = s.timer.newTimeout(WHEEL_NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
    }
    s.pending = true;
  }

  /**
   * {@code Timeout.cancel()} on a million pending timeouts.
   *
   * @param s the wheel
   * @return how many cancels succeeded (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_wheel(Wheel s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.timers[i].cancel()) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }

  /**
   * Sharded heaps, lazy cancel: {@code ShardedHeapTimers.schedule}, a million times.
   *
   * @param s the heaps
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_heaps(Heaps s, Delays d) {
    scheduleAll(s, d);
  }

  /**
   * Sharded heaps, lazy cancel: {@code Entry.cancel()} on a million pending entries.
   *
   * @param s the heaps
   * @return how many cancels prevented a fire (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_heaps(Heaps s) {
    return cancelAll(s);
  }

  /**
   * Sharded heaps, indexed cancel: {@code ShardedHeapTimers.schedule}, a million times.
   *
   * @param s the heaps
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_heapsIndexed(HeapsIndexed s, Delays d) {
    scheduleAll(s, d);
  }

  /**
   * Sharded heaps, indexed cancel: {@code Entry.cancel()} on a million pending entries.
   *
   * @param s the heaps
   * @return how many cancels prevented a fire (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_heapsIndexed(HeapsIndexed s) {
    return cancelAll(s);
  }

  private static void scheduleAll(HeapState s, Delays d) {
    for (int i = 0; i < N; i++) {
      s.timers[i] = s.heaps.schedule(System.nanoTime() + d.nanos[i], NOOP);
    }
    s.pending = true;
  }

  private static int cancelAll(HeapState s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.timers[i].cancel()) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }
}
