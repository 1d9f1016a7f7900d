package io.sluice.jobs.journal;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What {@link Journal#open} found while replaying: available from {@link Journal#replayReport()}.
 *
 * @param records records replayed
 * @param segments segment files read
 * @param bytes bytes of segment files read
 * @param truncatedTail the torn or corrupt end of the last segment that was cut off, if any
 * @param corruptRegions damaged regions skipped before readable data (in the middle of a segment,
 *     or at the end of a segment that is not the last), in file order
 * @param warnings every warning logged during replay, in order
 * @param duration how long replay took
 */
public record ReplayReport(
    long records,
    int segments,
    long bytes,
    Optional<TruncatedTail> truncatedTail,
    List<CorruptRegion> corruptRegions,
    List<String> warnings,
    Duration duration) {

  /**
   * Copies the lists.
   *
   * @param records records replayed
   * @param segments segment files read
   * @param bytes bytes of segment files read
   * @param truncatedTail the cut-off tail, if any
   * @param corruptRegions damaged regions skipped
   * @param warnings warnings logged
   * @param duration how long replay took
   */
  public ReplayReport {
    Objects.requireNonNull(truncatedTail, "truncatedTail");
    corruptRegions = List.copyOf(corruptRegions);
    warnings = List.copyOf(warnings);
    Objects.requireNonNull(duration, "duration");
  }

  /**
   * Whether replay found nothing wrong.
   *
   * @return true if there was no torn tail and no corrupt region
   */
  public boolean clean() {
    return truncatedTail.isEmpty() && corruptRegions.isEmpty();
  }

  /**
   * The end of the last segment that was cut off at open: a record whose write was torn by a crash
   * (never acknowledged under {@link Durability#ALWAYS}), or damage at the very end.
   *
   * @param segment the segment number
   * @param offset the byte offset where readable data ended and the cut was made
   * @param droppedBytes the bytes cut off
   */
  public record TruncatedTail(long segment, long offset, long droppedBytes) {}

  /**
   * A damaged region that replay skipped.
   *
   * @param segment the segment number
   * @param offset the byte offset where the damage starts
   * @param length the bytes skipped
   * @param reason what was wrong (bad frame check, damaged header ...)
   */
  public record CorruptRegion(long segment, long offset, long length, String reason) {}
}
