package io.sluice.schedule;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.util.Objects;
import java.util.Optional;

/**
 * When a schedule fires: a pure, immutable rule that turns "after this instant" into "next at this
 * instant". Triggers know nothing of clocks or threads; a {@link Scheduler} runs tasks by them, and
 * the durable scheduler stores them by their {@link #spec()}.
 *
 * <table class="striped">
 *   <caption>Trigger kinds and their specs</caption>
 *   <thead><tr><th>factory</th><th>spec</th><th>fires</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #at(Instant)}</td><td>{@code at 2026-03-29T01:30:00Z}</td>
 *       <td>once, at that instant</td></tr>
 *     <tr><td>{@link #every(Duration, Instant)}</td>
 *       <td>{@code every PT15M from 2026-01-01T00:00:00Z}</td>
 *       <td>at {@code start + k * period} for every k &ge; 0, in absolute time (DST does not
 *       matter)</td></tr>
 *     <tr><td>{@link #daily(LocalTime, ZoneId, DstPolicy)}</td>
 *       <td>{@code daily 02:30 Europe/Berlin}, {@code daily 02:30 Europe/Berlin skip-gap}</td>
 *       <td>every day at that wall-clock time in that zone</td></tr>
 *     <tr><td>{@link #cron(String, CronDialect, ZoneId, DstPolicy)}</td>
 *       <td>{@code cron unix Europe/Berlin 0 0 31 * *}, {@code cron quartz UTC 0 0/5 * * * ?},
 *       {@code cron spring UTC 0 0/5 * * * * skip-gap}</td>
 *       <td>at the wall-clock times the expression matches, in that zone</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Specs are canonical: instants in UTC as {@link Instant#toString()} prints them, durations as
 * {@link Duration#toString()} prints them ({@code PT15M}, {@code PT24H}), local times as {@link
 * LocalTime#toString()} ({@code 02:30}, {@code 02:30:15}), zones by their {@link ZoneId#getId()
 * id}, cron fields separated by single spaces, and the {@link DstPolicy} suffix {@code skip-gap}
 * only when it is not the default. {@link #parse(String)} accepts any spacing and any ISO-8601 form
 * the {@code java.time} parsers accept, and for every trigger {@code
 * Trigger.parse(t.spec()).spec().equals(t.spec())}, with the same fire times.
 *
 * <p>Wall-clock triggers (daily and cron) apply the DST rules of {@link DstPolicy}: a time in a
 * spring gap is shifted forward by the gap (the default) or skipped; a time that occurs twice fires
 * once, at its first occurrence. Sluice computes these itself from the zone's rules, enumerating
 * wall-clock candidates in a fixed-offset frame and mapping each to an instant, rather than relying
 * on a cron library's own DST handling (Quartz, Spring and cron-utils each differ).
 *
 * <p>Triggers are immutable and thread-safe; two triggers are {@link Object#equals equal} when
 * their specs are.
 */
public sealed interface Trigger permits AtTrigger, EveryTrigger, WallClockTrigger {

  /**
   * The first fire time strictly after {@code after}.
   *
   * @param after the instant to look after
   * @return the next fire time; empty when the trigger has no fire time after {@code after} (a
   *     one-shot that has passed, a cron expression whose last year is over)
   */
  Optional<Instant> nextAfter(Instant after);

  /**
   * The first fire time at or after {@code instant}: {@link #nextAfter(Instant)} of the nanosecond
   * before. A scheduler started at {@code now} fires first at {@code nextAtOrAfter(now)}, which is
   * how a start in the past moves forward to the next boundary.
   *
   * @param instant the earliest acceptable fire time
   * @return the fire time; empty when there is none
   */
  default Optional<Instant> nextAtOrAfter(Instant instant) {
    return instant.equals(Instant.MIN) ? nextAfter(instant) : nextAfter(instant.minusNanos(1));
  }

  /**
   * The canonical text form, which {@link #parse(String)} reads back exactly. See the table above.
   *
   * @return the spec
   */
  String spec();

