package io.sluice.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.Month;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Trigger kinds, cron dialects, month ends and leap years, specs and their errors. */
class TriggerTest {
  static final ZoneId UTC = ZoneOffset.UTC;

  static Instant t(String instant) {
    return Instant.parse(instant);
  }

  /** The first {@code n} fire times strictly after {@code after}. */
  static List<Instant> fires(Trigger trigger, Instant after, int n) {
    List<Instant> out = new ArrayList<>();
    Instant cursor = after;
    for (int i = 0; i < n; i++) {
      Optional<Instant> next = trigger.nextAfter(cursor);
      if (next.isEmpty()) {
        break;
      }
      out.add(next.get());
      cursor = next.get();
    }
    return out;
  }

  @Test
  void givenAnAtTrigger_whenAskedBeforeAndAtItsInstant_thenItFiresOnceOnly() {
    Trigger at = Trigger.at(t("2026-03-29T01:30:00Z"));

    assertEquals(Optional.of(t("2026-03-29T01:30:00Z")), at.nextAfter(t("2026-03-29T01:29:59Z")));
    assertEquals(Optional.empty(), at.nextAfter(t("2026-03-29T01:30:00Z")));
    assertEquals(
        Optional.of(t("2026-03-29T01:30:00Z")), at.nextAtOrAfter(t("2026-03-29T01:30:00Z")));
  }

  @Test
  void givenAnEveryTrigger_whenAskedBeforeItsStart_thenTheStartComesFirst() {
    Trigger every = Trigger.every(Duration.ofMinutes(15), t("2026-01-01T00:00:00Z"));

    assertEquals(
        List.of(t("2026-01-01T00:00:00Z"), t("2026-01-01T00:15:00Z"), t("2026-01-01T00:30:00Z")),
        fires(every, t("2025-12-31T00:00:00Z"), 3));
  }

  @Test
  void givenAStartInThePast_whenTheFirstFireAtOrAfterNowIsAsked_thenItIsTheNextBoundary() {
    // The seed's Kronika example: hourly, on the hour, from a start years ago.
    Trigger hourly = Trigger.every(Duration.ofHours(1), t("2019-09-17T14:00:00Z"));

    assertEquals(
        Optional.of(t("2026-03-29T11:00:00Z")), hourly.nextAtOrAfter(t("2026-03-29T10:20:00Z")));
    assertEquals(
        Optional.of(t("2026-03-29T10:00:00Z")), hourly.nextAtOrAfter(t("2026-03-29T10:00:00Z")));
    assertEquals(
        Optional.of(t("2026-03-29T11:00:00Z")), hourly.nextAfter(t("2026-03-29T10:00:00Z")));
  }

  @Test
  void givenAnEveryTriggerWithANanosecondPeriod_whenAskedCenturiesLater_thenItStillAnswers() {
    Trigger tiny = Trigger.every(Duration.ofNanos(3), t("2026-01-01T00:00:00Z"));

    assertEquals(
        Optional.of(t("2026-01-01T00:00:00.000000003Z")),
        tiny.nextAfter(t("2026-01-01T00:00:00.000000001Z")));
  }

