package io.sluice.core;

/**
 * A {@link ContextCancelledException} for a context whose deadline passed: Go's {@code
 * context.DeadlineExceeded}.
 */
public final class DeadlineExceededException extends ContextCancelledException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what timed out
   * @param cause the cause given to {@code withDeadlineCause}/{@code withTimeoutCause}, or {@code
   *     null}
   */
  public DeadlineExceededException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isDeadlineExceeded() {
    return true;
  }

  @Override
  ContextCancelledException copy() {
    return new DeadlineExceededException(getMessage(), getCause());
  }
}
