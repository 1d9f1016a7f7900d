package io.sluice.pipeline;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;

/**
 * What a stage does when its function throws for an item. Set for a whole run with {@link
 * Pipeline.Options#withErrorPolicy(ErrorPolicy)}, and for one stage with {@link
 * Pipeline#onError(ErrorPolicy)}.
 *
 * <table class="striped">
 *   <caption>Policies</caption>
 *   <thead><tr><th>policy</th><th>the failing item</th><th>the run</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #failFast()} (the default)</td><td>reported by the terminal's exception</td>
 *         <td>cancelled: every stage stops, the terminal throws one {@link PipelineException}
 *         naming the stage and the item; later failures are attached as suppressed</td></tr>
 *     <tr><td>{@link #skip(Sink)}</td><td>written to the error sink as a {@link Failure}, then
 *         dropped</td><td>goes on</td></tr>
 *     <tr><td>{@link #retry(int, Duration, Sink)}</td><td>retried with exponential backoff and
 *         jitter; after the last attempt — or at once if the failure is not retryable — written
 *         to the dead-letter sink, then dropped</td><td>goes on; but an {@link Error} that is not
 *         retryable (by default, any {@code Error}) fails it as under fail-fast</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Every {@link Throwable} counts as a failure, {@link Error}s included: fail-fast fails the run
 * on one and skip writes it to the error sink; retry does not retry one by default (see {@link
 * Retry}) but fails the run with it. One exception: an {@link InterruptedException} that the action
 * of {@link Pipeline#forEach} or the sink of {@link Pipeline#to} throws is the interrupt of the
 * thread that called the terminal, which then throws it as the terminal's own. The error and
 * dead-letter sinks are called from the stage threads, one call at a time per run (they need not be
 * thread-safe), each with a batch of one failure. A sink that throws fails the run. Backoff waits
 * use the clock of the run's context, so a {@link io.sluice.core.ManualClock} drives them in tests.
 */
