package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.sluice.jobs.Admission;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobId;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobState;
import io.sluice.jobs.JobStoreException;
import io.sluice.server.objects.ObjectKeys;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/*
 * The HTTP contract of the service (README, "HTTP API"): routes, status codes and JSON bodies.
 *
 * Every answer that is not a success is an HttpProblem turned into {"error", "message"}; every
 * answer is counted in the metrics by route template and status. The handlers never wait for
 * anything unbounded: a submit waits only for the journal's group commit, and a full queue is
 * answered at once with 429.
 *
 * Lifecycle: STARTING (journal replay; POST answers 503, ready is false) -> READY -> DRAINING
 * (shutdown; POST answers 503) . Reads (job status, dead letters) work whenever an engine exists.
 */
final class IngestApi {
  static final String PAYLOAD_TYPE = "payload";

  private static final System.Logger LOG = System.getLogger(IngestApi.class.getName());
  private static final JsonFactory JSON = new JsonFactory();
  private static final int DEFAULT_PAGE = 100;
  private static final int MAX_PAGE = 1_000;

  enum Phase {
    STARTING,
    READY,
    DRAINING
  }

  private final ServerConfig config;
  private final ServerMetrics metrics;
  private final PayloadParser parser;
  private final byte[] expectedAuthorization;
  private volatile Phase phase = Phase.STARTING;
  private volatile JobEngine engine;
  private volatile String startingDetail = "replaying the journal";

