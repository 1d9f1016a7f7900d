package io.sluice.schedule;

import java.time.Instant;
import java.util.Optional;

/**
 * A schedule made by a {@link Scheduler}: cancel it, and see when it fires next, when it last
 * fired, and how many runs it started. Never blocks.
 *
 * <p>Counting rules: a <em>run</em> is one execution of the task for one fire time. {@link
 * #runCount()} and {@link #lastFireTime()} change when a run is handed to its thread, on the timer
 * engine's thread (or, for a run an {@link OverlapPolicy#QUEUE_ONE} schedule held back, when the
 * previous run ends); runs dropped by the overlap or misfire policy are not counted. So after a
 * {@link io.sluice.core.ManualClock#advance} returns, the counts include every run that fell due
 * during the advance, although the bodies may still be running on their threads.
 *
 * <p>Fire times are the scheduled instants, not the moments the bodies started. For {@link
 * Scheduler#at} and {@link Scheduler#after}, whose handles are compact (see {@link Scheduler}), the
 * fire time is derived from the timer engine's monotonic deadline: on the system clock it can
 * differ from the requested instant by the wall clock's drift since the schedule was made (normally
 * microseconds; the size of the step if the wall clock was set).
 *
 * <p>Memory consistency effects: actions in a thread before it makes a schedule happen-before each
 * of its runs starts; a run's start happens-before {@link #runCount()} and {@link #lastFireTime()}
 * reflect it in another thread; a {@link #cancel()} that returns {@code true} happens-before any
 * run that would have started after it is dropped.
 */
public sealed interface ScheduleHandle permits OneShot, RecurringSchedule {

  /**
   * The schedule's name: the name in its {@link ScheduleOptions}, or when it has none, its
   * trigger's spec ({@code at 2026-03-29T01:30:00Z}, {@code cron unix UTC 0 * * * *}) or {@code
   * every-with-delay PT5S}.
   *
   * @return the name
   */
  String name();

  /**
   * Stops the schedule: no run starts after this returns. A run starts when it is handed to its
   * thread (the counting rules above), so a body whose run was handed over just before may still
   * begin executing after this returns; a run already going is not interrupted. Never blocks.
   *
   * @return {@code true} if this call stopped a schedule that would have fired again; {@code false}
   *     if it had already been cancelled, finished (a one-shot that ran, an exhausted trigger), or
   *     stopped by the scheduler's shutdown
   */
  boolean cancel();

  /**
   * The fire time the schedule waits for.
   *
   * @return the next fire time; empty once cancelled or done, and while a fixed-delay schedule's
   *     run is going (its next fire time depends on when the run ends)
   */
  Optional<Instant> nextFireTime();

  /**
   * The fire time of the most recent run started.
   *
   * @return the last fire time; empty before the first run
   */
  Optional<Instant> lastFireTime();

  /**
   * How many runs have been started (see the counting rules above).
   *
   * @return the run count
   */
  long runCount();

  /**
   * Whether the schedule was stopped by {@link #cancel()} or by the scheduler's shutdown before it
   * finished.
   *
   * @return {@code true} once cancelled
   */
  boolean isCancelled();

  /**
   * Whether the schedule will never start another run: cancelled, or finished (a one-shot that
   * fired, a trigger with no fire time left). Runs already started may still be going.
   *
   * @return {@code true} once no run can start any more
   */
  boolean isDone();
}
