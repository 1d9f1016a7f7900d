package io.sluice.jobs;

import java.time.Duration;
import java.util.Objects;

/**
 * When a durable store forces its journal to stable storage, and so what an acknowledged submit
 * promises.
 */
public sealed interface Durability {

  /**
   * Forced before every acknowledgement: an accepted job survives a crash of the process or of the
   * machine. Concurrent submits share one force (group commit). The default.
   */
  Durability ALWAYS = new Always();

  /**
   * Written to the operating system before the acknowledgement and left to it to force: an accepted
   * job survives a crash of the process, but a power loss may lose the last seconds.
   */
  Durability NEVER = new Never();

  /**
   * Written before the acknowledgement and forced every {@code period}: a power loss loses at most
   * about {@code period} of accepted jobs.
   *
   * @param period how often to force; positive
   * @return the policy
   */
  static Durability interval(Duration period) {
    return new Interval(period);
  }

  /** Forced before every acknowledgement. */
  record Always() implements Durability {}

  /** Never forced by Sluice. */
  record Never() implements Durability {}

  /**
   * Forced every {@code period}.
   *
   * @param period how often; positive
   */
  record Interval(Duration period) implements Durability {
    /** Checks the period. */
    public Interval {
      Objects.requireNonNull(period, "period");
      if (period.isNegative() || period.isZero()) {
        throw new IllegalArgumentException("force interval must be positive, got " + period);
      }
    }
  }
}
