package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sluice.jobs.JobId;
import io.sluice.jobs.JobSpec;
import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.ObjectStore;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The HTTP contract, over real HTTP on a real port, with real objects on disk. */
@Timeout(60)
class IngestApiTest {
  @TempDir Path dataDir;

  private final HttpClient http = HttpClient.newHttpClient();
  private final List<SluiceServer> servers = new ArrayList<>();
  private SluiceServer server;

  @AfterEach
  void stop() {
    servers.forEach(SluiceServer::close);
    http.close();
  }

  private SluiceServer start(ServerConfig config, ObjectStore objects) throws IOException {
    server = SluiceServer.start(config, objects, percent -> {});
    servers.add(server);
    return server;
  }

  private SluiceServer start(ServerConfig config) throws IOException {
    return start(config, FilesystemObjectStore.open(dataDir.resolve("objects")));
  }

  private ServerConfig config() {
    return ServerConfig.defaults(dataDir).withPort(0).withShutdownGrace(Duration.ofSeconds(5));
  }

  private HttpResponse<String> post(String path, String contentType, String body) throws Exception {
    return send(
        HttpRequest.newBuilder(uri(path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofString(body)));
  }

  private HttpResponse<String> postJson(String body) throws Exception {
    return post("/v1/payloads", "application/json", body);
  }

  private HttpResponse<String> get(String path) throws Exception {
    return send(HttpRequest.newBuilder(uri(path)).GET());
  }

  private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
    return http.send(
        request.timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.port() + path);
  }

