package io.sluice.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/*
 * One stage's counters. Stage threads add per chunk (not per item), so the cost is a few adds per
 * chunk; readers (Monitor, the end report) sum without stopping the run.
 */
final class Meter {
  final String name;
  final LongAdder in = new LongAdder();
  final LongAdder out = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder busyNanos = new LongAdder();
  private final List<Edge> inputs;

  Meter(String name, List<Edge> inputs) {
    this.name = name;
    this.inputs = inputs;
  }

  StageStats stats() {
    long queued = 0;
    for (Edge e : inputs) {
      queued += e.queued();
    }
    return new StageStats(
        name, in.sum(), out.sum(), failed.sum(), Duration.ofNanos(busyNanos.sum()), queued);
  }
}
