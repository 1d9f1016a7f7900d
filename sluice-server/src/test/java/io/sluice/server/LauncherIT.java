package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's first command, {@code ./sluice serve}, run through the launcher script as a user
 * runs it, on the build this run just packaged: it starts with the embedded defaults on a free
 * port, accepts a payload, uploads it as a file, and stops with exit 0 on SIGTERM. Runs after
 * {@code package} (failsafe), since the launcher runs the packaged build.
 */
@Timeout(180)
class LauncherIT {
  private static final Path ROOT = Path.of(System.getProperty("sluice.root", "..")).normalize();
  private static final Pattern LISTENING =
      Pattern.compile("sluice: listening on http://[^:]+:(\\d+)");

  @TempDir Path work;

  private final HttpClient http = HttpClient.newHttpClient();
  private final List<Process> launched = new ArrayList<>();

  @BeforeAll
  static void theBuildIsCurrent() throws IOException {
    // The launcher rebuilds when a source is newer than the class path file, which the dependency
    // plugin leaves untouched when it has not changed. This run compiled and packaged every module
    // just now, so the build is current: say so, rather than have the launcher start a second Maven
    // inside this one.
    Path classPath = ROOT.resolve("sluice-server/target/classpath.txt");
    assertTrue(Files.isRegularFile(classPath), classPath + " (written at package)");
    Files.setLastModifiedTime(classPath, FileTime.from(Instant.now()));
  }

  @AfterEach
  void noLauncherOutlivesItsTest() throws InterruptedException {
    for (Process p : launched) {
      p.destroyForcibly();
      p.waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void helpListsTheCommands() throws Exception {
    Launched help = launch(List.of("--help"));

    assertEquals(0, help.awaitExit(), help.output());
    for (String command : List.of("serve", "load", "jobs", "dead-letters", "example")) {
      assertTrue(help.output().contains("./sluice " + command), command + "\n" + help.output());
    }
  }

  @Test
  void serveHelpListsEveryOptionWithItsDefault() throws Exception {
    Launched help = launch(List.of("serve", "--help"));

    assertEquals(0, help.awaitExit(), help.output());
    assertTrue(help.output().contains("--port"), help.output());
    assertTrue(help.output().contains("8080"), help.output());
    assertTrue(help.output().contains("--data-dir"), help.output());
    assertFalse(help.output().contains("sluice: building"), help.output());
  }

  @Test
  void anUnknownCommandIsRefusedWithAHint() throws Exception {
    Launched wrong = launch(List.of("srve"));

    assertEquals(2, wrong.awaitExit(), wrong.output());
    assertTrue(wrong.output().contains("unknown command 'srve'"), wrong.output());
    assertTrue(wrong.output().contains("--help"), wrong.output());
  }

  @Test
  void serveAcceptsAPayloadUploadsItAndStopsOnSigterm() throws Exception {
    // given the service started by the launcher with its defaults, but a free port and a fresh
    // data directory
    Path data = work.resolve("data");
    Launched serve =
        launch(
            List.of("serve", "--port", "0", "--host", "127.0.0.1", "--data-dir", data.toString()));
    int port = serve.awaitPort();
    URI base = URI.create("http://127.0.0.1:" + port);

    // when a payload is posted
    HttpResponse<String> posted =
        http.send(
            HttpRequest.newBuilder(base.resolve("/v1/payloads"))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"payloads\": [{\"n\": 1}]}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    // then it is accepted, uploaded under the data directory as it was sent
    assertEquals(202, posted.statusCode(), posted.body() + "\n" + serve.output());
    @SuppressWarnings("unchecked")
    String id = ((List<String>) Json.object(posted.body()).get("ids")).getFirst();
    String key = awaitUploaded(base, id, serve);
    assertEquals("{\"n\": 1}", Files.readString(data.resolve("objects").resolve(key), UTF_8));

    // and SIGTERM stops it with exit 0 (through the handle: destroy() would close our pipe)
    serve.process.toHandle().destroy();
    assertEquals(0, serve.awaitExit(), serve.output());
    assertTrue(serve.output().contains("sluice: stopped"), serve.output());
    assertFalse(serve.output().contains("sluice: building"), serve.output());
  }

  private Launched launch(List<String> args) throws IOException {
    Launched l = Launched.run(args);
    launched.add(l.process);
    return l;
  }

  private String awaitUploaded(URI base, String id, Launched serve) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    Map<String, Object> job = Map.of();
    while (System.nanoTime() < deadline) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(base.resolve("/v1/jobs/" + id)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(200, r.statusCode(), r.body());
      job = Json.object(r.body());
      if ("succeeded".equals(job.get("state"))) {
        return (String) job.get("key");
      }
      Thread.sleep(50); // polling a remote state: nothing to wait on but the next answer
    }
    throw new AssertionError("never uploaded: " + job + "\n" + serve.output());
  }

  /** The launcher as a child process, its output (stdout and stderr) collected as it comes. */
  private record Launched(Process process, StringBuilder log, Thread reader) {
    static Launched run(List<String> args) throws IOException {
      List<String> command = new ArrayList<>(List.of("bash", "sluice"));
      command.addAll(args);
      ProcessBuilder pb =
          new ProcessBuilder(command).directory(ROOT.toFile()).redirectErrorStream(true);
      // The documented case of a JDK 25 named by JAVA_HOME: this test's own.
      pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
      pb.environment().put("SLUICE_JAVA_OPTS", "-Xmx256m");
      Process process = pb.start();
      StringBuilder log = new StringBuilder();
      Thread reader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (var in = process.inputReader(UTF_8)) {
                      String line;
                      while ((line = in.readLine()) != null) {
                        synchronized (log) {
                          log.append(line).append('\n');
                          log.notifyAll();
                        }
                      }
                    } catch (IOException e) {
                      synchronized (log) {
                        log.append("(reading the output failed: ").append(e).append(")\n");
                      }
                    }
                  });
      return new Launched(process, log, reader);
    }

    int awaitPort() throws InterruptedException {
      synchronized (log) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        for (; ; ) {
          Matcher m = LISTENING.matcher(log);
          if (m.find()) {
            return Integer.parseInt(m.group(1));
          }
          long left = deadline - System.nanoTime();
          if (left <= 0 || !process.isAlive()) {
            throw new AssertionError("the service never listened:\n" + log);
          }
          TimeUnit.NANOSECONDS.timedWait(log, Math.min(left, TimeUnit.SECONDS.toNanos(1)));
        }
      }
    }

    int awaitExit() throws InterruptedException {
      if (!process.waitFor(120, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("the launcher did not exit:\n" + output());
      }
      return process.exitValue();
    }

    String output() throws InterruptedException {
      if (!process.isAlive()) {
        reader.join();
      }
      synchronized (log) {
        return log.toString();
      }
    }
  }
}
