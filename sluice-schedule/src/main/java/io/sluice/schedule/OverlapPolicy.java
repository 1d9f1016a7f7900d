package io.sluice.schedule;

/**
 * What a recurring schedule does when a run falls due while its previous run is still going.
 *
 * <table class="striped">
 *   <caption>Overlap policies</caption>
 *   <thead><tr><th>policy</th><th>a run due while the previous one runs</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #SKIP} (default)</td><td>is dropped; the schedule goes on with the next fire
 *       time</td></tr>
 *     <tr><td>{@link #QUEUE_ONE}</td><td>waits and starts as soon as the previous run ends, on the
 *       same thread; while one run waits, further due runs are dropped</td></tr>
 *     <tr><td>{@link #ALLOW_CONCURRENT}</td><td>starts at once on a thread of its own</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>A dropped run is not counted in {@link ScheduleHandle#runCount()}. Fixed-delay schedules
 * ({@link Scheduler#everyWithDelay}) never overlap, so the policy does not apply to them.
 */
public enum OverlapPolicy {
  /** Drop a run that falls due while the previous one is still running. */
  SKIP,
  /** Keep at most one run waiting for the previous one to end; drop the rest. */
  QUEUE_ONE,
  /** Start every due run, even while earlier runs are still going. */
  ALLOW_CONCURRENT
}
