package io.sluice.core;

/**
 * Thrown where a blocking call cannot declare {@link InterruptedException} — {@link
 * java.util.Iterator#hasNext()} of a channel, for one — and the waiting thread was interrupted. The
 * thread's interrupt status is set again before this is thrown, so code further up still sees it.
 */
public final class UncheckedInterruptedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Wraps the interruption.
   *
   * @param cause the interruption
   */
  public UncheckedInterruptedException(InterruptedException cause) {
    super("interrupted while waiting", cause);
  }

  @Override
  public synchronized InterruptedException getCause() {
    return (InterruptedException) super.getCause();
  }
}
