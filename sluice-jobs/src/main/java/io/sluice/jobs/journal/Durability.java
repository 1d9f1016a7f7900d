package io.sluice.jobs.journal;

import java.time.Duration;
import java.util.Objects;

/**
 * When an append counts as done: the durability policy of a {@link Journal}.
 *
 * <table class="striped">
 *   <caption>Policies</caption>
 *   <thead><tr><th>policy</th><th>an append completes</th><th>a crash loses</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #ALWAYS} (default)</td><td>after its record is written and forced to the
 *         device (group commit: one force for everything pending)</td><td>nothing acknowledged</td></tr>
 *     <tr><td>{@link #interval(Duration) interval(d)}</td><td>after its record is written; the
 *         writer forces at most every {@code d}</td><td>up to about {@code d} of acknowledged
 *         records on power loss (a process crash alone loses nothing once written in buffered
 *         mode)</td></tr>
 *     <tr><td>{@link #NEVER}</td><td>after its record is written; the operating system decides
 *         when it reaches the device (close forces)</td><td>whatever the OS had not written</td></tr>
 *   </tbody>
 * </table>
 */
public sealed interface Durability
    permits Durability.Always, Durability.Interval, Durability.Never {
  /** Forced before acknowledgement. */
  Durability ALWAYS = new Always();

  /** Not forced by the journal, except by {@link Journal#close()}. */
  Durability NEVER = new Never();

  /**
   * Forced at most every {@code every}: appends complete once written, and the writer forces when
   * the interval has passed since the last force and something is unforced.
   *
   * @param every the interval, positive
   * @return the policy
   * @throws IllegalArgumentException if {@code every} is not positive
   */
  static Durability interval(Duration every) {
    return new Interval(every);
  }

  /** See {@link #ALWAYS}. */
  record Always() implements Durability {}

  /**
   * See {@link #interval(Duration)}.
   *
   * @param every the interval between forces, positive
   */
  record Interval(Duration every) implements Durability {
    /**
     * Validates the interval.
     *
     * @param every the interval between forces, positive
     */
    public Interval {
      Objects.requireNonNull(every, "every");
      if (every.isNegative() || every.isZero()) {
        throw new IllegalArgumentException("interval must be positive: " + every);
      }
    }
  }

  /** See {@link #NEVER}. */
  record Never() implements Durability {}
}
