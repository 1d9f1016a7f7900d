/** Typed, cancellable data pipelines: sources, stages, fan-out and fan-in, sinks. */
package io.sluice.pipeline;
