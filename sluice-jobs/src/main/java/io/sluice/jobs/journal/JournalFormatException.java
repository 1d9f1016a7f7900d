package io.sluice.jobs.journal;

import java.io.IOException;
import java.io.Serial;
import java.nio.file.Path;

/**
 * A segment file cannot be read by this version of Sluice: it comes from a newer format version, or
 * it does not start like a journal segment at all. {@link Journal#open} refuses to start rather
 * than guess; the message names the file and what to do. This is the only exception replay throws
 * for bad content: torn tails and damaged records are cut or skipped and reported in the {@link
 * ReplayReport} instead.
 */
public final class JournalFormatException extends IOException {
  @Serial private static final long serialVersionUID = 1L;

  /** The file that could not be read. */
  private final transient Path file;

  /**
   * Creates the exception.
   *
   * @param file the segment file
   * @param message what is wrong with it and what to do
   */
  public JournalFormatException(Path file, String message) {
    super(file + ": " + message);
    this.file = file;
  }

  /**
   * The segment file that could not be read.
   *
   * @return its path
   */
  public Path file() {
    return file;
  }
}
