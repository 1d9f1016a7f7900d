package io.sluice.core;

/**
 * Thrown by {@link Once} and {@link OnceValue} when the action failed: its {@linkplain #getCause()
 * cause} is what the action threw, with the action's stack; this exception carries the stack of the
 * caller that learned of it.
 *
 * <p>With Go's policy ({@link Once#create()}, {@link OnceValue#of}) every later call throws a new
 * one with the same cause; with the retrying policy only the callers of the failed attempt do.
 */
public final class OnceFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Wraps a failure of a once action.
   *
   * @param cause what the action threw
   */
  public OnceFailedException(Throwable cause) {
    super("the once action failed: " + cause, cause);
  }
}
