package io.sluice.core;

import java.util.Arrays;

/*
 * Checks that a sequence of choices among k options looks like independent uniform draws, the way
 * Go's select chooses among ready cases. Shares alone cannot tell a random choice from a
 * round-robin or any other rotation; three statistics together can:
 *
 * 1. Shares: each option's count is Binomial(n, 1/k).
 * 2. Changes: the number of i with c[i] != c[i-1]. For independent uniform draws each of these
 *    indicators is 1 with probability (k-1)/k whatever came before, so the count is
 *    Binomial(n-1, (k-1)/k). A rotation changes every time (n-1); a choice that sticks changes
 *    too rarely, one that avoids repeating too often.
 * 3. Patterns: cut the sequence into n/3 disjoint triples; each of the k^3 patterns is then
 *    Binomial(n/3, 1/k^3). A sequence with any period p < k^3 shows at most p of the patterns, so
 *    at least one count is zero.
 *
 * Each count X is a sum of m independent Bernoulli(p) trials, so Hoeffding's inequality bounds
 * P(|X - mp| >= t) <= 2 exp(-2t^2/m) for every p. The tolerance t of each of the 1 + k + k^3
 * checks is set so that this bound is FAILURE_BUDGET / (1 + k + k^3): by the union bound a truly
 * random chooser fails any of them with probability below FAILURE_BUDGET. The bound is loose
 * (several standard deviations wider than needed), which only makes false failures rarer; n must
 * be large enough that the checks still bite, which the constructor checks: the bands must exclude
 * a zero pattern count and a change count of n-1.
 */
final class IndependentChoices {
  /** The probability that a uniform, independent chooser fails the check. */
  static final double FAILURE_BUDGET = 1e-10;

  private IndependentChoices() {}

  /**
   * Throws an AssertionError unless {@code choices}, each in [0, k), pass all three checks.
   *
   * @throws IllegalArgumentException if there are too few choices for the checks to bite
   */
  static void assertIndependentUniform(int[] choices, int k) {
    int n = choices.length;
    int patterns = k * k * k;
    double delta = FAILURE_BUDGET / (1 + k + patterns);
    int triples = n / 3;
    double changeBand = band(n - 1, delta);
    double patternBand = band(triples, delta);
    if ((double) triples / patterns <= patternBand
        || (n - 1) * (k - 1.0) / k + changeBand >= n - 1) {
      throw new IllegalArgumentException(n + " choices are too few to check " + k + " options");
    }

    int[] shares = new int[k];
    int changes = 0;
    int[] patternCounts = new int[patterns];
    for (int i = 0; i < n; i++) {
      int c = choices[i];
      if (c < 0 || c >= k) {
        throw new AssertionError("choice " + c + " at " + i + " is not one of " + k + " options");
      }
      shares[c]++;
      if (i > 0 && c != choices[i - 1]) {
        changes++;
      }
      if (i % 3 == 2 && i / 3 < triples) {
        patternCounts[(choices[i - 2] * k + choices[i - 1]) * k + c]++;
      }
    }

    double shareBand = band(n, delta);
    for (int c = 0; c < k; c++) {
      within(shares[c], n / (double) k, shareBand, "option " + c + "'s share", shares);
    }
    within(
        changes,
        (n - 1) * (k - 1.0) / k,
        changeBand,
        "changes between successive choices",
        new int[] {changes});
    for (int p = 0; p < patterns; p++) {
      within(
          patternCounts[p],
          triples / (double) patterns,
          patternBand,
          "the count of pattern " + pattern(p, k),
          patternCounts);
    }
  }

  /** Hoeffding's half-width for m trials: 2 exp(-2t^2/m) = delta. */
  private static double band(int m, double delta) {
    return Math.sqrt(m * Math.log(2 / delta) / 2);
  }

  private static void within(int actual, double expected, double band, String what, int[] all) {
    if (Math.abs(actual - expected) >= band) {
      throw new AssertionError(
          String.format(
              "%s is %d, not within %.0f of %.1f, as independent uniform choices would be"
                  + " (all: %s)",
              what, actual, band, expected, Arrays.toString(all)));
    }
  }

  private static String pattern(int p, int k) {
    return "" + (p / (k * k)) + (p / k % k) + (p % k);
  }
}
