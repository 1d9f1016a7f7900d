package io.sluice.pipeline;

/**
 * What a run does when its context is cancelled or reaches its deadline; see {@link
 * Pipeline.Options#withStopMode(StopMode)}.
 */
public enum StopMode {
  /**
   * The source stops producing; the items already inside the pipeline drain through every stage to
   * the terminal, which then returns with {@link Outcome#STOPPED_GRACEFULLY}. User functions keep
   * running until the pipeline is empty, and {@link Pipeline#context()} stays not done, so a
   * function that blocks forever delays the end — unless the options give the stop a limit ({@link
   * Pipeline.Options#withGracefulStopTimeout}), after which it becomes {@link #IMMEDIATE} and is
   * reported as {@link Outcome#STOPPED_IMMEDIATELY}.
   */
  GRACEFUL,
  /**
   * Every stage stops at once: blocked channel operations end, stage threads are interrupted, the
   * items in flight are dropped, and the terminal returns with {@link Outcome#STOPPED_IMMEDIATELY}.
   * The default.
   */
  IMMEDIATE
}
