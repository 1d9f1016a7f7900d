package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice load} against a real service: its counts against the service's own. */
@Timeout(30)
class LoadCommandTest {
  @TempDir Path dataDir;
  private RunningService service;

  @AfterEach
  void stop() {
    if (service != null) {
      service.close();
    }
  }

  private static long number(Map<String, Object> json, String name) {
    return ((Number) json.get(name)).longValue();
  }

  @Test
  void anOpenLoopRunSendsOneRequestPerDueTimeAndCountsWhatTheServiceAccepted() throws Exception {
    service = RunningService.start(dataDir);

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
    service = RunningService.start(dataDir);

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
    service = RunningService.start(dataDir);

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
        run.err().matches("(?s).*\\n +1s +[0-9,]+ req/s .* errors 0  p99 .*"), run.toString());
  }

  @Test
  void moreFailuresThanTheMaxErrorRateExitWithStatus1AndShowTheFirstProblem() throws Exception {
    service =
        RunningService.start(
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
    service =
        RunningService.start(
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
}
