package io.sluice.core;

import io.sluice.core.internal.TimerEntry;
import io.sluice.core.internal.TimerWheel;
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
        TimerWheel.startThread("sluice-timer", TimerWheel.SYSTEM_TICK_SHIFT, INSTANCE);
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
  TimerWheel wheel() {
    return Engine.WHEEL;
  }

  @Override
  int cancelMatching(Predicate<? super TimerEntry> filter) throws InterruptedException {
    TimerWheel wheel = Engine.WHEEL;
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (Thread.currentThread() == wheel.thread()) {
      return wheel.cancelMatching(filter);
    }
    return wheel.onEngine(() -> wheel.cancelMatching(filter));
  }

  @Override
  public String toString() {
    return "Clock.system()";
  }
}
