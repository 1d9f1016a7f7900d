package io.sluice.schedule;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/*
 * A recurring schedule driven by a Trigger. Each engine fire takes the monitor, asks the misfire
 * policy what is due (MisfirePolicy.resolve: on-time fire times all run, missed ones per the
 * policy), hands those runs to the subclass (deliverLocked), and arms for the next fire time after
 * now -- or finishes when the trigger has none.
 *
 * The engine's deadline is on the monotonic clock, fire times are wall-clock instants. If the
 * engine fires while the wall clock still reads before the fire time (the wall clock was set back,
 * or has drifted behind the monotonic one), nothing runs and the schedule re-arms for the same
 * fire time: a wall-clock schedule never runs early. If it fires late by wall-clock reading (the
 * process paused, the wall clock jumped ahead), the misfire policy applies.
 */
abstract sealed class TriggerSchedule extends RecurringSchedule
    permits TaskSchedule, ChannelSchedule {
  final Trigger trigger;
  final ScheduleOptions options;

  TriggerSchedule(SchedulerImpl scheduler, Trigger trigger, ScheduleOptions options) {
    super(scheduler, options.name().isEmpty() ? trigger.spec() : options.name());
    this.trigger = trigger;
    this.options = options;
  }

  /** Arms for the trigger's first fire time not in the past, or finishes at once. */
  final void start() {
    Optional<Instant> first = trigger.nextAtOrAfter(scheduler.clock().now());
    synchronized (this) {
      if (stoppedLocked()) {
        return;
      }
      if (first.isPresent()) {
        armLocked(first.get());
        return;
      }
    }
    finish();
  }

  /** The engine's action. */
  @Override
  public final void run() {
    synchronized (this) {
      if (stoppedLocked() || pending == null) {
        return;
      }
      firedLocked();
      Instant now = scheduler.clock().now();
      if (now.isBefore(pending)) {
        armLocked(pending);
        return;
      }
      MisfirePolicy.Outcome due =
          options.misfirePolicy().resolve(trigger, pending, now, options.misfireThreshold());
      pending = null;
      boolean goOn = deliverLocked(due.runs());
      if (goOn && due.next().isPresent()) {
        armLocked(due.next().get());
        return;
      }
      if (goOn && finishesLaterLocked()) {
        return;
      }
    }
    finish();
  }

  /**
   * Called when the trigger has no fire time left: whether a run is still held back (an overlap
   * policy's queued run), in which case the subclass finishes the schedule once it starts.
   */
  boolean finishesLaterLocked() {
    return false;
  }

  /**
   * Starts or delivers the due runs, oldest first, under the monitor on the engine's thread.
   *
   * @return false if the schedule must stop (its consumer is gone)
   */
  abstract boolean deliverLocked(List<Instant> runs);
}
