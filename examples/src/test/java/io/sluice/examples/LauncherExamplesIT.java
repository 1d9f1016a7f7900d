package io.sluice.examples;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code ./sluice examples} and {@code ./sluice example NAME} as a user runs them, on the build
 * this run just packaged: the list names every example in the source tree, and each one runs to its
 * end in its own JVM on the class path the launcher puts together (an example whose module the
 * launcher forgets fails here, not in the user's hands).
 */
class LauncherExamplesIT {
  private static final Path ROOT = Path.of(System.getProperty("sluice.root", "..")).normalize();
  private static final Path SOURCES = ROOT.resolve("examples/src/main/java/io/sluice/examples");

  @BeforeAll
  static void theBuildIsCurrent() throws IOException {
    // The launcher rebuilds when a source is newer than the class path file, which the dependency
    // plugin leaves untouched when it has not changed. This run compiled and packaged every module
    // just now, so the build is current: say so, rather than have the launcher start a second Maven
    // inside this one.
    Path classPath = ROOT.resolve("examples/target/classpath.txt");
    assertTrue(Files.isRegularFile(classPath), classPath + " (written at package)");
    Files.setLastModifiedTime(classPath, FileTime.from(Instant.now()));
  }

  static Stream<String> examples() throws IOException {
    try (Stream<Path> files = Files.list(SOURCES)) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.endsWith(".java") && !n.equals("package-info.java"))
          .map(n -> n.substring(0, n.length() - ".java".length()))
          .sorted()
          .toList()
          .stream();
    }
  }

  @Test
  @Timeout(60)
  void examplesListsEveryExample() throws Exception {
    Run list = Run.of("examples");

    assertEquals(0, list.exit(), list.output());
    List<String> listed =
        list.output().lines().filter(l -> l.startsWith("  ")).map(String::strip).toList();
    assertEquals(examples().toList(), listed.stream().sorted().toList(), list.output());
  }

  @Test
  @Timeout(60)
  void anUnknownExampleIsRefusedWithTheList() throws Exception {
    Run wrong = Run.of("example", "NoSuchExample");

    assertEquals(2, wrong.exit(), wrong.output());
    assertTrue(wrong.output().contains("no example 'NoSuchExample'"), wrong.output());
    assertTrue(wrong.output().contains("SimplePipeline"), wrong.output());
  }

  @ParameterizedTest
  @MethodSource("examples")
  @Timeout(120)
  void eachExampleRunsToItsEnd(String name) throws Exception {
    Run run = Run.of("example", name);

    assertEquals(0, run.exit(), run.output());
    assertFalse(run.output().contains("sluice: building"), run.output());
    assertFalse(run.output().contains("Exception in thread \"main\""), run.output());
  }

  /** One launcher run to its end, stdout and stderr together. */
  private record Run(int exit, String output) {
    static Run of(String... args) throws IOException, InterruptedException {
      List<String> command = new ArrayList<>(List.of("bash", "sluice"));
      command.addAll(List.of(args));
      ProcessBuilder pb =
          new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
      // The documented case of a JDK 25 named by JAVA_HOME: this test's own.
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      Process p = pb.start();
      try {
        // The output is read to its end before waiting, so a full pipe cannot block the child.
        String output = new String(p.getInputStream().readAllBytes(), UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "did not exit:\n" + output);
        return new Run(p.exitValue(), output);
      } finally {
        p.destroyForcibly();
      }
    }
  }
}
