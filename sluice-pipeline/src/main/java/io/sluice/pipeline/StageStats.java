package io.sluice.pipeline;

import java.time.Duration;
import java.util.Objects;

/**
 * One stage's figures in a {@link Report}.
 *
 * @param name the stage's name ({@link Pipeline#named(String)}, else its kind, with {@code #2},
 *     {@code #3} ... when a kind occurs more than once)
 * @param in items the stage took: a stage that runs a function item by item (map, filter, peek,
 *     flatMap, mapParallel, partitionBy, the terminals that call user code) counts each item as it
 *     takes it, so a live report shows how far a stuck stage got into its chunk; the others count
 *     whole chunks as they receive them. So {@code take}'s {@code in} counts all of the chunk in
 *     which it reaches its limit, though it passes on only part of it: as for a filter, {@code in -
 *     out} is what it dropped, and no item goes uncounted between it and the stage before it
 * @param out items the stage passed on (for a terminal: items it consumed)
 * @param failed items on which the stage's function failed (skipped, dead-lettered or fatal)
 * @param busy time the stage spent working on items, summed over its threads (not waiting on its
 *     channels); in a live report it includes the time so far of the chunk or item each thread is
 *     working on, so a stuck stage's busy time keeps growing
 * @param queued items waiting in the stage's input buffer at the time of the report
 * @param inFlight the stage's threads working at the time of the report: for {@code mapParallel}
 *     and {@code partitionBy}, the items (or, for a partition, the chunks) inside the function; for
 *     a sequential stage, 1 while its thread works on a chunk and 0 while it waits on a channel;
 *     always 0 in the report of a finished run
 */
public record StageStats(
    String name, long in, long out, long failed, Duration busy, long queued, long inFlight) {

  /**
   * Checks the components.
   *
   * @param name the stage's name
   * @param in items received
   * @param out items passed on
   * @param failed items failed
   * @param busy time spent working
   * @param queued items waiting in the input buffer
   * @param inFlight threads working at the time of the report
   */
  public StageStats {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(busy, "busy");
  }
}
