package io.sluice.pipeline;

import java.time.Duration;

/*
 * Sluice's rule for durations, as core applies it to timeouts, delays and deadlines: a duration too
 * long to count in a long of nanoseconds (about 292 years) means "never", not an overflow. The
 * stages that keep deadlines on a clock's nanoTime (batch, throttle) also cap them at NEVER, a
 * quarter of the long range, so that a deadline made from any nanoTime reading, and the differences
 * they compare, never wrap.
 */
final class Durations {
  /** Longer than any run: about 73 years of nanoseconds. */
  static final long NEVER = Long.MAX_VALUE / 4;

  private Durations() {}

  /** {@code d} in nanoseconds, saturated to {@link Long#MAX_VALUE} (d is never negative here). */
  static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /** {@code d} in nanoseconds, at most {@link #NEVER}: for deadlines on a nanoTime clock. */
  static long cappedNanos(Duration d) {
    return Math.min(nanos(d), NEVER);
  }
}
