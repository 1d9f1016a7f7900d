package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * Opens the segment files the writer writes, and the directories it forces: {@link
 * FileChannel#open} in production, a channel that fails or hangs on cue in tests (an I/O failure
 * that is real to the journal and deterministic). Public only so that the store's tests can reach
 * it; the package is not exported.
 */
@FunctionalInterface
public interface ChannelOpener {
  /** Opens the real file. */
  ChannelOpener DEFAULT = (file, options) -> FileChannel.open(file, options);

  /**
   * Opens a file.
   *
   * @param file the file
   * @param options as for {@link FileChannel#open(Path, Set,
   *     java.nio.file.attribute.FileAttribute[])}
   * @return the channel
   * @throws IOException if it cannot be opened
   */
  FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException;
}
