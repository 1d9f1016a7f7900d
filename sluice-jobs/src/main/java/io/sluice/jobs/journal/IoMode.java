package io.sluice.jobs.journal;

/** How the journal writes its segment files. */
public enum IoMode {
  /**
   * Probe direct I/O at open and use it where the filesystem accepts it; otherwise fall back to
   * {@link #BUFFERED} and log one warning. The default.
   */
  AUTO,
  /**
   * Direct I/O ({@code O_DIRECT} through {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}) with
   * 4096-byte aligned buffers, positions and lengths, bypassing the page cache. Opening fails if
   * the filesystem refuses it.
   */
  DIRECT,
  /** Ordinary writes through the page cache, made durable with {@code FileChannel.force(false)}. */
  BUFFERED
}
