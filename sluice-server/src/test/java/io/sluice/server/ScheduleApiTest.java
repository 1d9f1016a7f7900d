package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Recurring jobs over real HTTP on a real port: the contract, bad input, and real fires. */
@Timeout(60)
class ScheduleApiTest {
  private static final String NIGHTLY =
      "{\"trigger\": \"cron unix Europe/Berlin 30 2 * * *\", \"payload\": {\"report\": [1, 2.50]}}";

  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();
  private RunningService service;

  private HttpResponse<String> put(String name, String body) throws Exception {
    return service.send(
        "/v1/schedules/" + name, b -> b.PUT(HttpRequest.BodyPublishers.ofString(body)));
  }

  private HttpResponse<String> get(String path) throws Exception {
    return service.send(path, HttpRequest.Builder::GET);
  }

  private HttpResponse<String> delete(String name) throws Exception {
    return service.send("/v1/schedules/" + name, HttpRequest.Builder::DELETE);
  }

  private static void assertError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    Map<String, Object> body = Json.object(r.body());
    assertEquals(code, body.get("error"), r.body());
    assertFalse(((String) body.get("message")).isBlank(), r.body());
  }

  @Test
  void aPutScheduleIsListedWithItsNextFireTimesAndItsExactPayload() throws Exception {
    service = services.start(dataDir);

    HttpResponse<String> created = put("nightly", NIGHTLY);

    assertEquals(201, created.statusCode(), created.body());
    Map<String, Object> s = Json.object(get("/v1/schedules/nightly").body());
    assertEquals("nightly", s.get("name"));
    assertEquals("cron unix Europe/Berlin 30 2 * * *", s.get("trigger"));
    assertEquals("fire-once", s.get("misfire"));
    assertEquals("PT1M", s.get("misfireThreshold"));
    assertEquals("skip", s.get("overlap"));
    assertNull(s.get("lastFire"));
    assertEquals(5, ((List<?>) s.get("upcoming")).size());
    assertEquals(((List<?>) s.get("upcoming")).getFirst(), s.get("nextFire"));
    assertTrue(
        get("/v1/schedules/nightly").body().contains("\"payload\":{\"report\": [1, 2.50]}"),
        "the payload exactly as sent");
    List<?> all = (List<?>) Json.object(get("/v1/schedules").body()).get("schedules");
    assertEquals(1, all.size());
    assertTrue(
        get("/metrics").body().contains("\nsluice_schedules 1.0\n"),
        "the schedules gauge counts it");
  }

  @Test
  void puttingTheSameScheduleAgainAnswers200AndChangesNothing() throws Exception {
    service = services.start(dataDir);
    String first = put("nightly", NIGHTLY).body();

    HttpResponse<String> again = put("nightly", NIGHTLY);

    assertEquals(200, again.statusCode(), again.body());
    assertEquals(Json.object(first).get("updatedAt"), Json.object(again.body()).get("updatedAt"));
  }

  @Test
  void aDeletedScheduleIsGoneAnd404Afterwards() throws Exception {
    service = services.start(dataDir);
    put("nightly", NIGHTLY);

    assertEquals(204, delete("nightly").statusCode());

    assertError(get("/v1/schedules/nightly"), 404, "unknown_schedule");
    assertError(delete("nightly"), 404, "unknown_schedule");
  }

  @Test
  void aSchedulePayloadNestedExactlyMaxDepthDeepIsAcceptedAndOneLevelDeeperIs400()
      throws Exception {
    // given the default --max-depth, 64
    service = services.start(dataDir);
    String atTheLimit = "[".repeat(64) + "1" + "]".repeat(64);
    String trigger = "{\"trigger\": \"at 2030-01-01T00:00:00Z\", \"payload\": ";

    // when, then
    HttpResponse<String> accepted = put("deep", trigger + atTheLimit + "}");
    assertEquals(201, accepted.statusCode(), accepted.body());
    HttpResponse<String> deeper = put("deeper", trigger + "[" + atTheLimit + "]}");
    assertError(deeper, 400, "too_deep");
    String message = (String) Json.object(deeper.body()).get("message");
    assertTrue(message.contains("\"payload\" is nested deeper than 64 levels"), message);
    assertError(get("/v1/schedules/deeper"), 404, "unknown_schedule");
  }

  @Test
  void everyBadFieldIsA400NamingItAndNothingIsKept() throws Exception {
    service = services.start(dataDir);
    Map<String, String> cases = new LinkedHashMap<>();
    cases.put("{\"trigger\": \"sometimes\", \"payload\": 1}", "invalid_trigger");
    cases.put("{\"trigger\": \"cron unix UTC 61 * * * *\", \"payload\": 1}", "invalid_trigger");
    cases.put("{\"trigger\": \"daily 02:30 Mars/Olympus\", \"payload\": 1}", "invalid_trigger");
    cases.put("{\"payload\": 1}", "missing_trigger");
    cases.put("{\"trigger\": \"at 2030-01-01T00:00:00Z\"}", "missing_payload");
    cases.put("{\"trigger\": \"at 2030-01-01T00:00:00Z\", \"payload\": null}", "null_payload");
    cases.put("{\"trigger\": 5, \"payload\": 1}", "invalid_trigger");
    cases.put(
        "{\"trigger\": \"at 2030-01-01T00:00:00Z\", \"payload\": 1, \"misfire\": \"often\"}",
        "invalid_misfire");
    cases.put(
        "{\"trigger\": \"at 2030-01-01T00:00:00Z\", \"payload\": 1, \"overlap\": \"maybe\"}",
        "invalid_overlap");
    cases.put(
        "{\"trigger\": \"at 2030-01-01T00:00:00Z\", \"payload\": 1, \"misfireThreshold\": \"-PT1M\"}",
        "invalid_misfireThreshold");
    cases.put("[1]", "not_an_object");
    cases.put("{\"trigger\": ", "malformed_json");

    for (Map.Entry<String, String> c : cases.entrySet()) {
      assertError(put("bad", c.getKey()), 400, c.getValue());
    }

    assertError(get("/v1/schedules/bad"), 404, "unknown_schedule");
  }

  @Test
  void aNameOutsideTheAllowedCharactersIsA400() throws Exception {
    service = services.start(dataDir);

    assertError(put("a%20b", NIGHTLY), 400, "invalid_name");
    assertError(put("x".repeat(201), NIGHTLY), 400, "invalid_name");
  }

  @Test
  void otherMethodsAre405WithAllow() throws Exception {
    service = services.start(dataDir);

    HttpResponse<String> r =
        service.send("/v1/schedules/nightly", b -> b.POST(HttpRequest.BodyPublishers.noBody()));

    assertError(r, 405, "method_not_allowed");
    assertEquals("GET, HEAD, PUT, DELETE", r.headers().firstValue("Allow").orElse(""));
    assertEquals(
        "GET, HEAD",
        service
            .send("/v1/schedules", b -> b.POST(HttpRequest.BodyPublishers.noBody()))
            .headers()
            .firstValue("Allow")
            .orElse(""));
  }

  @Test
  void somethingOtherThanJsonIs415() throws Exception {
    service = services.start(dataDir);

    HttpResponse<String> r =
        service.send(
            "/v1/schedules/nightly",
            b ->
                b.setHeader("Content-Type", "text/plain")
                    .PUT(HttpRequest.BodyPublishers.ofString(NIGHTLY)));

    assertError(r, 415, "unsupported_media_type");
  }

  @Test
  void eachFireUploadsThePayloadAsAnObject() throws Exception {
    service = services.start(dataDir);
    Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS).plusSeconds(1);

    put(
        "tick",
        "{\"trigger\": \"every PT1S from "
            + start
            + "\", \"payload\": {\"tick\": true}, \"overlap\": \"allow-concurrent\"}");

    Path object = awaitObjects(2).getFirst();
    assertEquals("{\"tick\": true}", Files.readString(object, StandardCharsets.UTF_8));
    Map<String, Object> s = Json.object(get("/v1/schedules/tick").body());
    service.awaitState((String) s.get("lastJob"), "succeeded");
  }

  @Test
  void schedulesAreThereAfterARestart() throws Exception {
    service = services.start(dataDir);
    put("nightly", NIGHTLY);
    service.close();

    service = services.start(dataDir);

    Map<String, Object> s = Json.object(get("/v1/schedules/nightly").body());
    assertEquals("cron unix Europe/Berlin 30 2 * * *", s.get("trigger"));
  }

  @Test
  void withATokenConfiguredScheduleRoutesNeedIt() throws Exception {
    service =
        services.start(
            dataDir,
            c -> c.withToken("s3cret"),
            FilesystemObjectStore.open(dataDir.resolve("objects")));
    java.net.http.HttpClient plain = java.net.http.HttpClient.newHttpClient();
    try (plain) {
      HttpResponse<String> r =
          plain.send(
              HttpRequest.newBuilder(java.net.URI.create(service.url() + "/v1/schedules")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertError(r, 401, "unauthorized");
    }
    assertEquals(200, get("/v1/schedules").statusCode());
  }

  private List<Path> awaitObjects(int n) throws Exception {
    Path root = dataDir.resolve("objects");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      List<Path> found = ObjectFiles.json(root);
      if (found.size() >= n) {
        return found;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("fewer than " + n + " objects appeared");
      }
      Thread.sleep(20);
    }
  }
}
