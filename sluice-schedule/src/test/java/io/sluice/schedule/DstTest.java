package io.sluice.schedule;

import static io.sluice.schedule.TriggerTest.fires;
import static io.sluice.schedule.TriggerTest.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.zone.ZoneOffsetTransition;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Sluice's DST rule on the dates. Each test first checks the zone's rules (the JDK's tz
 * data) for the transition it relies on, so a change in the data fails loudly instead of making a
 * test pass for the wrong reason.
 */
class DstTest {
  static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");
  static final ZoneId NEW_YORK = ZoneId.of("America/New_York");
  static final ZoneId LORD_HOWE = ZoneId.of("Australia/Lord_Howe");

  /** Asserts that {@code local} in {@code zone} is in a gap (or overlap) of {@code minutes}. */
  static void assertTransition(ZoneId zone, String local, boolean gap, int minutes) {
    ZoneOffsetTransition tr = zone.getRules().getTransition(LocalDateTime.parse(local));
    assertTrue(tr != null && tr.isGap() == gap, zone + " " + local + ": " + tr);
    assertEquals(Duration.ofMinutes(gap ? minutes : -minutes), tr.getDuration());
  }

  // ---- Europe/Berlin: 2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00 ----

  @Test
  void givenBerlinSpringGap_whenDaily0230Shifts_thenItRunsAt0330SummerTime() {
    assertTransition(BERLIN, "2026-03-29T02:30", true, 60);
    Trigger daily = Trigger.daily(LocalTime.of(2, 30), BERLIN);

    assertEquals(
        List.of(
            t("2026-03-28T01:30:00Z"), // 02:30 CET
            t("2026-03-29T01:30:00Z"), // 02:30 does not exist: 03:30 CEST
            t("2026-03-30T00:30:00Z")), // 02:30 CEST
        fires(daily, t("2026-03-27T12:00:00Z"), 3));
  }

  @Test
  void givenBerlinSpringGap_whenDaily0230SkipsGaps_thenThatDayHasNoRun() {
    Trigger daily = Trigger.daily(LocalTime.of(2, 30), BERLIN, DstPolicy.SKIP_GAP);

    assertEquals(
        List.of(t("2026-03-28T01:30:00Z"), t("2026-03-30T00:30:00Z")),
        fires(daily, t("2026-03-27T12:00:00Z"), 2));
  }

  @Test
  void
      givenBerlinSpringGap_whenAskedAfterTheTransitionButBeforeTheShiftedTime_thenTheShiftedRunIsStillNext() {
    // 01:10Z is 03:10 CEST: past 02:45 on the wall clock, but 02:45 shifted is 03:45 CEST.
    Trigger daily = Trigger.daily(LocalTime.of(2, 45), BERLIN);

    assertEquals(
        Optional.of(t("2026-03-29T01:45:00Z")), daily.nextAfter(t("2026-03-29T01:10:00Z")));
  }

  @ParameterizedTest
  @EnumSource(DstPolicy.class)
  void givenBerlinAutumnOverlap_whenDaily0230_thenItRunsOnceAtTheFirstOccurrence(DstPolicy dst) {
    assertTransition(BERLIN, "2026-10-25T02:30", false, 60);
    Trigger daily = Trigger.daily(LocalTime.of(2, 30), BERLIN, dst);

    assertEquals(
        List.of(
            t("2026-10-24T00:30:00Z"),
            t("2026-10-25T00:30:00Z"), // 02:30 CEST; 02:30 CET (01:30Z) does not run
            t("2026-10-26T01:30:00Z")),
        fires(daily, t("2026-10-23T12:00:00Z"), 3));
  }

  @Test
  void givenBerlinSpringGap_whenCronEveryHalfHour_thenShiftedTimesMergeWithRealOnes() {
    Trigger cron = Trigger.cron("*/30 * * * *", CronDialect.UNIX, BERLIN);

    // 01:00 01:30 CET, [02:00 02:30 shifted onto 03:00 03:30 CEST, fired once each], 04:00 CEST
    assertEquals(
        List.of(
            t("2026-03-29T00:00:00Z"),
            t("2026-03-29T00:30:00Z"),
            t("2026-03-29T01:00:00Z"),
            t("2026-03-29T01:30:00Z"),
            t("2026-03-29T02:00:00Z")),
        fires(cron, t("2026-03-28T23:59:00Z"), 5));
  }

