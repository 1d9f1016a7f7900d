package io.sluice.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Per-stage figures of one run and how it ended: at the end in the {@link Result} (or the {@link
 * PipelineException}), and live from a {@link Monitor}. {@link #toString()} is a table for people;
 * the components are for code.
 *
 * @param outcome how the run ended, or {@link Outcome#RUNNING}
 * @param stages the stages, sources first, in the order they were started
 * @param elapsed wall time from the start of the run to its end (or to this snapshot)
 */
public record Report(Outcome outcome, List<StageStats> stages, Duration elapsed) {

  /**
   * Copies the stage list.
   *
   * @param outcome how the run ended
   * @param stages the stages
   * @param elapsed wall time
   */
  public Report {
    Objects.requireNonNull(outcome, "outcome");
    stages = List.copyOf(stages);
    Objects.requireNonNull(elapsed, "elapsed");
  }

  /**
   * The stage with this name.
   *
   * @param name a stage name
   * @return the stage's figures, or empty if there is no such stage
   */
  public Optional<StageStats> stage(String name) {
    return stages.stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /**
   * A table: one row per stage with items in, out, failed, busy milliseconds, queued items and
   * threads working ("in-flight"; see {@link StageStats#inFlight()}).
   *
   * @return the table, preceded by the outcome and elapsed time
   */
  @Override
  public String toString() {
    int w = Math.max(5, stages.stream().mapToInt(s -> s.name().length()).max().orElse(0));
    StringBuilder b = new StringBuilder();
    b.append(outcome).append(" in ").append(elapsed.toMillis()).append(" ms\n");
    String row = "%-" + w + "s %12s %12s %8s %10s %8s %9s%n";
    b.append(String.format(row, "stage", "in", "out", "failed", "busy ms", "queued", "in-flight"));
    for (StageStats s : stages) {
      b.append(
          String.format(
              row,
              s.name(),
              s.in(),
              s.out(),
              s.failed(),
              String.format("%.1f", s.busy().toNanos() / 1e6),
              s.queued(),
              s.inFlight()));
    }
    return b.toString();
  }
}
