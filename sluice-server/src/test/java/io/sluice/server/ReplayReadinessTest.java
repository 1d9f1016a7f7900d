package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * While the journal is replayed the service listens but is not ready: {@code /health/ready} and
 * payloads answer 503 until the replay is done. The replay is held at its first progress report by
 * the start observer, so the test sees the starting phase every time, however fast the replay.
 */
@Timeout(120)
class ReplayReadinessTest {
  @TempDir Path dataDir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void duringReplayReadinessAndPayloadsAre503AndAfterItBoth200And202() throws Exception {
    givenAJournalWithManyJobs(5_000);
    CompletableFuture<Integer> port = new CompletableFuture<>();
    CountDownLatch replaying = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    SluiceServer.StartObserver holdReplay =
        new SluiceServer.StartObserver() {
          @Override
          public void listening(int p) {
            port.complete(p);
          }

          @Override
          public void replayProgress(long percent) {
            replaying.countDown();
            try {
              release.await();
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        };
    CompletableFuture<SluiceServer> started =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return SluiceServer.start(config(), store(), holdReplay);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            },
            r -> Thread.ofVirtual().start(r));
    String url = "http://127.0.0.1:" + port.get(60, TimeUnit.SECONDS);
    assertTrue(replaying.await(60, TimeUnit.SECONDS), "the replay reported progress");

    HttpResponse<String> ready = get(url + "/health/ready");
    HttpResponse<String> post = post(url + "/v1/payloads", "{\"payloads\": [1]}");

    assertEquals(503, ready.statusCode(), ready.body());
    Map<String, Object> readyBody = Json.object(ready.body());
    assertEquals("DOWN", readyBody.get("status"), ready.body());
    assertEquals("starting", readyBody.get("phase"), ready.body());
    assertTrue(
        String.valueOf(readyBody.get("detail")).startsWith("replaying the journal"), ready.body());
    assertEquals(200, get(url + "/health/live").statusCode(), "live while starting");
    assertEquals(503, post.statusCode(), post.body());
    assertEquals("application/json", post.headers().firstValue("Content-Type").orElse(""));
    Map<String, Object> postBody = Json.object(post.body());
    assertEquals("starting", postBody.get("error"), post.body());
    assertTrue(String.valueOf(postBody.get("message")).contains("replaying the journal"));

    release.countDown();
    try (SluiceServer server = started.get(60, TimeUnit.SECONDS)) {
      assertEquals(200, get(url + "/health/ready").statusCode());
      assertEquals(202, post(url + "/v1/payloads", "{\"payloads\": [1]}").statusCode());
      assertEquals(server.port(), port.get());
    }
  }

  /** Many accepted payloads in the journal, from a short-lived service. */
  private void givenAJournalWithManyJobs(int count) throws Exception {
    try (SluiceServer first = SluiceServer.start(config(), store(), p -> {})) {
      String url = "http://127.0.0.1:" + first.port() + "/v1/payloads";
      for (int batch = 0; batch < count / 1_000; batch++) {
        String payloads =
            IntStream.range(0, 1_000)
                .mapToObj(i -> "{\"n\": " + i + "}")
                .collect(Collectors.joining(","));
        HttpResponse<String> r = post(url, "{\"payloads\": [" + payloads + "]}");
        assertEquals(202, r.statusCode(), r.body());
      }
    }
  }

  private ServerConfig config() {
    return ServerConfig.defaults(dataDir)
        .withPort(0)
        .withLimits(100_000, 1 << 20, 1_000, 64)
        .withShutdownGrace(Duration.ofSeconds(5));
  }

  private FilesystemObjectStore store() throws java.io.IOException {
    return FilesystemObjectStore.open(dataDir.resolve("objects"));
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String url, String json) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(json))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
