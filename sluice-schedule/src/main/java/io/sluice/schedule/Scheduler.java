package io.sluice.schedule;

import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;

/**
 * Runs tasks at instants, at fixed rates or delays, daily and by cron expressions, each run on a
 * thread of its own (a virtual thread by default), never on the timer engine's thread.
 *
 * <pre>{@code
 * try (Scheduler scheduler = Scheduler.create()) {
 *   scheduler.at(Instant.parse("2026-03-29T01:30:00Z"), () -> send("reminder"));
 *   ScheduleHandle report = scheduler.cron("0 2 * * *", CronDialect.UNIX, ZoneId.of("Europe/Berlin"),
 *       () -> buildReport());
 *   ...
 *   report.cancel();
 * }   // close: stops every schedule, waits for running bodies
 * }</pre>
 *
 * <table class="striped">
 *   <caption>Making schedules (none of these blocks)</caption>
 *   <thead><tr><th>fires</th><th>method</th><th>first fire</th></tr></thead>
 *   <tbody>
 *     <tr><td>once at an instant / after a delay</td><td>{@link #at(Instant, Runnable)}, {@link
 *       #after(Duration, Runnable)}</td><td>then; at once if that has passed</td></tr>
 *     <tr><td>fixed rate, aligned</td><td>{@link #every(Duration, Instant, Runnable)}, {@link
 *       #every(Duration, Runnable)}</td><td>the first boundary {@code start + k * period} not in the
 *       past (now, without a start)</td></tr>
 *     <tr><td>fixed delay between the end of a run and the next start</td><td>{@link
 *       #everyWithDelay(Duration, Duration, Runnable)}</td><td>after the initial delay</td></tr>
 *     <tr><td>every day at a wall-clock time</td><td>{@link #daily(LocalTime, ZoneId, Runnable)}</td>
 *       <td>the next such time</td></tr>
 *     <tr><td>by a cron expression</td><td>{@link #cron(String, CronDialect, ZoneId, Runnable)}</td>
 *       <td>the next matching time</td></tr>
 *     <tr><td>by any {@link Trigger}, with {@link ScheduleOptions}</td><td>{@link #schedule(Trigger,
 *       Runnable, ScheduleOptions)}</td><td>the trigger's first fire time not in the past</td></tr>
 *     <tr><td>as a channel of fire times</td><td>{@link #fireTimes(Context, Trigger)}</td><td>the
 *       trigger's first fire time not in the past</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Policies: recurring schedules apply their {@link MisfirePolicy} when the timer fires later
 * than the misfire threshold (a paused process, a clock that jumped) and their {@link
 * OverlapPolicy} when a run falls due while the previous one is still going; wall-clock triggers
 * follow {@link DstPolicy}. The schedules of {@link #at} and {@link #after} are compact one-shots:
 * the handle is the timer engine's entry itself, one object of 40 bytes while pending; a late one
 * runs as soon as it can, with no misfire policy (schedule {@link Trigger#at} with {@link
 * #schedule(Trigger, Runnable, ScheduleOptions)} for one).
 *
 * <p>Failures: an exception thrown by a task goes to the scheduler's {@linkplain
 * SchedulerOptions#errorHandler() error handler} (by default the body thread's uncaught exception
 * handler); the schedule goes on.
 *
 * <p>Shutting down: {@link #shutdown()} stops every schedule (handles report {@link
 * ScheduleHandle#isCancelled()}, fire-time channels close) and removes their timers from the
 * engine; {@link #awaitTermination(Duration)} waits for running bodies; {@link #close()} does both,
 * interrupting bodies that outlast the grace period. No timer and no thread of the scheduler
 * outlives {@code close()} unless a body ignores interrupts. Making a schedule on a scheduler that
 * is shut down throws {@link IllegalStateException}.
 *
 * <p>Memory consistency effects: actions in a thread before it makes a schedule happen-before every
 * run of that schedule starts; the end of every run happens-before {@link
 * #awaitTermination(Duration)} returns {@code true} or {@link #close()} returns.
 */
public sealed interface Scheduler extends AutoCloseable permits SchedulerImpl {

