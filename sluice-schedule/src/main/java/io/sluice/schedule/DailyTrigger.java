package io.sluice.schedule;

import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.Objects;

/** {@link Trigger#daily(LocalTime, ZoneId, DstPolicy)}: one candidate per day. */
final class DailyTrigger extends WallClockTrigger {
  final LocalTime time;

  DailyTrigger(LocalTime time, ZoneId zone, DstPolicy dst) {
    super(zone, dst);
    this.time = Objects.requireNonNull(time, "time");
  }

  @Override
  LocalDateTime candidateAfter(LocalDateTime local) {
    LocalDateTime today = local.toLocalDate().atTime(time);
    if (today.isAfter(local)) {
      return today;
    }
    try {
      return today.plusDays(1);
    } catch (DateTimeException e) {
      return null; // past the end of LocalDateTime
    }
  }

  @Override
  public String spec() {
    return "daily " + time + " " + zone.getId() + dst.specSuffix();
  }
}
