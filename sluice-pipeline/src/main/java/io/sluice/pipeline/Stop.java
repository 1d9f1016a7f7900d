package io.sluice.pipeline;

/*
 * Unwinds a stage thread after its failure has been recorded with the run (fail-fast) or after the
 * run started stopping: never reported, never seen outside the package. Stackless and shared.
 */
final class Stop extends RuntimeException {
  private static final long serialVersionUID = 1L;
  static final Stop INSTANCE = new Stop();

  private Stop() {
    super("pipeline stage stopped", null, false, false);
  }
}
