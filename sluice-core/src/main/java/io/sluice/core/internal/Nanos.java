package io.sluice.core.internal;

import java.time.Duration;

/**
 * <strong>Not API.</strong> Saturating nanosecond arithmetic, so that a duration or a deadline too
 * far out to count in a {@code long} of nanoseconds (about 292 years) means "never" rather than an
 * overflow: the one rule Sluice's modules share for timeouts, delays and deadlines. See {@link
 * TimerEngine} for who may use this package.
 */
public final class Nanos {
  private Nanos() {}

  /**
   * {@code d} in nanoseconds, saturated: {@link Long#MAX_VALUE} or {@link Long#MIN_VALUE} where it
   * does not fit.
   *
   * @param d a duration
   * @return its length in nanoseconds, saturated
   */
  public static long of(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException overflow) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }

  /**
   * {@code a + b}, saturated: {@link Long#MAX_VALUE} or {@link Long#MIN_VALUE} where the sum
   * overflows. How a deadline is made from a {@code nanoTime()} reading and a delay.
   *
   * @param a a value
   * @param b another
   * @return their sum, saturated
   */
  public static long add(long a, long b) {
    long sum = a + b;
    if (((a ^ sum) & (b ^ sum)) < 0) {
      return b > 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return sum;
  }

  /**
   * {@code a - b}, saturated: {@link Long#MAX_VALUE} or {@link Long#MIN_VALUE} where the difference
   * overflows. How far apart two {@code nanoTime()} scale values are when one may be a saturated
   * deadline.
   *
   * @param a a value
   * @param b the value to subtract from it
   * @return their difference, saturated
   */
  public static long subtract(long a, long b) {
    long difference = a - b;
    if (((a ^ b) & (a ^ difference)) < 0) {
      return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
    return difference;
  }
}