  /**
   * Reads a trigger from its spec (the forms in the table above, with any spacing).
   *
   * @param spec the text
   * @return the trigger
   * @throws IllegalArgumentException if {@code spec} is not a valid trigger spec; the message says
   *     which part is wrong and what a valid spec of that kind looks like
   */
  static Trigger parse(String spec) {
    return TriggerSpecs.parse(spec);
  }

  /**
   * A trigger that fires once, at {@code instant}.
   *
   * @param instant the fire time
   * @return the trigger; {@code spec()} is {@code "at " + instant}
   */
  static Trigger at(Instant instant) {
    return new AtTrigger(Objects.requireNonNull(instant, "instant"));
  }

  /**
   * A fixed-rate trigger aligned to {@code start}: fire times are {@code start + k * period} for k
   * = 0, 1, 2, ... in absolute time, so a period of {@code PT24H} drifts against the wall clock
   * across a DST change (use {@link #daily} for "every day at 02:30"). A scheduler started after
   * {@code start} begins at the next boundary, not at once: with a start of 14:00 and a period of
   * one hour, a schedule made at 16:20 fires first at 17:00.
   *
   * @param period the interval; positive
   * @param start the first fire time, and the alignment of all others
   * @return the trigger
   * @throws IllegalArgumentException if {@code period} is zero or negative
   */
  static Trigger every(Duration period, Instant start) {
    return new EveryTrigger(period, start);
  }

  /**
   * A trigger that fires every day at {@code time} in {@code zone}, shifting a time that falls in a
   * spring gap forward by the gap ({@link DstPolicy#SHIFT}).
   *
   * @param time the wall-clock time
   * @param zone the time zone whose wall clock is meant
   * @return the trigger
   */
  static Trigger daily(LocalTime time, ZoneId zone) {
    return daily(time, zone, DstPolicy.SHIFT);
  }

  /**
   * A trigger that fires every day at {@code time} in {@code zone}, with the given gap policy. A
   * time that occurs twice runs once, at its first occurrence.
   *
   * @param time the wall-clock time
   * @param zone the time zone whose wall clock is meant
   * @param dst what to do when {@code time} falls in a spring gap
   * @return the trigger
   */
  static Trigger daily(LocalTime time, ZoneId zone, DstPolicy dst) {
    return new DailyTrigger(time, zone, dst);
  }

  /**
   * A cron trigger in {@code zone}, shifting a time that falls in a spring gap forward by the gap
   * ({@link DstPolicy#SHIFT}).
   *
   * @param expression the cron expression, in {@code dialect}'s syntax
   * @param dialect the syntax
   * @param zone the time zone whose wall clock the expression describes
   * @return the trigger
   * @throws IllegalArgumentException if the expression is not valid in that dialect; the message
   *     names the dialect, the problem, and an example
   */
  static Trigger cron(String expression, CronDialect dialect, ZoneId zone) {
    return cron(expression, dialect, zone, DstPolicy.SHIFT);
  }

  /**
   * A cron trigger in {@code zone}. The expression picks wall-clock times; each becomes an instant
   * by {@code zone}'s rules and {@code dst}: a time in a spring gap is shifted or skipped, a time
   * that occurs twice runs once, at its first occurrence, and no instant fires twice.
   *
   * @param expression the cron expression, in {@code dialect}'s syntax
   * @param dialect the syntax
   * @param zone the time zone whose wall clock the expression describes
   * @param dst what to do with times that fall in a spring gap
   * @return the trigger
   * @throws IllegalArgumentException if the expression is not valid in that dialect, or uses what
   *     the cron library cannot enumerate (Quartz {@code 29W} to {@code 31W}, {@code W} or {@code
   *     L} in a list, {@code 1-L}); the message names the dialect, the problem, and an example
   */
  static Trigger cron(String expression, CronDialect dialect, ZoneId zone, DstPolicy dst) {
    return new CronTrigger(expression, dialect, zone, dst);
  }
}
