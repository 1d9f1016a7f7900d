package io.sluice.server;

import static io.sluice.server.Http.on;

import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.sluice.jobs.Admission;
import io.sluice.jobs.DurabilityUnknownException;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobId;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobState;
import io.sluice.jobs.JobStoreException;
import io.sluice.jobs.JournalStalledException;
import io.sluice.server.objects.ObjectKeys;
import io.sluice.server.objects.ObjectStore;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/*
 * The HTTP contract of the service (README, "HTTP API"): routes, status codes and JSON bodies.
 *
 * Every answer that is not a success is an HttpProblem turned into {"error", "message"} (see Http,
 * which the schedule routes share). The handlers never wait for
 * anything unbounded: a submit waits for the journal's group commit at most --journal-ack-timeout
 * (then 503 journal_stalled with the batch's ids, its outcome unknown), and a full queue is
 * answered at once with 429.
 *
 * A stalled journal (a write and fsync running past --journal-stall-threshold: a hung disk) is a
 * passing state: POST answers 503 journal_stalled at once, without reading the body, and ready
 * answers 503 journal_stalled, until the journal says it resumed; live stays 200, since the
 * process is not dead and a restart would not unhang the disk. A journal that failed outranks it.
 *
 * Lifecycle: STARTING (journal replay; POST answers 503, ready is false) -> READY -> DRAINING
 * (shutdown; POST answers 503) . Reads (job status, dead letters) work whenever an engine exists.
 * Across all of it, a journal that failed for good (Journal.fail: a write or force failed) is a
 * state of its own: nothing can be accepted or recorded until a restart, so POST answers 503
 * journal_failed at once and both health checks answer 503 saying why; a failed liveness check is
 * what makes an orchestrator restart the service, which is the remedy.
 *
 * A job's status comes from the engine while it remembers the job: until it finishes, and then for
 * the last --finished-retention finished jobs. For an older id the object store is asked whether
 * the job's object exists (its key follows from the id, a UUIDv7 holding its acceptance time): if
 * so the job succeeded, and the answer says "forgotten": true, without attempts, error or times.
 */
final class IngestApi {
  static final String PAYLOAD_TYPE = "payload";

  private static final System.Logger LOG = System.getLogger(IngestApi.class.getName());
  private static final int DEFAULT_PAGE = 100;
  private static final int MAX_PAGE = 1_000;

  enum Phase {
    STARTING,
    READY,
    DRAINING
  }

  /** How much later than the acceptance time a job id's timestamp may be (see uploadedKey). */
  private static final Duration ID_CLOCK_SLACK = Duration.ofMinutes(1);

  private final ServerConfig config;
  private final ObjectStore objects;
  private final ServerMetrics metrics;
  private final Http http;
  private final PayloadParser parser;
  private volatile Phase phase = Phase.STARTING;
  private volatile JobEngine engine;
  private volatile String startingDetail = "replaying the journal";
  private volatile String journalFailure;
  private volatile String journalStall; // while the journal is stalled: what the health check says
  private volatile long journalStallStart; // System.nanoTime() when the stalled commit began
  private volatile String objectStoreProblem;

  IngestApi(ServerConfig config, ObjectStore objects, ServerMetrics metrics, Http http) {
    this.config = config;
    this.objects = objects;
    this.metrics = metrics;
    this.http = http;
    this.parser = new PayloadParser(config.maxPayloads(), config.maxDepth());
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

  /**
   * The object store failed its startup check in a way that may pass ({@code problem} says how):
   * ready says so, and stays 200, until {@link #objectStoreVerified()}.
   */
  void objectStoreUnverified(String problem) {
    objectStoreProblem = problem;
  }

  /** An upload succeeded since the object store failed its startup check. */
  void objectStoreVerified() {
    objectStoreProblem = null;
  }

  /** The journal failed for good: {@code message} says how, for the health checks. */
  void journalFailed(String message) {
    journalFailure = message;
  }

  /** The journal stalled: a commit has run {@code runningNanos} with {@code waiting} appends. */
  void journalStalled(long runningNanos, int waiting) {
    journalStallStart = System.nanoTime() - runningNanos;
    journalStall =
        "a journal write and fsync has been running for over "
            + Duration.ofNanos(runningNanos).toMillis()
            + " ms (--journal-stall-threshold "
            + config.journalStallThreshold().toMillis()
            + " ms) with about "
            + waiting
            + " batches and records waiting: the disk may be hung. New payloads are refused until"
            + " it completes";
  }

  /** The stalled journal commit ended. */
  void journalResumed() {
    journalStall = null;
  }

  /** How long the journal's stalled commit has been running, or zero while none is stalled. */
  Duration journalStalledFor() {
    long start = journalStallStart;
    return journalStall == null ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - start);
  }

