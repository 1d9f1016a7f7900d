package io.sluice.core;

/**
 * A {@link Context} that its creator can cancel: the pair Go returns from {@code WithCancel},
 * {@code WithTimeout} and {@code WithDeadline}. {@link #close()} cancels, so try-with-resources is
 * Go's {@code defer cancel()}.
 *
 * <p>Memory consistency effects: actions in a thread before {@link #cancel()} happen-before every
 * action that observes this context or a descendant done, as for {@link Context}.
 */
public sealed interface CancelableContext extends Context, AutoCloseable permits CancelContext {

  /**
   * Cancels this context and its descendants with {@link ContextCancelledException}. Idempotent.
   */
  void cancel();

  /**
   * Cancels this context and its descendants, recording {@code cause}. Go's {@code
   * WithCancelCause}'s cancel function. Only the first cancellation counts.
   *
   * @param cause reported by {@link #cause()}, not {@code null}
   */
  void cancel(Throwable cause);

  /** Cancels, like {@link #cancel()}. */
  @Override
  void close();
}
