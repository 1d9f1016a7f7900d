package io.sluice.jobs;

import java.time.Duration;
import java.util.Objects;

/**
 * How the engine runs one job type.
 *
 * @param concurrency at most this many attempts of the type run at once, at least 1 (the worker
 *     count bounds it too)
 * @param timeout an attempt running longer fails: its context is cancelled and its thread
 *     interrupted (and if it ignores that, it is reported stuck: see {@link
 *     JobEngine.Builder#interruptGrace})
 * @param retry how many attempts and how long between them
 */
public record HandlerOptions(int concurrency, Duration timeout, RetryPolicy retry) {

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if concurrency is below 1 or the timeout is not positive
   */
  public HandlerOptions {
    if (concurrency < 1) {
      throw new IllegalArgumentException("concurrency must be at least 1, got " + concurrency);
    }
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, got " + timeout);
    }
    Objects.requireNonNull(retry, "retry");
  }

  /**
   * No limit but the workers, a 5-minute timeout, {@link RetryPolicy#defaults()}.
   *
   * @return the defaults
   */
  public static HandlerOptions defaults() {
    return new HandlerOptions(Integer.MAX_VALUE, Duration.ofMinutes(5), RetryPolicy.defaults());
  }

  /**
   * These options with another concurrency limit.
   *
   * @param concurrency at least 1
   * @return new options
   */
  public HandlerOptions withConcurrency(int concurrency) {
    return new HandlerOptions(concurrency, timeout, retry);
  }

  /**
   * These options with another timeout.
   *
   * @param timeout positive
   * @return new options
   */
  public HandlerOptions withTimeout(Duration timeout) {
    return new HandlerOptions(concurrency, timeout, retry);
  }

  /**
   * These options with another retry policy.
   *
   * @param retry the policy
   * @return new options
   */
  public HandlerOptions withRetry(RetryPolicy retry) {
    return new HandlerOptions(concurrency, timeout, retry);
  }
}
