package io.sluice.bench;

/** Pre-boxed values for the channel benchmarks, so the loops measure hand-offs, not boxing. */
final class Values {
  private Values() {}

  /** {@code Integer}s 1..n, boxed once. */
  static Integer[] boxed(int n) {
    Integer[] values = new Integer[n];
    for (int i = 0; i < n; i++) {
      values[i] = Integer.valueOf(i + 1);
    }
    return values;
  }

  /** The sum of {@code count} values taken cyclically from {@code values} (length a power of 2). */
  static long sumOfCycle(Integer[] values, int count) {
    long sum = 0;
    for (int i = 0; i < count; i++) {
      sum += values[i & (values.length - 1)];
    }
    return sum;
  }

  /** Fails the benchmark if a value was lost or duplicated. */
  static void check(long expected, long actual) {
    if (expected != actual) {
      throw new AssertionError(
          "values lost or duplicated: sum " + actual + ", expected " + expected);
    }
  }
}
