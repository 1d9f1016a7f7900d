package io.sluice.pipeline;

import java.time.Duration;
import java.util.Objects;

/**
 * One stage's figures in a {@link Report}.
 *
 * @param name the stage's name ({@link Pipeline#named(String)}, else its kind, with {@code #2},
 *     {@code #3} ... when a kind occurs more than once)
 * @param in items the stage received
 * @param out items the stage passed on (for a terminal: items it consumed)
 * @param failed items on which the stage's function failed (skipped, dead-lettered or fatal)
 * @param busy time the stage spent working on items, summed over its threads (not waiting on its
 *     channels)
 * @param queued items waiting in the stage's input buffer at the time of the report
 */
public record StageStats(String name, long in, long out, long failed, Duration busy, long queued) {

  /**
   * Checks the components.
   *
   * @param name the stage's name
   * @param in items received
   * @param out items passed on
   * @param failed items failed
   * @param busy time spent working
   * @param queued items waiting in the input buffer
   */
  public StageStats {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(busy, "busy");
  }
}
