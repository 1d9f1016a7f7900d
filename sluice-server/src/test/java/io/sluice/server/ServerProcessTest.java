package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice serve} as a real process: SIGTERM drains and exits 0; SIGKILL during load loses
 * nothing that got a 202. After either, a restart uploads every accepted payload, byte for byte.
 */
@Timeout(300)
class ServerProcessTest {
  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

  @TempDir Path dataDir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void sigtermDrainsAndExitsZeroAndEveryAcceptedPayloadEndsAsAnObject() throws Exception {
    Map<String, String> accepted = new ConcurrentHashMap<>();
    Served first = Served.start(dataDir);
    Load load = Load.start(http, first.port, accepted);
    load.awaitAccepted(200);

    // SIGTERM through the handle: Process.destroy() would also close our end of its output.
    first.process.toHandle().destroy();
    assertTrue(first.process.waitFor(120, TimeUnit.SECONDS), "the service stopped");
    load.stop();

    assertEquals(0, first.process.exitValue(), "exit status after SIGTERM\n" + first.output());
    assertTrue(first.output().contains("sluice: stopped"), first.output());
    assertEveryAcceptedPayloadUploaded(accepted);
  }

  @Test
  void sigkillDuringLoadLosesNothingThatGotA202() throws Exception {
    sigkillRounds(2);
  }

  /** The long version: more kills at more moments of the load (./mvnw verify -Pstress). */
  @Test
  @Tag("stress-long")
  @Timeout(1200)
  void manySigkillsDuringLoadLoseNothingThatGotA202() throws Exception {
    sigkillRounds(12);
  }

  private void sigkillRounds(int rounds) throws Exception {
    Map<String, String> accepted = new ConcurrentHashMap<>();
    for (int round = 0; round < rounds; round++) {
      Served served = Served.start(dataDir);
      Load load = Load.start(http, served.port, accepted);
      // the kill falls at a random point of the load: after 100 to 600 more 202s
      load.awaitAccepted(accepted.size() + 100 + ThreadLocalRandom.current().nextInt(501));
      served.process.toHandle().destroyForcibly(); // SIGKILL, keeping our end of its output
      served.process.waitFor(60, TimeUnit.SECONDS);
      load.stop();
    }

    assertEveryAcceptedPayloadUploaded(accepted);
  }

