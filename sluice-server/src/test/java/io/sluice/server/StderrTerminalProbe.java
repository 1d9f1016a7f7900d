package io.sluice.server;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes {@link Terminal#stderr()} to the file named by its argument; a test runs it in a child
 * JVM.
 */
final class StderrTerminalProbe {
  private StderrTerminalProbe() {}

  public static void main(String[] args) throws IOException {
    Files.writeString(Path.of(args[0]), "stderr is a terminal: " + Terminal.stderr());
  }
}