  /**
   * A scheduler on the system clock, running tasks on virtual threads.
   *
   * @return a new scheduler
   */
  static Scheduler create() {
    return create(SchedulerOptions.defaults());
  }

  /**
   * A scheduler with the given clock, thread factory, error handler and close grace period.
   *
   * @param options the options
   * @return a new scheduler
   */
  static Scheduler create(SchedulerOptions options) {
    return new SchedulerImpl(options);
  }

  /**
   * The clock this scheduler reads and whose timer engine it uses.
   *
   * @return the clock
   */
  Clock clock();

  /**
   * Runs {@code task} once at {@code time}, or at once if {@code time} has passed. A compact
   * one-shot (see above).
   *
   * @param time when to run
   * @param task what to run, on a thread of its own
   * @return the handle
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle at(Instant time, Runnable task);

  /**
   * Runs {@code task} once, {@code delay} from now: the seed's "run at a specific time" with a
   * relative time. A compact one-shot (see above).
   *
   * @param delay how long from now; zero or negative runs at once
   * @param task what to run, on a thread of its own
   * @return the handle
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle after(Duration delay, Runnable task);

  /**
   * Runs {@code task} at a fixed rate starting now: now, now + period, now + 2 * period, ...
   * regardless of how long each run takes (see {@link OverlapPolicy} for runs that overlap).
   *
   * @param period the interval; positive
   * @param task what to run
   * @return the handle
   * @throws IllegalArgumentException if {@code period} is not positive
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle every(Duration period, Runnable task);

  /**
   * Runs {@code task} at a fixed rate aligned to {@code start}: at {@code start + k * period}. A
   * start in the past moves forward to the first boundary not in the past (the seed's Kronika
   * rule), so the schedule keeps its phase across restarts: {@code every(PT1H, 14:00 yesterday)}
   * fires on the hour.
   *
   * @param period the interval; positive
   * @param start the alignment, and the first fire time if it is not in the past
   * @param task what to run
   * @return the handle
   * @throws IllegalArgumentException if {@code period} is not positive
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle every(Duration period, Instant start, Runnable task);

  /**
   * Runs {@code task} first after {@code initialDelay}, then {@code delay} after each run ends:
   * fixed delay, so runs never overlap and a slow run pushes the later ones back.
   *
   * @param initialDelay how long until the first run; zero or negative runs at once
   * @param delay the pause between the end of a run and the start of the next; positive
   * @param task what to run
   * @return the handle
   * @throws IllegalArgumentException if {@code delay} is not positive
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle everyWithDelay(Duration initialDelay, Duration delay, Runnable task);

  /**
   * As {@link #everyWithDelay(Duration, Duration, Runnable)}, with a name and a misfire policy: a
   * run handled later than the threshold is dropped under {@link MisfirePolicy#SKIP} (the next one
   * is then {@code delay} from then) and runs under the other policies. The overlap policy does not
   * apply.
   *
   * @param initialDelay how long until the first run; zero or negative runs at once
   * @param delay the pause between the end of a run and the start of the next; positive
   * @param task what to run
   * @param options the name and misfire policy
   * @return the handle
   * @throws IllegalArgumentException if {@code delay} is not positive
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle everyWithDelay(
      Duration initialDelay, Duration delay, Runnable task, ScheduleOptions options);

  /**
   * Runs {@code task} every day at {@code time} in {@code zone}, with the default DST rules (see
   * {@link DstPolicy}).
   *
   * @param time the wall-clock time
   * @param zone the time zone
   * @param task what to run
   * @return the handle
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle daily(LocalTime time, ZoneId zone, Runnable task);

  /**
   * Runs {@code task} at the times a cron expression matches in {@code zone}, with the default DST
   * rules (see {@link DstPolicy}).
   *
   * @param expression the cron expression
   * @param dialect its syntax
   * @param zone the time zone
   * @param task what to run
   * @return the handle
   * @throws IllegalArgumentException if the expression is not valid in the dialect
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle cron(String expression, CronDialect dialect, ZoneId zone, Runnable task);

  /**
   * Runs {@code task} by {@code trigger} with the default {@link ScheduleOptions}.
   *
   * @param trigger when to run
   * @param task what to run
   * @return the handle
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle schedule(Trigger trigger, Runnable task);

  /**
   * Runs {@code task} by {@code trigger}: first at the trigger's first fire time not in the past,
   * then at each next one, applying the options' misfire and overlap policies. A trigger with no
   * fire time left gives a handle that is already done.
   *
   * @param trigger when to run
   * @param task what to run
   * @param options name, misfire and overlap policies
   * @return the handle
   * @throws IllegalStateException if the scheduler is shut down
   */
  ScheduleHandle schedule(Trigger trigger, Runnable task, ScheduleOptions options);

