package io.sluice.schedule;

import io.sluice.core.Channel;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.internal.EndedThreads;
import io.sluice.core.internal.Nanos;
import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/*
 * The scheduler. It owns no thread: schedules are entries in the clock's one timer engine (core's
 * timing wheel), whose actions -- OneShot.fire, RecurringSchedule.run -- only decide and hand runs
 * to new threads from the thread factory (startRun). So the engine thread never runs user code.
 *
 * Tracking, for shutdown and close:
 *   - recurring schedules sit in `recurring` from creation until they stop;
 *   - compact one-shots are tracked nowhere (a collection would cost more than the 40-byte entry
 *     that is the whole one-shot): shutdown asks the engine to cancel every pending entry that is
 *     a OneShot of this scheduler (TimerEngine.cancelMatching), which walks the engine's entries on
 *     its own thread;
 *   - threads running bodies sit in `running` from just before start() until they end; then in
 *     `ended` (core's EndedThreads) until they have terminated, which close() joins as well: a body
 *     that has ended still has to exit, and close() promises that no thread outlives it.
 *
 * Races with shutdown, each closed by checking the flag after publishing (Dekker; the flag is
 * volatile and the sets are concurrent, so the accesses are sequentially consistent):
 *   - making a schedule: register/arm first, then check `shutdown`; if set, undo and throw;
 *   - starting a run: add the thread to `running` first, then check `shutdown`; if set, do not
 *     start it. Either shutdown sees the thread (and awaitTermination waits for it) or the run
 *     sees the flag.
 * Runs are started by engine actions, and shutdown's cancelMatching is itself processed by the
 * engine (on its thread, or under a ManualClock's lock), after any action already firing; a queued
 * QUEUE_ONE run and a fixed-delay re-arm check their schedule's stop flags under its monitor, which
 * shutdown sets. So no run starts after shutdown() returns.
 *
 * awaitTermination waits on `idle`, signalled when a body thread ends or shutdown completes while
 * someone waits (signalIdle says why no wake-up is lost).
 */
final class SchedulerImpl implements Scheduler {
  private final Clock clock;
  private final ThreadFactory threadFactory;
  private final BiConsumer<ScheduleHandle, Throwable> errorHandler;
  private final Duration closeGrace;

  private volatile boolean shutdown;
  private final Object shutdownLock = new Object();
  private final Set<RecurringSchedule> recurring = ConcurrentHashMap.newKeySet();
  private final Set<Thread> running = ConcurrentHashMap.newKeySet();
  private final EndedThreads ended = new EndedThreads(); // guarded by itself
  private final ReentrantLock idleLock = new ReentrantLock();
  private final Condition idle = idleLock.newCondition();
  private volatile int awaiting; // threads in awaitTermination; written under idleLock

  SchedulerImpl(SchedulerOptions options) {
    Objects.requireNonNull(options, "options");
    this.clock = options.clock();
    this.threadFactory = options.threadFactory();
    this.errorHandler = options.errorHandler();
    this.closeGrace = options.closeGracePeriod();
  }

  @Override
  public Clock clock() {
    return clock;
  }

  // ---- making schedules ----

  @Override
  public ScheduleHandle at(Instant time, Runnable task) {
    return oneShot(deadlineFor(Objects.requireNonNull(time, "time")), task);
  }

  @Override
  public ScheduleHandle after(Duration delay, Runnable task) {
    long nanos = Nanos.of(Objects.requireNonNull(delay, "delay"));
    return oneShot(Nanos.add(clock.nanoTime(), nanos), task);
  }

  private ScheduleHandle oneShot(long deadline, Runnable task) {
    Objects.requireNonNull(task, "task");
    requireOpen();
    OneShot handle = new OneShot(this, deadline, task);
    TimerEngine.schedule(handle);
    if (shutdown) {
      handle.cancel();
      throw shutDown();
    }
    return handle;
  }

  @Override
  public ScheduleHandle every(Duration period, Runnable task) {
    return schedule(Trigger.every(period, clock.now()), task);
  }

  @Override
  public ScheduleHandle every(Duration period, Instant start, Runnable task) {
    return schedule(Trigger.every(period, start), task);
  }

  @Override
  public ScheduleHandle everyWithDelay(Duration initialDelay, Duration delay, Runnable task) {
    return everyWithDelay(initialDelay, delay, task, ScheduleOptions.defaults());
  }

  @Override
  public ScheduleHandle everyWithDelay(
      Duration initialDelay, Duration delay, Runnable task, ScheduleOptions options) {
    Objects.requireNonNull(initialDelay, "initialDelay");
    Objects.requireNonNull(delay, "delay");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(options, "options");
    if (delay.isZero() || delay.isNegative()) {
      throw new IllegalArgumentException("delay must be positive, was " + delay);
    }
    DelaySchedule s = new DelaySchedule(this, delay, task, options);
    register(s);
    s.start(initialDelay);
    return s;
  }