  @Test
  void givenBerlinSpringGap_whenCron0230ShiftsOrSkips_thenTheyDiffer() {
    Trigger shift = Trigger.cron("30 2 * * *", CronDialect.UNIX, BERLIN);
    Trigger skip = Trigger.cron("30 2 * * *", CronDialect.UNIX, BERLIN, DstPolicy.SKIP_GAP);

    assertEquals(
        Optional.of(t("2026-03-29T01:30:00Z")), shift.nextAfter(t("2026-03-28T12:00:00Z")));
    assertEquals(Optional.of(t("2026-03-30T00:30:00Z")), skip.nextAfter(t("2026-03-28T12:00:00Z")));
  }

  @ParameterizedTest
  @EnumSource(DstPolicy.class)
  void givenBerlinAutumnOverlap_whenCronEveryQuarterHourAt2_thenOnlyTheFirstPassRuns(
      DstPolicy dst) {
    Trigger cron = Trigger.cron("0 */15 2 * * ?", CronDialect.QUARTZ, BERLIN, dst);

    assertEquals(
        List.of(
            t("2026-10-25T00:00:00Z"),
            t("2026-10-25T00:15:00Z"),
            t("2026-10-25T00:30:00Z"),
            t("2026-10-25T00:45:00Z"),
            t("2026-10-26T01:00:00Z")), // the next day's 02:00 CET
        fires(cron, t("2026-10-24T23:59:00Z"), 5));
  }

  @Test
  void givenBerlinAutumnOverlap_whenEveryHalfHour_thenItRunsThroughBothPasses() {
    Trigger every = Trigger.every(Duration.ofMinutes(30), t("2026-10-24T22:00:00Z"));

    List<LocalTime> wall =
        fires(every, t("2026-10-24T23:45:00Z"), 5).stream()
            .map(i -> i.atZone(BERLIN).toLocalTime())
            .toList();

    // 00:00Z..02:00Z: 02:00 and 02:30 happen twice on the wall clock, and both passes run.
    assertEquals(
        List.of(
            LocalTime.of(2, 0),
            LocalTime.of(2, 30),
            LocalTime.of(2, 0),
            LocalTime.of(2, 30),
            LocalTime.of(3, 0)),
        wall);
  }

  @Test
  void givenBerlinSpringGap_whenEveryHalfHour_thenItKeepsAbsoluteTime() {
    Trigger every = Trigger.every(Duration.ofMinutes(30), t("2026-03-28T00:00:00Z"));

    assertEquals(
        List.of(t("2026-03-29T01:00:00Z"), t("2026-03-29T01:30:00Z")),
        fires(every, t("2026-03-29T00:30:00Z"), 2));
  }

  // ---- America/New_York: 2026-03-08 02:00 -> 03:00, 2026-11-01 02:00 -> 01:00 ----

  @Test
  void givenNewYorkSpringGap_whenDaily0230_thenShiftedOrSkipped() {
    assertTransition(NEW_YORK, "2026-03-08T02:30", true, 60);

    assertEquals(
        Optional.of(t("2026-03-08T07:30:00Z")), // 03:30 EDT
        Trigger.daily(LocalTime.of(2, 30), NEW_YORK).nextAfter(t("2026-03-08T05:00:00Z")));
    assertEquals(
        Optional.of(t("2026-03-09T06:30:00Z")), // the next day, 02:30 EDT
        Trigger.daily(LocalTime.of(2, 30), NEW_YORK, DstPolicy.SKIP_GAP)
            .nextAfter(t("2026-03-08T05:00:00Z")));
  }

