/**
 * Sluice pipelines: typed, cancellable data pipelines built on Sluice channels.
 *
 * <p>Everything public lives in {@link io.sluice.pipeline}.
 */
module io.sluice.pipeline {
  requires transitive io.sluice.core;

  exports io.sluice.pipeline;
}
