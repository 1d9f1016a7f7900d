package io.sluice.core;

/**
 * A {@link Context} that its creator can cancel: the pair Go returns from {@code WithCancel},
 * {@code WithTimeout} and {@code WithDeadline}. {@link #close()} cancels, so try-with-resources is
 * Go's {@code defer cancel()}.
 *
 * <p>Cancelling runs what waits on the context (waking blocked threads, starting {@link
 * Context#afterFunc} threads, ending descendants) on the cancelling thread. If any of that throws —
 * nothing does but an {@link Error}, such as an {@link OutOfMemoryError} starting a thread — the
 * rest still runs and every descendant still ends; then the cancel throws the first Error (else the
 * first exception), with the others suppressed in it.
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
