package io.sluice.jobs;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * How often to try a job and how long to wait between attempts: exponential backoff with full
 * jitter.
 *
 * <p>After failed attempt {@code n} (1-based) the next attempt waits a uniformly random time in
 * {@code [0, min(maxDelay, initialDelay * multiplier^(n-1))]} ("full jitter", which spreads retries
 * of jobs that failed together so they do not hit a recovering service at the same moment). After
 * {@code maxAttempts} failed attempts the job is dead.
 *
 * <p>Waits count in nanoseconds: a cap beyond {@code Long.MAX_VALUE} nanoseconds (about 292 years)
 * is taken as that, however large the delays or the number of attempts.
 *
 * @param maxAttempts attempts in all, at least 1 (1 means never retry)
 * @param initialDelay the cap of the first wait
 * @param maxDelay the largest cap
 * @param multiplier how much the cap grows per attempt, at least 1
 */
public record RetryPolicy(
    int maxAttempts, Duration initialDelay, Duration maxDelay, double multiplier) {

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if a field is out of range
   */
  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
    }
    Objects.requireNonNull(initialDelay, "initialDelay");
    Objects.requireNonNull(maxDelay, "maxDelay");
    if (initialDelay.isNegative() || maxDelay.compareTo(initialDelay) < 0) {
      throw new IllegalArgumentException(
          "need 0 <= initialDelay <= maxDelay, got " + initialDelay + " and " + maxDelay);
    }
    if (!(multiplier >= 1.0) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("multiplier must be finite and >= 1, got " + multiplier);
    }
  }

  /**
   * Ten attempts, waits capped at 1 s, 2 s, 4 s ... up to 5 minutes.
   *
   * @return the default policy
   */
  public static RetryPolicy defaults() {
    return new RetryPolicy(10, Duration.ofSeconds(1), Duration.ofMinutes(5), 2.0);
  }

  /**
   * One attempt only: a failure makes the job dead at once.
   *
   * @return the policy
   */
  public static RetryPolicy never() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 1.0);
  }

  /**
   * This policy with another number of attempts.
   *
   * @param maxAttempts attempts in all, at least 1
   * @return a new policy
   */
  public RetryPolicy withMaxAttempts(int maxAttempts) {
    return new RetryPolicy(maxAttempts, initialDelay, maxDelay, multiplier);
  }

  /**
   * This policy with other delays.
   *
   * @param initialDelay the cap of the first wait
   * @param maxDelay the largest cap
   * @return a new policy
   */
  public RetryPolicy withDelays(Duration initialDelay, Duration maxDelay) {
    return new RetryPolicy(maxAttempts, initialDelay, maxDelay, multiplier);
  }

  /**
   * Whether a job that has had {@code attempts} failed attempts gets another.
   *
   * @param attempts attempts made so far
   * @return true if another attempt is allowed
   */
  public boolean allowsAnotherAfter(int attempts) {
    return attempts < maxAttempts;
  }

  /**
   * The cap of the wait after failed attempt {@code attempt}.
   *
   * @param attempt the 1-based number of the attempt that failed
   * @return the cap, at most {@link #maxDelay()} and at most {@code Long.MAX_VALUE} nanoseconds
   */
  public Duration capAfter(int attempt) {
    // 0 x infinity is NaN, which falls through to (long) NaN == 0: no delay, as initialDelay says
    double cap = saturatedNanos(initialDelay) * Math.pow(multiplier, Math.max(0, attempt - 1));
    long max = saturatedNanos(maxDelay);
    return Duration.ofNanos(cap >= max ? max : (long) cap);
  }

  private static long saturatedNanos(Duration d) {
    return d.compareTo(LONGEST) >= 0 ? Long.MAX_VALUE : d.toNanos();
  }

  private static final Duration LONGEST = Duration.ofNanos(Long.MAX_VALUE);

  /**
   * A random wait after failed attempt {@code attempt}: uniform in {@code [0, capAfter(attempt)]}.
   *
   * @param attempt the 1-based number of the attempt that failed
   * @param random the source of randomness
   * @return the wait
   */
  public Duration delayAfter(int attempt, RandomGenerator random) {
    long cap = capAfter(attempt).toNanos();
    if (cap == Long.MAX_VALUE) {
      return Duration.ofNanos(random.nextLong() & Long.MAX_VALUE); // uniform in [0, MAX_VALUE]
    }
    return Duration.ofNanos(cap == 0 ? 0 : random.nextLong(cap + 1));
  }
}
