package io.sluice.server;

import static io.sluice.server.Http.on;

import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.sluice.jobs.DurabilityUnknownException;
import io.sluice.jobs.JobStoreException;
import io.sluice.jobs.JournalStalledException;
import io.sluice.jobs.StoredSchedule;
import io.sluice.schedule.DurableScheduler;
import io.sluice.schedule.MisfirePolicy;
import io.sluice.schedule.OverlapPolicy;
import io.sluice.schedule.RecurringJob;
import io.sluice.schedule.ScheduleOptions;
import io.sluice.schedule.ScheduleStatus;
import io.sluice.schedule.Trigger;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;

/*
 * The recurring jobs of the HTTP API (README, "Schedules"): GET /v1/schedules, and GET, PUT and
 * DELETE /v1/schedules/{name}. A schedule's fires upload its payload like an accepted payload.
 *
 * Lifecycle: 503 until the scheduler runs (after the journal replay), and again once the service
 * is shutting down.
 */
final class ScheduleApi {
  private final Http http;
  private final PayloadParser parser;
  private volatile DurableScheduler scheduler;
  private volatile boolean draining;

  ScheduleApi(ServerConfig config, Http http) {
    this.http = http;
    this.parser = new PayloadParser(config.maxPayloads(), config.maxDepth());
  }

  void ready(DurableScheduler scheduler) {
    this.scheduler = scheduler;
  }

  void draining() {
    this.draining = true;
  }

  void routes(HttpRouting.Builder routing) {
    http.resource(routing, "/v1/schedules", on(Method.GET, this::list));
    String one = "/v1/schedules/{name}";
    http.resource(
        routing,
        one,
        on(Method.GET, this::get),
        on(Method.PUT, this::put),
        on(Method.DELETE, this::delete));
  }

  // ---------------------------------------------------------------- routes

  private void list(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    List<ScheduleStatus> all = scheduler().list();
    Http.json(
        res,
        200,
        w -> {
          w.writeArrayFieldStart("schedules");
          for (ScheduleStatus s : all) {
            w.writeStartObject();
            write(w, s);
            w.writeEndObject();
          }
          w.writeEndArray();
        });
  }

  private void get(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    String name = pathName(req);
    ScheduleStatus status = scheduler().status(name).orElseThrow(() -> unknown(name));
    Http.json(res, 200, w -> write(w, status));
  }

  private void put(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    String name = pathName(req);
    DurableScheduler s = scheduler();
    Http.checkContentType(req);
    RecurringJob job;
    try (Http.Body body = http.readBody(req, res)) {
      job = recurringJob(name, parser.parseSchedule(body.bytes()));
    }
    boolean existed = s.status(name).isPresent();
    ScheduleStatus status;
    try {
      status = s.put(job);
    } catch (JobStoreException e) {
      throw journalProblem(e);
    } catch (IllegalStateException e) {
      throw shuttingDown();
    }
    Http.json(res, existed ? 200 : 201, w -> write(w, status));
  }

  private void delete(ServerRequest req, ServerResponse res) {
    http.authorize(req, res);
    String name = pathName(req);
    boolean existed;
    try {
      existed = scheduler().delete(name);
    } catch (JobStoreException e) {
      throw journalProblem(e);
    } catch (IllegalStateException e) {
      throw shuttingDown();
    }
    if (!existed) {
      throw unknown(name);
    }
    res.status(204).send();
  }

  // ---------------------------------------------------------------- checks

  private DurableScheduler scheduler() {
    DurableScheduler s = scheduler;
    if (draining) {
      throw shuttingDown();
    }
    if (s == null) {
      throw new HttpProblem(
          503,
          "starting",
          "the service is starting (its journal is being replayed); schedules are available once"
              + " it is ready; retry shortly");
    }
    return s;
  }

