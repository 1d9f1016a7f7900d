/**
 * Sluice core: Go's concurrency primitives for Java virtual threads.
 *
 * <p>Everything public lives in {@link io.sluice.core}: channels and {@code select}, contexts, task
 * groups, the weighted semaphore, {@code Once}, and timers and tickers. The module needs nothing
 * but the JDK.
 */
module io.sluice.core {
  exports io.sluice.core;
}
