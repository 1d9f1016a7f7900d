package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.internal.Nanos;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The saturating arithmetic every timeout, delay and deadline in Sluice goes through. */
class NanosTest {
  @Test
  void givenDurationsThatFit_whenConverted_thenTheyAreExact() {
    assertEquals(1_500_000_000L, Nanos.of(Duration.ofMillis(1_500)));
    assertEquals(-7L, Nanos.of(Duration.ofNanos(-7)));
    assertEquals(Long.MAX_VALUE, Nanos.of(Duration.ofNanos(Long.MAX_VALUE)));
  }

  @Test
  void givenDurationsTooLongForALong_whenConverted_thenTheySaturateWithTheirSign() {
    assertEquals(Long.MAX_VALUE, Nanos.of(Duration.ofSeconds(Long.MAX_VALUE)));
    assertEquals(Long.MAX_VALUE, Nanos.of(Duration.ofNanos(Long.MAX_VALUE).plusNanos(1)));
    assertEquals(Long.MIN_VALUE, Nanos.of(Duration.ofSeconds(Long.MIN_VALUE)));
  }

  @Test
  void givenSumsThatFit_whenAdded_thenTheyAreExact() {
    assertEquals(-2L, Nanos.add(-5, 3));
    assertEquals(Long.MAX_VALUE, Nanos.add(Long.MAX_VALUE - 5, 5));
    assertEquals(
        Long.MIN_VALUE + 1, Nanos.add(Long.MIN_VALUE, 1)); // a negative nanoTime plus a delay
  }

  @Test
  void givenSumsThatOverflow_whenAdded_thenTheySaturateTowardsTheAddend() {
    assertEquals(Long.MAX_VALUE, Nanos.add(Long.MAX_VALUE - 5, 6));
    assertEquals(Long.MAX_VALUE, Nanos.add(1, Long.MAX_VALUE));
    assertEquals(Long.MIN_VALUE, Nanos.add(Long.MIN_VALUE + 5, -6));
    assertEquals(Long.MIN_VALUE, Nanos.add(-1, Long.MIN_VALUE));
  }

  @Test
  void givenDifferencesThatFit_whenSubtracted_thenTheyAreExact() {
    assertEquals(-8L, Nanos.subtract(-5, 3));
    assertEquals(Long.MAX_VALUE, Nanos.subtract(-1, Long.MIN_VALUE));
    assertEquals(Long.MIN_VALUE, Nanos.subtract(Long.MIN_VALUE + 5, 5));
  }

  @Test
  void givenDifferencesThatOverflow_whenSubtracted_thenTheySaturateWithTheTrueSign() {
    assertEquals(Long.MAX_VALUE, Nanos.subtract(0, Long.MIN_VALUE)); // now minus a saturated past
    assertEquals(Long.MAX_VALUE, Nanos.subtract(Long.MAX_VALUE, -1));
    assertEquals(Long.MIN_VALUE, Nanos.subtract(-2, Long.MAX_VALUE));
    assertEquals(Long.MIN_VALUE, Nanos.subtract(Long.MIN_VALUE, 1));
  }
}