  @Override
  public ScheduleHandle daily(LocalTime time, ZoneId zone, Runnable task) {
    return schedule(Trigger.daily(time, zone), task);
  }

  @Override
  public ScheduleHandle cron(String expression, CronDialect dialect, ZoneId zone, Runnable task) {
    return schedule(Trigger.cron(expression, dialect, zone), task);
  }

  @Override
  public ScheduleHandle schedule(Trigger trigger, Runnable task) {
    return schedule(trigger, task, ScheduleOptions.defaults());
  }

  @Override
  public ScheduleHandle schedule(Trigger trigger, Runnable task, ScheduleOptions options) {
    Objects.requireNonNull(trigger, "trigger");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(options, "options");
    TaskSchedule s = new TaskSchedule(this, trigger, task, options);
    register(s);
    s.start();
    return s;
  }

  @Override
  public ReceiveChannel<Instant> fireTimes(Context ctx, Trigger trigger) {
    return fireTimes(ctx, trigger, ScheduleOptions.defaults());
  }

  @Override
  public ReceiveChannel<Instant> fireTimes(Context ctx, Trigger trigger, ScheduleOptions options) {
    Objects.requireNonNull(ctx, "ctx");
    Objects.requireNonNull(trigger, "trigger");
    Objects.requireNonNull(options, "options");
    requireOpen();
    Channel<Instant> channel = Channel.buffered(1);
    if (ctx.isDone()) {
      channel.close();
      return channel;
    }
    ChannelSchedule s = new ChannelSchedule(this, ctx, trigger, options, channel);
    register(s);
    s.start();
    s.bindContext();
    return channel;
  }

  private void register(RecurringSchedule s) {
    requireOpen();
    recurring.add(s);
    if (shutdown) {
      recurring.remove(s);
      throw shutDown();
    }
  }

  void forget(RecurringSchedule s) {
    recurring.remove(s);
  }

  private void requireOpen() {
    if (shutdown) {
      throw shutDown();
    }
  }

  private static IllegalStateException shutDown() {
    return new IllegalStateException("the scheduler is shut down; it makes no new schedules");
  }

  // ---- the engine and time ----

  TimerEntry engineSchedule(long deadlineNanos, Runnable action) {
    return TimerEngine.schedule(clock, deadlineNanos, action);
  }

  /** The clock's nanoTime at which {@code at} is due, by the current wall-clock reading. */
  long deadlineFor(Instant at) {
    long nowNanos = clock.nanoTime();
    Instant now = clock.now();
    return Nanos.add(nowNanos, Nanos.of(Duration.between(now, at)));
  }

  /** The wall-clock instant of the clock's nanoTime reading {@code nanos}. */
  Instant instantAt(long nanos) {
    long nowNanos = clock.nanoTime();
    return clock.now().minusNanos(nowNanos - nanos);
  }

  // ---- runs ----

  /**
   * Starts {@code body} on a new thread from the factory, unless the scheduler is shut down. Called
   * by engine actions (and by a run's thread for a queued run); never blocks.
   *
   * @return whether the thread was started
   */
  boolean startRun(ScheduleHandle handle, Runnable body) {
    Thread thread;
    try {
      thread = threadFactory.newThread(() -> runThread(body));
      if (thread == null) {
        throw new RejectedExecutionException("the scheduler's thread factory returned null");
      }
    } catch (Throwable e) {
      report(handle, e);
      return false;
    }
    running.add(thread);
    if (shutdown) {
      running.remove(thread);
      signalIdle();
      return false;
    }
    try {
      thread.start();
      return true;
    } catch (Throwable e) {
      running.remove(thread);
      signalIdle();
      report(handle, e);
      return false;
    }
  }

  private void runThread(Runnable body) {
    try {
      body.run();
    } finally {
      Thread me = Thread.currentThread();
      synchronized (ended) {
        ended.add(me); // before it leaves `running`: close() looks at `running`, then `ended`
      }
      running.remove(me);
      signalIdle();
    }
  }

  /** Runs one task, reporting what it throws. */
  void runTask(ScheduleHandle handle, Runnable task) {
    try {
      task.run();
    } catch (Throwable e) {
      report(handle, e);
    }
  }

  private void report(ScheduleHandle handle, Throwable failure) {
    try {
      errorHandler.accept(handle, failure);
    } catch (Throwable handlerFailure) {
      failure.addSuppressed(handlerFailure);
      SchedulerOptions.UNCAUGHT.accept(handle, failure);
    }
  }