  /** The top-level string, number and string-array members of a JSON object. */
  private static Map<String, Object> json(String body) throws IOException {
    Map<String, Object> out = new HashMap<>();
    try (JsonParser p = new JsonFactory().createParser(body)) {
      assertEquals(JsonToken.START_OBJECT, p.nextToken(), body);
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String name = p.currentName();
        JsonToken t = p.nextToken();
        if (t == JsonToken.START_ARRAY) {
          List<String> items = new ArrayList<>();
          while (p.nextToken() != JsonToken.END_ARRAY) {
            if (p.currentToken() == JsonToken.START_OBJECT) {
              p.skipChildren();
              items.add("{...}");
            } else {
              items.add(p.getText());
            }
          }
          out.put(name, items);
        } else if (t == JsonToken.VALUE_NULL) {
          out.put(name, null);
        } else {
          out.put(name, p.getText());
        }
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static List<String> ids(HttpResponse<String> accepted) throws IOException {
    return (List<String>) json(accepted.body()).get("ids");
  }

  private void assertError(HttpResponse<String> response, int status, String code)
      throws IOException {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals("application/json", response.headers().firstValue("Content-Type").orElse(""));
    Map<String, Object> body = json(response.body());
    assertEquals(code, body.get("error"), response.body());
    assertFalse(((String) body.get("message")).isBlank());
  }

  private List<Path> objects() throws IOException {
    return ObjectFiles.json(dataDir.resolve("objects"));
  }

  private Path awaitObject(String key) {
    Path file = dataDir.resolve("objects").resolve(key);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (!Files.exists(file)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("object " + key + " never appeared");
      }
      Thread.yield();
    }
    return file;
  }

  private String awaitState(String id, String state) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      HttpResponse<String> r = get("/v1/jobs/" + id);
      if (r.statusCode() == 200 && state.equals(json(r.body()).get("state"))) {
        return r.body();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + id + " never became " + state + ": " + r.body());
      }
      Thread.yield();
    }
  }

  // ---------------------------------------------------------------- accepted

  @Test
  void eachAcceptedPayloadBecomesAnObjectHoldingItsExactJson() throws Exception {
    start(config());
    String[] payloads = {
      "{\"a\" :  1, \"b\":[true,null]}", "[1, 2 ]", "\"h\\u00e9llo\"", "-0.5e3", "false"
    };

    HttpResponse<String> r =
        postJson(
            "{\"source\": \"sensor-7\", \"payloads\": [" + String.join(" ,\n ", payloads) + "]}");

    assertEquals(202, r.statusCode(), r.body());
    assertEquals("5", json(r.body()).get("accepted"));
    List<String> ids = ids(r);
    assertEquals(5, ids.size());
    for (int i = 0; i < payloads.length; i++) {
      String job = awaitState(ids.get(i), "succeeded");
      String key = (String) json(job).get("key");
      assertTrue(key.matches("\\d{4}/\\d{2}/\\d{2}/" + ids.get(i) + "\\.json"), key);
      assertArrayEquals(payloads[i].getBytes(UTF_8), Files.readAllBytes(awaitObject(key)));
    }
  }

  @Test
  void givenABodyAfterAUtf8ByteOrderMarkWhenItIsAcceptedThenEachObjectHoldsItsPayloadExactly()
      throws Exception {
    start(config());
    String[] payloads = {"\"abc\"", "{\"k\": [1, 2]}"};

    HttpResponse<String> r =
        postJson("\uFEFF{\"payloads\": [" + String.join(", ", payloads) + "]}");

    assertEquals(202, r.statusCode(), r.body());
    List<String> ids = ids(r);
    for (int i = 0; i < payloads.length; i++) {
      String key = (String) json(awaitState(ids.get(i), "succeeded")).get("key");
      assertEquals(payloads[i], Files.readString(awaitObject(key), UTF_8));
    }
  }

  @Test
  void theSourceOfABatchIsShownWithEachOfItsJobsAndAbsentWithoutOne() throws Exception {
    start(config());
    List<String> withSource =
        ids(postJson("{\"source\": \"sensor-\\u00e9\", \"payloads\": [1, 2]}"));
    String without = ids(postJson("{\"payloads\": [3]}")).getFirst();

    for (String id : withSource) {
      assertEquals("sensor-\u00e9", json(awaitState(id, "succeeded")).get("source"));
    }
    assertFalse(json(awaitState(without, "succeeded")).containsKey("source"));
  }

  /**
   * The key's date is the UTC date of acceptance whatever the JVM's time zone: run at UTC+14 and
   * UTC-12, one of which is on another date than UTC at any moment, so a key dated by the local
   * date fails one of them.
   */
  @ParameterizedTest(name = "default time zone {0}")
  @CsvSource({"Pacific/Kiritimati", "Etc/GMT+12"})
  void theObjectKeysDateIsTheUtcDateOfAcceptance(String zone) throws Exception {
    java.util.TimeZone original = java.util.TimeZone.getDefault();
    java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone(zone));
    try {
      start(config());
      // the request may straddle midnight UTC: then either date is right
      java.time.LocalDate before = java.time.LocalDate.now(java.time.ZoneOffset.UTC);
      String id = ids(postJson("{\"payloads\": [{\"d\": 1}]}")).getFirst();
      java.time.LocalDate after = java.time.LocalDate.now(java.time.ZoneOffset.UTC);

      String key = (String) json(awaitState(id, "succeeded")).get("key");

      java.time.format.DateTimeFormatter path =
          java.time.format.DateTimeFormatter.ofPattern("uuuu/MM/dd/");
      assertTrue(
          key.equals(before.format(path) + id + ".json")
              || key.equals(after.format(path) + id + ".json"),
          key + " is not dated " + before + " or " + after + " (UTC)");
      assertEquals("{\"d\": 1}", Files.readString(awaitObject(key)));
    } finally {
      java.util.TimeZone.setDefault(original);
    }
  }

  @Test
  void aCharsetParameterIsFineWhenItIsUtf8() throws Exception {
    start(config());

    assertEquals(
        202,
        post("/v1/payloads", "application/json; charset=UTF-8", "{\"payloads\": [1]}")
            .statusCode());
    assertError(
        post("/v1/payloads", "application/json; charset=ISO-8859-1", "{\"payloads\": [1]}"),
        415,
        "unsupported_charset");
  }

  @Test
  void aJobReportsItsStateAttemptsErrorKeyAndTimes() throws Exception {
    start(config().withObjectPrefix("in/"));
    java.time.Instant before = java.time.Instant.now();
    String id = ids(postJson("{\"payloads\": [{\"x\": 1}]}")).getFirst();

    Map<String, Object> job = json(awaitState(id, "succeeded"));

    assertEquals(id, job.get("id"));
    assertEquals("1", job.get("attempts"));
    assertTrue(job.containsKey("lastError"));
    assertEquals(null, job.get("lastError"));
    assertTrue(((String) job.get("key")).startsWith("in/"));
    var created = java.time.Instant.parse((String) job.get("createdAt"));
    var started = java.time.Instant.parse((String) job.get("lastAttemptAt"));
    var finished = java.time.Instant.parse((String) job.get("finishedAt"));
    assertTrue(
        !created.isBefore(before.minusSeconds(1))
            && !started.isBefore(created)
            && !finished.isBefore(started),
        job.toString());
    assertTrue(job.containsKey("nextAttemptAt"));
    assertEquals(null, job.get("nextAttemptAt"));
    assertError(get("/v1/jobs/01a21b75-c66e-7000-a27f-961b37adfe4d"), 404, "unknown_job");
    assertError(get("/v1/jobs/not-an-id"), 400, "invalid_id");
  }

  // ---------------------------------------------------------------- start

  @Test
  void temporaryFilesACrashLeftAreRemovedAtStartAndObjectsAreKept() throws Exception {
    // given a day directory holding an object, and temporary files of puts a crash interrupted
    // there (an older layout) and in a writer's directory
    Path day = Files.createDirectories(dataDir.resolve("objects/2026/11/27"));
    Path object = Files.writeString(day.resolve(JobId.next() + ".json"), "{\"kept\": true}");
    Path leftover = Files.writeString(day.resolve(".sluice-tmp-1f2e3d4c5b6a"), "{\"ha");
    Files.setLastModifiedTime(leftover, FileTime.from(Instant.now().minusSeconds(60)));
    Path lane = Files.createDirectories(dataDir.resolve("objects/.sluice-tmp-lane-0"));
    Path inLane = Files.writeString(lane.resolve(".sluice-tmp-0f1e2d3c4b5a"), "{\"ha");

    // when
    start(config());

    // then the writer's leftover is gone before the service is ready, the other soon after
    assertFalse(Files.exists(inLane), "the leftover temporary file in the writer's directory");
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (Files.exists(leftover) && System.nanoTime() - deadline < 0) {
      Thread.sleep(10);
    }
    assertFalse(Files.exists(leftover), "the leftover temporary file beside the object");
    assertEquals("{\"kept\": true}", Files.readString(object));
    assertEquals(List.of(object), objects());
  }

  @Test
  void aSecondServiceOnTheSameDataDirectoryFailsToStartAndRemovesNoTemporaryFile()
      throws Exception {
    // given a running service, and a temporary file as one of its puts in progress has
    start(config());
    Path day = Files.createDirectories(dataDir.resolve("objects/2026/11/27"));
    Path inProgress = Files.writeString(day.resolve(".sluice-tmp-0a1b2c3d4e5f"), "{\"ha");

    // when a second service starts on the same data directory
    IOException refused = assertThrows(IOException.class, () -> start(config()));

    // then it is refused by the journal's lock before it touches the objects
    assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
    assertTrue(Files.exists(inProgress), "the first service's temporary file");
  }

  @Test
  void aPrefixTheFilesystemStoreCannotHoldStopsTheStartInsteadOfKillingEveryUpload() {
    // given a prefix that is a valid key prefix but names the filesystem store's temporary files
    ServerConfig reserved = config().withObjectPrefix(".sluice-tmp-x/");

    // when the service starts on the filesystem store
    IOException refused = assertThrows(IOException.class, () -> start(reserved));

    // then it refuses to, naming the setting, rather than accepting payloads no upload can store
    assertTrue(refused.getMessage().contains("--object-prefix"), refused.getMessage());
    assertTrue(refused.getMessage().contains("reserved"), refused.getMessage());
  }

  // ---------------------------------------------------------------- jobs no longer remembered

  /** A job id made at {@code time}, as a service accepting a payload then would have made it. */
  private static JobId idMadeAt(String time) {
    long millis = Instant.parse(time).toEpochMilli();
    return new JobId((millis << 16) | 0x7000L, 0x8000_0000_0000_0001L);
  }

  private void plantObject(String key) throws IOException {
    Path file = dataDir.resolve("objects").resolve(key);
    Files.createDirectories(file.getParent());
    Files.writeString(file, "{\"planted\": true}");
  }

  @Test
  void aSuccessTheServiceNoLongerRemembersIsReportedFromItsObject() throws Exception {
    // given a service that remembers no finished job
    start(config().withFinishedRetention(0).withObjectPrefix("in/"));
    String id = ids(postJson("{\"payloads\": [{\"x\": 1}]}")).getFirst();

    // when its upload has succeeded
    Map<String, Object> job = json(awaitState(id, "succeeded"));

    // then the answer comes from its object, saying what is not known any more
    assertEquals("true", job.get("forgotten"), job.toString());
    assertEquals(id, job.get("id"));
    for (String unknown : List.of("attempts", "lastError", "lastAttemptAt", "finishedAt")) {
      assertTrue(job.containsKey(unknown) && job.get(unknown) == null, unknown + " in " + job);
    }
    String key = (String) job.get("key");
    assertTrue(key.matches("in/\\d{4}/\\d{2}/\\d{2}/" + id + "\\.json"), key);
    assertEquals("{\"x\": 1}", Files.readString(dataDir.resolve("objects").resolve(key)));
    assertEquals(JobId.parse(id).timestamp().toString(), job.get("createdAt"));
  }

  @Test
  void aRememberedJobIsNotMarkedForgotten() throws Exception {
    start(config());
    String id = ids(postJson("{\"payloads\": [1]}")).getFirst();

    Map<String, Object> job = json(awaitState(id, "succeeded"));

    assertFalse(job.containsKey("forgotten"), job.toString());
    assertEquals("1", job.get("attempts"));
  }

  @Test
  void aForgottenJobIsLookedUpUnderItsIdsDateAndInItsFirstMinuteUnderTheDayBefore()
      throws Exception {
    // given objects of jobs the service never saw finish (made by an earlier run, say)
    start(config());
    JobId midday = idMadeAt("2026-11-27T13:00:00Z");
    JobId justAfterMidnight = idMadeAt("2026-11-27T00:00:30Z");
    JobId wellAfterMidnight = idMadeAt("2026-11-27T00:05:00Z");
    plantObject("2026/11/27/" + midday + ".json");
    plantObject("2026/11/26/" + justAfterMidnight + ".json");
    plantObject("2026/11/26/" + wellAfterMidnight + ".json");

    // when asked, then each is found where its acceptance could have put it
    assertEquals(
        "2026/11/27/" + midday + ".json", json(get("/v1/jobs/" + midday).body()).get("key"));
    HttpResponse<String> early = get("/v1/jobs/" + justAfterMidnight);
    assertEquals(200, early.statusCode(), early.body());
    assertEquals("2026/11/26/" + justAfterMidnight + ".json", json(early.body()).get("key"));
    assertEquals("succeeded", json(early.body()).get("state"));
    // but an acceptance five minutes into the 27th cannot have been dated the 26th
    assertError(get("/v1/jobs/" + wellAfterMidnight), 404, "unknown_job");
  }

  @Test
  void anIdWithNeitherAJobNorAnObjectIs404NamingTheRetention() throws Exception {
    start(config().withFinishedRetention(123));

    HttpResponse<String> r = get("/v1/jobs/" + idMadeAt("2026-11-27T13:00:00Z"));

    assertError(r, 404, "unknown_job");
    String message = (String) json(r.body()).get("message");
    assertTrue(message.contains("last 123 finished jobs"), message);
    assertTrue(message.contains("--finished-retention"), message);
  }

  // ---------------------------------------------------------------- refused, and nothing kept

  @Test
  void aSourceWithAnUnpairedSurrogateEscapeIs400AndAPairIsKept() throws Exception {
    // given a running service
    start(config());

    // when sources escape an unpaired surrogate (text no journal or S3 header can hold), or a pair
    HttpResponse<String> lone = postJson("{\"payloads\": [1], \"source\": \"s\\ud800\"}");
    HttpResponse<String> low = postJson("{\"payloads\": [1], \"source\": \"\\udc00s\"}");
    String paired = ids(postJson("{\"payloads\": [1], \"source\": \"\\ud83d\\ude00\"}")).getFirst();

    // then the unpaired ones are refused, and the pair is the character it escapes
    assertError(lone, 400, "invalid_source");
    assertError(low, 400, "invalid_source");
    assertEquals("\ud83d\ude00", json(awaitState(paired, "succeeded")).get("source"));
  }

  @Test
  void malformedOrWronglyShapedBodiesAre400AndNothingIsKept() throws Exception {
    start(config().withLimits(100_000, 1 << 20, 1_000, 8));
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("{\"payloads\": [1, 2", "malformed_json");
    cases.put("{\"payloads\": [1, 2]} trailing", "malformed_json");
    cases.put("[1, 2]", "not_an_object");
    cases.put("{\"other\": 1}", "missing_payloads");
    cases.put("{\"payloads\": {\"a\": 1}}", "payloads_not_array");
    cases.put("{\"payloads\": []}", "empty_payloads");
    cases.put("{\"payloads\": [1, null, 3]}", "null_payload");
    cases.put("{\"payloads\": [1], \"payloads\": [2]}", "duplicate_member");
    cases.put("{\"payloads\": [[[[[[[[[[1]]]]]]]]]]}", "too_deep");
    cases.put("{\"payloads\": [1], \"source\": 7}", "invalid_source");
    cases.put("{\"payloads\": [1], \"runAt\": \"tomorrow\"}", "invalid_run_at");
    cases.put("", "not_an_object");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      assertError(postJson(c.getKey()), 400, c.getValue());
    }

    assertEquals(List.of(), objects());
    assertTrue(get("/metrics").body().contains("sluice_payloads_accepted_total 0.0"));
  }

  @Test
  void aPayloadNestedExactlyMaxDepthDeepIsAcceptedAndOneLevelDeeperIs400() throws Exception {
    // given --max-depth 5
    start(config().withLimits(100_000, 1 << 20, 1_000, 5));
    String arrays = "[".repeat(5) + "1" + "]".repeat(5);
    String objects = "{\"a\": ".repeat(5) + "1" + "}".repeat(5);

    // when payloads nest exactly 5 arrays or objects deep, then they are accepted, as written
    HttpResponse<String> atTheLimit = postJson("{\"payloads\": [" + arrays + ", " + objects + "]}");
    assertEquals(202, atTheLimit.statusCode(), atTheLimit.body());
    List<String> ids = ids(atTheLimit);
    String key = (String) json(awaitState(ids.getFirst(), "succeeded")).get("key");
    assertEquals(arrays, Files.readString(awaitObject(key)));

    // and one level more is 400, naming the payload and the limit
    HttpResponse<String> deeper = postJson("{\"payloads\": [1, [" + arrays + "]]}");
    assertError(deeper, 400, "too_deep");
    String message = (String) json(deeper.body()).get("message");
    assertTrue(message.contains("payloads[1] is nested deeper than 5 levels"), message);
    assertTrue(message.contains("--max-depth"), message);
  }

  @Test
  void aSkippedMemberNestedFarDeeperThanTheLimitIs400() throws Exception {
    start(config().withLimits(100_000, 1 << 20, 1_000, 5));

    HttpResponse<String> r =
        postJson("{\"payloads\": [1], \"other\": " + "[".repeat(50) + "]".repeat(50) + "}");

    assertError(r, 400, "too_deep");
  }

  @Test
  void invalidUtf8AnywhereInAPayloadIs400() throws Exception {
    start(config());
    byte[] head = "{\"payloads\": [{\"a\": [\"ok\", \"".getBytes(UTF_8);
    byte[] tail = "\"]}]}".getBytes(UTF_8);
    byte[] body = new byte[head.length + 2 + tail.length];
    System.arraycopy(head, 0, body, 0, head.length);
    body[head.length] = (byte) 0xC3;
    body[head.length + 1] = (byte) 0x28; // not a continuation byte
    System.arraycopy(tail, 0, body, head.length + 2, tail.length);

    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri("/v1/payloads"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)));

    assertError(r, 400, "malformed_json");
  }

  @Test
  void tooLargeBodiesAndTooManyPayloadsAre413() throws Exception {
    start(config().withLimits(100_000, 1_000, 3, 64));

    assertError(postJson("{\"payloads\": [\"" + "x".repeat(2_000) + "\"]}"), 413, "body_too_large");
    assertError(postJson("{\"payloads\": [1, 2, 3, 4]}"), 413, "too_many_payloads");
    assertEquals(202, postJson("{\"payloads\": [1, 2, 3]}").statusCode());
  }

  @Test
  void aBatchWhoseJournalRecordCouldNeverBeWrittenIs413BatchTooLargeAndNothingIsKept()
      throws Exception {
    // given 25,000 payloads a request, and a batch of that many whose longest possible source (256
    // characters of 3 bytes each, recorded with every payload) makes a journal record over 16 MiB,
    // from a body of about 50 kB
    start(config().withLimits(100_000, 1 << 20, 25_000, 64));
    String source = "\u0904".repeat(JobSpec.MAX_SOURCE_LENGTH);
    String body =
        "{\"source\": \""
            + source
            + "\", \"payloads\": ["
            + String.join(",", java.util.Collections.nCopies(25_000, "1"))
            + "]}";

    // when
    HttpResponse<String> r = postJson(body);

    // then
    assertError(r, 413, "batch_too_large");
    Map<String, Object> problem = json(r.body());
    assertEquals(java.util.Set.of("error", "message"), problem.keySet());
    String message = (String) problem.get("message");
    assertTrue(
        message.matches(
            "these 25000 payloads can never be accepted in one request, nothing was accepted: a"
                + " batch of 25000 jobs makes a journal record of \\d+ bytes and can never fit: a"
                + " durable store records a batch as one record of at most 16777216 bytes .*;"
                + " submit smaller batches or smaller payloads"),
        message);
    assertTrue(get("/metrics").body().contains("sluice_payloads_accepted_total 0.0"));
    assertEquals(202, postJson("{\"source\": \"" + source + "\", \"payloads\": [1]}").statusCode());
  }

  @Test
  void somethingOtherThanJsonIs415() throws Exception {
    start(config());

    assertError(
        post("/v1/payloads", "text/plain", "{\"payloads\": [1]}"), 415, "unsupported_media_type");
    assertError(
        send(
            HttpRequest.newBuilder(uri("/v1/payloads"))
                .POST(HttpRequest.BodyPublishers.ofString("{}"))),
        415,
        "unsupported_media_type");
  }

  @Test
  void otherMethodsAre405WithAllow() throws Exception {
    start(config());

    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri("/v1/payloads"))
                .PUT(HttpRequest.BodyPublishers.ofString("{}")));

    assertError(r, 405, "method_not_allowed");
    assertEquals(Optional.of("POST"), r.headers().firstValue("Allow"));
    assertEquals(
        Optional.of("GET, HEAD"),
        send(HttpRequest.newBuilder(uri("/v1/jobs/x")).DELETE()).headers().firstValue("Allow"));
    assertError(get("/v2/anything"), 404, "not_found");
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({"POST, /health/live", "POST, /health/ready", "POST, /metrics", "DELETE, /metrics"})
  void theHealthAndMetricsPathsAnswerOtherMethodsWith405AndAllowGetAndHead(
      String method, String path) throws Exception {
    start(config());

    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri(path))
                .method(method, HttpRequest.BodyPublishers.ofString("{}")));

    assertError(r, 405, "method_not_allowed");
    assertEquals(Optional.of("GET, HEAD"), r.headers().firstValue("Allow"));
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "PUT, /v1/dead-letters, 'GET, HEAD'",
    "POST, /v1/dead-letters, 'GET, HEAD'",
    "GET, /v1/dead-letters/01a21b75-c66e-7000-a27f-961b37adfe4d/retry, POST",
    "DELETE, /v1/dead-letters/01a21b75-c66e-7000-a27f-961b37adfe4d/retry, POST",
    "GET, /v1/dead-letters/01a21b75-c66e-7000-a27f-961b37adfe4d, DELETE",
    "POST, /v1/dead-letters/01a21b75-c66e-7000-a27f-961b37adfe4d, DELETE"
  })
  void theDeadLetterPathsAnswerOtherMethodsWith405AndAllow(
      String method, String path, String allowed) throws Exception {
    start(config());

    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri(path))
                .method(method, HttpRequest.BodyPublishers.ofString("{}")));

    assertError(r, 405, "method_not_allowed");
    assertEquals(List.of(allowed), r.headers().allValues("Allow"));
  }

  @Test
  void withATokenConfiguredRequestsWithoutItAre401() throws Exception {
    start(config().withToken("s3cret"));

    assertError(postJson("{\"payloads\": [1]}"), 401, "unauthorized");
    assertError(
        send(
            HttpRequest.newBuilder(uri("/v1/payloads"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer wrong")
                .POST(HttpRequest.BodyPublishers.ofString("{\"payloads\": [1]}"))),
        401,
        "unauthorized");
    HttpResponse<String> ok =
        send(
            HttpRequest.newBuilder(uri("/v1/payloads"))
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer s3cret")
                .POST(HttpRequest.BodyPublishers.ofString("{\"payloads\": [1]}")));
    assertEquals(202, ok.statusCode());
    assertEquals(200, get("/health/live").statusCode(), "health needs no token");
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "PUT, /v1/payloads",
    "DELETE, /v1/jobs/01a21b75-c66e-7000-a27f-961b37adfe4d",
    "POST, /v1/dead-letters",
    "GET, /v1/dead-letters/01a21b75-c66e-7000-a27f-961b37adfe4d/retry",
    "PUT, /v1/dead-letters/01a21b75-c66e-7000-a27f-961b37adfe4d",
    "POST, /v1/schedules"
  })
  void givenATokenWhenAnApiPathIsCalledWithAnotherMethodAndNoTokenThenTheAnswerIs401Not405(
      String method, String path) throws Exception {
    start(config().withToken("s3cret"));

    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri(path))
                .method(method, HttpRequest.BodyPublishers.ofString("{}")));

    assertError(r, 401, "unauthorized");
    assertEquals(
        Optional.empty(), r.headers().firstValue("Allow"), "nothing told before the token");
    HttpResponse<String> withToken =
        send(
            HttpRequest.newBuilder(uri(path))
                .header("Authorization", "Bearer s3cret")
                .method(method, HttpRequest.BodyPublishers.ofString("{}")));
    assertError(withToken, 405, "method_not_allowed");
  }

  @Test
  void givenATokenWhenAHealthPathIsCalledWithAnotherMethodAndNoTokenThenTheAnswerIs405()
      throws Exception {
    start(config().withToken("s3cret"));

    HttpResponse<String> r =
        send(
            HttpRequest.newBuilder(uri("/health/live"))
                .method("POST", HttpRequest.BodyPublishers.ofString("{}")));

    assertError(r, 405, "method_not_allowed");
  }

  private HttpResponse<String> postWithAuthorization(String authorization) throws Exception {
    return send(
        HttpRequest.newBuilder(uri("/v1/payloads"))
            .header("Content-Type", "application/json")
            .header("Authorization", authorization)
            .POST(HttpRequest.BodyPublishers.ofString("{\"payloads\": [1]}")));
  }

  @ParameterizedTest(name = "Authorization: {0}")
  @CsvSource(
      delimiter = '|',
      value = {"bearer s3cret", "BEARER s3cret", "bEaReR s3cret", "Bearer   s3cret"})
  void theBearerSchemeIsCaseInsensitiveAndSpacesMaySeparateItFromTheToken(String authorization)
      throws Exception {
    start(config().withToken("s3cret"));

    HttpResponse<String> r = postWithAuthorization(authorization);

    assertEquals(202, r.statusCode(), r.body());
  }

  @ParameterizedTest(name = "Authorization: {0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "Bearer S3CRET",
        "Bearer s3cret2",
        "Bearer s3cre",
        "Bearers3cret",
        "Bearer",
        "s3cret",
        "Basic s3cret",
        "Bearer s3cret s3cret"
      })
  void theTokenItselfMustMatchExactly(String authorization) throws Exception {
    start(config().withToken("s3cret"));

    assertError(postWithAuthorization(authorization), 401, "unauthorized");
  }

  @Test
  void a401ChallengesForABearerTokenAsRfc6750Asks() throws Exception {
    start(config().withToken("s3cret"));

    HttpResponse<String> none = postJson("{\"payloads\": [1]}");
    HttpResponse<String> wrong =
        send(
            HttpRequest.newBuilder(uri("/v1/jobs/" + JobId.next()))
                .header("Authorization", "Bearer wrong")
                .GET());
    HttpResponse<String> otherScheme =
        send(
            HttpRequest.newBuilder(uri("/v1/schedules"))
                .header("Authorization", "Basic czNjcmV0")
                .GET());

    assertError(none, 401, "unauthorized");
    assertEquals(List.of("Bearer realm=\"sluice\""), none.headers().allValues("WWW-Authenticate"));
    assertError(wrong, 401, "unauthorized");
    assertEquals(
        List.of("Bearer realm=\"sluice\", error=\"invalid_token\""),
        wrong.headers().allValues("WWW-Authenticate"));
    assertError(otherScheme, 401, "unauthorized");
    assertEquals(
        List.of("Bearer realm=\"sluice\""), otherScheme.headers().allValues("WWW-Authenticate"));
  }

  // ---------------------------------------------------------------- backpressure and failures

  @Test
  void aFullQueueAnswers429WithRetryAfterAndNeverWaits() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    GatedObjectStore gated =
        new GatedObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects")), release);
    start(config().withLimits(4, 1 << 20, 4, 64).withWorkers(1, Duration.ofSeconds(30), 10), gated);
    assertEquals(202, postJson("{\"payloads\": [1, 2, 3]}").statusCode());

    HttpResponse<String> full = postJson("{\"payloads\": [4, 5]}");

    assertError(full, 429, "queue_full");
    assertEquals(Optional.of("1"), full.headers().firstValue("Retry-After"));
    assertEquals(202, postJson("{\"payloads\": [4]}").statusCode(), "one still fits");
    release.countDown();
  }

  @Test
  void payloadBytesOverTheMemoryLimitAnswer429UntilUploadsMakeRoom() throws Exception {
    // given: room for 100 payloads but only 2,000 bytes of them, uploads held back
    CountDownLatch release = new CountDownLatch(1);
    GatedObjectStore gated =
        new GatedObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects")), release);
    start(
        config()
            .withLimits(100, 1_500, 10, 64)
            .withQueueBytes(2_000)
            .withWorkers(1, Duration.ofSeconds(30), 10),
        gated);
    String big = "\"" + "x".repeat(898) + "\""; // a 900-byte payload
    List<String> accepted = new ArrayList<>();
    accepted.addAll(ids(postJson("{\"payloads\": [" + big + "]}")));
    accepted.addAll(ids(postJson("{\"payloads\": [" + big + "]}")));

    // when: a third would pass the byte limit (the queue has room for 98 more payloads)
    HttpResponse<String> full = postJson("{\"payloads\": [" + big + "]}");

    // then: 429 with Retry-After and a message about the bytes; smaller payloads still fit
    assertError(full, 429, "queue_full");
    assertEquals(Optional.of("1"), full.headers().firstValue("Retry-After"));
    assertTrue((json(full.body()).get("message").toString()).contains("1800 bytes of payloads"));
    assertEquals(202, postJson("{\"payloads\": [1]}").statusCode(), "one byte still fits");
    assertTrue(get("/metrics").body().contains("sluice_queue_payload_bytes 1801.0"));

    // and once the uploads run, the bytes are free again
    release.countDown();
    for (String id : accepted) {
      awaitState(id, "succeeded");
    }
    assertEquals(202, postJson("{\"payloads\": [" + big + "]}").statusCode());
  }

  @Test
  void aPayloadWhoseUploadKeepsFailingBecomesADeadLetterThatCanBeRetriedOrDeleted()
      throws Exception {
    FailingObjectStore failing =
        new FailingObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects")));
    start(config().withWorkers(2, Duration.ofSeconds(30), 1), failing);
    List<String> ids = ids(postJson("{\"payloads\": [1, 2]}"));
    for (String id : ids) {
      awaitState(id, "dead");
    }

    HttpResponse<String> page = get("/v1/dead-letters?limit=1");
    assertEquals(200, page.statusCode(), page.body());
    Map<String, Object> first = json(page.body());
    assertEquals(1, ((List<?>) first.get("deadLetters")).size());
    assertEquals(ids.getFirst(), first.get("next"));
    Map<String, Object> second =
        json(get("/v1/dead-letters?limit=1&after=" + ids.getFirst()).body());
    assertEquals(1, ((List<?>) second.get("deadLetters")).size());
    assertTrue(second.containsKey("next") && second.get("next") == null, second.toString());
    assertTrue(
        ((String) json(get("/v1/jobs/" + ids.getFirst()).body()).get("lastError"))
            .contains("storage unavailable"));

    failing.failing = false;
    HttpResponse<String> retried =
        send(
            HttpRequest.newBuilder(uri("/v1/dead-letters/" + ids.getFirst() + "/retry"))
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, retried.statusCode(), retried.body());
    awaitState(ids.getFirst(), "succeeded");
    HttpResponse<String> deleted =
        send(HttpRequest.newBuilder(uri("/v1/dead-letters/" + ids.get(1))).DELETE());
    assertEquals(204, deleted.statusCode());
    assertError(get("/v1/jobs/" + ids.get(1)), 404, "unknown_job");
    assertError(
        send(HttpRequest.newBuilder(uri("/v1/dead-letters/" + ids.get(1))).DELETE()),
        404,
        "not_a_dead_letter");
    assertError(get("/v1/dead-letters?limit=0"), 400, "invalid_limit");
  }

  @Test
  void aDeadLetterPageThatIsExactlyFullAndTheLastHasNoNext() throws Exception {
    // given four dead letters
    start(
        config().withWorkers(2, Duration.ofSeconds(30), 1),
        new FailingObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects"))));
    List<String> ids = ids(postJson("{\"payloads\": [1, 2, 3, 4]}"));
    for (String id : ids) {
      awaitState(id, "dead");
    }

    // when they are read in pages of two, then the second page, full, is the last
    Map<String, Object> first = json(get("/v1/dead-letters?limit=2").body());
    assertEquals(2, ((List<?>) first.get("deadLetters")).size());
    assertEquals(ids.get(1), first.get("next"));
    Map<String, Object> second = json(get("/v1/dead-letters?limit=2&after=" + ids.get(1)).body());
    assertEquals(2, ((List<?>) second.get("deadLetters")).size());
    assertTrue(second.containsKey("next") && second.get("next") == null, second.toString());
    // and so is one page of exactly four
    Map<String, Object> all = json(get("/v1/dead-letters?limit=4").body());
    assertEquals(4, ((List<?>) all.get("deadLetters")).size());
    assertTrue(all.containsKey("next") && all.get("next") == null, all.toString());
  }

  @Test
  void retryingADeadLetterWhileTheQueueIsFullAnswers429AndKeepsItDead() throws Exception {
    // given: a queue of 2, one dead letter, and two payloads whose uploads are held back
    CountDownLatch release = new CountDownLatch(1);
    FailingObjectStore failing =
        new FailingObjectStore(
            new GatedObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects")), release));
    start(
        config().withLimits(2, 1 << 20, 2, 64).withWorkers(1, Duration.ofSeconds(30), 1), failing);
    String dead = ids(postJson("{\"payloads\": [1]}")).getFirst();
    awaitState(dead, "dead");
    failing.failing = false;
    List<String> held = ids(postJson("{\"payloads\": [2, 3]}"));

    // when
    HttpResponse<String> full =
        send(
            HttpRequest.newBuilder(uri("/v1/dead-letters/" + dead + "/retry"))
                .POST(HttpRequest.BodyPublishers.noBody()));

    // then: 429 with Retry-After and why; the dead letter stays one
    assertError(full, 429, "queue_full");
    assertEquals(Optional.of("1"), full.headers().firstValue("Retry-After"));
    assertTrue(
        json(full.body()).get("message").toString().contains("stays a dead letter"), full.body());
    assertEquals("dead", json(get("/v1/jobs/" + dead).body()).get("state"));

    // and once the held uploads finish, the retry fits
    release.countDown();
    for (String id : held) {
      awaitState(id, "succeeded");
    }
    HttpResponse<String> retried =
        send(
            HttpRequest.newBuilder(uri("/v1/dead-letters/" + dead + "/retry"))
                .POST(HttpRequest.BodyPublishers.noBody()));
    assertEquals(200, retried.statusCode(), retried.body());
    awaitState(dead, "succeeded");
  }

  @Test
  void acceptedPayloadsNotYetUploadedAreUploadedAfterARestart() throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    start(
        config().withShutdownGrace(Duration.ZERO),
        new GatedObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects")), never));
    List<String> ids = ids(postJson("{\"payloads\": [{\"n\": 1}, {\"n\": 2}]}"));
    server.close();
    assertEquals(List.of(), objects());

    start(config());

    for (String id : ids) {
      awaitObject((String) json(awaitState(id, "succeeded")).get("key"));
    }
  }

  @Test
  void healthAndMetricsAnswer() throws Exception {
    start(config());
    String id = ids(postJson("{\"payloads\": [1]}")).getFirst();
    awaitState(id, "succeeded");

    assertEquals("UP", json(get("/health/ready").body()).get("status"));
    assertEquals("UP", json(get("/health/live").body()).get("status"));
    String metrics = get("/metrics").body();
    for (String meter :
        List.of(
            "sluice_http_requests_total{route=\"/v1/payloads\",status=\"202\"}",
            "sluice_payloads_accepted_total",
            "sluice_queue_depth",
            "sluice_workers_busy",
            "sluice_upload_seconds_bucket",
            "sluice_journal_fsync_seconds",
            "sluice_journal_append_seconds_bucket",
            "sluice_retries_total",
            "sluice_dead_letters",
            "sluice_payload_delivery_seconds_bucket")) {
      assertTrue(metrics.contains(meter), meter + " in\n" + metrics);
    }
    // the listener hears of the success just after the store records it
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    double delivered = meterValue(metrics, "sluice_payload_delivery_seconds_count");
    while (delivered < 1 && System.nanoTime() < deadline) {
      Thread.sleep(20);
      delivered = meterValue(get("/metrics").body(), "sluice_payload_delivery_seconds_count");
    }
    assertEquals(1.0, delivered, "one payload delivered");
  }

  @Test
  void theFilesystemStoresFlushesAreMetered() throws Exception {
    // given a payload accepted
    start(config());
    postJson("{\"payloads\": [1]}");

    // when it is uploaded, then the flushes that made its object durable are counted and timed
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    double puts = 0;
    while (puts < 2 && System.nanoTime() < deadline) {
      puts = meterValue(get("/metrics").body(), "sluice_objects_flush_puts_sum");
      Thread.sleep(20);
    }
    assertEquals(2, puts, "its file, then its rename");
    String metrics = get("/metrics").body();
    assertTrue(meterValue(metrics, "sluice_objects_flush_seconds_count") >= 2, metrics);
    assertTrue(metrics.contains("sluice_objects_flush_seconds_bucket"), metrics);
  }

  private static double meterValue(String metrics, String name) {
    return metrics
        .lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1).trim()))
        .findFirst()
        .orElse(Double.NaN);
  }

  @Test
  void whileShuttingDownNewPayloadsAre503() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    start(
        config().withShutdownGrace(Duration.ofSeconds(30)),
        new GatedObjectStore(FilesystemObjectStore.open(dataDir.resolve("objects")), release));
    postJson("{\"payloads\": [1]}");
    Thread closer = Thread.ofVirtual().start(server::close);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    HttpResponse<String> r;
    do {
      r = postJson("{\"payloads\": [2]}");
    } while (r.statusCode() == 202 && System.nanoTime() < deadline);

    assertError(r, 503, "shutting_down");
    assertEquals("DOWN", json(get("/health/ready").body()).get("status"));
    release.countDown();
    closer.join();
  }

  /** An object store that forwards to another, for tests that change what {@code put} does. */
  abstract static class ForwardingObjectStore implements ObjectStore {
    final ObjectStore delegate;

    ForwardingObjectStore(ObjectStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public void put(String key, byte[] content, String contentType)
        throws IOException, InterruptedException {
      delegate.put(key, content, contentType);
    }

    @Override
    public Optional<byte[]> get(String key) throws IOException, InterruptedException {
      return delegate.get(key);
    }

    @Override
    public String describe() {
      return getClass().getSimpleName() + " over " + delegate.describe();
    }

    @Override
    public void check() throws IOException {
      delegate.check();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  /** Holds every upload until released: the uploads stay in progress. */
  static final class GatedObjectStore extends ForwardingObjectStore {
    private final CountDownLatch gate;

    GatedObjectStore(ObjectStore delegate, CountDownLatch gate) {
      super(delegate);
      this.gate = gate;
    }

    @Override
    public void put(String key, byte[] content, String contentType)
        throws IOException, InterruptedException {
      gate.await();
      super.put(key, content, contentType);
    }
  }

  /** Fails every upload while {@link #failing} is set, as an unreachable bucket would. */
  static final class FailingObjectStore extends ForwardingObjectStore {
    volatile boolean failing = true;

    FailingObjectStore(ObjectStore delegate) {
      super(delegate);
    }

    @Override
    public void put(String key, byte[] content, String contentType)
        throws IOException, InterruptedException {
      if (failing) {
        throw new IOException("storage unavailable");
      }
      super.put(key, content, contentType);
    }
  }
}
