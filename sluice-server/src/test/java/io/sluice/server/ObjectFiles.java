package io.sluice.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** The objects a filesystem store has written, listed while its uploads may still be running. */
final class ObjectFiles {
  private ObjectFiles() {}

  /**
   * Every {@code .json} object under {@code root}, sorted; none if {@code root} does not exist yet.
   * A walk that meets a temporary file renamed away while it listed it (an upload finishing) is
   * walked again.
   */
  static List<Path> json(Path root) throws IOException {
    while (true) {
      if (!Files.exists(root)) {
        return List.of();
      }
      try (Stream<Path> files = Files.walk(root)) {
        return files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList();
      } catch (UncheckedIOException e) {
        if (!(e.getCause() instanceof NoSuchFileException)) {
          throw e;
        }
      }
    }
  }
}
