package io.sluice.server;

import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.ObjectStore;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/** A real service on a free port for the command-line tests, with a few ways to look inside. */
final class RunningService implements AutoCloseable {
  private final SluiceServer server;
  private final HttpClient http = HttpClient.newHttpClient();
  private final String token;

  private RunningService(SluiceServer server, String token) {
    this.server = server;
    this.token = token;
  }

  static RunningService start(Path dataDir) throws IOException {
    return start(dataDir, c -> c, FilesystemObjectStore.open(dataDir.resolve("objects")));
  }

  static RunningService start(Path dataDir, UnaryOperator<ServerConfig> config, ObjectStore objects)
      throws IOException {
    ServerConfig c =
        config.apply(
            ServerConfig.defaults(dataDir).withPort(0).withShutdownGrace(Duration.ofSeconds(5)));
    return new RunningService(SluiceServer.start(c, objects, p -> {}), c.token().orElse(null));
  }

  /** A URL where nothing listens (a port that was free a moment ago). */
  static String deadUrl() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return "http://127.0.0.1:" + s.getLocalPort();
    }
  }

  String url() {
    return "http://127.0.0.1:" + port();
  }

  int port() {
    return server.port();
  }

  /** Posts a batch and returns the ids of its payloads. */
  @SuppressWarnings("unchecked")
  List<String> post(String body) throws Exception {
    HttpResponse<String> r =
        send("/v1/payloads", b -> b.POST(HttpRequest.BodyPublishers.ofString(body)));
    if (r.statusCode() != 202) {
      throw new AssertionError("POST answered " + r.statusCode() + ": " + r.body());
    }
    return (List<String>) (List<?>) Json.object(r.body()).get("ids");
  }

  /** Waits (without sleeping: it asks again) until the job is in the state. */
  void awaitState(String id, String state) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      HttpResponse<String> r = send("/v1/jobs/" + id, HttpRequest.Builder::GET);
      Map<String, Object> job = Json.object(r.body());
      if (state.equals(job.get("state"))) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " never became " + state + ": " + r.body());
      }
      Thread.yield();
    }
  }

  /** The service's own count of accepted payloads, from /metrics. */
  long payloadsAccepted() throws Exception {
    String metrics = send("/metrics", HttpRequest.Builder::GET).body();
    for (String line : metrics.split("\n")) {
      if (line.startsWith("sluice_payloads_accepted_total ")) {
        return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).strip());
      }
    }
    throw new AssertionError("no sluice_payloads_accepted_total in\n" + metrics);
  }

  HttpResponse<String> send(String path, UnaryOperator<HttpRequest.Builder> method)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create(url() + path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json");
    if (token != null) {
      b.header("Authorization", "Bearer " + token);
    }
    return http.send(method.apply(b).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    http.close();
    server.close();
  }
}
