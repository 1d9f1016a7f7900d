package io.sluice.jobs.journal;

import java.io.Serial;

/**
 * The journal could not make records durable (a write or force failed: disk full, I/O error,
 * read-only filesystem ...). The journal is then failed for good, as PostgreSQL is after a failed
 * fsync: the append that met the failure, every append pending with it and every later append fail
 * with a {@code JournalException} whose message says what happened and what to do. Records
 * acknowledged before the failure stay durable; records that failed may or may not be in the
 * journal after a restart.
 */
public final class JournalException extends RuntimeException {
  @Serial private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what happened and what to do
   * @param cause the I/O failure, or the original {@code JournalException} when rethrown to a later
   *     caller
   */
  public JournalException(String message, Throwable cause) {
    super(message, cause);
  }
}
