/**
 * Sluice schedule: run-at, fixed-rate and fixed-delay, daily and cron schedules with time zones and
 * an explicit DST policy, misfire and overlap policies, and schedules as channels of fire times, on
 * virtual threads and one shared timer engine.
 *
 * <p>Everything public lives in {@link io.sluice.schedule}.
 */
// "requires-automatic": cron-utils 9.2.1 is an automatic module (its manifest names it
// com.cronutils).
@SuppressWarnings("requires-automatic")
module io.sluice.schedule {
  requires transitive io.sluice.core;
  requires transitive io.sluice.jobs;
  requires com.cronutils;

  exports io.sluice.schedule;
}