  Phase phase() {
    return phase;
  }

  void routes(HttpRouting.Builder routing) {
    http.resource(routing, "/v1/payloads", on(Method.POST, this::submit));
    http.resource(routing, "/v1/jobs/{id}", on(Method.GET, this::job));
    http.resource(routing, "/v1/dead-letters", on(Method.GET, this::deadLetters));
    http.resource(routing, "/v1/dead-letters/{id}/retry", on(Method.POST, this::retry));
    http.resource(routing, "/v1/dead-letters/{id}", on(Method.DELETE, this::delete));
    http.resource(routing, "/health/live", on(Method.GET, this::live));
    http.resource(routing, "/health/ready", on(Method.GET, this::ready));
    http.resource(routing, "/metrics", on(Method.GET, this::metrics));
    routing.any(
        http.handle(
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
    http.authorize(req, res);
    JobEngine engine = acceptingEngine();
    Http.checkContentType(req);
    // The body's reservation is held until the batch is journaled or refused: until then the heap
    // holds the body, then each payload's copy, then the journal record.
    try (Http.Body body = http.readBody(req, res)) {
      accept(engine, parser.parse(body.bytes()), res);
    }
  }

  private void accept(JobEngine engine, PayloadParser.Batch batch, ServerResponse res)
      throws InterruptedException {
    List<JobSpec> specs = new ArrayList<>(batch.payloads().size());
    for (byte[] payload : batch.payloads()) {
      JobSpec spec = JobSpec.wrap(PAYLOAD_TYPE, payload); // the parser's copy, made for this job
      spec = batch.source().map(spec::withSource).orElse(spec);
      spec = batch.runAt().map(spec::withRunAt).orElse(spec);
      specs.add(spec);
    }
    Admission admission;
    try {
      admission = engine.submit(specs, Duration.ZERO);
    } catch (DurabilityUnknownException e) {
      throw durabilityUnknown(e);
    } catch (JournalStalledException e) {
      throw journalStalled();
    } catch (JobStoreException e) {
      if (phase == Phase.DRAINING) {
        // the stop closed the store after this request passed the check: nothing failed
        throw shuttingDown();
      }
      LOG.log(System.Logger.Level.ERROR, "a batch was refused because the journal failed", e);
      throw journalFailed();
    }
    switch (admission) {
      case Admission.Accepted accepted -> {
        metrics.accepted(accepted.ids().size());
        Http.json(
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
            "no room for these "
                + specs.size()
                + " payloads now, nothing was accepted: "
                + rejected.message()
                + ". Send smaller batches if this persists");
      }
      case Admission.Rejected rejected when rejected.reason() == Admission.Reason.TOO_LARGE ->
          // The request limits keep a batch within the queue (ServerConfig checks them against each
          // other), so this answers only a limit of the store's that they do not mirror.
          throw new HttpProblem(
              413,
              "batch_too_large",
              "these "
                  + specs.size()
                  + " payloads can never be accepted in one request, nothing was accepted: "
                  + rejected.message());
      case Admission.Rejected rejected -> throw shuttingDown();
    }
  }

  private void job(ServerRequest req, ServerResponse res) throws InterruptedException {
    http.authorize(req, res);
    JobId id = pathId(req);
    Optional<Job> job = readableEngine().find(id);
    if (job.isPresent()) {
      Http.json(res, 200, w -> writeJob(w, job.get()));
      return;
    }
    String key = uploadedKey(id).orElseThrow(() -> unknownJob(id));
    Http.json(
        res,
        200,
        w -> {
          w.writeStringField("id", id.toString());
          w.writeStringField("state", stateName(JobState.SUCCEEDED));
          w.writeBooleanField("forgotten", true);
          w.writeNullField("attempts");
          w.writeNullField("lastError");
          w.writeStringField("key", key);
          w.writeStringField("createdAt", id.timestamp().toString());
          w.writeNullField("lastAttemptAt");
          w.writeNullField("nextAttemptAt");
          w.writeNullField("finishedAt");
        });
  }

  /**
   * The key of the object of a job the engine does not remember, if that object exists: then the
   * job succeeded longer ago than the finished jobs remembered. The key's date is the UTC date of
   * the job's acceptance, read from the clock a moment before its id was made (whose timestamp is
   * the same or, when many ids are made in one millisecond, a little later); so for an id made in
   * the first minute of a day, the previous day's key is tried too.
   */
  private Optional<String> uploadedKey(JobId id) throws InterruptedException {
    Instant made = id.timestamp();
    List<String> keys = new ArrayList<>(2);
    try {
      keys.add(ObjectKeys.forJob(config.objectPrefix(), id, made));
      String dayBefore = ObjectKeys.forJob(config.objectPrefix(), id, made.minus(ID_CLOCK_SLACK));
      if (!dayBefore.equals(keys.getFirst())) {
        keys.add(dayBefore);
      }
    } catch (IllegalArgumentException e) {
      return Optional.empty(); // a time no service accepted a payload at (a year past 9999)
    }
    try {
      for (String key : keys) {
        if (objects.exists(key)) {
          return Optional.of(key);
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "cannot look up the object of job " + id, e);
      throw new HttpProblem(
          503,
          "object_store_unavailable",
          "job "
              + id
              + " is not among the jobs this service remembers, and the object store could not"
              + " be asked whether it was uploaded ("
              + e.getMessage()
              + "); retry later");
    }
  }

  private void deadLetters(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    int limit =
        req.query().first("limit").asOptional().map(IngestApi::pageSize).orElse(DEFAULT_PAGE);
    Optional<JobId> after =
        req.query().first("after").asOptional().map(text -> parseId(text, "after"));
    // One more than the page, to know whether another page follows: a client reading pages until
    // "next" is null then never asks for an empty one.
    List<Job> fetched = readableEngine().deadLetters(after, limit + 1);
    boolean more = fetched.size() > limit;
    List<Job> page = more ? fetched.subList(0, limit) : fetched;
    Http.json(
        res,
        200,
        w -> {
          w.writeArrayFieldStart("deadLetters");
          for (Job job : page) {
            w.writeStartObject();
            writeJob(w, job);
            w.writeEndObject();
          }
          w.writeEndArray();
          if (more) {
            w.writeStringField("next", page.getLast().id().toString());
          } else {
            w.writeNullField("next");
          }
        });
  }

  private void retry(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    JobId id = pathId(req);
    JobEngine engine = changingEngine(id, "retry");
    Admission admission;
    try {
      admission = engine.retryDead(id);
    } catch (JobStoreException e) {
      throw phase == Phase.DRAINING
          ? deadLetterShuttingDown(id, "retry")
          : deadLetterJournalProblem(id, "retry", e);
    }
    switch (admission) {
      case Admission.Accepted accepted -> {}
      case Admission.Rejected rejected when rejected.reason() == Admission.Reason.QUEUE_FULL -> {
        res.header(HeaderNames.RETRY_AFTER, retryAfterSeconds(rejected.retryAfter()));
        throw new HttpProblem(429, "queue_full", rejected.message());
      }
      case Admission.Rejected rejected when rejected.reason() == Admission.Reason.SHUTTING_DOWN ->
          throw shuttingDown();
      case Admission.Rejected rejected -> throw notADeadLetter(id);
    }
    Http.json(
        res,
        200,
        w -> {
          w.writeStringField("id", id.toString());
          w.writeStringField("state", stateName(JobState.QUEUED));
        });
  }

  private void delete(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    JobId id = pathId(req);
    JobEngine engine = changingEngine(id, "delete");
    boolean deleted;
    try {
      deleted = engine.deleteDead(id);
    } catch (JobStoreException e) {
      throw phase == Phase.DRAINING
          ? deadLetterShuttingDown(id, "delete")
          : deadLetterJournalProblem(id, "delete", e);
    }
    if (!deleted) {
      throw notADeadLetter(id);
    }
    res.status(204).send();
  }

  /**
   * A retry or delete of a dead letter the store could not make durable: {@code 503
   * journal_stalled} if its journal is stalled (refused at once, or its outcome unknown after the
   * acknowledgement timeout), {@code 503 journal_failed} if the journal failed.
   */
  private static HttpProblem deadLetterJournalProblem(JobId id, String what, JobStoreException e) {
    return switch (e) {
      case JournalStalledException stalled ->
          new HttpProblem(
              503,
              "journal_stalled",
              "the service's journal is stalled (the disk may be hung), or has not yet confirmed an"
                  + " earlier change to this dead letter, so this "
                  + what
                  + " was refused; nothing changed and "
                  + id
                  + " is still a dead letter. Retry later; GET /health/ready says when the journal"
                  + " has resumed");
      case DurabilityUnknownException unknown ->
          new HttpProblem(
              503,
              "journal_stalled",
              "the journal did not confirm this "
                  + what
                  + " within "
                  + unknown.timeout().toMillis()
                  + " ms (the disk may be hung), so its outcome is unknown: "
                  + id
                  + " shows as a dead letter until the journal answers, then as recorded. Check it"
                  + " later with GET /v1/jobs/{id}, or send the same request again then",
              List.of(id.toString()));
      case JobStoreException failed -> {
        LOG.log(
            System.Logger.Level.ERROR,
            "a " + what + " of dead letter " + id + " failed because the journal failed",
            failed);
        yield new HttpProblem(
            503,
            "journal_failed",
            "the service cannot make this "
                + what
                + " durable (its journal failed for good), so "
                + id
                + " is still a dead letter here until the service is restarted. Operators: see"
                + " the server log; GET /health/ready says why");
      }
    };
  }

  private void live(ServerRequest req, ServerResponse res) {
    String failure = journalFailure;
    Http.json(
        res,
        failure == null ? 200 : 503,
        w -> {
          w.writeStringField("status", failure == null ? "UP" : "DOWN");
          if (failure != null) {
            writeJournalFailure(w, failure);
          }
        });
  }

  private void ready(ServerRequest req, ServerResponse res) {
    Phase now = phase;
    String failure = journalFailure;
    String stall = journalStall;
    boolean up = now == Phase.READY && failure == null && stall == null;
    Http.json(
        res,
        up ? 200 : 503,
        w -> {
          w.writeStringField("status", up ? "UP" : "DOWN");
          w.writeStringField("phase", now.name().toLowerCase(Locale.ROOT));
          if (failure != null) {
            writeJournalFailure(w, failure);
          } else if (stall != null) {
            w.writeStringField("error", "journal_stalled");
            w.writeStringField("detail", stall);
          } else if (now == Phase.STARTING) {
            w.writeStringField("detail", startingDetail);
          }
          String store = objectStoreProblem;
          if (store != null) {
            w.writeStringField("objectStore", "unverified");
            w.writeStringField(
                "objectStoreDetail",
                "the object store did not answer the startup check, and no upload has succeeded"
                    + " since; payloads are accepted and journaled, and their uploads retried. "
                    + store);
          }
        });
  }

  private static void writeJournalFailure(JsonGenerator w, String failure) throws IOException {
    w.writeStringField("error", "journal_failed");
    w.writeStringField(
        "detail",
        "the journal failed for good: the service accepts no payload and records no upload until"
            + " it is restarted. "
            + failure);
  }

  private void metrics(ServerRequest req, ServerResponse res) {
    res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
    res.send(metrics.scrape().getBytes(StandardCharsets.UTF_8));
  }

  // ---------------------------------------------------------------- checks

  private JobEngine acceptingEngine() {
    if (journalFailure != null && phase != Phase.DRAINING) {
      throw journalFailed();
    }
    if (journalStall != null && phase == Phase.READY) {
      throw journalStalled();
    }
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

  /**
   * The engine, to retry or delete a dead letter with: refused once the service is shutting down,
   * as payloads are. The journal closes during the stop while the HTTP server still answers, and a
   * change then is not recorded, so it must not be answered as made.
   */
  private JobEngine changingEngine(JobId id, String what) {
    JobEngine e = readableEngine();
    if (phase == Phase.DRAINING) {
      throw deadLetterShuttingDown(id, what);
    }
    return e;
  }

  /**
   * A change to a dead letter refused because the service is shutting down: before it reached the
   * store, or after, when the stop had closed the store in between.
   */
  private static HttpProblem deadLetterShuttingDown(JobId id, String what) {
    return new HttpProblem(
        503,
        "shutting_down",
        "the service is shutting down, so this "
            + what
            + " was refused; nothing changed and "
            + id
            + " is still a dead letter. Send it again once the service has restarted");
  }

  private JobEngine readableEngine() {
    JobEngine e = engine;
    if (e == null) {
      throw new HttpProblem(
          503, "starting", "the service is starting (" + startingDetail + "); retry shortly");
    }
    return e;
  }

  private static HttpProblem journalFailed() {
    return new HttpProblem(
        503,
        "journal_failed",
        "the service cannot make payloads durable: its journal failed for good, and it accepts"
            + " nothing until it is restarted; nothing was accepted. Retry against another instance"
            + " or once it has restarted; GET /health/ready says why");
  }

  private static HttpProblem journalStalled() {
    return new HttpProblem(
        503,
        "journal_stalled",
        "the service's journal is stalled (a disk write has been running far longer than it"
            + " should: the disk may be hung), so this batch was refused at once; nothing was"
            + " accepted. Retry later or against another instance; GET /health/ready says when it"
            + " has resumed",
        List.of());
  }

  private static HttpProblem durabilityUnknown(DurabilityUnknownException e) {
    List<String> ids = new ArrayList<>(e.ids().size());
    for (JobId id : e.ids()) {
      ids.add(id.toString());
    }
    return new HttpProblem(
        503,
        "journal_stalled",
        "the journal did not confirm this batch durable within "
            + e.timeout().toMillis()
            + " ms (the disk may be hung), so its outcome is unknown: it may or may not have been"
            + " accepted, and if it was, its payloads are uploaded. Check each id later with GET"
            + " /v1/jobs/{id} (404 unknown_job means it was not accepted), or send the batch again,"
            + " which may accept its payloads twice",
        ids);
  }

  private static HttpProblem shuttingDown() {
    return new HttpProblem(
        503,
        "shutting_down",
        "the service is shutting down and accepts no payloads; nothing was accepted");
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
        "limit must be a whole number from 1 to " + MAX_PAGE + ", got " + Http.abbreviate(text));
  }

  private HttpProblem unknownJob(JobId id) {
    return new HttpProblem(
        404,
        "unknown_job",
        "unknown job "
            + id
            + ": it is not waiting or uploading here, not among the last "
            + config.finishedRetention()
            + " finished jobs this service remembers (--finished-retention; a restart may forget"
            + " them), and its object does not exist. It was never accepted here, it became a"
            + " dead letter that was deleted, or its object was deleted since");
  }

  private static HttpProblem notADeadLetter(JobId id) {
    return new HttpProblem(404, "not_a_dead_letter", "job " + id + " is not a dead letter");
  }

  private static String retryAfterSeconds(Duration d) {
    return Long.toString(Math.max(1, (d.toMillis() + 999) / 1000));
  }

  // ---------------------------------------------------------------- JSON

  private void writeJob(JsonGenerator w, Job job) throws IOException {
    w.writeStringField("id", job.id().toString());
    w.writeStringField("state", stateName(job.state()));
    w.writeNumberField("attempts", job.attempts());
    w.writeStringField("lastError", job.lastError().orElse(null));
    w.writeStringField("key", ObjectKeys.forJob(config.objectPrefix(), job.id(), job.createdAt()));
    if (job.source().isPresent()) {
      w.writeStringField("source", job.source().get());
    }
    w.writeStringField("createdAt", job.createdAt().toString());
    writeTime(w, "lastAttemptAt", job.lastAttemptAt());
    writeTime(w, "nextAttemptAt", job.nextAttemptAt());
    writeTime(w, "finishedAt", job.finishedAt());
  }

  private static void writeTime(JsonGenerator w, String name, Optional<Instant> time)
      throws IOException {
    w.writeStringField(name, time.map(Instant::toString).orElse(null));
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
}
