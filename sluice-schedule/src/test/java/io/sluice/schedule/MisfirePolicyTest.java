package io.sluice.schedule;

import static io.sluice.schedule.TriggerTest.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The pure misfire rule that the in-process and durable schedulers share. */
class MisfirePolicyTest {
  static final Duration MINUTE = Duration.ofMinutes(1);
  static final Duration THRESHOLD = Duration.ofSeconds(5);
  static final Trigger EVERY_MINUTE = Trigger.every(MINUTE, t("2026-01-01T00:00:00Z"));

  @Test
  void givenAFireTimeNotYetDue_whenResolved_thenNothingRunsAndItIsStillNext() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.SKIP.resolve(
            EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:04:00Z"), THRESHOLD);

    assertEquals(List.of(), o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:05:00Z")), o.next());
    assertFalse(o.misfired());
  }

  @ParameterizedTest
  @ValueSource(strings = {"fire-once", "skip", "catch-up 3"})
  void givenAFireTimeLateWithinTheThreshold_whenResolved_thenItRunsWhateverThePolicy(String spec) {
    MisfirePolicy policy = MisfirePolicy.parse(spec);

    MisfirePolicy.Outcome o =
        policy.resolve(
            EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:05:04Z"), THRESHOLD);

    assertEquals(List.of(t("2026-01-01T00:05:00Z")), o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:06:00Z")), o.next());
    assertFalse(o.misfired());
  }

  @ParameterizedTest
  @ValueSource(strings = {"fire-once", "skip", "catch-up 3"})
  void givenAThresholdLongerThanTimeItself_whenResolved_thenTheLateFireTimeIsOnTime(String spec) {
    Duration forever = Duration.ofSeconds(Long.MAX_VALUE, 999_999_999);

    MisfirePolicy.Outcome o =
        MisfirePolicy.parse(spec)
            .resolve(EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:06:30Z"), forever);

    assertEquals(List.of(t("2026-01-01T00:05:00Z"), t("2026-01-01T00:06:00Z")), o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:07:00Z")), o.next());
    assertFalse(o.misfired());
  }

  @Test
  void givenALagWithinTheThresholdSpanningSeveralFireTimes_whenResolved_thenAllRunInOrder() {
    Trigger everySecond = Trigger.every(Duration.ofSeconds(1), t("2026-01-01T00:00:00Z"));

    MisfirePolicy.Outcome o =
        MisfirePolicy.SKIP.resolve(
            everySecond, t("2026-01-01T00:00:10Z"), t("2026-01-01T00:00:12.5Z"), THRESHOLD);

    assertEquals(
        List.of(t("2026-01-01T00:00:10Z"), t("2026-01-01T00:00:11Z"), t("2026-01-01T00:00:12Z")),
        o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:00:13Z")), o.next());
  }

  @Test
  void givenTenMinutesMissed_whenSkip_thenNothingRunsAndTheNextIsAfterNow() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.SKIP.resolve(
            EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:15:30Z"), THRESHOLD);

    assertEquals(List.of(), o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:16:00Z")), o.next());
    assertTrue(o.misfired());
  }

  @Test
  void givenTenMinutesMissed_whenFireOnce_thenOneRunForTheLatestMissedFireTime() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.FIRE_ONCE.resolve(
            EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:15:30Z"), THRESHOLD);

    assertEquals(List.of(t("2026-01-01T00:15:00Z")), o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:16:00Z")), o.next());
    assertTrue(o.misfired());
  }

  @Test
  void givenMissedTimesAndOneWithinTheThreshold_whenFireOnce_thenOnlyTheOnTimeOneRuns() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.FIRE_ONCE.resolve(
            EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:15:02Z"), THRESHOLD);

    assertEquals(List.of(t("2026-01-01T00:15:00Z")), o.runs());
  }

  @Test
  void givenMissedTimesAndOneWithinTheThreshold_whenSkip_thenTheOnTimeOneStillRuns() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.SKIP.resolve(
            EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:15:02Z"), THRESHOLD);

    assertEquals(List.of(t("2026-01-01T00:15:00Z")), o.runs());
    assertTrue(o.misfired());
  }

  @Test
  void givenTenMinutesMissed_whenCatchUpThree_thenTheLatestThreeRunOldestFirst() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.catchUp(3)
            .resolve(EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:15:30Z"), THRESHOLD);

    assertEquals(
        List.of(t("2026-01-01T00:13:00Z"), t("2026-01-01T00:14:00Z"), t("2026-01-01T00:15:00Z")),
        o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:16:00Z")), o.next());
  }

  @Test
  void givenFewerMissedThanTheMaximum_whenCatchUp_thenEveryMissedOneRuns() {
    MisfirePolicy.Outcome o =
        MisfirePolicy.catchUp(100)
            .resolve(EVERY_MINUTE, t("2026-01-01T00:05:00Z"), t("2026-01-01T00:07:30Z"), THRESHOLD);

    assertEquals(
        List.of(t("2026-01-01T00:05:00Z"), t("2026-01-01T00:06:00Z"), t("2026-01-01T00:07:00Z")),
        o.runs());
  }

  @Test
  void givenAYearOfMinutelyCronMissed_whenCatchUpTwo_thenOnlyTheLastTwoAreComputed() {
    Trigger cron = Trigger.cron("* * * * *", CronDialect.UNIX, ZoneOffset.UTC);

    MisfirePolicy.Outcome o =
        MisfirePolicy.catchUp(2)
            .resolve(cron, t("2025-01-01T00:00:00Z"), t("2026-01-01T00:00:30Z"), THRESHOLD);

    assertEquals(List.of(t("2025-12-31T23:59:00Z"), t("2026-01-01T00:00:00Z")), o.runs());
    assertEquals(Optional.of(t("2026-01-01T00:01:00Z")), o.next());
  }

  @Test
  void givenAMissedOneShot_whenResolved_thenThePolicyDecidesAndTheTriggerIsExhausted() {
    Trigger once = Trigger.at(t("2026-01-01T00:00:00Z"));
    Instant now = t("2026-01-01T01:00:00Z");

    assertEquals(
        List.of(),
        MisfirePolicy.SKIP
            .resolve(once, once.nextAtOrAfter(Instant.EPOCH).get(), now, THRESHOLD)
            .runs());
    MisfirePolicy.Outcome fired =
        MisfirePolicy.FIRE_ONCE.resolve(once, t("2026-01-01T00:00:00Z"), now, THRESHOLD);
    assertEquals(List.of(t("2026-01-01T00:00:00Z")), fired.runs());
    assertEquals(Optional.empty(), fired.next());
  }

  @Test
  void givenANegativeThreshold_whenResolved_thenIllegalArgument() {
    assertThrows(
        IllegalArgumentException.class,
        () ->
            MisfirePolicy.SKIP.resolve(
                EVERY_MINUTE, Instant.EPOCH, Instant.EPOCH, Duration.ofSeconds(-1)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"fire-once", "skip", "catch-up 1", "catch-up 250"})
  void givenAPolicySpec_whenParsed_thenItRoundTrips(String spec) {
    assertEquals(spec, MisfirePolicy.parse(spec).spec());
    assertEquals(MisfirePolicy.parse(spec), MisfirePolicy.parse(" " + spec + " "));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "fire once", "catch-up", "catch-up 0", "catch-up x", "SKIP"})
  void givenABadPolicySpec_whenParsed_thenTheMessageListsTheValidForms(String spec) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> MisfirePolicy.parse(spec));

    assertTrue(e.getMessage().contains("fire-once, skip or catch-up N"), e.getMessage());
  }

  @Test
  void givenACatchUpOfZero_whenMade_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> MisfirePolicy.catchUp(0));
  }
}
