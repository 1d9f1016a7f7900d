package io.sluice.schedule;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/** {@link Trigger#every(Duration, Instant)}: {@code start + k * period}, k &ge; 0. */
record EveryTrigger(Duration period, Instant start) implements Trigger {
  EveryTrigger {
    Objects.requireNonNull(period, "period");
    Objects.requireNonNull(start, "start");
    if (period.isZero() || period.isNegative()) {
      throw new IllegalArgumentException("period must be positive, was " + period);
    }
  }

  @Override
  public Optional<Instant> nextAfter(Instant after) {
    if (after.isBefore(start)) {
      return Optional.of(start);
    }
    try {
      long k = Duration.between(start, after).dividedBy(period); // floor: the span is not negative
      return Optional.of(start.plus(period.multipliedBy(k + 1)));
    } catch (ArithmeticException | DateTimeException e) {
      return Optional.empty(); // beyond the range of Instant
    }
  }

  /** The last fire time at or before {@code instant}, or empty if it is before the start. */
  Optional<Instant> lastAtOrBefore(Instant instant) {
    if (instant.isBefore(start)) {
      return Optional.empty();
    }
    long k = Duration.between(start, instant).dividedBy(period);
    return Optional.of(start.plus(period.multipliedBy(k)));
  }

  @Override
  public String spec() {
    return "every " + period + " from " + start;
  }

  @Override
  public String toString() {
    return spec();
  }
}
