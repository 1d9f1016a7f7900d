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

/** The three timer libraries behind one interface, for the plain (non-JMH) timer programs. */
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

  /** Every library: Sluice first, then the peers. */
  static List<Supplier<TimerEngines>> all() {
    return List.of(Sluice::new, SluiceEngine::new, Stpe::new, Wheel::new);
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

  /** Sluice's engine alone: the internal {@code Clock.schedule} (see {@link SluiceTimers}). */
  static final class SluiceEngine extends TimerEngines {
    SluiceEngine() {
      super("Sluice engine (internal)");
      SluiceTimers.requireAvailable();
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