  @Test
  void aScheduleAndADelayedPayloadSurviveASigkillAndRunAfterTheRestart() throws Exception {
    Served first = Served.start(dataDir);
    java.time.Instant due = java.time.Instant.now().plusSeconds(8);
    HttpResponse<String> schedule =
        send(
            first.port,
            "/v1/schedules/once",
            "PUT",
            "{\"trigger\": \"at " + due + "\", \"payload\": {\"from\": \"schedule\"}}");
    HttpResponse<String> delayed =
        send(
            first.port,
            "/v1/payloads",
            "POST",
            "{\"payloads\": [{\"from\": \"runAt\"}], \"runAt\": \"" + due + "\"}");
    assertEquals(201, schedule.statusCode(), schedule.body());
    assertEquals(202, delayed.statusCode(), delayed.body());
    first.process.toHandle().destroyForcibly();
    first.process.waitFor(60, TimeUnit.SECONDS);
    assertTrue(objectsById().isEmpty(), "nothing ran before the kill: " + objectsById());

    Served again = Served.start(dataDir);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (objectsById().size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      List<String> contents = new ArrayList<>();
      for (Path object : objectsById().values()) {
        contents.add(Files.readString(object, UTF_8));
      }
      contents.sort(null);
      assertEquals(List.of("{\"from\": \"runAt\"}", "{\"from\": \"schedule\"}"), contents);
      HttpResponse<String> after = send(again.port, "/v1/schedules/once", "GET", null);
      assertTrue(after.body().contains("\"lastFire\":\"" + due + "\""), after.body());
    } finally {
      again.process.toHandle().destroy();
      again.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void aBacklogOfLargePayloadsIsRefusedWith429BeforeTheHeapRunsOut() throws Exception {
    // given: a 128 MiB heap, so by default at most 32 MiB of payloads held in memory
    Served served = Served.start(dataDir, "-Xmx128m");
    try {
      // when: 160 payloads of ~900 KB (144 MB, more than the heap), due in 2030 so none leaves
      String body =
          "{\"payloads\": [\"" + "x".repeat(900_000) + "\"], \"runAt\": \"2030-01-01T00:00:00Z\"}";
      int accepted = 0;
      int refused = 0;
      for (int i = 0; i < 160; i++) {
        HttpResponse<String> r = send(served.port, "/v1/payloads", "POST", body);
        switch (r.statusCode()) {
          case 202 -> accepted++;
          case 429 -> {
            refused++;
            assertTrue(r.body().contains("bytes of payloads"), r.body());
          }
          default -> throw new AssertionError(r.statusCode() + " " + r.body() + served.output());
        }
      }

      // then: what fits the limit is accepted, the rest refused, and the service is unharmed
      assertTrue(accepted >= 20 && accepted <= 37, "accepted " + accepted);
      assertEquals(160, accepted + refused);
      assertEquals(200, send(served.port, "/health/live", "GET", null).statusCode());
      assertEquals(
          202,
          send(served.port, "/v1/payloads", "POST", "{\"payloads\": [1]}").statusCode(),
          "small payloads still fit");
      assertTrue(served.process.isAlive(), served.output());
    } finally {
      served.process.toHandle().destroy();
      served.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private HttpResponse<String> send(int port, String path, String method, String json)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json");
    b.method(
        method,
        json == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(json));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Restarts the service and waits until each accepted payload is its object, byte for byte. (A job
   * finished before the restart is no longer known to the new process, so the check is on the
   * objects, found by their file name: the job id.)
   */
  private void assertEveryAcceptedPayloadUploaded(Map<String, String> accepted) throws Exception {
    assertTrue(accepted.size() >= 200, "enough load: " + accepted.size());
    Served again = Served.start(dataDir);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      Map<String, Path> objects = objectsById();
      while (!objects.keySet().containsAll(accepted.keySet()) && System.nanoTime() < deadline) {
        Thread.sleep(50);
        objects = objectsById();
      }
      for (Map.Entry<String, String> e : accepted.entrySet()) {
        Path object = objects.get(e.getKey());
        assertTrue(object != null, "no object for accepted payload " + e.getKey());
        assertArrayEquals(
            e.getValue().getBytes(UTF_8), Files.readAllBytes(object), object.toString());
      }
    } finally {
      again.process.toHandle().destroy();
      again.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private Map<String, Path> objectsById() throws IOException {
    return ObjectFiles.json(dataDir.resolve("objects")).stream()
        .collect(
            java.util.stream.Collectors.toMap(
                f -> f.getFileName().toString().replace(".json", ""), f -> f));
  }

  /** A {@code sluice serve} child process on a free port. */
  private record Served(Process process, int port, StringBuilder log, Thread reader) {
    static Served start(Path dataDir) throws Exception {
      return start(dataDir, "-Xmx512m");
    }

    static Served start(Path dataDir, String maxHeap) throws Exception {
      String classPath = String.join(File.pathSeparator, System.getProperty("java.class.path"));
      String java = ProcessHandle.current().info().command().orElse("java");
      Process process =
          new ProcessBuilder(
                  java,
                  "-cp",
                  classPath,
                  maxHeap,
                  "-XX:+ExitOnOutOfMemoryError",
                  "--enable-native-access=ALL-UNNAMED",
                  Main.class.getName(),
                  "serve",
                  "--port",
                  "0",
                  "--host",
                  "127.0.0.1",
                  "--data-dir",
                  dataDir.toString(),
                  "--workers",
                  "8",
                  "--object-writers",
                  "3",
                  "--shutdown-grace",
                  "5s")
              .redirectErrorStream(true)
              .start();
      StringBuilder log = new StringBuilder();
      CompletableFuture<Integer> port = new CompletableFuture<>();
      Thread reader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (BufferedReader in =
                        new BufferedReader(
                            new InputStreamReader(process.getInputStream(), UTF_8))) {
                      String line;
                      while ((line = in.readLine()) != null) {
                        synchronized (log) {
                          log.append(line).append('\n');
                        }
                        Matcher m = LISTENING.matcher(line);
                        if (line.startsWith("sluice: listening") && m.find()) {
                          port.complete(Integer.parseInt(m.group(1)));
                        }
                      }
                    } catch (IOException e) {
                      port.completeExceptionally(e);
                    } finally {
                      port.completeExceptionally(
                          new IllegalStateException("the service exited:\n" + log));
                    }
                  });
      return new Served(process, port.get(120, TimeUnit.SECONDS), log, reader);
    }

    /** Everything the process printed; waits for the end of its output once it has exited. */
    String output() throws InterruptedException {
      if (!process.isAlive()) {
        reader.join();
      }
      synchronized (log) {
        return log.toString();
      }
    }
  }

  /** Posts batches from a few virtual threads and records every 202'd id with its payload. */
  private static final class Load {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, String> accepted;

    private Load(Map<String, String> accepted) {
      this.accepted = accepted;
    }

    static Load start(HttpClient http, int port, Map<String, String> accepted) {
      Load load = new Load(accepted);
      for (int t = 0; t < 4; t++) {
        int thread = t;
        load.threads.add(Thread.ofVirtual().start(() -> load.run(http, port, thread)));
      }
      return load;
    }

    private void run(HttpClient http, int port, int thread) {
      Pattern idPattern = Pattern.compile("\"([0-9a-f-]{36})\"");
      for (int n = 0; running.get(); n++) {
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          payloads.add(
              "{\"t\":"
                  + thread
                  + ",\"n\":"
                  + n
                  + ",\"i\":"
                  + i
                  + ",\"pad\":\""
                  + "x".repeat(50)
                  + "\"}");
        }
        String body = "{\"payloads\": [" + String.join(",", payloads) + "]}";
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/payloads"))
                      .header("Content-Type", "application/json")
                      .timeout(Duration.ofSeconds(10))
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 202) {
            Matcher m = idPattern.matcher(r.body());
            for (int i = 0; m.find(); i++) {
              accepted.put(m.group(1), payloads.get(i));
            }
          }
        } catch (IOException e) {
          // the service went away mid-request: that request has no 202
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    void awaitAccepted(int count) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (accepted.size() < count) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("only " + accepted.size() + " payloads accepted");
        }
        Thread.sleep(10);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join();
      }
    }
  }
}
