package io.sluice.schedule;

import io.sluice.jobs.JobId;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A recurring job as the {@link DurableScheduler} sees it now.
 *
 * @param job the definition
 * @param updatedAt when the definition was last changed
 * @param lastFire the latest fire time handled: its job enqueued, or held back by the overlap
 *     policy; empty if none yet
 * @param lastJob the job that fire enqueued
 * @param nextFire the fire time the scheduler waits for; empty when the trigger has no more (a
 *     one-shot that fired) or the scheduler is closed
 * @param upcoming the next few fire times from {@code nextFire} on, for people
 */
public record ScheduleStatus(
    RecurringJob job,
    Instant updatedAt,
    Optional<Instant> lastFire,
    Optional<JobId> lastJob,
    Optional<Instant> nextFire,
    List<Instant> upcoming) {

  /** Checks and copies. */
  public ScheduleStatus {
    Objects.requireNonNull(job, "job");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(lastFire, "lastFire");
    Objects.requireNonNull(lastJob, "lastJob");
    Objects.requireNonNull(nextFire, "nextFire");
    upcoming = List.copyOf(upcoming);
  }
}
