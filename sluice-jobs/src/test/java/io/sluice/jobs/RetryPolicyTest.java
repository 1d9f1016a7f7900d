package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

  private final RetryPolicy policy =
      new RetryPolicy(5, Duration.ofMillis(100), Duration.ofSeconds(1), 2.0);

  @Test
  void theCapGrowsExponentiallyUpToTheMaximum() {
    assertEquals(Duration.ofMillis(100), policy.capAfter(1));
    assertEquals(Duration.ofMillis(200), policy.capAfter(2));
    assertEquals(Duration.ofMillis(800), policy.capAfter(4));
    assertEquals(Duration.ofSeconds(1), policy.capAfter(5));
    assertEquals(Duration.ofSeconds(1), policy.capAfter(1_000));
  }

  @Test
  void delaysAreFullJitterSpreadAcrossTheWholeRangeUnderTheCap() {
    SplittableRandom random = new SplittableRandom(42);
    long cap = policy.capAfter(3).toNanos();
    long below = 0;
    long above = 0;
    for (int i = 0; i < 10_000; i++) {
      long d = policy.delayAfter(3, random).toNanos();
      assertTrue(d >= 0 && d <= cap, "delay " + d + " outside [0, " + cap + "]");
      if (d < cap / 4) {
        below++;
      } else if (d > cap * 3 / 4) {
        above++;
      }
    }
    assertTrue(below > 2_000 && above > 2_000, "both ends are used: " + below + ", " + above);
  }

  @Test
  void attemptsStopAtTheMaximum() {
    assertTrue(policy.allowsAnotherAfter(4));
    assertFalse(policy.allowsAnotherAfter(5));
    assertFalse(RetryPolicy.never().allowsAnotherAfter(1));
    assertEquals(Duration.ZERO, RetryPolicy.never().delayAfter(1, new SplittableRandom(1)));
  }

  @Test
  void nonsenseIsRejectedAtOnce() {
    assertThrows(IllegalArgumentException.class, () -> policy.withMaxAttempts(0));
    assertThrows(
        IllegalArgumentException.class,
        () -> policy.withDelays(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    assertThrows(
        IllegalArgumentException.class,
        () -> new RetryPolicy(3, Duration.ZERO, Duration.ZERO, 0.5));
    assertThrows(
        IllegalArgumentException.class,
        () -> new RetryPolicy(3, Duration.ZERO, Duration.ZERO, Double.NaN));
  }

  @Test
  void delaysTooLongToCountInNanosecondsAreCappedThereInsteadOfOverflowing() {
    // given policies whose delays are beyond what a long counts in nanoseconds (~292 years)
    Duration millennium = Duration.ofDays(365L * 1_000);
    RetryPolicy huge = new RetryPolicy(3, millennium, millennium, 2.0);
    RetryPolicy longest =
        new RetryPolicy(3, Duration.ofSeconds(1), Duration.ofNanos(Long.MAX_VALUE), 2.0);
    SplittableRandom random = new SplittableRandom(3);

    // when the caps and delays are asked for, even after very many attempts
    // then they are the longest a long counts, and the delays stay in [0, cap]
    assertEquals(Duration.ofNanos(Long.MAX_VALUE), huge.capAfter(1));
    assertEquals(Duration.ofNanos(Long.MAX_VALUE), longest.capAfter(Integer.MAX_VALUE));
    for (int i = 0; i < 1_000; i++) {
      assertFalse(huge.delayAfter(1 + i, random).isNegative());
      assertFalse(longest.delayAfter(Integer.MAX_VALUE - i, random).isNegative());
    }
  }

  @Test
  void delaysAfterManyAttemptsStayWithinTheMaximum() {
    RetryPolicy steep = new RetryPolicy(1_000, Duration.ofNanos(1), Duration.ofHours(1), 1e300);
    SplittableRandom random = new SplittableRandom(5);
    for (int attempt = 1; attempt < 100_000; attempt += 7) {
      Duration d = steep.delayAfter(attempt, random);
      assertTrue(!d.isNegative() && d.compareTo(Duration.ofHours(1)) <= 0, attempt + ": " + d);
    }
  }
}
