package io.sluice.jobs.journal;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

/**
 * An append was not acknowledged within its timeout. The record was handed to the writer, so it may
 * or may not become durable: {@link #outcome()} says which, once the writer knows.
 */
public final class AppendTimeoutException extends TimeoutException {
  private static final long serialVersionUID = 1L;

  private final transient CompletableFuture<Long> outcome;

  AppendTimeoutException(String message, CompletableFuture<Long> outcome) {
    super(message);
    this.outcome = outcome;
  }

  /**
   * The record's outcome: completes with its segment number once it is durable per policy, or fails
   * with {@link JournalException} or {@link JournalClosedException}. It is completed on the
   * journal's completer or writer thread, so attach only quick non-async stages.
   *
   * @return the outcome
   */
  public CompletableFuture<Long> outcome() {
    return outcome;
  }
}
