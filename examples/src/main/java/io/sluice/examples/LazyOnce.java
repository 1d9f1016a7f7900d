package io.sluice.examples;

import io.sluice.core.Once;
import io.sluice.core.OnceFailedException;
import io.sluice.core.OnceValue;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The seed's {@code sync.Once} notes, as a lazily loaded configuration shared by many threads.
 *
 * <p>The notes walk through why Go's {@code Once} needs a fast path (one atomic load once done), a
 * slow path under a mutex with a second check (without it, a second goroutine that reached the slow
 * path while the first ran {@code f} would run {@code f} again), and a store of {@code done} that
 * happens only after the function returns, in a {@code defer} so that it happens even when {@code
 * f} panics. Sluice's {@link Once} and {@link OnceValue} do the same. The pitfalls, and what each
 * function here shows:
 *
 * <ul>
 *   <li><b>Running twice.</b> {@link #loadConcurrently}: however many threads ask while the load
 *       runs, they wait for it, and the loader runs once ({@code LazyOnceTest} holds the load until
 *       every reader is parked waiting, then counts the loads).
 *   <li><b>A panic in {@code f}.</b> Go's {@code Do} counts it as done and later calls return
 *       silently with nothing initialised. {@link #rememberedFailure}: {@link OnceValue#of} counts
 *       it as done too, but every later call throws {@link OnceFailedException} with the original
 *       cause, so nobody reads a value that was never set; {@link OnceValue#retrying} lets the next
 *       caller try again ({@link #retriedFailure}) — usually what a lazily opened connection wants.
 *   <li><b>Re-entry.</b> Calling {@code once.Do} from inside {@code f} deadlocks in Go: the inner
 *       call waits on the mutex the outer call holds. {@link #reenter}: here the inner call throws
 *       {@link IllegalStateException} at once and the outer action goes on.
 * </ul>
 */
public final class LazyOnce {
  private LazyOnce() {}

  /**
   * Starts {@code readers} virtual threads that all ask {@code config} for its value, and waits for
   * every one of them.
   *
   * @param config the lazily loaded value
   * @param readers how many threads ask at the same time
   * @return the threads, all terminated
   * @throws InterruptedException if interrupted while joining them
   */
  static Thread[] loadConcurrently(OnceValue<String> config, int readers)
      throws InterruptedException {
    Thread[] threads = startReaders(config, readers);
    for (Thread t : threads) {
      t.join();
    }
    return threads;
  }

  /**
   * Starts {@code readers} virtual threads that each read {@code config} once.
   *
   * @param config the lazily loaded value
   * @param readers how many threads
   * @return the started threads
   */
  static Thread[] startReaders(OnceValue<String> config, int readers) {
    Thread[] threads = new Thread[readers];
    for (int i = 0; i < readers; i++) {
      threads[i] =
          Thread.ofVirtual()
              .name("reader-" + i)
              .start(
                  () -> {
                    try {
                      config.get();
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
    }
    return threads;
  }

  /**
   * A configuration that is loaded on first use by whichever thread gets there first.
   *
   * @param loads counts the loads, to show there is exactly one
   * @param load what loading does before it returns (a test holds it there)
   * @return the lazily loaded value
   */
  static OnceValue<String> config(AtomicInteger loads, Callable<String> load) {
    return OnceValue.of(
        () -> {
          loads.incrementAndGet();
          return load.call();
        });
  }

  /**
   * Go's policy after a panic: the first call fails, and so does every later one, with the same
   * cause and without running the loader again.
   *
   * @param attempts counts the loader's runs
   * @return the messages of the two calls' failures
   * @throws InterruptedException if interrupted
   */
  static String[] rememberedFailure(AtomicInteger attempts) throws InterruptedException {
    OnceValue<String> broken =
        OnceValue.of(
            () -> {
              attempts.incrementAndGet();
              throw new IllegalStateException("config file missing");
            });
    String[] failures = new String[2];
    for (int i = 0; i < failures.length; i++) {
      try {
        broken.get();
        failures[i] = "no failure";
      } catch (OnceFailedException e) {
        failures[i] = e.getCause().getMessage();
      }
    }
    return failures;
  }

  /**
   * The retrying policy: the first call fails, the second runs the loader again and succeeds.
   *
   * @param attempts counts the loader's runs
   * @return what the second call returned
   * @throws InterruptedException if interrupted
   */
  static String retriedFailure(AtomicInteger attempts) throws InterruptedException {
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
      throw new AssertionError("the first attempt should have failed");
    } catch (OnceFailedException expected) {
      // the failure is reported to this call only; the next one tries again
    }
    return flaky.get();
  }

  /**
   * Calls {@code once.run} from inside its own action — Go's deadlock — and returns what the inner
   * call threw; the outer action then finishes normally.
   *
   * @param once a once whose action has not run
   * @return the exception the inner call threw, or {@code null} if it threw none
   * @throws InterruptedException if interrupted
   */
  static RuntimeException reenter(Once once) throws InterruptedException {
    RuntimeException[] inner = new RuntimeException[1];
    once.run(
        () -> {
          try {
            once.run(() -> {});
          } catch (IllegalStateException e) {
            inner[0] = e;
          }
        });
    return inner[0];
  }

  /**
   * Shows one load for many readers, the remembered and the retried failure, and re-entry.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    AtomicInteger loads = new AtomicInteger();
    OnceValue<String> config = config(loads, () -> "endpoint=https://example.invalid");
    loadConcurrently(config, 100);
    System.out.println("100 readers, loads: " + loads.get() + ", value: " + config.get());

    AtomicInteger attempts = new AtomicInteger();
    String[] failures = rememberedFailure(attempts);
    System.out.println(
        "remembered failure: "
            + String.join(" / ", failures)
            + " after "
            + attempts.get()
            + " attempt");

    AtomicInteger retries = new AtomicInteger();
    System.out.println(
        "retrying: " + retriedFailure(retries) + " after " + retries.get() + " attempts");

    Once init = Once.create();
    System.out.println(
        "re-entered run: " + reenter(init).getMessage() + "; done: " + init.isDone());
  }
}
