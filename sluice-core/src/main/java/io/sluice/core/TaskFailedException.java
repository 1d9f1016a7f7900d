package io.sluice.core;

/**
 * Thrown by {@link TaskGroup#await()} when a task of the group failed: Go's non-nil error from
 * {@code errgroup.Group.Wait}.
 *
 * <p>The {@linkplain #getCause() cause} is the first failure, exactly as the task threw it (any
 * {@link Throwable}, with the task's stack); failures of other tasks of the group are attached as
 * {@linkplain #getSuppressed() suppressed}, in the order they happened. This exception's own stack
 * is that of the thread that called {@code await}.
 */
public final class TaskFailedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Wraps the first failure of a task group.
   *
   * @param cause the first failure
   */
  public TaskFailedException(Throwable cause) {
    super("task failed: " + cause, cause);
  }
}
