package io.sluice.jobs;

/**
 * The store cannot keep its promise of durability: its journal failed (disk full, a failed write or
 * force). Nothing the failing call was asked to record can be counted on; the store refuses further
 * work until it is reopened.
 */
public final class JobStoreException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * A failure with its cause.
   *
   * @param message what happened and what to do
   * @param cause the underlying failure
   */
  public JobStoreException(String message, Throwable cause) {
    super(message, cause);
  }
}
