package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;

/** Makes virtual threads and keeps every one, so a test can check that none is left running. */
final class TrackingThreadFactory implements ThreadFactory {
  private final ThreadFactory base = Thread.ofVirtual().name("tracked-", 0).factory();
  private final List<Thread> threads = new ArrayList<>();

  @Override
  public synchronized Thread newThread(Runnable r) {
    Thread t = base.newThread(r);
    threads.add(t);
    return t;
  }

  synchronized List<Thread> threads() {
    return List.copyOf(threads);
  }

  /** Every thread this factory made has terminated, and there was at least one. */
  void assertAllEnded() {
    List<Thread> all = threads();
    assertTrue(!all.isEmpty(), "the pipeline started no thread through the factory");
    for (Thread t : all) {
      assertFalse(t.isAlive(), t + " is still alive in state " + t.getState());
    }
  }

  /** Every thread this factory made, if any, has terminated. */
  void assertNoneAlive() {
    for (Thread t : threads()) {
      assertFalse(t.isAlive(), t + " is still alive in state " + t.getState());
    }
  }

  Pipeline.Options options() {
    return Pipeline.Options.defaults().withThreadFactory(this);
  }

  /**
   * Spins (yielding) until the condition holds; the test's @Timeout bounds the wait by interrupting
   * the thread, which ends the spin.
   */
  static void awaitTrue(BooleanSupplier condition) {
    while (!condition.getAsBoolean()) {
      if (Thread.interrupted()) {
        throw new AssertionError("interrupted while waiting for a condition");
      }
      Thread.yield();
    }
  }
}
