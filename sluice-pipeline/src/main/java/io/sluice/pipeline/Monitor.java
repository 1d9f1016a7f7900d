package io.sluice.pipeline;

import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * A live view of a run's figures. Pass one with {@link Pipeline.Options#withMonitor(Monitor)} and
 * call {@link #snapshot()} from any thread while the terminal runs; after the run it keeps the
 * final report (for a run ended by the interrupt of its caller, one with {@link
 * Outcome#STOPPED_IMMEDIATELY}, or {@link Outcome#FAILED} if a stage had failed). A monitor shows
 * the latest run started with it.
 *
 * <p>Memory consistency effects: the counters are read without stopping the run, so a snapshot
 * taken while running is consistent per counter, not across counters; the snapshot after the
 * terminal returned is exact.
 */
public final class Monitor {
  private volatile Supplier<Report> source;

  private Monitor() {}

  /**
   * A monitor that has seen no run yet.
   *
   * @return the monitor
   */
  public static Monitor create() {
    return new Monitor();
  }

  /**
   * The figures now: live ({@link Outcome#RUNNING}) while a run is going, final after it.
   *
   * @return the report; before any run, a {@link Outcome#RUNNING} report without stages
   */
  public Report snapshot() {
    Supplier<Report> s = source;
    return s == null ? new Report(Outcome.RUNNING, List.of(), Duration.ZERO) : s.get();
  }

  void attach(Supplier<Report> source) {
    this.source = source;
  }
}
