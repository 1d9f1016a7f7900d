package io.sluice.core;

/**
 * A {@link ContextCancelledException} for a context whose deadline passed: Go's {@code
 * context.DeadlineExceeded}.
 */
public sealed class DeadlineExceededException extends ContextCancelledException
    permits DeadlineExceededException.Recorded {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what timed out
   * @param cause the cause given to {@link Context#withDeadline(java.time.Instant, Throwable)}, or
   *     {@code null}
   */
  public DeadlineExceededException(String message, Throwable cause) {
    super(message, cause);
  }

  @Override
  public boolean isDeadlineExceeded() {
    return true;
  }

  /** The error a context records when its deadline passes; without a stack trace, as above. */
  static DeadlineExceededException recorded() {
    return new Recorded();
  }

  static final class Recorded extends DeadlineExceededException {
    private static final long serialVersionUID = 1L;

    Recorded() {
      super("context deadline exceeded", null);
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }
}
