package io.sluice.bench;

import io.sluice.core.Clock;
import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;

/**
 * Sluice's timer engine without the {@code Timer} object around it: {@link TimerEngine#schedule(
 * Clock, long, Runnable)} and the entry's {@code cancel()}, worth measuring next to the public
 * {@code Clock.afterFunc} to show what the engine costs and what the {@code Timer} adds. The
 * package is not API and is exported only to {@code io.sluice.schedule}; the benchmarks run on the
 * class path, where it is reachable.
 */
final class SluiceTimers {
  private SluiceTimers() {}

  private static final Clock CLOCK = Clock.system();

  /** {@code TimerEngine.schedule(Clock.system(), System.nanoTime() + delayNanos, action)}. */
  static Object schedule(long delayNanos, Runnable action) {
    return TimerEngine.schedule(CLOCK, System.nanoTime() + delayNanos, action);
  }

  /** {@code entry.cancel()}. */
  static boolean cancel(Object entry) {
    return ((TimerEntry) entry).cancel();
  }
}
