/**
 * Sluice core: Go's concurrency primitives for Java virtual threads.
 *
 * <p>Everything public lives in {@link io.sluice.core}: channels and {@code select}, contexts, task
 * groups, the weighted semaphore, {@code Once}, and timers and tickers. The module needs nothing
 * but the JDK.
 */
// "module": the qualified export names a module that is not observable while core compiles alone.
@SuppressWarnings("module")
module io.sluice.core {
  exports io.sluice.core;
  // Not API: the timer engine for the scheduler's compact one-shot schedules, and deadlines the
  // jobs engine's watchdog enforces.
  exports io.sluice.core.internal to
      io.sluice.jobs,
      io.sluice.schedule;
}