  /**
   * The fire times of {@code trigger} as a channel: the seed's {@code cron(ctx, start, delay)
   * <-chan time.Time}, with default {@link ScheduleOptions}.
   *
   * @param ctx ends the stream: when it is done, the channel closes
   * @param trigger when to deliver
   * @return a channel of fire times; see {@link #fireTimes(Context, Trigger, ScheduleOptions)}
   * @throws IllegalStateException if the scheduler is shut down
   */
  ReceiveChannel<Instant> fireTimes(Context ctx, Trigger trigger);

  /**
   * The fire times of {@code trigger} as a channel. At each fire time the scheduled {@link Instant}
   * is offered on a channel with a buffer of one. A consumer that falls behind, as with Go's
   * ticker, gets the oldest fire time it missed and the ones after it are dropped, so it never
   * builds a backlog; the misfire policy decides which fire times are offered after a pause (the
   * overlap policy does not apply).
   *
   * <p>The channel closes when {@code ctx} is done, when the trigger has no fire time left, or when
   * the scheduler shuts down. No thread serves it; while open it costs one timer entry, whether or
   * not anyone reads. A consumer that drops the channel without cancelling {@code ctx} leaks
   * nothing for long: the schedule holds the channel only weakly, and stops at its next fire time
   * after the channel has been garbage collected.
   *
   * @param ctx ends the stream; a context that is already done gives a closed channel
   * @param trigger when to deliver
   * @param options the misfire policy and threshold (the name shows in nothing but {@code
   *     toString})
   * @return the channel of fire times, for receiving only
   * @throws IllegalStateException if the scheduler is shut down
   */
  ReceiveChannel<Instant> fireTimes(Context ctx, Trigger trigger, ScheduleOptions options);

  /**
   * Stops every schedule: none starts a run after this returns, handles report {@link
   * ScheduleHandle#isCancelled()}, fire-time channels close, and the timers leave the engine. Runs
   * already going continue. Idempotent.
   *
   * <p>Waits briefly for the timer engine's thread to drop the compact one-shots (it walks the
   * engine's pending timers); an interrupt during that wait ends the wait (the interrupt status is
   * set again) but not the shutdown, which completes on the engine's thread.
   */
  void shutdown();

  /**
   * Whether {@link #shutdown()} or {@link #close()} has been called.
   *
   * @return {@code true} once shut down
   */
  boolean isShutdown();

  /**
   * Blocks until the scheduler is shut down and no task body runs (a body that calls this is not
   * counted), or until {@code timeout} passes.
   *
   * @param timeout the longest wait; zero or negative checks without waiting
   * @return {@code true} if shut down with no body running; {@code false} if the timeout passed
   *     first
   * @throws InterruptedException if the thread is interrupted before or while waiting
   */
  boolean awaitTermination(Duration timeout) throws InterruptedException;

  /**
   * Shuts down and waits for running bodies: {@link #shutdown()}, then up to the {@linkplain
   * SchedulerOptions#closeGracePeriod() grace period} for bodies to end, then interrupts the ones
   * still running and waits up to the grace period again.
   *
   * <p>If the calling thread is interrupted while waiting, the bodies are interrupted at once,
   * close waits up to one grace period for them, and returns with the interrupt status set. A body
   * that calls {@code close()} does not wait for itself.
   *
   * @throws IllegalStateException if bodies still run after being interrupted and waited for (they
   *     ignore interrupts); the message names their threads
   */
  @Override
  void close();
}