  IngestApi(ServerConfig config, ServerMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.parser = new PayloadParser(config.maxPayloads(), config.maxDepth());
    this.expectedAuthorization =
        config.token().map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8)).orElse(null);
  }

  void starting(String detail) {
    startingDetail = detail;
  }

  void ready(JobEngine engine) {
    this.engine = engine;
    this.phase = Phase.READY;
  }

  void draining() {
    this.phase = Phase.DRAINING;
  }

  Phase phase() {
    return phase;
  }

  void routes(HttpRouting.Builder routing) {
    routing
        .post("/v1/payloads", handle("/v1/payloads", this::submit))
        .any("/v1/payloads", methodNotAllowed("/v1/payloads", "POST"))
        .get("/v1/jobs/{id}", handle("/v1/jobs/{id}", this::job))
        .any("/v1/jobs/{id}", methodNotAllowed("/v1/jobs/{id}", "GET"))
        .get("/v1/dead-letters", handle("/v1/dead-letters", this::deadLetters))
        .any("/v1/dead-letters", methodNotAllowed("/v1/dead-letters", "GET"))
        .post("/v1/dead-letters/{id}/retry", handle("/v1/dead-letters/{id}/retry", this::retry))
        .any("/v1/dead-letters/{id}/retry", methodNotAllowed("/v1/dead-letters/{id}/retry", "POST"))
        .delete("/v1/dead-letters/{id}", handle("/v1/dead-letters/{id}", this::delete))
        .any("/v1/dead-letters/{id}", methodNotAllowed("/v1/dead-letters/{id}", "DELETE"))
        .get(
            "/health/live",
            handle(
                "/health/live",
                (req, res) ->
                    json(
                        res,
                        200,
                        w -> {
                          w.writeStringField("status", "UP");
                        })))
        .get("/health/ready", handle("/health/ready", this::ready))
        .get("/metrics", handle("/metrics", this::metrics))
        .any(
            handle(
                "other",
                (req, res) -> {
                  throw new HttpProblem(
                      404,
                      "not_found",
                      "no such resource: "
                          + req.prologue().method()
                          + " "
                          + req.path().path()
                          + "; see the HTTP API in the README");
                }));
  }

  // ---------------------------------------------------------------- routes

  private void submit(ServerRequest req, ServerResponse res) throws InterruptedException {
    authorize(req);
    JobEngine engine = acceptingEngine();
    checkContentType(req);
    byte[] body = readBody(req, res);
    PayloadParser.Batch batch = parser.parse(body);
    List<JobSpec> specs = new ArrayList<>(batch.payloads().size());
    for (byte[] payload : batch.payloads()) {
      JobSpec spec = JobSpec.of(PAYLOAD_TYPE, payload);
      spec = batch.source().map(spec::withSource).orElse(spec);
      spec = batch.runAt().map(spec::withRunAt).orElse(spec);
      specs.add(spec);
    }
    Admission admission;
    try {
      admission = engine.submit(specs, Duration.ZERO);
    } catch (JobStoreException e) {
      LOG.log(System.Logger.Level.ERROR, "a batch was refused because the journal failed", e);
      throw new HttpProblem(
          503,
          "journal_failed",
          "the service cannot make payloads durable"
              + " right now (its journal failed); nothing was accepted. Retry later; operators: see"
              + " the server log");
    }
    switch (admission) {
      case Admission.Accepted accepted -> {
        metrics.accepted(accepted.ids().size());
        json(
            res,
            202,
            w -> {
              w.writeNumberField("accepted", accepted.ids().size());
              w.writeArrayFieldStart("ids");
              for (JobId id : accepted.ids()) {
                w.writeString(id.toString());
              }
              w.writeEndArray();
            });
      }
      case Admission.Rejected rejected when rejected.reason() == Admission.Reason.QUEUE_FULL -> {
        res.header(HeaderNames.RETRY_AFTER, retryAfterSeconds(rejected.retryAfter()));
        throw new HttpProblem(
            429,
            "queue_full",
            "the queue has no room for "
                + specs.size()
                + " payloads now; nothing was accepted. Retry after "
                + retryAfterSeconds(rejected.retryAfter())
                + " s, or send smaller batches");
      }
      case Admission.Rejected rejected -> throw shuttingDown();
    }
  }

  private void job(ServerRequest req, ServerResponse res) {
    authorize(req);
    JobId id = pathId(req);
    Job job = readableEngine().find(id).orElseThrow(() -> unknownJob(id));
    json(res, 200, w -> writeJob(w, job));
  }

  private void deadLetters(ServerRequest req, ServerResponse res) {
    authorize(req);
    int limit =
        req.query().first("limit").asOptional().map(IngestApi::pageSize).orElse(DEFAULT_PAGE);
    Optional<JobId> after =
        req.query().first("after").asOptional().map(text -> parseId(text, "after"));
    List<Job> page = readableEngine().deadLetters(after, limit);
    json(
        res,
        200,
        w -> {
          w.writeArrayFieldStart("deadLetters");
          for (Job job : page) {
            w.writeStartObject();
            writeJob(w, job);
            w.writeStringField("createdAt", job.createdAt().toString());
            w.writeEndObject();
          }
          w.writeEndArray();
          if (page.size() == limit) {
            w.writeStringField("next", page.getLast().id().toString());
          } else {
            w.writeNullField("next");
          }
        });
  }

  private void retry(ServerRequest req, ServerResponse res) {
    authorize(req);
    JobId id = pathId(req);
    if (!readableEngine().retryDead(id)) {
      throw notADeadLetter(id);
    }
    json(
        res,
        200,
        w -> {
          w.writeStringField("id", id.toString());
          w.writeStringField("state", stateName(JobState.QUEUED));
        });
  }

  private void delete(ServerRequest req, ServerResponse res) {
    authorize(req);
    JobId id = pathId(req);
    if (!readableEngine().deleteDead(id)) {
      throw notADeadLetter(id);
    }
    res.status(204).send();
  }

  private void ready(ServerRequest req, ServerResponse res) {
    Phase now = phase;
    int status = now == Phase.READY ? 200 : 503;
    json(
        res,
        status,
        w -> {
          w.writeStringField("status", now == Phase.READY ? "UP" : "DOWN");
          w.writeStringField("phase", now.name().toLowerCase(Locale.ROOT));
          if (now == Phase.STARTING) {
            w.writeStringField("detail", startingDetail);
          }
        });
  }

  private void metrics(ServerRequest req, ServerResponse res) {
    res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------- checks

  private void authorize(ServerRequest req) {
    if (expectedAuthorization == null) {
      return;
    }
    byte[] given =
        req.headers().first(HeaderNames.AUTHORIZATION).orElse("").getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, expectedAuthorization)) {
      throw new HttpProblem(
          401,
          "unauthorized",
          "this service needs the header"
              + " \"Authorization: Bearer <token>\" with its configured token");
    }
  }

  private JobEngine acceptingEngine() {
    return switch (phase) {
      case STARTING ->
          throw new HttpProblem(
              503,
              "starting",
              "the service is starting ("
                  + startingDetail
                  + ") and accepts payloads once it is ready; retry shortly");
      case DRAINING ->
          throw new HttpProblem(
              503,
              "shutting_down",
              "the service is shutting down and accepts no payloads; retry against another instance"
                  + " or after it restarts");
      case READY -> engine;
    };
  }

  private JobEngine readableEngine() {
    JobEngine e = engine;
    if (e == null) {
      throw new HttpProblem(
          503, "starting", "the service is starting (" + startingDetail + "); retry shortly");
    }
    return e;
  }

  private static HttpProblem shuttingDown() {
    return new HttpProblem(
        503,
        "shutting_down",
        "the service is shutting down and accepts no" + " payloads; nothing was accepted");
  }

  private static void checkContentType(ServerRequest req) {
    Optional<String> header = req.headers().first(HeaderNames.CONTENT_TYPE);
    String value = header.orElse("");
    String[] parts = value.split(";");
    String mediaType = parts[0].trim().toLowerCase(Locale.ROOT);
    if (!mediaType.equals("application/json")) {
      throw new HttpProblem(
          415,
          "unsupported_media_type",
          header.isEmpty()
              ? "the request has no Content-Type; send \"Content-Type: application/json\""
              : "Content-Type "
                  + abbreviate(value)
                  + " is not JSON; send \"Content-Type:"
                  + " application/json\"");
    }
    for (int i = 1; i < parts.length; i++) {
      String[] param = parts[i].trim().split("=", 2);
      if (param[0].trim().equalsIgnoreCase("charset") && param.length == 2) {
        String charset = param[1].trim().replace("\"", "");
        if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
          throw new HttpProblem(
              415,
              "unsupported_charset",
              "charset " + abbreviate(charset) + " is not supported; send JSON in UTF-8");
        }
      }
    }
  }

  /** Reads the body, refusing at once what is or becomes larger than the limit. */
  private byte[] readBody(ServerRequest req, ServerResponse res) {
    int max = config.maxBodyBytes();
    OptionalLong declared = req.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > max) {
      throw bodyTooLarge(res, declared.getAsLong() + " bytes");
    }
    // A client that stops sending mid-body would hold this thread forever: at the deadline the
    // thread is interrupted, which closes the connection under the blocked read.
    Thread reader = Thread.currentThread();
    io.sluice.core.Timer watchdog =
        io.sluice.core.Time.afterFunc(config.bodyTimeout(), reader::interrupt);
    try (InputStream in = req.content().inputStream()) {
      byte[] buffer = new byte[(int) Math.min(max + 1L, declared.orElse(8192) + 1)];
      int length = 0;
      int n;
      while ((n = in.read(buffer, length, buffer.length - length)) > 0) {
        length += n;
        if (length > max) {
          throw bodyTooLarge(res, "more than " + max + " bytes");
        }
        if (length == buffer.length) {
          buffer = Arrays.copyOf(buffer, (int) Math.min(max + 1L, 2L * buffer.length));
        }
      }
      return Arrays.copyOf(buffer, length);
    } catch (IOException | RuntimeException e) {
      if (e instanceof HttpProblem p) {
        throw p;
      }
      if (!watchdog.stop() || Thread.interrupted()) {
        throw bodyTimedOut(res);
      }
      // Helidon reports a body cut short (fewer bytes than Content-Length) this way.
      throw HttpProblem.badRequest(
          "truncated_body",
          "the body ended before its Content-Length ("
              + e.getClass().getSimpleName()
              + "); send the whole body");
    } finally {
      if (!watchdog.stop()) {
        Thread.interrupted(); // the watchdog fired after the read: its interrupt is not for us
      }
    }
  }

  private HttpProblem bodyTimedOut(ServerResponse res) {
    res.header(HeaderNames.CONNECTION, "close");
    return new HttpProblem(
        408,
        "body_timeout",
        "the body did not arrive within "
            + config.bodyTimeout().toSeconds()
            + " s; send it at once, or raise --body-timeout");
  }

  private HttpProblem bodyTooLarge(ServerResponse res, String size) {
    // The rest of the body is not read, so the connection cannot carry another request.
    res.header(HeaderNames.CONNECTION, "close");
    return new HttpProblem(
        413,
        "body_too_large",
        "the body is "
            + size
            + "; the limit is "
            + config.maxBodyBytes()
            + " bytes. Split the payloads into several requests");
  }

  private static JobId pathId(ServerRequest req) {
    return parseId(req.path().pathParameters().get("id"), "id");
  }

  private static JobId parseId(String text, String what) {
    try {
      return JobId.parse(text);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest("invalid_id", what + ": " + e.getMessage());
    }
  }

  private static int pageSize(String text) {
    try {
      int n = Integer.parseInt(text);
      if (n >= 1 && n <= MAX_PAGE) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw HttpProblem.badRequest(
        "invalid_limit",
        "limit must be a whole number from 1 to " + MAX_PAGE + ", got " + abbreviate(text));
  }

  private static HttpProblem unknownJob(JobId id) {
    return new HttpProblem(
        404,
        "unknown_job",
        "no job "
            + id
            + " (never accepted here, or"
            + " finished long enough ago to be forgotten)");
  }

  private static HttpProblem notADeadLetter(JobId id) {
    return new HttpProblem(404, "not_a_dead_letter", "job " + id + " is not a dead letter");
  }

  private static String retryAfterSeconds(Duration d) {
    return Long.toString(Math.max(1, (d.toMillis() + 999) / 1000));
  }

  private static String abbreviate(String text) {
    return "\"" + (text.length() > 64 ? text.substring(0, 64) + "..." : text) + "\"";
  }

  // ---------------------------------------------------------------- JSON

  private void writeJob(JsonGenerator w, Job job) throws IOException {
    w.writeStringField("id", job.id().toString());
    w.writeStringField("state", stateName(job.state()));
    w.writeNumberField("attempts", job.attempts());
    w.writeStringField("lastError", job.lastError().orElse(null));
    w.writeStringField("key", ObjectKeys.forJob(config.objectPrefix(), job.id(), job.createdAt()));
  }

  static String stateName(JobState state) {
    return switch (state) {
      case QUEUED -> "queued";
      case RUNNING -> "running";
      case RETRY_WAIT -> "failed-waiting-retry";
      case SUCCEEDED -> "succeeded";
      case DEAD -> "dead";
    };
  }

  @FunctionalInterface
  private interface Fields {
    void write(JsonGenerator w) throws IOException;
  }

  private static void json(ServerResponse res, int status, Fields fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator w = JSON.createGenerator(out)) {
      w.writeStartObject();
      fields.write(w);
      w.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    res.status(status);
    res.header(HeaderNames.CONTENT_TYPE, "application/json");
    res.send(out.toByteArray());
  }

  @FunctionalInterface
  private interface Route {
    void handle(ServerRequest req, ServerResponse res) throws Exception;
  }

  /** Runs a route, turning problems and failures into JSON errors, and counts the answer. */
  private Handler handle(String template, Route route) {
    return (req, res) -> {
      try {
        route.handle(req, res);
      } catch (HttpProblem p) {
        problem(res, p);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        problem(res, new HttpProblem(503, "interrupted", "the request was interrupted"));
      } catch (Exception | Error e) {
        LOG.log(System.Logger.Level.ERROR, "unexpected failure in " + template, e);
        problem(
            res,
            new HttpProblem(
                500,
                "internal_error",
                "unexpected failure: " + e.getClass().getSimpleName() + "; see the server log"));
      }
      metrics.request(template, res.status().code());
    };
  }

  private Handler methodNotAllowed(String template, String allowed) {
    return handle(
        template,
        (req, res) -> {
          res.header(HeaderNames.ALLOW, allowed);
          throw new HttpProblem(
              405,
              "method_not_allowed",
              req.prologue().method() + " is not" + " allowed on " + template + "; use " + allowed);
        });
  }

  private static void problem(ServerResponse res, HttpProblem p) {
    json(
        res,
        p.status(),
        w -> {
          w.writeStringField("error", p.code());
          w.writeStringField("message", p.getMessage());
        });
  }
}
