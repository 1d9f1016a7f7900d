package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.util.Set;

/**
 * Opens the segment files the writer writes: {@link FileChannel#open} in production, a channel that
 * fails on cue in tests (an I/O failure that is real to the journal and deterministic).
 */
@FunctionalInterface
interface ChannelOpener {
  ChannelOpener DEFAULT = (file, options) -> FileChannel.open(file, options);

  FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException;
}
