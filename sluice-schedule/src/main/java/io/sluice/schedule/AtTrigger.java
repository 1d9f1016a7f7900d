package io.sluice.schedule;

import java.time.Instant;
import java.util.Optional;

/** {@link Trigger#at(Instant)}. */
record AtTrigger(Instant instant) implements Trigger {
  @Override
  public Optional<Instant> nextAfter(Instant after) {
    return instant.isAfter(after) ? Optional.of(instant) : Optional.empty();
  }

  @Override
  public String spec() {
    return "at " + instant;
  }

  @Override
  public String toString() {
    return spec();
  }
}
