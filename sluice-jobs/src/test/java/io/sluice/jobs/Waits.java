package io.sluice.jobs;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Test helpers that wait for a state without sleeping for a fixed time. */
final class Waits {
  private Waits() {}

  /** Waits until {@code thread} is blocked (waiting or parked), failing after 10 seconds. */
  static void untilBlocked(Thread thread) {
    until(
        () ->
            thread.getState() == Thread.State.WAITING
                || thread.getState() == Thread.State.TIMED_WAITING,
        "thread " + thread + " to block (it is " + thread.getState() + ")");
  }

  /** Waits until {@code condition} holds, failing after 10 seconds. */
  static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting for " + what);
      }
      Thread.yield();
    }
  }
}
