package io.sluice.bench;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.sluice.schedule.ScheduleHandle;
import io.sluice.schedule.Scheduler;
import java.time.Duration;
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
 * Issue 6: one-shot schedules 1–60 s ahead, a million per invocation: nanoseconds per schedule
 * ({@code schedule_*}) and per cancel with a million pending ({@code cancel_*}).
 *
 * <p>Why: a job service arms a delayed run or a timeout per request and cancels most of them; the
 * issue asks Sluice's scheduler to schedule and cancel faster than {@link
 * ScheduledThreadPoolExecutor} (remove-on-cancel) and Netty's {@link HashedWheelTimer}, with Quartz
 * (RAMJobStore) for scale. Sluice is measured through the public {@code Scheduler.after(delay,
 * task)} and {@code ScheduleHandle.cancel()}: the compact one-shot (one object that is both the
 * handle and the shared engine's entry). The peers run the same no-op body.
 *
 * <p>How: as {@link TimerBenchmark}: each invocation schedules (or cancels) {@link #N} timers and
 * the other half happens untimed around it; delays uniform in [1 s, 60 s) with a fixed seed, so
 * nothing fires while an invocation runs unless the setup and the invocation together take longer
 * than a second. Quartz schedules a job and a trigger per timer and is two orders of magnitude
 * slower, so its invocations hold {@link #N_QUARTZ} timers; its score is still per operation.
 *
 * <p>Heap bytes per pending schedule and firing lateness come from {@link TimerFootprint} and
 * {@link TimerLateness} run with the {@code schedulers} suite.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 10)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class ScheduleBenchmark {
  /** Schedules per invocation. */
  public static final int N = 1_000_000;

  /** Schedules per Quartz invocation. */
  public static final int N_QUARTZ = 20_000;

  static final Runnable NOOP = TimerEngines.NOOP;

  /** The delays, the same for every library. */
  @State(Scope.Benchmark)
  public static class Delays {
    long[] nanos;
    Duration[] durations;

    /** Draws the delays. */
    @Setup(Level.Trial)
    public void draw() {
      nanos = TimerBenchmark.delays(N, Duration.ofSeconds(1), Duration.ofSeconds(60), 6);
      durations = new Duration[N];
      for (int i = 0; i < N; i++) {
        durations[i] = Duration.ofNanos(nanos[i]);
      }
    }
  }

  /** Sluice: {@code Scheduler.after(d, task)} and {@code handle.cancel()}. */
  @State(Scope.Thread)
  public static class Sluice {
    Scheduler scheduler;
    final ScheduleHandle[] handles = new ScheduleHandle[N];
    boolean pending;

    /** Creates the scheduler. */
    @Setup(Level.Trial)
    public void start() {
      scheduler = Scheduler.create();
    }

    /**
     * Schedules what a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (TimerBenchmark.cancels(params)) {
        for (int i = 0; i < N; i++) {
          handles[i] = scheduler.after(d.durations[i], NOOP);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          handles[i].cancel();
        }
        pending = false;
      }
    }

    /** Closes the scheduler. */
    @TearDown(Level.Trial)
    public void stop() {
      scheduler.close();
    }
  }

  /** {@link ScheduledThreadPoolExecutor}, one thread, remove-on-cancel. */
  @State(Scope.Thread)
  public static class Stpe {
    ScheduledThreadPoolExecutor executor;
    final ScheduledFuture<?>[] handles = new ScheduledFuture<?>[N];
    boolean pending;

    /** Starts the executor. */
    @Setup(Level.Trial)
    public void start() {
      executor = new ScheduledThreadPoolExecutor(1);
      executor.setRemoveOnCancelPolicy(true);
    }

    /**
     * Schedules what a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (TimerBenchmark.cancels(params)) {
        for (int i = 0; i < N; i++) {
          handles[i] = executor.schedule(NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          handles[i].cancel(false);
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

  /** Netty's {@link HashedWheelTimer}, 1 ms tick. */
  @State(Scope.Thread)
  public static class Wheel {
    HashedWheelTimer timer;
    final Timeout[] handles = new Timeout[N];
    boolean pending;

    /** Starts the wheel. */
    @Setup(Level.Trial)
    public void start() {
      timer = new HashedWheelTimer(1, TimeUnit.MILLISECONDS);
      timer.start();
    }

    /**
     * Schedules what a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (TimerBenchmark.cancels(params)) {
        for (int i = 0; i < N; i++) {
          handles[i] = timer.newTimeout(TimerEngines.NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N; i++) {
          handles[i].cancel();
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

  /** Quartz with RAMJobStore (see {@link TimerEngines.Quartz}). */
  @State(Scope.Thread)
  public static class Quartz {
    TimerEngines.Quartz quartz;
    final Object[] handles = new Object[N_QUARTZ];
    boolean pending;

    /** Starts Quartz. */
    @Setup(Level.Trial)
    public void start() {
      quartz = new TimerEngines.Quartz();
    }

    /**
     * Schedules what a cancel benchmark cancels.
     *
     * @param d the delays
     * @param params which benchmark runs
     */
    @Setup(Level.Invocation)
    public void fill(Delays d, BenchmarkParams params) {
      if (TimerBenchmark.cancels(params)) {
        for (int i = 0; i < N_QUARTZ; i++) {
          handles[i] = quartz.schedule(d.nanos[i], NOOP);
        }
        pending = true;
      }
    }

    /** Cancels whatever is still pending. */
    @TearDown(Level.Invocation)
    public void drain() {
      if (pending) {
        for (int i = 0; i < N_QUARTZ; i++) {
          quartz.cancel(handles[i]);
        }
        pending = false;
      }
    }

    /** Stops Quartz. */
    @TearDown(Level.Trial)
    public void stop() {
      quartz.close();
    }
  }

  /**
   * Sluice: {@code scheduler.after(d, task)}, a million times.
   *
   * @param s the scheduler
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public void schedule_sluice(Sluice s, Delays d) {
    for (int i = 0; i < N; i++) {
      s.handles[i] = s.scheduler.after(d.durations[i], NOOP);
    }
    s.pending = true;
  }

  /**
   * Sluice: {@code handle.cancel()} on a million pending schedules.
   *
   * @param s the scheduler
   * @return how many cancels stopped a schedule (all of them)
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_sluice(Sluice s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.handles[i].cancel()) {
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
      s.handles[i] = s.executor.schedule(NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
    }
    s.pending = true;
  }

  /**
   * {@code ScheduledFuture.cancel(false)} on a million pending tasks.
   *
   * @param s the executor
   * @return how many cancels succeeded
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_stpe(Stpe s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.handles[i].cancel(false)) {
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
      s.handles[i] = s.timer.newTimeout(TimerEngines.NOOP, d.nanos[i], TimeUnit.NANOSECONDS);
    }
    s.pending = true;
  }

  /**
   * {@code Timeout.cancel()} on a million pending timeouts.
   *
   * @param s the wheel
   * @return how many cancels succeeded
   */
  @Benchmark
  @OperationsPerInvocation(N)
  public int cancel_wheel(Wheel s) {
    int stopped = 0;
    for (int i = 0; i < N; i++) {
      if (s.handles[i].cancel()) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }

  /**
   * Quartz: {@code scheduleJob(job, trigger)}, {@value #N_QUARTZ} times.
   *
   * @param s Quartz
   * @param d the delays
   */
  @Benchmark
  @OperationsPerInvocation(N_QUARTZ)
  public void schedule_quartz(Quartz s, Delays d) {
    for (int i = 0; i < N_QUARTZ; i++) {
      s.handles[i] = s.quartz.schedule(d.nanos[i], NOOP);
    }
    s.pending = true;
  }

  /**
   * Quartz: {@code deleteJob(key)} on {@value #N_QUARTZ} pending jobs.
   *
   * @param s Quartz
   * @return how many deletes succeeded
   */
  @Benchmark
  @OperationsPerInvocation(N_QUARTZ)
  public int cancel_quartz(Quartz s) {
    int stopped = 0;
    for (int i = 0; i < N_QUARTZ; i++) {
      if (s.quartz.cancel(s.handles[i])) {
        stopped++;
      }
    }
    s.pending = false;
    return stopped;
  }
}
