package io.sluice.schedule;

/**
 * What a wall-clock schedule ({@link Trigger#daily daily} or {@link Trigger#cron cron}) does with a
 * local time that does not exist on a given day: a spring-forward gap, such as 02:30 in
 * Europe/Berlin on 2026-03-29 (clocks go from 02:00 to 03:00).
 *
 * <p>A local time that occurs twice (an autumn overlap, such as 02:30 in Europe/Berlin on
 * 2026-10-25) is not a policy choice: Sluice runs it once, at its first occurrence (the earlier
 * offset, usually summer time), and never fires the same wall time a second time. Interval
 * schedules ({@link Trigger#every}) are in absolute time and are not affected by either rule.
 *
 * <table class="striped">
 *   <caption>DST rules for wall-clock schedules</caption>
 *   <thead><tr><th>wall time</th><th>{@link #SHIFT} (default)</th><th>{@link #SKIP_GAP}</th></tr></thead>
 *   <tbody>
 *     <tr><td>exists once</td><td>runs</td><td>runs</td></tr>
 *     <tr><td>in a gap (does not exist)</td><td>runs at the instant the local time would have had
 *       without the gap: later by the gap's length (02:30 becomes 03:30 summer time), as {@link
 *       java.time.ZonedDateTime#of(java.time.LocalDateTime, java.time.ZoneId)} does</td>
 *       <td>does not run that day</td></tr>
 *     <tr><td>in an overlap (exists twice)</td><td colspan="2">runs once, at the first occurrence</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>A shifted run never duplicates another: when a shifted gap time lands on the same instant as a
 * regular fire time (a cron that fires at both 02:00 and 03:00 on a day where 02:00 does not
 * exist), it runs once.
 */
public enum DstPolicy {
  /** A wall time in a spring gap runs at the instant shifted forward by the gap's length. */
  SHIFT,
  /** A wall time in a spring gap is skipped: that day has no run at that time. */
  SKIP_GAP;

  /** The spec suffix, or "" for the default. */
  String specSuffix() {
    return this == SKIP_GAP ? " skip-gap" : "";
  }
}
