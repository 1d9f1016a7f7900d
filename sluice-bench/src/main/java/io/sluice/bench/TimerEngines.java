package io.sluice.bench;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import io.netty.util.TimerTask;
import io.sluice.core.Clock;
import io.sluice.core.Timer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The timer libraries behind one interface, for the plain (non-JMH) timer programs: Sluice's, its
 * peers, and the sharded-heap prototype ({@link ShardedHeapTimers}).
 */
abstract class TimerEngines implements AutoCloseable {
  /** A body that does nothing, usable by every library without a wrapper object per timer. */
  static final Noop NOOP = new Noop();

  /** See {@link #NOOP}. */
  static final class Noop implements Runnable, TimerTask {
    @Override
    public void run() {}

    @Override
    public void run(Timeout timeout) {}
  }

  final String name;

  private TimerEngines(String name) {
    this.name = name;
  }

  /** Every timer library: Sluice first, then the peers. */
  static List<Supplier<TimerEngines>> all() {
    return List.of(
        Sluice::new,
        SluiceEngine::new,
        Stpe::new,
        Wheel::new,
        () -> new Heaps(ShardedHeapTimers.CancelPolicy.LAZY),
        () -> new Heaps(ShardedHeapTimers.CancelPolicy.INDEXED));
  }

  /** Every scheduler (issue 6): Sluice's first, then the peers, Quartz last. */
  static List<Supplier<TimerEngines>> schedulers() {
    return List.of(SluiceScheduler::new, Stpe::new, Wheel::new, Quartz::new);
  }

  /** A named set of libraries: {@code timers} ({@link #all()}) or {@code schedulers}. */
  static List<Supplier<TimerEngines>> suite(String name) {
    return switch (name) {
      case "timers" -> all();
      case "schedulers" -> schedulers();
      default -> throw new IllegalArgumentException("unknown suite " + name);
    };
  }

  /**
   * How many pending timers this library is measured with; fewer than a million only where a
   * million would not fit or would take minutes (Quartz).
   */
  int maxPending(int wanted) {
    return wanted;
  }

  /** Arms a timer that runs {@code body} after {@code delayNanos}. */
  abstract Object schedule(long delayNanos, Runnable body);

  /**
   * Arms a timer whose {@code body} runs on a virtual thread of its own, as Go's {@code
   * time.AfterFunc} runs its function in a goroutine of its own.
   */
  abstract Object scheduleOnVirtualThread(long delayNanos, Runnable body);

  /** Cancels a pending timer; returns whether that prevented it from firing. */
  abstract boolean cancel(Object timer);

  @Override
  public abstract void close();

  /** Whether this is one of Sluice's rows (the others are peers). */
  boolean isSluice() {
    return false;
  }

  /** Sluice: {@code Clock.system().afterFunc}, whose function already runs on its own thread. */
  static final class Sluice extends TimerEngines {
    private final Clock clock = Clock.system();

    Sluice() {
      super("Sluice afterFunc");
    }

    @Override
    boolean isSluice() {
      return true;
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      return clock.afterFunc(Duration.ofNanos(delayNanos), body);
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, body);
    }

    @Override
    boolean cancel(Object timer) {
      return ((Timer) timer).stop();
    }

