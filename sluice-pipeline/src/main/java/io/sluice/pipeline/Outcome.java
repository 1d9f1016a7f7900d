package io.sluice.pipeline;

/** How a pipeline run ended, or that it is still running; see {@link Report#outcome()}. */
public enum Outcome {
  /** The run has not ended yet (only in a live {@link Monitor#snapshot()}). */
  RUNNING,
  /** The source ran out and every item went through every stage. */
  COMPLETED,
  /**
   * The run's context was cancelled (or hit its deadline) under {@link StopMode#GRACEFUL}: the
   * source stopped and the items already in the pipeline drained through to the terminal.
   */
  STOPPED_GRACEFULLY,
  /**
   * The run's context was cancelled (or hit its deadline) under {@link StopMode#IMMEDIATE}, or a
   * {@link StopMode#GRACEFUL} stop outlasted its limit ({@link
   * Pipeline.Options#withGracefulStopTimeout}): every stage stopped at once and the items in flight
   * were dropped.
   */
  STOPPED_IMMEDIATELY,
  /** A stage failed under the fail-fast policy; the terminal threw a {@link PipelineException}. */
  FAILED
}