  @Test
  void givenAZeroOrNegativePeriod_whenMakingAnEveryTrigger_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> Trigger.every(Duration.ZERO, Instant.EPOCH));
    assertThrows(
        IllegalArgumentException.class, () -> Trigger.every(Duration.ofSeconds(-1), Instant.EPOCH));
  }

  @Test
  void givenADailyTriggerInUtc_whenAsked_thenItFiresEveryDayAtThatTime() {
    Trigger daily = Trigger.daily(LocalTime.of(2, 30), UTC);

    assertEquals(
        List.of(t("2026-01-01T02:30:00Z"), t("2026-01-02T02:30:00Z")),
        fires(daily, t("2026-01-01T02:29:59.999Z"), 2));
    assertEquals(
        Optional.of(t("2026-01-02T02:30:00Z")), daily.nextAfter(t("2026-01-01T02:30:00Z")));
  }

  @Test
  void givenUnixDay31_whenEnumerated_thenOnlyThe31DayMonthsFire() {
    Trigger day31 = Trigger.cron("0 0 31 * *", CronDialect.UNIX, UTC);

    List<Month> months =
        fires(day31, t("2025-12-31T00:00:00Z"), 7).stream()
            .map(i -> i.atZone(UTC).getMonth())
            .toList();

    assertEquals(
        List.of(
            Month.JANUARY,
            Month.MARCH,
            Month.MAY,
            Month.JULY,
            Month.AUGUST,
            Month.OCTOBER,
            Month.DECEMBER),
        months);
  }

  @Test
  void givenUnixFebruary29_whenEnumerated_thenOnlyLeapYearsFire() {
    Trigger leap = Trigger.cron("0 12 29 2 *", CronDialect.UNIX, UTC);

    assertEquals(
        List.of(t("2028-02-29T12:00:00Z"), t("2032-02-29T12:00:00Z"), t("2036-02-29T12:00:00Z")),
        fires(leap, t("2026-01-01T00:00:00Z"), 3));
  }

  @Test
  void givenUnixLastDayStyleDay28To31_whenInAFebruaryOfALeapYear_thenTheTwentyNinthFires() {
    Trigger lateMonth = Trigger.cron("0 0 28-31 2 *", CronDialect.UNIX, UTC);

    assertEquals(
        List.of(t("2028-02-28T00:00:00Z"), t("2028-02-29T00:00:00Z"), t("2029-02-28T00:00:00Z")),
        fires(lateMonth, t("2027-03-01T00:00:00Z"), 3));
  }

  @Test
  void givenAQuartzExpressionWithSeconds_whenEnumerated_thenItFiresEveryFiveMinutes() {
    Trigger quartz = Trigger.cron("0 0/5 * * * ?", CronDialect.QUARTZ, UTC);

    assertEquals(
        List.of(t("2026-01-01T00:05:00Z"), t("2026-01-01T00:10:00Z")),
        fires(quartz, t("2026-01-01T00:04:59.500Z"), 2));
  }

  @Test
  void givenMonthNamesInAList_whenMade_thenTheDayFieldChecksLeaveThemAlone() {
    // JUL has an L, and in Unix cron the fourth field is the month, not the day of the month
    Trigger unix = Trigger.cron("0 12 1 JUL,AUG *", CronDialect.UNIX, UTC);
    Trigger quartz = Trigger.cron("0 0 12 1 JUL,AUG ?", CronDialect.QUARTZ, UTC);

    assertEquals(
        List.of(t("2026-07-01T12:00:00Z"), t("2026-08-01T12:00:00Z")),
        fires(unix, t("2026-01-01T00:00:00Z"), 2));
    assertEquals(
        List.of(t("2026-07-01T12:00:00Z"), t("2026-08-01T12:00:00Z")),
        fires(quartz, t("2026-01-01T00:00:00Z"), 2));
  }

  @Test
  void givenQuartzNearestWeekdayAndLastWeekday_whenEnumerated_thenWeekendDaysMoveToAWeekday() {
    Trigger fifteenth = Trigger.cron("0 0 12 15W * ?", CronDialect.QUARTZ, UTC);
    Trigger lastWeekday = Trigger.cron("0 0 12 LW * ?", CronDialect.QUARTZ, UTC);

    // 2026-02-15 and 2026-03-15 are Sundays; 2026-01-31 and 2026-02-28 are Saturdays
    assertEquals(
        List.of(
            t("2026-01-15T12:00:00Z"),
            t("2026-02-16T12:00:00Z"),
            t("2026-03-16T12:00:00Z"),
            t("2026-04-15T12:00:00Z")),
        Misfires.between(fifteenth, t("2026-01-01T00:00:00Z"), t("2026-04-30T00:00:00Z")));
    assertEquals(
        List.of(
            t("2026-01-30T12:00:00Z"),
            t("2026-02-27T12:00:00Z"),
            t("2026-03-31T12:00:00Z"),
            t("2026-04-30T12:00:00Z")),
        Misfires.between(lastWeekday, t("2026-01-01T00:00:00Z"), t("2026-04-30T23:00:00Z")));
  }

  @Test
  void givenAQuartzExpressionWithAPastYear_whenAsked_thenItIsExhausted() {
    Trigger past = Trigger.cron("0 0 0 1 1 ? 2020", CronDialect.QUARTZ, UTC);

    assertEquals(Optional.empty(), past.nextAfter(t("2026-01-01T00:00:00Z")));
  }

  @Test
  void givenASpringExpression_whenEnumerated_thenWeekdaysOnlyFire() {
    Trigger weekdays = Trigger.cron("0 0 9 * * MON-FRI", CronDialect.SPRING, UTC);

    List<Instant> fired = fires(weekdays, t("2026-01-02T10:00:00Z"), 3); // a Friday

    assertEquals(
        List.of(t("2026-01-05T09:00:00Z"), t("2026-01-06T09:00:00Z"), t("2026-01-07T09:00:00Z")),
        fired);
  }

  @Test
  void givenASpringEveryFiveSeconds_whenEnumerated_thenSecondsCount() {
    Trigger spring = Trigger.cron("*/5 * * * * *", CronDialect.SPRING, UTC);

    assertEquals(
        List.of(t("2026-01-01T00:00:05Z"), t("2026-01-01T00:00:10Z")),
        fires(spring, t("2026-01-01T00:00:00Z"), 2));
  }

  @Test
  void givenACronInAZone_whenEnumerated_thenTheWallClockOfThatZoneCounts() {
    Trigger tokyo = Trigger.cron("0 9 * * *", CronDialect.UNIX, ZoneId.of("Asia/Tokyo"));

    assertEquals(
        Optional.of(t("2026-01-01T00:00:00Z")), tokyo.nextAfter(t("2025-12-31T12:00:00Z")));
  }

  @Test
  void givenAnImpossibleDate_whenAsked_thenTheTriggerHasNoFireTime() {
    Trigger never = Trigger.cron("0 0 30 2 *", CronDialect.UNIX, UTC);

    assertEquals(Optional.empty(), never.nextAfter(t("2026-01-01T00:00:00Z")));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "0 0 * * * *|UNIX|UNIX|30 2 * * *",
        "bad|UNIX|UNIX|contains 1 parts",
        "0 0 12 * * *|QUARTZ|QUARTZ|0 0/5 * * * ?",
        "61 * * * *|UNIX|UNIX|30 2 * * *",
        "0 0 * * *|SPRING|SPRING|0 */5 * * * *",
        "\"  \"|UNIX|UNIX|it is empty",
        "0 0 12 1-L * ?|QUARTZ|QUARTZ|0 0/5 * * * ?",
        "0 0 12 31W * ?|QUARTZ|LW|0 0/5 * * * ?",
        "0 0 12 29W * ?|QUARTZ|LW|0 0/5 * * * ?",
        "0 0 12 1,15W * ?|QUARTZ|single day|0 0/5 * * * ?",
        "0 0 12 L-3,15 * ?|QUARTZ|list|0 0/5 * * * ?",
        "0 0 12 ? * 6L,2|QUARTZ|list|0 0/5 * * * ?",
      })
  void givenAnInvalidExpression_whenMakingACron_thenTheMessageNamesTheDialectAndShowsAValidOne(
      String expression, CronDialect dialect, String named, String shown) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Trigger.cron(expression, dialect, UTC));

    assertTrue(e.getMessage().contains(named), e.getMessage());
    assertTrue(e.getMessage().contains(shown), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "at 2026-03-29T01:30:00Z",
        "at 2026-03-29T01:30:00.123456789Z",
        "every PT15M from 2026-01-01T00:00:00Z",
        "every PT24H from 2019-09-17T14:00:00Z",
        "every PT0.5S from 2026-01-01T00:00:00Z",
        "daily 02:30 Europe/Berlin",
        "daily 02:30:15 Europe/Berlin skip-gap",
        "daily 00:00 UTC",
        "daily 23:59:59.500 +05:30",
        "cron unix Europe/Berlin 0 0 31 * *",
        "cron quartz UTC 0 0/5 * * * ?",
        "cron quartz UTC 0 0 0 1 1 ? 2030",
        "cron spring UTC 0 */5 * * * *",
        "cron spring UTC 0 0/5 * * * * skip-gap",
        "cron unix America/New_York 30 2 * * * skip-gap",
        "cron unix Australia/Lord_Howe */20 2 * * *",
      })
  void givenACanonicalSpec_whenParsed_thenItsSpecIsTheSameAndSoAreItsFireTimes(String spec) {
    Trigger parsed = Trigger.parse(spec);

    assertEquals(spec, parsed.spec());
    Trigger again = Trigger.parse(parsed.spec());
    assertEquals(parsed, again);
    assertEquals(parsed.hashCode(), again.hashCode());
    assertEquals(
        fires(parsed, t("2025-01-01T00:00:00Z"), 5), fires(again, t("2025-01-01T00:00:00Z"), 5));
  }

  @Test
  void givenTriggersMadeByFactories_whenTheirSpecsAreParsed_thenTheyRoundTrip() {
    List<Trigger> triggers =
        List.of(
            Trigger.at(t("2026-03-29T01:30:00Z")),
            Trigger.every(Duration.ofSeconds(900), t("2026-01-01T00:00:00Z")),
            Trigger.daily(LocalTime.of(2, 30), ZoneId.of("Europe/Berlin"), DstPolicy.SKIP_GAP),
            Trigger.cron("  0   0/5 * * * ? ", CronDialect.QUARTZ, UTC));
    for (Trigger trigger : triggers) {
      assertEquals(trigger.spec(), Trigger.parse(trigger.spec()).spec());
      assertEquals(trigger, Trigger.parse(trigger.spec()));
    }
    assertEquals("every PT15M from 2026-01-01T00:00:00Z", triggers.get(1).spec());
    assertEquals("cron quartz Z 0 0/5 * * * ?", triggers.get(3).spec());
  }

  @Test
  void givenASpecWithExtraSpaces_whenParsed_thenTheSpecIsCanonical() {
    assertEquals(
        "every PT15M from 2026-01-01T00:00:00Z",
        Trigger.parse("  every   PT900S from 2026-01-01T01:00:00+01:00 ").spec());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '"',
      value = {
        "\"\"|it is empty",
        "weekly MON|unknown kind 'weekly'",
        "at|'at' takes exactly one instant",
        "at yesterday|'yesterday' is not an ISO-8601 instant",
        "every PT15M|'every' takes a period, the word 'from'",
        "every 15m from 2026-01-01T00:00:00Z|'15m' is not an ISO-8601 duration",
        "every PT0S from 2026-01-01T00:00:00Z|is not positive",
        "daily 2:30 Europe/Berlin|'2:30' is not a local time",
        "daily 02:30 Mars/Olympus|'Mars/Olympus' is not a time zone id",
        "daily 02:30|'daily' takes a local time and a zone",
        "daily 02:30 UTC skip|'daily' takes a local time and a zone",
        "cron cobol UTC 0 0 * * *|unknown cron dialect 'cobol'",
        "cron unix UTC|'cron' takes a dialect, a zone",
        "cron unix UTC 0 0 * *|invalid UNIX cron expression '0 0 * *'",
      })
  void givenAnInvalidSpec_whenParsed_thenTheMessageSaysWhatIsWrongAndShowsAValidSpec(
      String spec, String problem) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Trigger.parse(spec));

    assertTrue(e.getMessage().contains(problem), e.getMessage());
    assertTrue(
        e.getMessage().contains("; expected ") || e.getMessage().contains("looks like"),
        e.getMessage());
  }

  @Test
  void givenAnAtTriggerNearTheEndOfTime_whenAsked_thenNoOverflow() {
    assertEquals(Optional.empty(), Trigger.at(Instant.MAX).nextAfter(Instant.MAX));
    assertEquals(
        Optional.empty(),
        Trigger.daily(LocalTime.NOON, UTC).nextAfter(Instant.MAX.minusSeconds(5)));
    assertEquals(
        Optional.empty(),
        Trigger.every(Duration.ofDays(1), Instant.EPOCH).nextAfter(Instant.MAX.minusSeconds(5)));
  }

  static ZonedDateTime local(Instant i, String zone) {
    return i.atZone(ZoneId.of(zone));
  }
}
