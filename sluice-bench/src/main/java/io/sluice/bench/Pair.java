package io.sluice.bench;

import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs producers and one consumer on fresh virtual threads and waits for them: the JMH thread only
 * starts and joins, so every blocking operation measured happens on a virtual thread.
 */
final class Pair {
  private Pair() {}

  /** A producer's body. */
  @FunctionalInterface
  interface Body {
    void run() throws Exception;
  }

  /** One producer, one consumer; returns the consumer's result. */
  static long run(Body producer, Callable<Long> consumer) throws Exception {
    return run(new Body[] {producer}, consumer);
  }

  /** Several producers, one consumer; returns the consumer's result. */
  static long run(Body[] producers, Callable<Long> consumer) throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long[] result = new long[1];
    Thread[] threads = new Thread[producers.length + 1];
    threads[0] =
        Thread.ofVirtual()
            .name("consumer")
            .unstarted(
                () -> {
                  try {
                    result[0] = consumer.call();
                  } catch (Throwable t) {
                    abort(failure, t, threads);
                  }
                });
    for (int i = 0; i < producers.length; i++) {
      Body body = producers[i];
      threads[i + 1] =
          Thread.ofVirtual()
              .name("producer-" + i)
              .unstarted(
                  () -> {
                    try {
                      body.run();
                    } catch (Throwable t) {
                      abort(failure, t, threads);
                    }
                  });
    }
    for (Thread t : threads) {
      t.start();
    }
    for (Thread t : threads) {
      t.join();
    }
    Throwable t = failure.get();
    if (t != null) {
      throw new IllegalStateException("a benchmark thread failed", t);
    }
    return result[0];
  }

  /** Records the first failure and interrupts the other threads so none waits for ever. */
  private static void abort(AtomicReference<Throwable> failure, Throwable t, Thread[] threads) {
    if (failure.compareAndSet(null, t)) {
      for (Thread other : threads) {
        if (other != Thread.currentThread()) {
          other.interrupt();
        }
      }
    }
  }
}