  // ---- shutting down ----

  @Override
  public void shutdown() {
    synchronized (shutdownLock) {
      if (shutdown) {
        return;
      }
      shutdown = true;
      for (RecurringSchedule s : recurring) {
        s.stop(true);
      }
      // An engine refuses an already interrupted caller before it queues the walk, so the status
      // is cleared first: an interrupt may end only the wait (the engine then cancels them, later).
      boolean interrupted = Thread.interrupted();
      try {
        TimerEngine.cancelMatching(clock, e -> e instanceof OneShot o && o.scheduler == this);
      } catch (InterruptedException e) {
        interrupted = true;
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    signalIdle();
  }

  @Override
  public boolean isShutdown() {
    return shutdown;
  }

  @Override
  public boolean awaitTermination(Duration timeout) throws InterruptedException {
    long remaining = Nanos.of(Objects.requireNonNull(timeout, "timeout"));
    idleLock.lockInterruptibly();
    try {
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      awaiting++;
      try {
        while (!terminated()) {
          if (remaining <= 0) {
            return false;
          }
          remaining = idle.awaitNanos(remaining);
        }
        return true;
      } finally {
        awaiting--;
      }
    } finally {
      idleLock.unlock();
    }
  }

  @Override
  public void close() {
    shutdown();
    // No run starts after shutdown() returns, so these are all the threads there will be.
    Thread self = Thread.currentThread();
    List<Thread> bodies = new ArrayList<>();
    for (Thread t : running) {
      if (t != self) {
        bodies.add(t);
      }
    }
    // Bodies that ended but whose threads may still be exiting: joined too, so none outlives close.
    synchronized (ended) {
      for (Thread t : ended.snapshot()) {
        if (t != self) {
          bodies.add(t);
        }
      }
    }
    boolean interrupted = Thread.interrupted();
    try {
      if (!interrupted) {
        try {
          if (joinAll(bodies, Nanos.of(closeGrace))) {
            return;
          }
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      bodies.forEach(Thread::interrupt);
      if (!joinAllUninterruptibly(bodies, Nanos.of(closeGrace))) {
        List<String> names = new ArrayList<>();
        for (Thread t : bodies) {
          if (t.isAlive()) {
            names.add(t.getName().isEmpty() ? "#" + t.threadId() : t.getName());
          }
        }
        throw new IllegalStateException(
            "scheduler closed, but task bodies still run "
                + closeGrace
                + " after being interrupted (they ignore interrupts): "
                + names);
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Joins every thread within {@code nanos} in all; true if all ended. */
  private static boolean joinAll(List<Thread> threads, long nanos) throws InterruptedException {
    long deadline = Nanos.add(System.nanoTime(), nanos);
    for (Thread t : threads) {
      long left = deadline - System.nanoTime();
      if (left > 0) {
        t.join(Duration.ofNanos(left));
      }
      if (t.isAlive()) {
        return false;
      }
    }
    return true;
  }

  private static boolean joinAllUninterruptibly(List<Thread> threads, long nanos) {
    long deadline = Nanos.add(System.nanoTime(), nanos);
    boolean interrupted = false;
    try {
      while (true) {
        try {
          return joinAll(threads, Math.max(0, deadline - System.nanoTime()));
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private boolean terminated() {
    int busy = running.size();
    if (busy > 0 && running.contains(Thread.currentThread())) {
      busy--;
    }
    return shutdown && busy == 0;
  }

  /**
   * Wakes awaitTermination. Only when someone waits: a body's end removes its thread from `running`
   * and then reads `awaiting`; a waiter increments `awaiting` and then reads `running`; both are
   * sequentially consistent, so either the body sees the waiter or the waiter sees the removal.
   */
  private void signalIdle() {
    if (awaiting == 0) {
      return;
    }
    idleLock.lock();
    try {
      idle.signalAll();
    } finally {
      idleLock.unlock();
    }
  }

  // ---- for tests ----

  /** Threads running bodies now. */
  int runningBodies() {
    return running.size();
  }

  /** Recurring schedules not yet stopped. */
  int liveRecurring() {
    return recurring.size();
  }

  /** Checks every live recurring schedule's invariants, and that none survives shutdown. */
  void checkInvariants() {
    synchronized (ended) {
      ended.checkInvariants();
    }
    for (RecurringSchedule s : recurring) {
      s.checkInvariants();
    }
    if (shutdown && !recurring.isEmpty()) {
      throw new AssertionError("recurring schedules survive shutdown: " + recurring);
    }
  }

  @Override
  public String toString() {
    return "Scheduler[" + clock + (shutdown ? ", shut down" : "") + "]";
  }
}
