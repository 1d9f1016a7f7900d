package io.sluice.schedule;

import io.sluice.jobs.StoredSchedule;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A recurring job definition for the {@link DurableScheduler}: when its {@link Trigger} fires, a
 * normal job of {@code jobType} with {@code payload} is enqueued (so retries and dead letters apply
 * to it), and what happens to missed and overlapping runs.
 *
 * <p>Build one with {@link #of} and the {@code withX} methods. Immutable.
 *
 * @param name the schedule's name, unique in its store: 1 to 200 characters from {@code A-Z a-z 0-9
 *     . _ -} (see {@link StoredSchedule#checkName})
 * @param trigger when it fires
 * @param jobType the type of the job each fire enqueues
 * @param payload the payload of that job, as text (stored as UTF-8)
 * @param misfire what to do with fire times missed while the process was down or the queue full
 * @param misfireThreshold how late a fire time may be handled and still count as on time
 * @param overlap what to do when a fire time comes while the job of the previous fire is unfinished
 */
public record RecurringJob(
    String name,
    Trigger trigger,
    String jobType,
    String payload,
    MisfirePolicy misfire,
    Duration misfireThreshold,
    OverlapPolicy overlap) {

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if the name is not valid, the job type is blank, or the
   *     threshold is negative
   */
  public RecurringJob {
    StoredSchedule.checkName(name);
    Objects.requireNonNull(trigger, "trigger");
    Objects.requireNonNull(jobType, "jobType");
    if (jobType.isBlank()) {
      throw new IllegalArgumentException("a recurring job needs a job type, got a blank one");
    }
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(misfire, "misfire");
    Objects.requireNonNull(misfireThreshold, "misfireThreshold");
    if (misfireThreshold.isNegative()) {
      throw new IllegalArgumentException(
          "misfireThreshold must not be negative, got " + misfireThreshold);
    }
    Objects.requireNonNull(overlap, "overlap");
  }

  /**
   * A recurring job with the default policies: {@link MisfirePolicy#FIRE_ONCE}, a threshold of
   * {@link ScheduleOptions#DEFAULT_MISFIRE_THRESHOLD}, and {@link OverlapPolicy#SKIP} (a fire while
   * the previous fire's job is still queued, running or waiting to retry enqueues nothing).
   *
   * @param name the schedule's name
   * @param trigger when it fires
   * @param jobType the type of the job each fire enqueues
   * @param payload that job's payload, as text
   * @return the definition
   */
  public static RecurringJob of(String name, Trigger trigger, String jobType, String payload) {
    return new RecurringJob(
        name,
        trigger,
        jobType,
        payload,
        MisfirePolicy.FIRE_ONCE,
        ScheduleOptions.DEFAULT_MISFIRE_THRESHOLD,
        OverlapPolicy.SKIP);
  }

  /**
   * This definition with another misfire policy.
   *
   * @param policy the policy
   * @return the new definition
   */
  public RecurringJob withMisfire(MisfirePolicy policy) {
    return new RecurringJob(name, trigger, jobType, payload, policy, misfireThreshold, overlap);
  }

  /**
   * This definition with another misfire threshold.
   *
   * @param threshold how late a fire may be and still count as on time
   * @return the new definition
   */
  public RecurringJob withMisfireThreshold(Duration threshold) {
    return new RecurringJob(name, trigger, jobType, payload, misfire, threshold, overlap);
  }

  /**
   * This definition with another overlap policy.
   *
   * @param policy the policy
   * @return the new definition
   */
  public RecurringJob withOverlap(OverlapPolicy policy) {
    return new RecurringJob(name, trigger, jobType, payload, misfire, misfireThreshold, policy);
  }

  // The stored form: one "key=value" line per field (payload in base64), read back by decode.

  String encode() {
    return "trigger="
        + trigger.spec()
        + "\ntype="
        + jobType
        + "\nmisfire="
        + misfire.spec()
        + "\nmisfire-threshold="
        + misfireThreshold
        + "\noverlap="
        + overlap
        + "\npayload="
        + Base64.getEncoder().encodeToString(payload.getBytes(StandardCharsets.UTF_8))
        + "\n";
  }

  /**
   * Reads a stored definition back.
   *
   * @throws IllegalArgumentException if the text is not a definition this version writes
   */
  static RecurringJob decode(String name, String text) {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : text.split("\n")) {
      int eq = line.indexOf('=');
      if (eq < 1) {
        throw new IllegalArgumentException("a stored schedule line without a key: " + line);
      }
      fields.put(line.substring(0, eq), line.substring(eq + 1));
    }
    try {
      return new RecurringJob(
          name,
          Trigger.parse(required(fields, "trigger")),
          required(fields, "type"),
          new String(
              Base64.getDecoder().decode(required(fields, "payload")), StandardCharsets.UTF_8),
          MisfirePolicy.parse(required(fields, "misfire")),
          Duration.parse(required(fields, "misfire-threshold")),
          OverlapPolicy.valueOf(required(fields, "overlap")));
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("a stored misfire threshold does not parse", e);
    }
  }

  private static String required(Map<String, String> fields, String key) {
    String value = fields.get(key);
    if (value == null) {
      throw new IllegalArgumentException("a stored schedule without " + key);
    }
    return value;
  }
}