  @Test
  void givenNewYorkAutumnOverlap_whenCron0130_thenOnlyTheDaylightTimeOccurrenceRuns() {
    assertTransition(NEW_YORK, "2026-11-01T01:30", false, 60);
    Trigger cron = Trigger.cron("30 1 * * *", CronDialect.UNIX, NEW_YORK);

    assertEquals(
        List.of(t("2026-11-01T05:30:00Z"), t("2026-11-02T06:30:00Z")),
        fires(cron, t("2026-11-01T00:00:00Z"), 2));
  }

  @Test
  void givenNewYorkAutumnOverlap_whenAskedDuringTheSecondPass_thenTheRepeatedTimeDoesNotRunAgain() {
    Trigger daily = Trigger.daily(LocalTime.of(1, 30), NEW_YORK);

    // 06:10Z is 01:10 EST, the second pass; 01:30 ran at 05:30Z (EDT) already.
    assertEquals(
        Optional.of(t("2026-11-02T06:30:00Z")), daily.nextAfter(t("2026-11-01T06:10:00Z")));
  }

  // ---- Australia/Lord_Howe: half-hour shifts, 2026-04-05 02:00 -> 01:30, 2026-10-04 02:00 ->
  // 02:30

  @Test
  void
      givenLordHoweHalfHourGap_whenCronEveryTwentyMinutesAt2_thenFireTimesStayStrictlyIncreasing() {
    assertTransition(LORD_HOWE, "2026-10-04T02:10", true, 30);
    Trigger cron = Trigger.cron("*/20 2 * * *", CronDialect.UNIX, LORD_HOWE);

    // Wall times 02:00 and 02:20 do not exist: shifted by 30 min to 02:30 and 02:50 (+11:00);
    // 02:40 exists. The shifted 02:50 lands after the real 02:40, so order is by instant.
    assertEquals(
        List.of(
            t("2026-10-03T15:30:00Z"), // 02:00 -> 02:30 +11
            t("2026-10-03T15:40:00Z"), // 02:40 +11
            t("2026-10-03T15:50:00Z"), // 02:20 -> 02:50 +11
            t("2026-10-04T15:00:00Z")), // the next day's 02:00 +11
        fires(cron, t("2026-10-03T15:00:00Z"), 4));
  }

  @Test
  void givenLordHoweHalfHourGap_whenSkippingGaps_thenOnlyTheRealTimeRuns() {
    Trigger cron = Trigger.cron("*/20 2 * * *", CronDialect.UNIX, LORD_HOWE, DstPolicy.SKIP_GAP);

    assertEquals(
        List.of(t("2026-10-03T15:40:00Z"), t("2026-10-04T15:00:00Z")),
        fires(cron, t("2026-10-03T15:00:00Z"), 2));
  }

  @Test
  void givenLordHoweHalfHourOverlap_whenDaily0145_thenTheFirstOccurrenceRunsOnly() {
    assertTransition(LORD_HOWE, "2026-04-05T01:45", false, 30);
    Trigger daily = Trigger.daily(LocalTime.of(1, 45), LORD_HOWE);

    assertEquals(
        List.of(
            t("2026-04-04T14:45:00Z"), // 01:45 +11:00; 01:45 +10:30 (15:15Z) does not run
            t("2026-04-05T15:15:00Z")), // the next day, +10:30
        fires(daily, t("2026-04-04T14:00:00Z"), 2));
  }

  @Test
  void
      givenAnyWallClockTrigger_whenEnumeratedThroughAYearOfTransitions_thenFireTimesStrictlyIncrease() {
    for (ZoneId zone : List.of(BERLIN, NEW_YORK, LORD_HOWE)) {
      for (DstPolicy dst : DstPolicy.values()) {
        Trigger cron = Trigger.cron("0,20,40 1-3 * * *", CronDialect.UNIX, zone, dst);
        List<Instant> year = fires(cron, t("2026-01-01T00:00:00Z"), 365 * 9);
        for (int i = 1; i < year.size(); i++) {
          assertTrue(year.get(i).isAfter(year.get(i - 1)), zone + " " + dst + " at " + year.get(i));
        }
      }
    }
  }
}
