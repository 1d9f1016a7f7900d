package io.sluice.jobs;

/**
 * The store cannot keep its promise of durability. As itself: its journal failed (disk full, a
 * failed write or force); nothing the failing call was asked to record can be counted on, and the
 * store refuses further work until it is reopened. Its two subclasses are about a journal that
 * hangs instead of failing, and the store goes on once the disk answers: {@link
 * DurabilityUnknownException} (a batch was handed to the journal but not confirmed in time) and
 * {@link JournalStalledException} (a batch was refused because the journal is stalled).
 */
public sealed class JobStoreException extends RuntimeException
    permits DurabilityUnknownException, JournalStalledException {
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
