package io.sluice.examples;

import io.sluice.core.Once;
import io.sluice.core.OnceValue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The seed's {@code sync.Once} notes, as a lazily loaded configuration shared by many threads.
 *
 * <p>The notes walk through why Go's {@code Once} needs a fast path (one atomic load once done), a
 * slow path under a mutex with a second check, and a store of {@code done} that happens only after
 * the function returns — even when it panics. Sluice's {@link Once} and {@link OnceValue} do the
 * same; what Java adds is a choice of failure policy: {@link OnceValue#of} remembers a failure as
 * Go does (every later call sees it), while {@link OnceValue#retrying} lets the next caller try
 * again — usually what a lazily opened connection or loaded file wants.
 */
public final class LazyOnce {
  private LazyOnce() {}

  /** Counts the loads, to show there is exactly one. */
  static final AtomicInteger LOADS = new AtomicInteger();

  /** The configuration, loaded on first use by whichever thread gets there first. */
  static final OnceValue<String> CONFIG =
      OnceValue.of(
          () -> {
            LOADS.incrementAndGet();
            return "endpoint=https://example.invalid";
          });

  /**
   * Shows the two failure policies: Go's remembered failure and the retrying one.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Thread[] readers = new Thread[100];
    for (int i = 0; i < readers.length; i++) {
      readers[i] =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      CONFIG.get();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
    }
    for (Thread t : readers) {
      t.join();
    }
    System.out.println("100 readers, loads: " + LOADS.get());

    AtomicInteger attempts = new AtomicInteger();
    OnceValue<String> flaky =
        OnceValue.retrying(
            () -> {
              if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("network down");
              }
              return "connected";
            });
    try {
      flaky.get();
    } catch (RuntimeException e) {
      System.out.println("first call failed: " + e.getMessage());
    }
    System.out.println("second call: " + flaky.get() + " after " + attempts.get() + " attempts");

    Once init = Once.create();
    init.run(() -> System.out.println("initialised once"));
    init.run(() -> System.out.println("never printed"));
  }
}
