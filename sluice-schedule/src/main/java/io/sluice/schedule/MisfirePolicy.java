package io.sluice.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a schedule does with runs it missed: fire times that passed while the process was paused,
 * stopped, or its clock jumped. The same policy serves the in-process {@link Scheduler} and the
 * durable scheduler after a restart; {@link #resolve} is the rule both apply.
 *
 * <p>A fire time is <em>misfired</em> when it is handled more than a threshold after it (by default
 * one minute: {@link ScheduleOptions#misfireThreshold()}). A fire time handled within the threshold
 * is simply late, and runs.
 *
 * <table class="striped">
 *   <caption>Misfire policies: the missed fire times are those more than the threshold in the past</caption>
 *   <thead><tr><th>policy</th><th>spec</th><th>the missed fire times</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #FIRE_ONCE} (default)</td><td>{@code fire-once}</td><td>collapse into one run
 *       now (reported with the latest missed fire time), unless a fire time within the threshold
 *       runs now anyway</td></tr>
 *     <tr><td>{@link #SKIP}</td><td>{@code skip}</td><td>do not run</td></tr>
 *     <tr><td>{@link #catchUp(int) catchUp(max)}</td><td>{@code catch-up 10}</td><td>run now, one
 *       after another, oldest first; if more than {@code max} were missed, only the latest {@code
 *       max}</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Either way, fire times within the threshold run, and the schedule then goes on with its first
 * fire time after now. One-shot schedules made by {@link Scheduler#at} and {@link Scheduler#after}
 * have no policy: a late one runs as soon as it can.
 *
 * <p>Policies are immutable values.
 */
public sealed interface MisfirePolicy
    permits MisfirePolicy.FireOnce, MisfirePolicy.Skip, MisfirePolicy.CatchUp {

  /** Missed fire times collapse into one run now. */
  MisfirePolicy FIRE_ONCE = new FireOnce();

  /** Missed fire times do not run. */
  MisfirePolicy SKIP = new Skip();

  /**
   * Missed fire times all run, oldest first, up to the latest {@code max} of them.
   *
   * @param max the most missed runs to make up; at least 1
   * @return the policy
   * @throws IllegalArgumentException if {@code max} is less than 1
   */
  static MisfirePolicy catchUp(int max) {
    return new CatchUp(max);
  }

  /**
   * The policy's text form: {@code fire-once}, {@code skip} or {@code catch-up N}, which {@link
   * #parse(String)} reads back.
   *
   * @return the spec
   */
  String spec();

  /**
   * Reads a policy from its {@link #spec()}.
   *
   * @param spec {@code fire-once}, {@code skip} or {@code catch-up N} with N &ge; 1
   * @return the policy
   * @throws IllegalArgumentException if {@code spec} is none of these
   */
  static MisfirePolicy parse(String spec) {
    String s = spec == null ? "" : spec.trim();
    if (s.equals("fire-once")) {
      return FIRE_ONCE;
    }
    if (s.equals("skip")) {
      return SKIP;
    }
    String[] w = s.split("\\s+");
    if (w.length == 2 && w[0].equals("catch-up")) {
      try {
        int max = Integer.parseInt(w[1]);
        if (max >= 1) {
          return catchUp(max);
        }
      } catch (NumberFormatException e) {
        // explained below
      }
    }
    throw new IllegalArgumentException(
        "invalid misfire policy '"
            + spec
            + "': expected fire-once, skip or catch-up N with N >= 1 (e.g. catch-up 10)");
  }

  /**
   * Decides what runs now, given the oldest fire time not yet handled. A pure function: the
   * in-process scheduler calls it each time its timer fires, the durable scheduler at start-up and
   * on each tick.
   *
   * <ul>
   *   <li>{@code scheduled} after {@code now}: nothing is due; no runs, next is {@code scheduled}.
   *   <li>{@code scheduled} at most {@code threshold} before {@code now}: on time. Every fire time
   *       from {@code scheduled} to {@code now} (inclusive) runs, oldest first.
   *   <li>otherwise the fire times in {@code [scheduled, now - threshold)} are missed and this
   *       policy decides which of them run (see the table above); those within the threshold run as
   *       well.
   * </ul>
   *
   * <p>In every case but the first, the next fire time is the trigger's first after {@code now}.
   *
   * @param trigger the schedule's trigger
   * @param scheduled the oldest fire time not yet handled: the fire time the schedule was waiting
   *     for, or after a restart the stored next fire time
   * @param now the current time
   * @param threshold how late a fire time may be handled and still count as on time; not negative
   * @return the fire times to run now, oldest first, and the next fire time to wait for
   * @throws IllegalArgumentException if {@code threshold} is negative
   */
  default Outcome resolve(Trigger trigger, Instant scheduled, Instant now, Duration threshold) {
    Objects.requireNonNull(trigger, "trigger");
    Objects.requireNonNull(scheduled, "scheduled");
    Objects.requireNonNull(now, "now");
    if (threshold.isNegative()) {
      throw new IllegalArgumentException("threshold must not be negative, was " + threshold);
    }
    if (scheduled.isAfter(now)) {
      return new Outcome(List.of(), Optional.of(scheduled), false);
    }
    // A threshold reaching back past Instant.MIN makes every fire time on time.
    Instant cutoff =
        threshold.compareTo(Duration.between(Instant.MIN, now)) >= 0
            ? Instant.MIN
            : now.minus(threshold);
    boolean misfired = scheduled.isBefore(cutoff);
    List<Instant> onTime = Misfires.between(trigger, misfired ? cutoff : scheduled, now);
    List<Instant> runs = misfired ? missedRuns(trigger, scheduled, cutoff, onTime) : onTime;
    return new Outcome(runs, trigger.nextAfter(now), misfired);
  }

  /**
   * Which of the missed fire times in {@code [from, cutoff)} run, followed by {@code onTime}.
   *
   * @param trigger the trigger
   * @param from the oldest missed fire time
   * @param cutoff the end (exclusive) of the missed ones
   * @param onTime the fire times within the threshold, which run whatever the policy
   * @return the runs, oldest first
   */
  private List<Instant> missedRuns(
      Trigger trigger, Instant from, Instant cutoff, List<Instant> onTime) {
    int keep =
        switch (this) {
          case Skip s -> 0;
          case FireOnce f -> onTime.isEmpty() ? 1 : 0;
          case CatchUp c -> c.max();
        };
    if (keep == 0) {
      return onTime;
    }
    List<Instant> runs = new ArrayList<>(Misfires.lastBefore(trigger, from, cutoff, keep));
    runs.addAll(onTime);
    return List.copyOf(runs);
  }

  /**
   * What {@link #resolve} decided.
   *
   * @param runs the fire times to run now, oldest first; empty if none
   * @param next the next fire time to wait for, after {@code now}; empty when the trigger is
   *     exhausted
   * @param misfired whether fire times were missed (handled later than the threshold)
   */
  record Outcome(List<Instant> runs, Optional<Instant> next, boolean misfired) {
    /**
     * Validates and copies.
     *
     * @param runs the fire times to run now
     * @param next the next fire time
     * @param misfired whether fire times were missed
     */
    public Outcome {
      runs = List.copyOf(runs);
      Objects.requireNonNull(next, "next");
    }
  }

  /** See {@link MisfirePolicy#FIRE_ONCE}. */
  record FireOnce() implements MisfirePolicy {
    @Override
    public String spec() {
      return "fire-once";
    }
  }

  /** See {@link MisfirePolicy#SKIP}. */
  record Skip() implements MisfirePolicy {
    @Override
    public String spec() {
      return "skip";
    }
  }

  /**
   * See {@link MisfirePolicy#catchUp(int)}.
   *
   * @param max the most missed runs to make up; at least 1
   */
  record CatchUp(int max) implements MisfirePolicy {
    /**
     * Validates.
     *
     * @param max the most missed runs to make up
     * @throws IllegalArgumentException if {@code max} is less than 1
     */
    public CatchUp {
      if (max < 1) {
        throw new IllegalArgumentException("catch-up needs a maximum of at least 1, was " + max);
      }
    }

    @Override
    public String spec() {
      return "catch-up " + max;
    }
  }
}
