package io.sluice.pipeline;

import java.util.Objects;

/**
 * What a terminal returns when the run did not fail: its value and the run's report.
 *
 * <p>When the run was stopped by its context ({@link Outcome#STOPPED_GRACEFULLY} or {@link
 * Outcome#STOPPED_IMMEDIATELY}), the value covers the items that reached the terminal before the
 * stop.
 *
 * @param value the terminal's value (a list, a count, a reduction)
 * @param report per-stage figures and how the run ended
 * @param <R> the value type
 */
public record Result<R>(R value, Report report) {

  /**
   * Checks the components.
   *
   * @param value the terminal's value
   * @param report per-stage figures and how the run ended
   */
  public Result {
    Objects.requireNonNull(value, "value");
    Objects.requireNonNull(report, "report");
  }

  /**
   * How the run ended: {@link Outcome#COMPLETED}, {@link Outcome#STOPPED_GRACEFULLY} or {@link
   * Outcome#STOPPED_IMMEDIATELY}.
   *
   * @return the outcome
   */
  public Outcome outcome() {
    return report.outcome();
  }
}
