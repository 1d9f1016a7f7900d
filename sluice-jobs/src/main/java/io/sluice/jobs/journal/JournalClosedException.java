package io.sluice.jobs.journal;

import java.io.Serial;

/** An append or release was attempted on a journal after {@link Journal#close()}. */
public final class JournalClosedException extends IllegalStateException {
  @Serial private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message which journal, and that it is closed
   */
  public JournalClosedException(String message) {
    super(message);
  }
}