    @Override
    public void close() {}
  }

  /**
   * Sluice's engine alone: the internal {@code TimerEngine.schedule} (see {@link SluiceTimers}).
   */
  static final class SluiceEngine extends TimerEngines {
    SluiceEngine() {
      super("Sluice engine (internal)");
    }

    @Override
    boolean isSluice() {
      return true;
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      return SluiceTimers.schedule(delayNanos, body);
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, () -> Thread.startVirtualThread(body));
    }

    @Override
    boolean cancel(Object timer) {
      return SluiceTimers.cancel(timer);
    }

    @Override
    public void close() {}
  }

  /**
   * Sluice's scheduler: {@code Scheduler.after(delay, body)} on the system clock, a compact
   * one-shot whose body runs on a virtual thread of its own; cancelled by {@code
   * ScheduleHandle.cancel()}.
   */
  static final class SluiceScheduler extends TimerEngines {
    private final io.sluice.schedule.Scheduler scheduler = io.sluice.schedule.Scheduler.create();

    SluiceScheduler() {
      super("Sluice Scheduler.after");
    }

    @Override
    boolean isSluice() {
      return true;
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      return scheduler.after(Duration.ofNanos(delayNanos), body);
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, body);
    }

    @Override
    boolean cancel(Object timer) {
      return ((io.sluice.schedule.ScheduleHandle) timer).cancel();
    }

    @Override
    public void close() {
      scheduler.close();
    }
  }

  /**
   * Quartz 2.5.2 with its in-memory {@code RAMJobStore} and a pool of 10 worker threads: one job
   * and one simple trigger per timer ({@code scheduleJob}), cancelled by {@code deleteJob}. Its
   * scheduler thread acquires up to 100 due triggers at a time (a tuning, {@code
   * batchTriggerAcquisitionMaxCount}; the default of 1 is slower still). Measured with at most
   * {@value #MAX_PENDING} pending: a Quartz job and trigger cost kilobytes, and a million take
   * minutes to schedule.
   */
  static final class Quartz extends TimerEngines {
    static final int MAX_PENDING = 100_000;
    private static final java.util.concurrent.atomic.AtomicInteger INSTANCES =
        new java.util.concurrent.atomic.AtomicInteger();
    private final org.quartz.Scheduler scheduler;
    private long ids;

    Quartz() {
      super("Quartz 2.5.2 RAMJobStore");
      java.util.Properties p = new java.util.Properties();
      p.setProperty("org.quartz.scheduler.instanceName", "bench-" + INSTANCES.incrementAndGet());
      p.setProperty("org.quartz.scheduler.skipUpdateCheck", "true");
      p.setProperty("org.quartz.scheduler.batchTriggerAcquisitionMaxCount", "100");
      p.setProperty("org.quartz.threadPool.threadCount", "10");
      p.setProperty("org.quartz.jobStore.class", "org.quartz.simpl.RAMJobStore");
      try {
        scheduler = new org.quartz.impl.StdSchedulerFactory(p).getScheduler();
        scheduler.start();
      } catch (org.quartz.SchedulerException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Runs the body given in the job's data map. */
    public static final class BodyJob implements org.quartz.Job {
      /** Made by Quartz for each run. */
      public BodyJob() {}

      @Override
      public void execute(org.quartz.JobExecutionContext context) {
        ((Runnable) context.getMergedJobDataMap().get("body")).run();
      }
    }

    @Override
    int maxPending(int wanted) {
      return Math.min(wanted, MAX_PENDING);
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      long id = ids++;
      org.quartz.JobDataMap data = new org.quartz.JobDataMap();
      data.put("body", body);
      org.quartz.JobDetail job =
          org.quartz.JobBuilder.newJob(BodyJob.class)
              .withIdentity("j" + id)
              .usingJobData(data)
              .build();
      org.quartz.Trigger trigger =
          org.quartz.TriggerBuilder.newTrigger()
              .withIdentity("t" + id)
              .startAt(new java.util.Date(System.currentTimeMillis() + delayNanos / 1_000_000))
              .build();
      try {
        scheduler.scheduleJob(job, trigger);
      } catch (org.quartz.SchedulerException e) {
        throw new IllegalStateException(e);
      }
      return job.getKey();
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, () -> Thread.startVirtualThread(body));
    }

    @Override
    boolean cancel(Object timer) {
      try {
        return scheduler.deleteJob((org.quartz.JobKey) timer);
      } catch (org.quartz.SchedulerException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public void close() {
      try {
        scheduler.shutdown(false);
      } catch (org.quartz.SchedulerException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** {@link ScheduledThreadPoolExecutor}, one thread, remove-on-cancel. */
  static final class Stpe extends TimerEngines {
    private final ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1);

    Stpe() {
      super("ScheduledThreadPoolExecutor");
      executor.setRemoveOnCancelPolicy(true);
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      return executor.schedule(body, delayNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, () -> Thread.startVirtualThread(body));
    }

    @Override
    boolean cancel(Object timer) {
      return ((ScheduledFuture<?>) timer).cancel(false);
    }

    @Override
    public void close() {
      executor.shutdownNow();
    }
  }

  /**
   * The sharded-heap prototype ({@link ShardedHeapTimers}, bench only): one heap per processor, the
   * shard chosen by the scheduling thread; each body runs on a new virtual thread, as {@code
   * afterFunc}'s does.
   */
  static final class Heaps extends TimerEngines {
    private final ShardedHeapTimers timers;

    Heaps(ShardedHeapTimers.CancelPolicy policy) {
      super(
          policy == ShardedHeapTimers.CancelPolicy.LAZY
              ? "Heap shards, lazy cancel"
              : "Heap shards, indexed cancel");
      timers = ShardedHeapTimers.withVirtualThreadBodies(policy);
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      return timers.schedule(System.nanoTime() + delayNanos, body);
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, body);
    }

    @Override
    boolean cancel(Object timer) {
      return ((ShardedHeapTimers.Entry) timer).cancel();
    }

    @Override
    public void close() {
      timers.close();
    }
  }

  /** Netty's {@link HashedWheelTimer}, 1 ms tick. */
  static final class Wheel extends TimerEngines {
    private final HashedWheelTimer timer = new HashedWheelTimer(1, TimeUnit.MILLISECONDS);

    Wheel() {
      super("Netty HashedWheelTimer");
      timer.start();
    }

    @Override
    Object schedule(long delayNanos, Runnable body) {
      TimerTask task = body instanceof TimerTask t ? t : timeout -> body.run();
      return timer.newTimeout(task, delayNanos, TimeUnit.NANOSECONDS);
    }

    @Override
    Object scheduleOnVirtualThread(long delayNanos, Runnable body) {
      return schedule(delayNanos, () -> Thread.startVirtualThread(body));
    }

    @Override
    boolean cancel(Object timer) {
      return ((Timeout) timer).cancel();
    }

    @Override
    public void close() {
      timer.stop();
    }
  }
}
