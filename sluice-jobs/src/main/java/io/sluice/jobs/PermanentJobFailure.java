package io.sluice.jobs;

/**
 * Thrown by a {@link JobHandler} to say that trying the job again cannot help: the attempt fails
 * and the job becomes a dead letter at once, whatever its {@link RetryPolicy} allows. Use it for
 * failures that only a change elsewhere fixes (refused credentials, a missing bucket, a payload the
 * handler can never accept); once fixed, {@link JobEngine#retryDead} runs the job again.
 *
 * <p>Only the exception the handler throws counts, not one found among its causes: a handler that
 * wraps a permanent failure in another exception asks for the usual retries.
 *
 * <pre>{@code
 * try {
 *   objects.put(key, bytes);
 * } catch (StoreRefusedException e) {
 *   throw new PermanentJobFailure("the store refused the upload; fix its settings", e);
 * }
 * }</pre>
 */
public class PermanentJobFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * A permanent failure with a message and its cause.
   *
   * @param message what failed and what would fix it; kept as the job's last error
   * @param cause the failure underneath, or null
   */
  public PermanentJobFailure(String message, Throwable cause) {
    super(message, cause);
  }

  /**
   * A permanent failure with a message.
   *
   * @param message what failed and what would fix it; kept as the job's last error
   */
  public PermanentJobFailure(String message) {
    super(message);
  }
}