public sealed interface ErrorPolicy
    permits ErrorPolicy.FailFast, ErrorPolicy.Skip, ErrorPolicy.Retry {

  /**
   * The first failure cancels the run. The default.
   *
   * @return the fail-fast policy
   */
  static ErrorPolicy failFast() {
    return FailFast.INSTANCE;
  }

  /**
   * A failing item is written to {@code errors} and skipped; the run goes on. The seed's separate
   * error channel, which is not passed downstream.
   *
   * @param errors where failures go
   * @return the policy
   */
  static ErrorPolicy skip(Sink<? super Failure> errors) {
    return new Skip(errors);
  }

  /**
   * A failing item is tried again, up to {@code maxAttempts} calls in all, waiting up to {@code
   * initialBackoff} before the second call and up to twice as long before each later one (capped at
   * one minute; see {@link Retry#withMaxBackoff(Duration)}), each wait random below that bound
   * (full jitter; see {@link Retry#withoutJitter()}); after the last failed attempt it goes to
   * {@code deadLetters} and is skipped. An {@link Error} is not retried but fails the run, and
   * {@link Retry#retryOn} chooses which failures are retried; see {@link Retry}.
   *
   * @param maxAttempts calls in all, at least 1
   * @param initialBackoff the wait before the second call; not negative
   * @param deadLetters where items go after the last attempt failed
   * @return the policy
   */
  static Retry retry(int maxAttempts, Duration initialBackoff, Sink<? super Failure> deadLetters) {
    return new Retry(
        maxAttempts,
        initialBackoff,
        2.0,
        Duration.ofMinutes(1),
        deadLetters,
        Retry.NOT_AN_ERROR,
        true,
        null);
  }

  /** The fail-fast policy; see {@link #failFast()}. */
  final class FailFast implements ErrorPolicy {
    private static final FailFast INSTANCE = new FailFast();

    private FailFast() {}

    @Override
    public String toString() {
      return "failFast";
    }
  }

  /**
   * The skip-and-report policy; see {@link #skip(Sink)}.
   *
   * @param errors where failures go
   */
  record Skip(Sink<? super Failure> errors) implements ErrorPolicy {
    /**
     * Checks the sink.
     *
     * @param errors where failures go
     * @throws IllegalArgumentException if {@code errors} is a branch ({@link Sink#through}) or a
     *     fan-out holding one: the pipeline cannot write to it directly
     */
    public Skip {
      BranchSink.requireWritable(Objects.requireNonNull(errors, "errors"), "an error sink");
    }
  }

  /**
   * The retry policy; see {@link #retry(int, Duration, Sink)}. Before attempt {@code k+1} it waits
   * a random time, uniform in {@code [0, backoff(k)]} where {@code backoff(k) = min(initialBackoff
   * * multiplier^(k-1), maxBackoff)} ("full jitter", as the jobs module's {@code RetryPolicy}:
   * items that failed together, say when a service went down, do not all come back at once); {@link
   * #withoutJitter()} waits exactly {@code backoff(k)}.
   *
   * <p><b>Which failures are retried.</b> Those {@link #retryable()} accepts; by default every
   * failure but an {@link Error} ({@link VirtualMachineError}, {@link LinkageError}, {@link
   * AssertionError} ...), which a retry would not cure and a dead-letter sink would hide. A failure
   * that is not retryable is not tried again: an {@code Error} fails the run at once, as under
   * {@link #failFast()}; any other goes straight to the dead-letter sink (with {@link
   * Failure#attempts()} telling how many calls were made). Set {@link #retryOn(Predicate)} to
   * retry, say, only {@link java.io.IOException}s; a predicate that accepts an {@code Error} makes
   * it retried and then dead-lettered like any failure.
   *
   * @param maxAttempts calls in all, at least 1
   * @param initialBackoff the longest wait before the second call
   * @param multiplier how much each longest wait grows, at least 1
   * @param maxBackoff the cap on the longest wait
   * @param deadLetters where items go after the last attempt failed, or at once if not retryable
   * @param retryable which failures are tried again
   * @param jitter whether each wait is random in {@code [0, backoff(k)]} (the default) rather than
   *     exactly {@code backoff(k)}
   * @param random the source of the jitter, shared by the run's threads (so thread-safe, as {@link
   *     java.util.Random} is); null (the default) for {@link
   *     java.util.concurrent.ThreadLocalRandom}
   */
  record Retry(
      int maxAttempts,
      Duration initialBackoff,
      double multiplier,
      Duration maxBackoff,
      Sink<? super Failure> deadLetters,
      Predicate<? super Throwable> retryable,
      boolean jitter,
      RandomGenerator random)
      implements ErrorPolicy {

    /** The default {@link #retryable()}: every failure but an {@link Error}. */
    public static final Predicate<Throwable> NOT_AN_ERROR = t -> !(t instanceof Error);

    /**
     * Checks the components.
     *
     * @param maxAttempts calls in all, at least 1
     * @param initialBackoff the longest wait before the second call; not negative
     * @param multiplier how much each longest wait grows, at least 1
     * @param maxBackoff the cap on the longest wait; not negative
     * @param deadLetters where items go after the last attempt failed
     * @param retryable which failures are tried again
     * @param jitter whether waits are random up to the backoff
     * @param random the source of the jitter, or null for {@code ThreadLocalRandom}
     * @throws IllegalArgumentException if {@code deadLetters} is a branch ({@link Sink#through}) or
     *     a fan-out holding one: the pipeline cannot write to it directly
     */
    public Retry {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, was " + maxAttempts);
      }
      if (initialBackoff.isNegative() || maxBackoff.isNegative()) {
        throw new IllegalArgumentException("backoff must not be negative");
      }
      if (!(multiplier >= 1.0)) {
        throw new IllegalArgumentException("multiplier must be at least 1, was " + multiplier);
      }
      BranchSink.requireWritable(
          Objects.requireNonNull(deadLetters, "deadLetters"), "a dead-letter sink");
      Objects.requireNonNull(retryable, "retryable");
    }

    /**
     * This policy with another growth factor.
     *
     * @param multiplier how much each wait grows, at least 1
     * @return the new policy
     */
    public Retry withMultiplier(double multiplier) {
      return new Retry(
          maxAttempts,
          initialBackoff,
          multiplier,
          maxBackoff,
          deadLetters,
          retryable,
          jitter,
          random);
    }

    /**
     * This policy with another cap on the wait.
     *
     * @param maxBackoff the longest wait
     * @return the new policy
     */
    public Retry withMaxBackoff(Duration maxBackoff) {
      return new Retry(
          maxAttempts,
          initialBackoff,
          multiplier,
          maxBackoff,
          deadLetters,
          retryable,
          jitter,
          random);
    }

    /**
     * This policy retrying only the failures {@code retryable} accepts; see the class comment for
     * what happens to the others.
     *
     * @param retryable which failures are tried again
     * @return the new policy
     */
    public Retry retryOn(Predicate<? super Throwable> retryable) {
      return new Retry(
          maxAttempts,
          initialBackoff,
          multiplier,
          maxBackoff,
          deadLetters,
          Objects.requireNonNull(retryable, "retryable"),
          jitter,
          random);
    }

    /**
     * This policy with full jitter drawn from {@code random}, for instance a seeded {@link
     * java.util.Random} in a test.
     *
     * @param random the source of the jitter; thread-safe
     * @return the new policy
     */
    public Retry withJitter(RandomGenerator random) {
      return new Retry(
          maxAttempts,
          initialBackoff,
          multiplier,
          maxBackoff,
          deadLetters,
          retryable,
          true,
          Objects.requireNonNull(random, "random"));
    }

    /**
     * This policy waiting exactly {@link #backoff(int)} between attempts.
     *
     * @return the new policy
     */
    public Retry withoutJitter() {
      return new Retry(
          maxAttempts, initialBackoff, multiplier, maxBackoff, deadLetters, retryable, false, null);
    }

    /**
     * The longest wait before the attempt after {@code failedAttempt}: {@code min(initialBackoff *
     * multiplier^(failedAttempt-1), maxBackoff)}.
     *
     * @param failedAttempt the attempt that just failed, from 1
     * @return the wait without jitter
     */
    public Duration backoff(int failedAttempt) {
      double nanos = Durations.nanos(initialBackoff) * Math.pow(multiplier, failedAttempt - 1);
      return nanos >= Durations.nanos(maxBackoff) ? maxBackoff : Duration.ofNanos((long) nanos);
    }

    /**
     * The wait before the attempt after {@code failedAttempt}: with jitter, uniform in {@code [0,
     * backoff(failedAttempt)]}; without, {@code backoff(failedAttempt)}.
     *
     * @param failedAttempt the attempt that just failed, from 1
     * @return the wait
     */
    public Duration delay(int failedAttempt) {
      Duration longest = backoff(failedAttempt);
      long cap = Durations.nanos(longest); // a wait too long for nanoseconds is "never"
      if (!jitter || cap == 0) {
        return longest;
      }
      RandomGenerator r = random != null ? random : ThreadLocalRandom.current();
      return Duration.ofNanos(cap == Long.MAX_VALUE ? r.nextLong(cap) : r.nextLong(cap + 1));
    }

    /**
     * Whether {@code error} is tried again, per {@link #retryable()}.
     *
     * @param error what the stage's function threw
     * @return whether a later attempt may be made
     */
    public boolean retries(Throwable error) {
      return retryable.test(error);
    }
  }
}
