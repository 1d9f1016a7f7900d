package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.sluice.server.objects.FilesystemObjectStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice load} against a real service: its counts against the service's own. */
@Timeout(30)
class LoadCommandTest {
  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();

  private static long number(Map<String, Object> json, String name) {
    return ((Number) json.get(name)).longValue();
  }

  @Test
  void anOpenLoopRunSendsOneRequestPerDueTimeAndCountsWhatTheServiceAccepted() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run =
        CommandRun.of(
            "load",
            "--url",
            service.url(),
            "--rate",
            "20",
            "--duration",
            "2s",
            "-p",
            "3",
            "--progress",
            "off",
            "--json");

    assertEquals(0, run.exit(), run.toString());
    Map<String, Object> summary = Json.object(run.out());
    // Due times i/20 s for i = 0..39 fall inside 2 s: exactly 40 requests, however slow the
    // machine.
    assertEquals(40, number(summary, "requests"), run.toString());
    @SuppressWarnings("unchecked")
    Map<String, Object> status = (Map<String, Object>) summary.get("status");
    assertEquals(40, number(status, "202"), run.toString());
    assertEquals(0, number(status, "unanswered"), run.toString());
    assertEquals(120, number(summary, "payloads"), run.toString());
    assertEquals(120, service.payloadsAccepted());
    assertEquals("open", summary.get("mode"));
  }

  @Test
  void aClosedLoopRunWithWarmupCountsWarmupApart() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run =
        CommandRun.of(
            "load",
            "--url",
            service.url(),
            "--rate",
            "0",
            "-c",
            "2",
            "--duration",
            "1s",
            "--warmup",
            "500ms",
            "-p",
            "2",
            "--progress",
            "off",
            "--json");

    assertEquals(0, run.exit(), run.toString());
    Map<String, Object> summary = Json.object(run.out());
    long requests = number(summary, "requests");
    long warmup = number(summary, "warmupRequests");
    assertTrue(requests > 0 && warmup > 0, run.toString());
    assertEquals(2 * requests, number(summary, "payloads"), run.toString());
    assertEquals(2 * (requests + warmup), service.payloadsAccepted(), run.toString());
    assertEquals(0, number(summary, "failed"), run.toString());
  }

  @Test
  void theTextSummaryHasRatesPercentilesAndStatusesAndProgressGoesToStderr() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run =
        CommandRun.of(
            "load",
            "--url",
            service.url(),
            "--rate",
            "10",
            "--duration",
            "1s",
            "--progress",
            "lines");

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("Requests   10 in "), run.toString());
    assertTrue(run.out().contains("req/s (target 10)"), run.toString());
    assertTrue(run.out().contains("Payloads   10 accepted"), run.toString());
    assertTrue(
        run.out().matches("(?s).*Latency    p50 .* p90 .* p99 .* p99\\.9 .* max .*"),
        run.toString());
    assertTrue(
        run.out().contains("Status     202: 10  429: 0  503: 0  connection errors: 0  timeouts: 0"),
        run.toString());
    assertTrue(run.err().contains("open loop at 10 req/s"), run.toString());
    assertTrue(
        run.err()
            .matches("(?s).*\\n +1s +[0-9,]+ req/s .* errors 0 \\(unexpected 2xx 0\\)  p99 .*"),
        run.toString());
  }

  @Test
  void moreFailuresThanTheMaxErrorRateExitWithStatus1AndShowTheFirstProblem() throws Exception {
    RunningService service =
        services.start(
            dataDir,
            c -> c.withToken("s3cret"),
            FilesystemObjectStore.open(dataDir.resolve("objects")));

    CommandRun run =
        CommandRun.of(
            "load",
            "--url",
            service.url(),
            "--rate",
            "10",
            "--duration",
            "1s",
            "--progress",
            "off");

    assertEquals(1, run.exit(), run.toString());
    assertTrue(
        run.out().contains("Status     202: 0  401: 10  429: 0  503: 0  connection errors: 0"),
        run.toString());
    assertFalse(run.out().contains("other"), run.toString());
    assertTrue(run.out().contains("First HTTP 401: "), run.toString());
    assertTrue(
        run.err().contains("100.00% of requests failed, more than --max-error-rate 1%"),
        run.toString());
    assertEquals(0, service.payloadsAccepted());
  }

  @Test
  void aTokenMakesTheSameRunSucceed() throws Exception {
    RunningService service =
        services.start(
            dataDir,
            c -> c.withToken("s3cret"),
            FilesystemObjectStore.open(dataDir.resolve("objects")));

    CommandRun run =
        CommandRun.of(
            "load",
            "--url",
            service.url(),
            "--token",
            "s3cret",
            "--rate",
            "10",
            "--duration",
            "1s",
            "--progress",
            "off");

    assertEquals(0, run.exit(), run.toString());
    assertEquals(10, service.payloadsAccepted());
  }

  @Test
  void whenNothingListensItSaysSoAtOnce() throws Exception {
    String url = RunningService.deadUrl();

    CommandRun run = CommandRun.of("load", "--url", url, "--duration", "1s");

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains("is the service running at " + url + "?"), run.toString());
    assertEquals("", run.out());
  }

  @Test
  void aNegativeRateIsAUsageError() {
    CommandRun run = CommandRun.of("load", "--rate", "-1");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(
        run.err().contains("--rate must be 0 (as fast as possible) or more"), run.toString());
  }

  /**
   * A real HTTP server on a real port that answers POST /v1/payloads with each of {@code answers}
   * in turn (status and body), over and over, and /health/live with 200.
   */
  private static final class ScriptedIngest implements AutoCloseable {
    record Answer(int status, String body) {}

    private final HttpServer server;
    private final ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
    private final List<Answer> answers;
    private final AtomicLong posts = new AtomicLong();

    ScriptedIngest(List<Answer> answers) throws IOException {
      this.answers = answers;
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
      server.setExecutor(threads);
      server.createContext("/health/live", e -> answer(e, new Answer(200, "{\"status\":\"UP\"}")));
      server.createContext(
          "/v1/payloads",
          e -> {
            e.getRequestBody().readAllBytes();
            answer(e, answers.get((int) (posts.getAndIncrement() % answers.size())));
          });
      server.start();
    }

    String url() {
      return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    long posts() {
      return posts.get();
    }

    private static void answer(HttpExchange e, Answer a) throws IOException {
      byte[] body = a.body().getBytes(StandardCharsets.UTF_8);
      e.getResponseHeaders().set("Content-Type", "application/json");
      e.sendResponseHeaders(a.status(), body.length == 0 ? -1 : body.length);
      try (var out = e.getResponseBody()) {
        out.write(body);
      }
    }

    @Override
    public void close() {
      server.stop(0);
      threads.close();
    }
  }

  /**
   * Answers to a batch of two payloads, ten of each in 40 requests: a 200 with the right body, a
   * 202 that accepted one, a 202 that accepted two but names one id, and the one right answer.
   */
  private static final List<ScriptedIngest.Answer> MIXED =
      List.of(
          new ScriptedIngest.Answer(200, "{\"accepted\":2,\"ids\":[\"a\",\"b\"]}"),
          new ScriptedIngest.Answer(202, "{\"accepted\":1,\"ids\":[\"a\"]}"),
          new ScriptedIngest.Answer(202, "{\"accepted\":2,\"ids\":[\"a\"]}"),
          new ScriptedIngest.Answer(202, "{\"accepted\": 2, \"ids\": [\"a\", \"b\"]}"));

  @Test
  void onlyA202AcceptingTheWholeBatchCountsAsASuccessAndOther2xxAreCountedAsUnexpected()
      throws Exception {
    try (ScriptedIngest ingest = new ScriptedIngest(MIXED)) {
      CommandRun run =
          CommandRun.of(
              "load",
              "--url",
              ingest.url(),
              "--rate",
              "40",
              "--duration",
              "1s",
              "-p",
              "2",
              "--progress",
              "off",
              "--json");

      assertEquals(1, run.exit(), run.toString());
      assertEquals(40, ingest.posts(), run.toString());
      Map<String, Object> summary = Json.object(run.out());
      assertEquals(40, number(summary, "requests"), run.toString());
      assertEquals(20, number(summary, "payloads"), "ten right answers of two: " + run);
      assertEquals(30, number(summary, "failed"), run.toString());
      @SuppressWarnings("unchecked")
      Map<String, Object> status = (Map<String, Object>) summary.get("status");
      assertEquals(30, number(status, "202"), run.toString());
      assertEquals(10, number(status, "other"), run.toString());
      assertEquals(30, number(status, "unexpected"), run.toString());
      assertEquals(
          Map.of("200", 10L, "202", 20L),
          ((Map<?, ?>) summary.get("unexpectedByStatus"))
              .entrySet().stream()
                  .collect(
                      java.util.stream.Collectors.toMap(
                          e -> (String) e.getKey(), e -> ((Number) e.getValue()).longValue())),
          run.toString());
    }
  }

  @Test
  void theTextSummaryAndTheProgressLinesShowUnexpectedAnswersByStatus() throws Exception {
    try (ScriptedIngest ingest = new ScriptedIngest(MIXED)) {
      CommandRun run =
          CommandRun.of(
              "load",
              "--url",
              ingest.url(),
              "--rate",
              "40",
              "--duration",
              "1s",
              "-p",
              "2",
              "--progress",
              "lines");

      assertEquals(1, run.exit(), run.toString());
      assertTrue(run.out().contains("Payloads   20 accepted"), run.toString());
      assertTrue(
          run.out().contains("Status     200: 10  202: 30  429: 0  503: 0  connection errors: 0"),
          run.toString());
      assertTrue(
          run.out()
              .contains(
                  "Unexpected 30 2xx answers were not a 202 accepting the whole batch (counted as"
                      + " failed): 200: 10  202: 20"),
          run.toString());
      assertTrue(run.out().contains("First unexpected HTTP 200: "), run.toString());
      assertTrue(run.out().contains("First unexpected HTTP 202: "), run.toString());
      // every error here is an unexpected 2xx, whenever the progress line counted them
      List<String> progress =
          run.err().lines().filter(l -> l.matches(" +[0-9]+s.* req/s .*")).toList();
      assertFalse(progress.isEmpty(), run.toString());
      for (String line : progress) {
        assertTrue(
            line.matches(".* errors ([0-9,]+) \\(unexpected 2xx \\1\\)  p99 .*"), run.toString());
      }
      assertTrue(
          run.err().contains("75.00% of requests failed, more than --max-error-rate 1%"),
          run.toString());
    }
  }

  @Test
  void a202WithTheRightCountAndIdsIsASuccess() throws Exception {
    try (ScriptedIngest ingest =
        new ScriptedIngest(
            List.of(
                new ScriptedIngest.Answer(202, "{\"accepted\":3,\"ids\":[\"a\",\"b\",\"c\"]}")))) {
      CommandRun run =
          CommandRun.of(
              "load",
              "--url",
              ingest.url(),
              "--rate",
              "10",
              "--duration",
              "1s",
              "-p",
              "3",
              "--progress",
              "off",
              "--json");

      assertEquals(0, run.exit(), run.toString());
      Map<String, Object> summary = Json.object(run.out());
      assertEquals(30, number(summary, "payloads"), run.toString());
      assertEquals(0, number(summary, "failed"), run.toString());
    }
  }
}
