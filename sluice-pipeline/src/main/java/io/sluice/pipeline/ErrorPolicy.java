package io.sluice.pipeline;

import java.time.Duration;
import java.util.Objects;

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
 *     <tr><td>{@link #retry(int, Duration, Sink)}</td><td>retried with exponential backoff; after
 *         the last attempt written to the dead-letter sink, then dropped</td><td>goes on</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Every {@link Throwable} counts as a failure, {@link Error}s included. The error and
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
   * A failing item is tried again, up to {@code maxAttempts} calls in all, waiting {@code
   * initialBackoff} before the second call and twice as long before each later one (capped at one
   * minute; see {@link Retry#withMaxBackoff(Duration)}); after the last failed attempt it goes to
   * {@code deadLetters} and is skipped.
   *
   * @param maxAttempts calls in all, at least 1
   * @param initialBackoff the wait before the second call; not negative
   * @param deadLetters where items go after the last attempt failed
   * @return the policy
   */
  static Retry retry(int maxAttempts, Duration initialBackoff, Sink<? super Failure> deadLetters) {
    return new Retry(maxAttempts, initialBackoff, 2.0, Duration.ofMinutes(1), deadLetters);
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
   * The retry policy; see {@link #retry(int, Duration, Sink)}. The wait before attempt {@code k+1}
   * is {@code min(initialBackoff * multiplier^(k-1), maxBackoff)}.
   *
   * @param maxAttempts calls in all, at least 1
   * @param initialBackoff the wait before the second call
   * @param multiplier how much each wait grows, at least 1
   * @param maxBackoff the longest wait
   * @param deadLetters where items go after the last attempt failed
   */
  record Retry(
      int maxAttempts,
      Duration initialBackoff,
      double multiplier,
      Duration maxBackoff,
      Sink<? super Failure> deadLetters)
      implements ErrorPolicy {
    /**
     * Checks the components.
     *
     * @param maxAttempts calls in all, at least 1
     * @param initialBackoff the wait before the second call
     * @param multiplier how much each wait grows, at least 1
     * @param maxBackoff the longest wait
     * @param deadLetters where items go after the last attempt failed
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
    }

    /**
     * This policy with another growth factor.
     *
     * @param multiplier how much each wait grows, at least 1
     * @return the new policy
     */
    public Retry withMultiplier(double multiplier) {
      return new Retry(maxAttempts, initialBackoff, multiplier, maxBackoff, deadLetters);
    }

    /**
     * This policy with another cap on the wait.
     *
     * @param maxBackoff the longest wait
     * @return the new policy
     */
    public Retry withMaxBackoff(Duration maxBackoff) {
      return new Retry(maxAttempts, initialBackoff, multiplier, maxBackoff, deadLetters);
    }

    /**
     * The wait before the attempt after {@code failedAttempt}.
     *
     * @param failedAttempt the attempt that just failed, from 1
     * @return the wait
     */
    public Duration backoff(int failedAttempt) {
      double nanos = initialBackoff.toNanos() * Math.pow(multiplier, failedAttempt - 1);
      return nanos >= maxBackoff.toNanos() ? maxBackoff : Duration.ofNanos((long) nanos);
    }
  }
}
