package io.sluice.server;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code sluice load}: a load generator for any Sluice service. */
@Command(
    name = "load",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Sends POST /v1/payloads to a Sluice service from virtual threads and reports throughput,"
          + " latency percentiles and answers by status.",
      "",
      "A request succeeds only when answered 202 {\"accepted\": N, \"ids\": [...]} with N and"
          + " the ids matching the payloads sent; any other 2xx (another status, or a 202 saying"
          + " something else) is counted as 'unexpected', by status, and as failed.",
      "",
      "With --rate N (open loop) request i is due at i/N seconds, and its latency is measured from"
          + " that due time, so a stall of the service shows in the percentiles instead of silently"
          + " lowering the rate (no coordinated omission); --connections caps the requests in flight."
          + " With --rate 0 (closed loop) each of the --connections workers sends its next request"
          + " as soon as the last is answered: the most the service does at that concurrency.",
      "",
      "A progress line goes to stderr every second; the summary goes to stdout (--json for"
          + " scripts). Latencies come from an HdrHistogram (3 significant digits).",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  1,000 requests/s for 30 s against the local service:",
      "    sluice load --rate 1000 --duration 30s",
      "  The ceiling with 64 requests in flight, 10 payloads each, after 10 s of warmup:",
      "    sluice load --rate 0 -c 64 -p 10 --duration 60s --warmup 10s",
      "  Another service, summary as JSON for a script:",
      "    sluice load --url http://ingest:8080 --token \"$TOKEN\" --json > run.json",
      "",
      "Open loop: requests that fell due before the end but could not be sent in time (all"
          + " connections busy) are still sent after it ('overtime' in the progress), for at most"
          + " --timeout; any left are reported as unanswered and count as failed.",
      "Ctrl-C stops the run early and prints the summary of what was measured so far.",
      "Exit status: 0 when at most --max-error-rate of the requests failed (not a 202 that"
          + " accepted the whole batch),"
          + " 1 when more did or the service could not be reached, 2 for a usage error."
    })
final class LoadCommand implements Callable<Integer> {
  /** How progress is shown. */
  enum ProgressMode {
    AUTO,
    LIVE,
    LINES,
    OFF
  }

  @Mixin ClientOptions client;

  @Option(
      names = "--rate",
      paramLabel = "N",
      defaultValue = "1000",
      description =
          "Requests per second to offer (open loop), or 0 for as fast as the connections go"
              + " (closed loop). Default: ${DEFAULT-VALUE}.")
  int rate;

  @Option(
      names = {"-c", "--connections"},
      paramLabel = "N",
      defaultValue = "32",
      description =
          "Requests in flight at most (one HTTP/1.1 connection each). Open loop: enough for"
              + " rate x latency. Default: ${DEFAULT-VALUE}.")
  int connections;

  @Option(
      names = {"-p", "--payloads-per-request"},
      paramLabel = "N",
      defaultValue = "1",
      description = "Payloads in each request's batch. Default: ${DEFAULT-VALUE}.")
  int payloadsPerRequest;

  @Option(
      names = "--payload-bytes",
      paramLabel = "BYTES",
      defaultValue = "100",
      description =
          "Size of each payload, a unique JSON object padded with a string (never smaller than"
              + " its ~50 bytes of identifying fields). Default: ${DEFAULT-VALUE}.")
  int payloadBytes;

  @Option(
      names = {"-d", "--duration"},
      paramLabel = "TIME",
      defaultValue = "10s",
      converter = Main.DurationConverter.class,
      description = "How long to measure, e.g. 30s or 2m. Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(
      names = "--warmup",
      paramLabel = "TIME",
      defaultValue = "0s",
      converter = Main.DurationConverter.class,
      description =
          "Load sent before measuring, left out of the figures (JIT, connections, page cache)."
              + " With --rate, warmup requests still unsent when measuring begins are skipped, so"
              + " the run does not start behind. Default: ${DEFAULT-VALUE}.")
  Duration warmup;

  @Option(
      names = "--timeout",
      paramLabel = "TIME",
      defaultValue = "30s",
      converter = Main.DurationConverter.class,
      description =
          "Longest wait for an answer; a request that waits longer counts as a timeout."
              + " Default: ${DEFAULT-VALUE}.")
  Duration timeout;