  /**
   * A change the store could not make durable: {@code 503 journal_stalled} if its journal is
   * stalled (refused at once, or its outcome unknown after the acknowledgement timeout), {@code 503
   * journal_failed} if the journal failed.
   */
  private static HttpProblem journalProblem(JobStoreException e) {
    return switch (e) {
      case JournalStalledException stalled ->
          new HttpProblem(
              503,
              "journal_stalled",
              "the service's journal is stalled (the disk may be hung), or has not yet confirmed an"
                  + " earlier change to this schedule, so this change was refused at once; nothing"
                  + " changed. Retry later; GET /health/ready says when the journal has resumed");
      case DurabilityUnknownException unknown ->
          new HttpProblem(
              503,
              "journal_stalled",
              "the journal did not confirm this change within "
                  + unknown.timeout().toMillis()
                  + " ms (the disk may be hung), so its outcome is unknown: GET shows the schedule"
                  + " as it was until the journal answers, then as recorded. Send the same request"
                  + " again once it has resumed, so the service runs what was asked");
      case JobStoreException failed ->
          new HttpProblem(
              503,
              "journal_failed",
              "the service cannot make the schedule durable right now (its journal failed);"
                  + " nothing changed. Retry later; operators: see the server log");
    };
  }

  private static HttpProblem shuttingDown() {
    return new HttpProblem(
        503,
        "shutting_down",
        "the service is shutting down; schedules can be changed again after it restarts");
  }

  private static String pathName(ServerRequest req) {
    String name = req.path().pathParameters().get("name");
    try {
      return StoredSchedule.checkName(name);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest("invalid_name", e.getMessage());
    }
  }

  private static HttpProblem unknown(String name) {
    return new HttpProblem(404, "unknown_schedule", "no schedule named " + name);
  }

  /** The definition a valid body describes; every bad field is a 400 naming it. */
  private static RecurringJob recurringJob(String name, PayloadParser.ScheduleBody body) {
    Trigger trigger;
    try {
      trigger = Trigger.parse(body.trigger());
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest("invalid_trigger", e.getMessage());
    }
    MisfirePolicy misfire;
    try {
      misfire = body.misfire().map(MisfirePolicy::parse).orElse(MisfirePolicy.FIRE_ONCE);
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest("invalid_misfire", e.getMessage());
    }
    Duration threshold =
        body.misfireThreshold()
            .map(ScheduleApi::threshold)
            .orElse(ScheduleOptions.DEFAULT_MISFIRE_THRESHOLD);
    OverlapPolicy overlap = body.overlap().map(ScheduleApi::overlap).orElse(OverlapPolicy.SKIP);
    return new RecurringJob(
        name,
        trigger,
        IngestApi.PAYLOAD_TYPE,
        new String(body.payload(), StandardCharsets.UTF_8),
        misfire,
        threshold,
        overlap);
  }

  private static Duration threshold(String text) {
    try {
      Duration d = Duration.parse(text);
      if (!d.isNegative()) {
        return d;
      }
    } catch (DateTimeParseException e) {
      // explained below
    }
    throw HttpProblem.badRequest(
        "invalid_misfireThreshold",
        "\"misfireThreshold\" must be an ISO-8601 duration that is not negative, like \"PT5M\";"
            + " got "
            + Http.abbreviate(text));
  }

  private static OverlapPolicy overlap(String text) {
    try {
      return OverlapPolicy.valueOf(text.trim().replace('-', '_').toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw HttpProblem.badRequest(
          "invalid_overlap",
          "\"overlap\" must be skip, queue-one or allow-concurrent; got " + Http.abbreviate(text));
    }
  }

  // ---------------------------------------------------------------- JSON

  private static void write(JsonGenerator w, ScheduleStatus s) throws IOException {
    RecurringJob job = s.job();
    w.writeStringField("name", job.name());
    w.writeStringField("trigger", job.trigger().spec());
    w.writeFieldName("payload");
    w.writeRawValue(job.payload());
    w.writeStringField("misfire", job.misfire().spec());
    w.writeStringField("misfireThreshold", job.misfireThreshold().toString());
    w.writeStringField("overlap", overlapName(job.overlap()));
    w.writeStringField("updatedAt", s.updatedAt().toString());
    w.writeStringField("lastFire", s.lastFire().map(Instant::toString).orElse(null));
    w.writeStringField("lastJob", s.lastJob().map(Object::toString).orElse(null));
    w.writeStringField("nextFire", s.nextFire().map(Instant::toString).orElse(null));
    w.writeArrayFieldStart("upcoming");
    for (Instant t : s.upcoming()) {
      w.writeString(t.toString());
    }
    w.writeEndArray();
  }

  static String overlapName(OverlapPolicy p) {
    return p.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
