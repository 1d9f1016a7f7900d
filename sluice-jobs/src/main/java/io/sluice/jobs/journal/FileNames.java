package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;

/**
 * Renames and deletes the journal's segment files: {@link Files} in production. Beside the files
 * and directory forces that go through {@link ChannelOpener}, these are the journal's changes to
 * its directory's names; a test that models what a device holds after a power cut needs to see
 * them, so an opener that also implements this interface is used for both ({@link #of}).
 * Package-private: only this package's tests implement it.
 */
interface FileNames {
  /** {@link Files#move} and {@link Files#deleteIfExists}. */
  FileNames DEFAULT = new FileNames() {};

  /** {@code opener} itself if it implements this interface, else {@link #DEFAULT}. */
  static FileNames of(ChannelOpener opener) {
    return opener instanceof FileNames names ? names : DEFAULT;
  }

  /** Renames {@code from} to {@code to} atomically ({@link StandardCopyOption#ATOMIC_MOVE}). */
  default void move(Path from, Path to) throws IOException {
    Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Deletes {@code file} if it exists; true if it did. */
  default boolean deleteIfExists(Path file) throws IOException {
    return Files.deleteIfExists(file);
  }

  /** The entries of {@code directory} whose names end with one of {@code suffixes}. */
  static List<Path> endingWith(Path directory, String... suffixes) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .filter(
              f -> {
                String name = f.getFileName().toString();
                for (String suffix : suffixes) {
                  if (name.endsWith(suffix)) {
                    return true;
                  }
                }
                return false;
              })
          .toList();
    }
  }
}
