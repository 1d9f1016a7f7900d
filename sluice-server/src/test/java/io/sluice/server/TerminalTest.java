package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Whether standard error is a terminal, asked in a child JVM that runs on a real pseudo-terminal
 * (made by util-linux {@code script}) with one of its streams redirected to a file, as a user's
 * {@code sluice serve 2>file} typed in a terminal does.
 */
@Timeout(60)
class TerminalTest {
  private static final Path SCRIPT = Path.of("/usr/bin/script");

  @TempDir Path dir;

  /**
   * Runs the probe in a child JVM under {@code script}, its standard streams on the pseudo-terminal
   * but for {@code redirect} (a shell redirection); returns the probe's answer.
   */
  private String probeOnATerminal(String redirect) throws Exception {
    Path answer = dir.resolve("answer.txt");
    assumeTrue(
        Files.isExecutable(SCRIPT) && Files.isDirectory(Path.of("/proc/self/fd")),
        "needs Linux and util-linux script to make a pseudo-terminal");
    String java = ProcessHandle.current().info().command().orElse("java");
    String command =
        "'"
            + java
            + "' -cp '"
            + String.join(File.pathSeparator, System.getProperty("java.class.path"))
            + "' "
            + StderrTerminalProbe.class.getName()
            + " '"
            + answer
            + "' "
            + redirect;
    Path transcript = dir.resolve("transcript");
    Process script =
        new ProcessBuilder(SCRIPT.toString(), "-qec", command, "/dev/null")
            .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
            .redirectOutput(transcript.toFile())
            .redirectErrorStream(true)
            .start();
    if (!script.waitFor(50, TimeUnit.SECONDS)) {
      script.destroyForcibly();
      throw new AssertionError("the probe did not end; it wrote: " + Files.readString(transcript));
    }
    assertEquals(0, script.exitValue(), Files.readString(transcript));
    return Files.readString(answer, UTF_8).strip();
  }

  @Test
  void stderrRedirectedToAFileFromATerminalIsNotATerminal() throws Exception {
    String answer = probeOnATerminal("2>'" + dir.resolve("err.txt") + "'");

    assertEquals("stderr is a terminal: false", answer);
  }

  @Test
  void stderrOnATerminalIsATerminalWhereverStdoutGoes() throws Exception {
    String answer = probeOnATerminal(">'" + dir.resolve("out.txt") + "'");

    assertEquals("stderr is a terminal: true", answer);
  }
}
