package io.sluice.schedule;

import java.time.Duration;
import java.util.Objects;

/**
 * How one recurring schedule behaves: its name, its misfire policy and threshold, and its overlap
 * policy. Immutable; start from {@link #defaults()} and change what differs:
 *
 * <pre>{@code
 * ScheduleOptions options = ScheduleOptions.defaults()
 *     .withName("nightly-report")
 *     .withMisfirePolicy(MisfirePolicy.catchUp(3))
 *     .withOverlapPolicy(OverlapPolicy.QUEUE_ONE);
 * }</pre>
 *
 * @param name shown by {@link ScheduleHandle#name()}; empty means the trigger's spec is shown
 * @param misfirePolicy what happens to fire times handled later than {@code misfireThreshold}
 *     (default {@link MisfirePolicy#FIRE_ONCE})
 * @param misfireThreshold how late a fire may be handled and still count as on time (default one
 *     minute, as Quartz's); not negative
 * @param overlapPolicy what happens to a run that falls due while the previous one still runs
 *     (default {@link OverlapPolicy#SKIP})
 */
public record ScheduleOptions(
    String name,
    MisfirePolicy misfirePolicy,
    Duration misfireThreshold,
    OverlapPolicy overlapPolicy) {

  /** The default misfire threshold: one minute. */
  public static final Duration DEFAULT_MISFIRE_THRESHOLD = Duration.ofMinutes(1);

  private static final ScheduleOptions DEFAULTS =
      new ScheduleOptions(
          "", MisfirePolicy.FIRE_ONCE, DEFAULT_MISFIRE_THRESHOLD, OverlapPolicy.SKIP);

  /**
   * Validates.
   *
   * @param name the name; may be empty
   * @param misfirePolicy the misfire policy
   * @param misfireThreshold the misfire threshold; not negative
   * @param overlapPolicy the overlap policy
   * @throws IllegalArgumentException if {@code misfireThreshold} is negative
   */
  public ScheduleOptions {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(misfirePolicy, "misfirePolicy");
    Objects.requireNonNull(misfireThreshold, "misfireThreshold");
    Objects.requireNonNull(overlapPolicy, "overlapPolicy");
    if (misfireThreshold.isNegative()) {
      throw new IllegalArgumentException(
          "misfireThreshold must not be negative, was " + misfireThreshold);
    }
  }

  /**
   * The defaults: no name, {@link MisfirePolicy#FIRE_ONCE} with a one-minute threshold, {@link
   * OverlapPolicy#SKIP}.
   *
   * @return the default options
   */
  public static ScheduleOptions defaults() {
    return DEFAULTS;
  }

  /**
   * A copy with another name.
   *
   * @param name the name; empty for none
   * @return the new options
   */
  public ScheduleOptions withName(String name) {
    return new ScheduleOptions(name, misfirePolicy, misfireThreshold, overlapPolicy);
  }

  /**
   * A copy with another misfire policy.
   *
   * @param policy the policy
   * @return the new options
   */
  public ScheduleOptions withMisfirePolicy(MisfirePolicy policy) {
    return new ScheduleOptions(name, policy, misfireThreshold, overlapPolicy);
  }

  /**
   * A copy with another misfire threshold.
   *
   * @param threshold how late a fire may be handled and still count as on time; not negative
   * @return the new options
   * @throws IllegalArgumentException if {@code threshold} is negative
   */
  public ScheduleOptions withMisfireThreshold(Duration threshold) {
    return new ScheduleOptions(name, misfirePolicy, threshold, overlapPolicy);
  }

  /**
   * A copy with another overlap policy.
   *
   * @param policy the policy
   * @return the new options
   */
  public ScheduleOptions withOverlapPolicy(OverlapPolicy policy) {
    return new ScheduleOptions(name, misfirePolicy, misfireThreshold, policy);
  }
}
