package io.sluice.core;

import java.util.concurrent.CancellationException;

/**
 * Thrown by a blocking operation when the {@link Context} it was given is done: Go's {@code
 * context.Canceled}. {@link DeadlineExceededException} is the subclass for a context whose deadline
 * passed.
 *
 * <p>An exception thrown by a blocked call has that call's stack, and as its {@linkplain
 * #getCause() cause} the context's {@linkplain Context#cause() cause}: the one given to {@link
 * CancelableContext#cancel(Throwable)}, else the error the context recorded ({@link Context#err()},
 * which carries no stack trace of its own).
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

  /**
   * The error a context records when it is cancelled: Go's {@code context.Canceled}. It has no
   * stack trace, since filling one in would cost most of a cancellation; a blocked caller gets a
   * fresh exception with its own stack ({@link BaseContext#failure()}).
   */
  static ContextCancelledException recorded() {
    return new Recorded();
  }

  private static final class Recorded extends ContextCancelledException {
    private static final long serialVersionUID = 1L;

    Recorded() {
      super("context cancelled", null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
