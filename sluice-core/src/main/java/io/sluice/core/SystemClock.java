package io.sluice.core;

import java.time.Instant;
import java.util.function.Predicate;

/*
 * The operating system's clocks, with one TimerWheel shared by every timer, ticker, sleep and
 * context deadline of the process. Its thread, `sluice-timer`, starts with the first timer (the
 * holder class idiom), so a program that never schedules one never starts it.
 */
final class SystemClock extends Clock {
  static final SystemClock INSTANCE = new SystemClock();

  private static final class Engine {
    static final TimerWheel WHEEL =
        TimerWheel.startThread("sluice-timer", TimerWheel.SYSTEM_TICK_SHIFT);
  }

  private SystemClock() {}

  @Override
  public Instant now() {
    return Instant.now();
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  TimerHandle schedule(long deadlineNanos, Runnable action) {
    return Engine.WHEEL.schedule(deadlineNanos, action);
  }

  @Override
  int cancelMatching(Predicate<? super Runnable> filter) throws InterruptedException {
    TimerWheel wheel = Engine.WHEEL;
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (Thread.currentThread() == wheel.thread()) {
      return wheel.cancelMatching(filter);
    }
    return wheel.onEngine(() -> wheel.cancelMatching(filter));
  }

  /** The shared engine, for tests. */
  static TimerWheel wheel() {
    return Engine.WHEEL;
  }

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
