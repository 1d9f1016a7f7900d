package io.sluice.core;

import java.util.concurrent.CancellationException;

/**
 * Thrown by a blocking operation when the {@link Context} it was given is done: Go's {@code
 * context.Canceled}. {@link DeadlineExceededException} is the subclass for a context whose deadline
 * passed.
 *
 * <p>The {@linkplain #getCause() cause} is the context's {@linkplain Context#cause() cause} when
 * one was given to {@link CancelableContext#cancel(Throwable)}.
 */
public class ContextCancelledException extends CancellationException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was cancelled
   * @param cause the cancellation cause, or {@code null}
   */
  @SuppressWarnings("this-escape") // initCause is the only way to set it on CancellationException
  public ContextCancelledException(String message, Throwable cause) {
    super(message);
    if (cause != null) {
      initCause(cause);
    }
  }

  /**
   * Whether the context ended because its deadline passed rather than by a call to cancel.
   *
   * @return {@code true} for a {@link DeadlineExceededException}
   */
  public boolean isDeadlineExceeded() {
    return false;
  }

  /** Creates a fresh exception of the same kind, with the caller's stack, for rethrowing. */
  ContextCancelledException copy() {
    return new ContextCancelledException(getMessage(), getCause());
  }
}
