package io.sluice.schedule;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.zone.ZoneOffsetTransition;
import java.time.zone.ZoneRules;
import java.util.Objects;
import java.util.Optional;

/*
 * A trigger defined by wall-clock times in a zone (daily, cron), and Sluice's DST rule.
 *
 * Subclasses enumerate candidates: local date-times, ascending, with no zone (candidateAfter). Each
 * candidate L becomes an instant f(L) by the zone's rules:
 *   - one valid offset: that instant;
 *   - two valid offsets (an autumn overlap): the earlier offset, i.e. the first occurrence
 *     (ZonedDateTime.ofLocal(L, zone, null) picks it);
 *   - no valid offset (a spring gap): SHIFT -> L moved forward by the gap's length at the later
 *     offset (what ZonedDateTime.of does); SKIP_GAP -> no instant.
 * nextAfter(after) is the least f(L) strictly after `after`. Taking the least f rather than the
 * f of the first candidate is what keeps fire times strictly increasing and free of duplicates.
 *
 * f is monotonic except inside a gap: a shifted gap time L lands at L + gap, past regular times
 * after the gap that are earlier than it (02:30 shifted to 03:30 summer time lies after a regular
 * 03:15). Two consequences shape the scan:
 *   - It must start early enough to meet a gap time whose shifted instant is after `after` although
 *     its local time is before after's local time: when `after` lies within a gap's length after
 *     the gap's transition, the scan starts at the gap's start.
 *   - Once a candidate with f(L) > after is found, later candidates can only beat it if L was a
 *     shifted gap time; then the scan goes on until L + gap (no later candidate can land earlier),
 *     else it stops at once.
 * The overlap never fires a local time twice because each local time maps to one instant, and the
 * second pass's instants are simply never produced. Overlap times are still monotonic with their
 * neighbours: L in the overlap maps to the earlier offset, before every time after the overlap.
 */
abstract sealed class WallClockTrigger implements Trigger permits DailyTrigger, CronTrigger {
  final ZoneId zone;
  final DstPolicy dst;

  WallClockTrigger(ZoneId zone, DstPolicy dst) {
    this.zone = Objects.requireNonNull(zone, "zone");
    this.dst = Objects.requireNonNull(dst, "dst");
  }

  /** The first wall-clock candidate strictly after {@code local}, or null if there is none. */
  abstract LocalDateTime candidateAfter(LocalDateTime local);

  @Override
  public final Optional<Instant> nextAfter(Instant after) {
    try {
      return Optional.ofNullable(leastAfter(after));
    } catch (DateTimeException e) {
      return Optional.empty(); // beyond the range of LocalDateTime
    }
  }

  private Instant leastAfter(Instant after) {
    ZoneRules rules = zone.getRules();
    LocalDateTime scanFrom = LocalDateTime.ofInstant(after, zone);
    ZoneOffsetTransition last = rules.previousTransition(after.plusNanos(1));
    if (last != null
        && last.isGap()
        && after.isBefore(last.getInstant().plus(last.getDuration()))) {
      scanFrom = last.getDateTimeBefore(); // gap times shifted past `after` start here
    }
    Instant best = null;
    LocalDateTime stopAt = null;
    for (LocalDateTime c = candidateAfter(scanFrom.minusNanos(1));
        c != null && (stopAt == null || c.isBefore(stopAt));
        c = candidateAfter(c)) {
      ZoneOffsetTransition gap = gapAt(rules, c);
      if (gap != null && dst == DstPolicy.SKIP_GAP) {
        continue;
      }
      Instant at = ZonedDateTime.ofLocal(c, zone, null).toInstant();
      if (!at.isAfter(after)) {
        continue;
      }
      if (best == null || at.isBefore(best)) {
        best = at;
      }
      if (stopAt == null) {
        if (gap == null) {
          break;
        }
        stopAt = c.plus(gap.getDuration());
      }
    }
    return best;
  }

  /** The gap transition {@code local} falls in, or null if {@code local} exists. */
  private static ZoneOffsetTransition gapAt(ZoneRules rules, LocalDateTime local) {
    if (!rules.getValidOffsets(local).isEmpty()) {
      return null;
    }
    return rules.getTransition(local);
  }

  @Override
  public final boolean equals(Object o) {
    return o instanceof WallClockTrigger t && t.spec().equals(spec());
  }

  @Override
  public final int hashCode() {
    return spec().hashCode();
  }

  @Override
  public final String toString() {
    return spec();
  }
}