  @Option(
      names = "--max-error-rate",
      defaultValue = "1",
      paramLabel = "PERCENT",
      description =
          "Exit with status 1 if more than this percentage of requests failed (not a 202 that"
              + " accepted the whole batch)."
              + " Default: ${DEFAULT-VALUE}.")
  double maxErrorPercent;

  @Option(
      names = "--progress",
      defaultValue = "auto",
      paramLabel = "auto|live|lines|off",
      description =
          "Progress on stderr: redrawn in place (live), a line a second (lines), none (off);"
              + " auto is live when stderr is a terminal, else lines. Default: ${DEFAULT-VALUE}.")
  ProgressMode progressMode;

  @Option(names = "--json", description = "Print the summary as JSON on stdout.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    LoadGenerator.Plan plan = plan();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      reachable(plan.url());
    } catch (ApiClient.ApiException e) {
      err.println("sluice load: " + e.getMessage());
      err.flush();
      return 1;
    }
    boolean live =
        switch (progressMode) {
          case LIVE -> true;
          case AUTO -> Terminal.stderr(); // where err goes, unless a test replaced it
          default -> false;
        };
    if (progressMode != ProgressMode.OFF) {
      err.println("sluice load: " + describe(plan));
      err.flush();
    }
    // Ctrl-C (SIGINT) or SIGTERM: stop sending, and print the summary of what was measured so far
    // before the JVM exits.
    Thread caller = Thread.currentThread();
    CountDownLatch reported = new CountDownLatch(1);
    Thread onSignal =
        new Thread(
            () -> {
              caller.interrupt();
              try {
                reported.await(5, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            "sluice-load-interrupted");
    Runtime.getRuntime().addShutdownHook(onSignal);
    LoadGenerator.Result result;
    try {
      result =
          new LoadGenerator(plan)
              .run(
                  p -> {
                    if (progressMode != ProgressMode.OFF) {
                      showProgress(err, p, live);
                    }
                  });
      if (live) {
        err.println();
      }
      err.flush();
      if (json) {
        out.println(Json.write(summary(result), true));
      } else {
        printSummary(out, result);
      }
      out.flush();
    } finally {
      reported.countDown();
      try {
        Runtime.getRuntime().removeShutdownHook(onSignal);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it waits for the summary just printed
      }
    }
    double limit = maxErrorPercent / 100;
    if (result.requests() == 0 || result.errorRate() > limit) {
      err.println(
          "sluice load: "
              + (result.requests() == 0
                  ? "no request was answered"
                  : String.format(
                      Locale.ROOT,
                      "%.2f%% of requests failed, more than --max-error-rate %s%%",
                      result.errorRate() * 100,
                      fmt(maxErrorPercent)))
              + problemsHint(result));
      err.flush();
      return 1;
    }
    return 0;
  }

  private LoadGenerator.Plan plan() {
    require(rate >= 0, "--rate must be 0 (as fast as possible) or more, got " + rate);
    require(connections >= 1, "--connections must be at least 1, got " + connections);
    require(
        payloadsPerRequest >= 1,
        "--payloads-per-request must be at least 1, got " + payloadsPerRequest);
    require(payloadBytes >= 0, "--payload-bytes must be 0 or more, got " + payloadBytes);
    require(!duration.isNegative() && !duration.isZero(), "--duration must be more than 0");
    require(!warmup.isNegative(), "--warmup must be 0 or more");
    require(!timeout.isNegative() && !timeout.isZero(), "--timeout must be more than 0");
    require(maxErrorPercent >= 0 && maxErrorPercent <= 100, "--max-error-rate is a percentage");
    return new LoadGenerator.Plan(
        client.baseUri(spec),
        client.bearer(),
        rate,
        connections,
        payloadsPerRequest,
        payloadBytes,
        duration,
        warmup,
        timeout);
  }

  private void require(boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  /** Fails fast, with a sentence that says what to do, when nothing listens at the URL. */
  private static void reachable(URI url) throws ApiClient.ApiException, InterruptedException {
    try (HttpClient http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(ApiClient.TIMEOUT)
            .build()) {
      http.send(
          HttpRequest.newBuilder(URI.create(url + "/health/live"))
              .timeout(ApiClient.TIMEOUT)
              .build(),
          HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      throw ApiClient.unreachable(url, e);
    }
  }

  static String describe(LoadGenerator.Plan plan) {
    return String.format(
        Locale.ROOT,
        "%s, %s, %d connections, %d payload%s of %d bytes per request, %s%s",
        plan.url(),
        plan.openLoop()
            ? "open loop at " + String.format(Locale.ROOT, "%,d", plan.rate()) + " req/s"
            : "closed loop (as fast as possible)",
        plan.connections(),
        plan.payloadsPerRequest(),
        plan.payloadsPerRequest() == 1 ? "" : "s",
        plan.payloadBytes(),
        seconds(plan.duration()),
        plan.warmup().isZero() ? "" : " after " + seconds(plan.warmup()) + " of warmup");
  }

  private static void showProgress(PrintWriter err, LoadGenerator.Progress p, boolean live) {
    String line =
        String.format(
            Locale.ROOT,
            "%5.0fs%s  %,9.0f req/s  %,10.0f payloads/s  errors %,d (unexpected 2xx %,d)  p99 %s",
            p.elapsedSeconds(),
            switch (p.phase()) {
              case WARMUP -> " warmup";
              case MEASURING -> "";
              case DRAINING -> " overtime";
            },
            p.requestsPerSecond(),
            p.payloadsPerSecond(),
            p.errors(),
            p.unexpected(),
            ms(p.p99Millis()));
    err.print(live ? "\r" + line + "\033[K" : line + System.lineSeparator());
    err.flush();
  }

  static void printSummary(PrintWriter out, LoadGenerator.Result r) {
    LoadGenerator.Plan plan = r.plan();
    out.println("sluice load: " + describe(plan));
    out.printf(
        Locale.ROOT,
        "Requests   %,d in %.2f s = %,.0f req/s%s%n",
        r.requests(),
        r.seconds(),
        r.requests() / r.seconds(),
        plan.openLoop() ? String.format(Locale.ROOT, " (target %,d)", plan.rate()) : "");
    out.printf(
        Locale.ROOT,
        "Payloads   %,d accepted = %,.0f payloads/s%n",
        r.payloads(),
        r.payloads() / r.seconds());
    out.printf(
        Locale.ROOT,
        "Latency    p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%s)%n",
        ms(r.millis(50)),
        ms(r.millis(90)),
        ms(r.millis(99)),
        ms(r.millis(99.9)),
        ms(r.maxMillis()),
        plan.openLoop() ? "from each request's due time" : "from each request's send");
    // 202, 429 and 503 always (the answers a healthy, a full and a stopping service give), and
    // every other status that came, each with its own count
    TreeMap<Integer, Long> byStatus = new TreeMap<>(r.byStatus());
    for (int always : new int[] {202, 429, 503}) {
      byStatus.putIfAbsent(always, 0L);
    }
    StringBuilder statuses = new StringBuilder("Status    ");
    byStatus.forEach(
        (code, n) -> statuses.append(String.format(Locale.ROOT, " %d: %,d ", code, n)));
    out.printf(
        Locale.ROOT,
        "%s connection errors: %,d  timeouts: %,d%n",
        statuses,
        r.connectionErrors(),
        r.timeouts());
    if (r.unexpected() > 0) {
      StringBuilder unexpected = new StringBuilder();
      new TreeMap<>(r.unexpectedByStatus())
          .forEach(
              (code, n) ->
                  unexpected
                      .append(unexpected.isEmpty() ? "" : "  ")
                      .append(String.format(Locale.ROOT, "%d: %,d", code, n)));
      out.printf(
          Locale.ROOT,
          "Unexpected %,d 2xx answers were not a 202 accepting the whole batch (counted as failed):"
              + " %s%n",
          r.unexpected(),
          unexpected);
    }
    if (r.unanswered() > 0) {
      out.printf(
          Locale.ROOT,
          "Unanswered %,d requests due in the run were never sent or answered in time (counted as"
              + " failed)%n",
          r.unanswered());
    }
    if (r.warmupRequests() > 0) {
      out.printf(Locale.ROOT, "Warmup     %,d requests, not counted above%n", r.warmupRequests());
    }
    if (r.warmupSkipped() > 0) {
      out.printf(
          Locale.ROOT,
          "Skipped    %,d warmup requests still unsent when the measured run began (not sent, so"
              + " the run does not start behind)%n",
          r.warmupSkipped());
    }
    new TreeMap<>(r.firstProblems())
        .forEach((what, detail) -> out.println("First " + what + ": " + abbreviate(detail)));
  }

  static Map<String, Object> summary(LoadGenerator.Result r) {
    LoadGenerator.Plan plan = r.plan();
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("url", plan.url().toString());
    s.put("mode", plan.openLoop() ? "open" : "closed");
    s.put("targetRate", plan.rate());
    s.put("connections", plan.connections());
    s.put("payloadsPerRequest", plan.payloadsPerRequest());
    s.put("payloadBytes", plan.payloadBytes());
    s.put("durationSeconds", plan.duration().toMillis() / 1000.0);
    s.put("warmupSeconds", plan.warmup().toMillis() / 1000.0);
    s.put("elapsedSeconds", round(r.seconds()));
    s.put("requests", r.requests());
    s.put("requestsPerSecond", round(r.requests() / r.seconds()));
    s.put("payloads", r.payloads());
    s.put("payloadsPerSecond", round(r.payloads() / r.seconds()));
    Map<String, Object> latency = new LinkedHashMap<>();
    latency.put("p50", r.millis(50));
    latency.put("p90", r.millis(90));
    latency.put("p99", r.millis(99));
    latency.put("p999", r.millis(99.9));
    latency.put("max", r.maxMillis());
    latency.put(
        "mean",
        r.latencyMicros().getTotalCount() == 0 ? 0.0 : round(r.latencyMicros().getMean() / 1000));
    s.put("latencyMs", latency);
    Map<String, Object> status = new LinkedHashMap<>();
    status.put("202", r.status202());
    status.put("429", r.status429());
    status.put("503", r.status503());
    status.put("other", r.otherStatus());
    status.put("unexpected", r.unexpected());
    status.put("connectionErrors", r.connectionErrors());
    status.put("timeouts", r.timeouts());
    status.put("unanswered", r.unanswered());
    s.put("status", status);
    Map<String, Object> byCode = new LinkedHashMap<>();
    new TreeMap<>(r.byStatus()).forEach((code, n) -> byCode.put(code.toString(), n));
    s.put("byStatus", byCode);
    Map<String, Object> unexpectedByCode = new LinkedHashMap<>();
    new TreeMap<>(r.unexpectedByStatus())
        .forEach((code, n) -> unexpectedByCode.put(code.toString(), n));
    s.put("unexpectedByStatus", unexpectedByCode);
    s.put("failed", r.failed());
    s.put("errorRate", round(r.errorRate()));
    s.put("warmupRequests", r.warmupRequests());
    s.put("warmupSkipped", r.warmupSkipped());
    s.put("firstProblems", new TreeMap<>(r.firstProblems()));
    return s;
  }

  private static String problemsHint(LoadGenerator.Result r) {
    return r.firstProblems().isEmpty()
        ? ""
        : "; first problem: "
            + new TreeMap<>(r.firstProblems())
                .entrySet().stream()
                    .findFirst()
                    .map(e -> e.getKey() + " " + abbreviate(e.getValue()))
                    .orElse("");
  }

  private static String ms(double millis) {
    return millis >= 100
        ? String.format(Locale.ROOT, "%,.0f ms", millis)
        : String.format(Locale.ROOT, "%.2f ms", millis);
  }

  private static String seconds(Duration d) {
    return fmt(d.toMillis() / 1000.0) + " s";
  }

  private static String fmt(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
  }

  private static double round(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  private static String abbreviate(String text) {
    String t = text.replaceAll("\\s+", " ").strip();
    return t.length() > 200 ? t.substring(0, 197) + "..." : t;
  }
}
