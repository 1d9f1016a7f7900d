package io.sluice.bench;

import java.util.Locale;

/** The median and the middle half of a sorted sample, as the duels print them. */
final class Medians {
  private Medians() {}

  static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  /** From the first quartile to the third, e.g. {@code 0.79-0.90}. */
  static String middleHalf(double[] sorted) {
    return String.format(
        Locale.ROOT, "%.2f-%.2f", sorted[sorted.length / 4], sorted[(3 * sorted.length) / 4]);
  }
}
