package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.server.FaultInjectingProxy.Fault;
import io.sluice.server.objects.S3ObjectStore;
import io.sluice.server.objects.S3Options;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The whole service with the S3 store under injected faults: a real {@link SluiceServer} on a real
 * port with its durable journal in a temporary directory, uploading through {@link S3ObjectStore}
 * to s3proxy (a real S3 API on loopback, {@code transient-nio2} backend) behind a {@link
 * FaultInjectingProxy} the test scripts. Every scenario ends with exact states: each payload that
 * got a 202 is its object, byte for byte, or a dead letter saying what S3 answered; the proxy
 * counts the PUTs, so the SDK's own retries inside each of the engine's attempts are checked too.
 */
@Timeout(120)
class S3ServiceFaultsTest {

  private static final String IDENTITY = "sluice-faults";
  private static final String SECRET = "sluice-faults-secret";

  /** Payloads as a client might send them: odd spacing, escapes, non-ASCII, not only objects. */
  private static final List<String> PAYLOADS =
      List.of(
          "{\"n\": 1, \"s\" :\"é\\u00e9\"}",
          "[1, 2 ,3]",
          "\"plain string\"",
          "{\"deep\": {\"a\": [true, false, null]}}",
          "-0.5e3",
          "{\"emoji\": \"😀\", \"n\": 6}");

  private static final int WORKERS = 4;

  private static S3Proxy s3;
  private static S3Client admin;
  private static int buckets;

  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();
  private String bucket;
  private FaultInjectingProxy faults;
  private RunningService service;

  @BeforeAll
  static void startS3() throws Exception {
    s3 =
        S3Proxy.builder()
            .blobStore(new TransientNio2BlobStore())
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, SECRET)
            .build();
    s3.start();
    admin =
        S3Client.builder()
            .endpointOverride(URI.create("http://127.0.0.1:" + s3.getPort()))
            .forcePathStyle(true)
            .region(Region.US_EAST_1)
            .credentialsProvider(
                StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, SECRET)))
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .build();
  }

  @AfterAll
  static void stopS3() throws Exception {
    if (admin != null) {
      admin.close();
    }
    if (s3 != null) {
      s3.stop();
    }
  }

  @BeforeEach
  void freshBucketBehindAFaultProxy() throws Exception {
    bucket = "faults-" + (++buckets);
    admin.createBucket(b -> b.bucket(bucket));
    // handed over first, so that it is closed after every service that uploads through it
    faults = services.own(FaultInjectingProxy.start(s3.getPort()));
  }

  /** The S3 store through the fault proxy, with the SDK retries and timeouts of the scenario. */
  private S3Options storeOptions(int sdkRetries, Duration callTimeout, Duration attemptTimeout) {
    return S3Options.forBucket(bucket)
        .withEndpoint(faults.endpoint())
        .withPathStyle(true)
        .withCredentials(IDENTITY, SECRET)
        .withTimeouts(callTimeout, attemptTimeout)
        .withMaxSdkRetries(sdkRetries);
  }

  /**
   * The service with 4 workers and retry waits capped at 10 ms, 20 ms ..., so tests take seconds.
   */
  private void startService(S3Options store, Duration uploadTimeout, int maxAttempts)
      throws Exception {
    startService(store, uploadTimeout, maxAttempts, c -> c);
  }

  private void startService(
      S3Options store, Duration uploadTimeout, int maxAttempts, UnaryOperator<ServerConfig> more)
      throws Exception {
    service =
        services.start(
            dataDir,
            c ->
                more.apply(
                    c.withWorkers(WORKERS, uploadTimeout, maxAttempts)
                        .withRetryDelay(Duration.ofMillis(10))),
            S3ObjectStore.create(store));
  }

  /** Posts the payloads in two requests and returns their ids in payload order. */
  private List<String> postAll() throws Exception {
    List<String> ids = new ArrayList<>();
    ids.addAll(service.post("{\"payloads\": [" + String.join(",", PAYLOADS.subList(0, 3)) + "]}"));
    ids.addAll(
        service.post(
            "{\"source\": \"faults\", \"payloads\": [\n"
                + String.join(" ,\n", PAYLOADS.subList(3, PAYLOADS.size()))
                + "]}"));
    assertEquals(PAYLOADS.size(), ids.size());
    return ids;
  }

  private Map<String, Object> job(String id) throws Exception {
    HttpResponse<String> r = service.send("/v1/jobs/" + id, HttpRequest.Builder::GET);
    assertEquals(200, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  private static int attempts(Map<String, Object> job) {
    return ((Number) job.get("attempts")).intValue();
  }

  /** The object's bytes as s3proxy holds them, read around the fault proxy. */
  private byte[] storedObject(String key) {
    return admin.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asByteArray();
  }

  private List<String> storedKeys() {
    return admin.listObjectsV2(b -> b.bucket(bucket)).contents().stream()
        .map(S3Object::key)
        .sorted()
        .toList();
  }

  /** A meter's value from /metrics: {@code name} with its labels as Prometheus prints them. */
  private double meter(String name) throws Exception {
    String metrics = service.send("/metrics", HttpRequest.Builder::GET).body();
    return metrics
        .lines()
        .filter(l -> l.startsWith(name + " "))
        .mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1).strip()))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no " + name + " in\n" + metrics));
  }

  /**
   * Waits until the gauge {@code name} reads {@code expected}: gauges show the engine's stats as a
   * scrape up to 200 ms ago saw them (ServerMetrics caches them), so a change made within that time
   * shows at a later scrape. Fails if it does not within 10 s.
   */
  private void awaitGauge(String name, double expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    double seen;
    while ((seen = meter(name)) != expected && System.nanoTime() - deadline < 0) {
      Thread.sleep(50);
    }
    assertEquals(expected, seen, name);
  }

  /** Retries each dead letter through the API; each must answer 200, queued again. */
  private void retryEachDeadLetter(List<String> ids) throws Exception {
    for (String id : ids) {
      HttpResponse<String> r =
          service.send(
              "/v1/dead-letters/" + id + "/retry",
              b -> b.POST(HttpRequest.BodyPublishers.noBody()));
      assertEquals(200, r.statusCode(), r.body());
      assertEquals("queued", Json.object(r.body()).get("state"));
    }
  }

  private static void assertMentions(String text, String... parts) {
    for (String part : parts) {
      assertTrue(text != null && text.contains(part), "\"" + part + "\" in: " + text);
    }
  }

  /** Each payload is its object in the bucket, exactly its bytes, and nothing else is there. */
  private void assertEveryPayloadIsItsObject(List<String> ids) throws Exception {
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      String key = (String) job(ids.get(i)).get("key");
      assertArrayEquals(PAYLOADS.get(i).getBytes(UTF_8), storedObject(key), key);
      keys.add(key);
    }
    assertEquals(keys.stream().sorted().toList(), storedKeys());
  }

  // ---------------------------------------------------------------- transient faults

  static Stream<Arguments> transientFaults() {
    return Stream.of(
        Arguments.of(Fault.SERVICE_UNAVAILABLE, 0),
        Arguments.of(Fault.SERVICE_UNAVAILABLE, 1),
        Arguments.of(Fault.SERVICE_UNAVAILABLE, 2),
        Arguments.of(Fault.INTERNAL_ERROR, 1),
        Arguments.of(Fault.RESET, 1));
  }

  @ParameterizedTest(name = "{0} with {1} SDK retries")
  @MethodSource("transientFaults")
  void uploadsWhoseFirstTwoAttemptsFailAreRetriedAndEveryPayloadArrivesWhole(
      Fault fault, int sdkRetries) throws Exception {
    // given a store whose first two engine attempts per key fail: each attempt is 1 + sdkRetries
    // PUTs, so the first 2 * (1 + sdkRetries) PUTs of each key get the fault. (1 + sdkRetries is
    // an upper bound: the SDK's standard strategy stops retrying once failures drain its retry
    // quota, 500 tokens at 5 a retry; these few payloads spend at most 120.)
    int putsPerAttempt = 1 + sdkRetries;
    faults.faultFirstPutsOfEachKey(2 * putsPerAttempt, fault);
    startService(
        storeOptions(sdkRetries, Duration.ofSeconds(20), Duration.ofSeconds(10)),
        Duration.ofSeconds(60),
        4);

    // when every payload is accepted
    List<String> ids = postAll();

    // then each succeeds at its third attempt, after exactly the PUTs the SDK is allowed
    for (String id : ids) {
      service.awaitState(id, "succeeded");
    }
    for (String id : ids) {
      Map<String, Object> job = job(id);
      assertEquals(3, attempts(job), job.toString());
      assertEquals(
          2 * putsPerAttempt + 1, faults.puts(bucket, (String) job.get("key")), job.toString());
    }
    assertEveryPayloadIsItsObject(ids);
    int n = ids.size();
    assertEquals(2.0 * n, meter("sluice_retries_total{type=\"payload\"}"));
    assertEquals(
        2.0 * n,
        meter("sluice_upload_attempts_seconds_count{outcome=\"failed\",type=\"payload\"}"));
    assertEquals(
        n, meter("sluice_upload_attempts_seconds_count{outcome=\"succeeded\",type=\"payload\"}"));
    assertEquals(0.0, meter("sluice_jobs_died_total{type=\"payload\"}"));
    assertEquals(0.0, meter("sluice_dead_letters"));
    assertEquals(List.of(), faults.unexpected());
  }

  // ---------------------------------------------------------------- persistent faults

  @Test
  void uploadsFailingPastTheLimitAreDeadLettersSayingWhatS3AnsweredAndRetryingThemLosesNothing()
      throws Exception {
    // given a store that answers every PUT with 503, 3 attempts per payload, 1 SDK retry each
    faults.faultEveryPut(Fault.SERVICE_UNAVAILABLE);
    startService(
        storeOptions(1, Duration.ofSeconds(20), Duration.ofSeconds(10)), Duration.ofSeconds(60), 3);

    // when every payload is accepted
    List<String> ids = postAll();

    // then each is a dead letter after 3 attempts of 2 PUTs, saying what S3 answered
    for (String id : ids) {
      service.awaitState(id, "dead");
    }
    HttpResponse<String> page =
        service.send("/v1/dead-letters?limit=100", HttpRequest.Builder::GET);
    assertEquals(200, page.statusCode(), page.body());
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> dead =
        (List<Map<String, Object>>) Json.object(page.body()).get("deadLetters");
    assertEquals(ids, dead.stream().map(d -> d.get("id")).toList(), "oldest first");
    for (Map<String, Object> letter : dead) {
      String key = (String) letter.get("key");
      String error = (String) letter.get("lastError");
      assertEquals("dead", letter.get("state"));
      assertEquals(3, attempts(letter), letter.toString());
      assertEquals(6, faults.puts(bucket, key), key);
      assertMentions(
          error,
          "PutObject",
          key,
          bucket,
          faults.endpoint().toString(),
          "HTTP 503 ServiceUnavailable",
          "injected by the test proxy");
      assertFalse(error.contains("will be retried"), "a dead letter is not retried: " + error);
    }
    int n = ids.size();
    assertEquals(List.of(), storedKeys());
    assertEquals(n, meter("sluice_jobs_died_total{type=\"payload\"}"));
    awaitGauge("sluice_dead_letters", n);
    assertEquals(2.0 * n, meter("sluice_retries_total{type=\"payload\"}"));

    // when the store heals and each dead letter is retried
    faults.heal();
    retryEachDeadLetter(ids);

    // then each arrives whole at its first new attempt, and no dead letter is left
    for (String id : ids) {
      service.awaitState(id, "succeeded");
      assertEquals(1, attempts(job(id)), id);
    }
    assertEveryPayloadIsItsObject(ids);
    awaitGauge("sluice_dead_letters", 0.0);
    Map<String, Object> none =
        Json.object(service.send("/v1/dead-letters", HttpRequest.Builder::GET).body());
    assertEquals(List.of(), none.get("deadLetters"));
    assertEquals(null, none.get("next"));
    assertEquals(List.of(), faults.unexpected());
  }

  @Test
  void aRefusalThatOnlyASettingsChangeFixesIsADeadLetterAtOnceAndRetryingItLosesNothing()
      throws Exception {
    // given a store that answers every PUT with 403 AccessDenied, 10 attempts allowed
    faults.faultEveryPut(Fault.ACCESS_DENIED);
    startService(
        storeOptions(2, Duration.ofSeconds(20), Duration.ofSeconds(10)),
        Duration.ofSeconds(60),
        10);

    // when every payload is accepted
    List<String> ids = postAll();

    // then each is a dead letter after one attempt and one PUT: trying again cannot help
    for (String id : ids) {
      service.awaitState(id, "dead");
      Map<String, Object> job = job(id);
      assertEquals(1, attempts(job), job.toString());
      assertEquals(1, faults.puts(bucket, (String) job.get("key")));
      assertMentions(
          (String) job.get("lastError"),
          "trying again cannot help",
          "sluice dead-letters retry --all",
          "HTTP 403 AccessDenied");
    }
    int n = ids.size();
    assertEquals(n, meter("sluice_jobs_died_total{type=\"payload\"}"));
    assertEquals(0.0, meter("sluice_retries_total{type=\"payload\"}"));

    // when the settings are fixed and the dead letters retried, every payload arrives whole
    faults.heal();
    retryEachDeadLetter(ids);
    for (String id : ids) {
      service.awaitState(id, "succeeded");
    }
    assertEveryPayloadIsItsObject(ids);
    assertEquals(List.of(), faults.unexpected());
  }

  // ---------------------------------------------------------------- the startup check

  private Map<String, Object> ready() throws Exception {
    HttpResponse<String> r = service.send("/health/ready", HttpRequest.Builder::GET);
    assertEquals(200, r.statusCode(), r.body());
    return Json.object(r.body());
  }

  @Test
  void aStoreAnswering503AtStartupDoesNotStopTheStartAndUploadsSucceedOnceItHeals()
      throws Exception {
    // given a store that answers its startup check and every upload with 503
    faults.faultBucketRequests(Fault.SERVICE_UNAVAILABLE);
    faults.faultEveryPut(Fault.SERVICE_UNAVAILABLE);

    // when the service starts
    startService(
        storeOptions(1, Duration.ofSeconds(20), Duration.ofSeconds(10)),
        Duration.ofSeconds(60),
        100);

    // then it is ready, saying the store is unverified and why, and accepts payloads
    Map<String, Object> ready = ready();
    assertEquals("UP", ready.get("status"));
    assertEquals("unverified", ready.get("objectStore"), ready.toString());
    assertMentions(
        (String) ready.get("objectStoreDetail"), "HeadBucket", "HTTP 503", "often passes");
    List<String> ids = postAll();

    // and once the store heals, every payload arrives whole and the store is no longer unverified
    faults.heal();
    for (String id : ids) {
      service.awaitState(id, "succeeded");
    }
    assertEveryPayloadIsItsObject(ids);
    assertFalse(ready().containsKey("objectStore"), ready().toString());
    assertEquals(List.of(), faults.unexpected());
  }

  @Test
  void aStoreRefusingConnectionsAtStartupDoesNotStopTheStart() throws Exception {
    // given an endpoint where nothing listens
    S3Options nowhere =
        storeOptions(0, Duration.ofSeconds(20), Duration.ofSeconds(10))
            .withEndpoint(URI.create(RunningService.deadUrl()));

    // when the service starts, then it is ready, says why the store is unverified, and accepts
    startService(nowhere, Duration.ofSeconds(60), 3);
    Map<String, Object> ready = ready();
    assertEquals("UP", ready.get("status"));
    assertEquals("unverified", ready.get("objectStore"), ready.toString());
    assertMentions((String) ready.get("objectStoreDetail"), "could not reach the store");
    assertEquals(1, service.post("{\"payloads\": [1]}").size());
  }

  @Test
  void aJobTheServiceDoesNotRememberIs503WhenTheStoreCannotBeAskedAboutItsObject()
      throws Exception {
    // given a service whose store cannot be reached, and the id of a job it never saw
    startService(
        storeOptions(0, Duration.ofSeconds(20), Duration.ofSeconds(10))
            .withEndpoint(URI.create(RunningService.deadUrl())),
        Duration.ofSeconds(60),
        3);
    String id = io.sluice.jobs.JobId.next().toString();

    // when its status is asked for
    HttpResponse<String> r = service.send("/v1/jobs/" + id, HttpRequest.Builder::GET);

    // then the service says it could not ask the store, and to retry
    assertEquals(503, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    Map<String, Object> problem = Json.object(r.body());
    assertEquals(Set.of("error", "message"), problem.keySet());
    assertEquals("object_store_unavailable", problem.get("error"));
    String message = (String) problem.get("message");
    assertTrue(
        message.startsWith(
            "job "
                + id
                + " is not among the jobs this service remembers, and the object store could not"
                + " be asked whether it was uploaded (S3 HeadObject of key "),
        message);
    assertTrue(message.endsWith("); retry later"), message);
    assertMentions(message, "could not reach the store");
  }

  @Test
  void aStoreAnswering403AtStartupStopsTheStartSayingToCheckTheCredentials() throws Exception {
    // given a store that refuses the startup check with 403
    faults.faultBucketRequests(Fault.ACCESS_DENIED);

    // when the service starts, then the start fails before the journal is opened
    IOException refused =
        assertThrows(
            IOException.class,
            () ->
                startService(
                    storeOptions(1, Duration.ofSeconds(20), Duration.ofSeconds(10)),
                    Duration.ofSeconds(60),
                    3));
    assertMentions(
        refused.getMessage(),
        "HeadBucket (startup check)",
        bucket,
        "HTTP 403",
        "check the credentials (the configured access key id " + IDENTITY);
    assertFalse(Files.exists(dataDir.resolve("journal")), "the journal was not opened");
  }

  @Test
  void aMissingBucketAtStartupStopsTheStartSayingToCheckTheBucketName() throws Exception {
    // given a bucket that does not exist
    S3Options missing =
        S3Options.forBucket("no-such-bucket")
            .withEndpoint(faults.endpoint())
            .withPathStyle(true)
            .withCredentials(IDENTITY, SECRET);

    // when the service starts, then the start fails saying what to check
    IOException refused =
        assertThrows(IOException.class, () -> startService(missing, Duration.ofSeconds(60), 3));
    assertMentions(
        refused.getMessage(), "HTTP 404", "check the bucket name (no-such-bucket)", "exists");
    assertFalse(Files.exists(dataDir.resolve("journal")), "the journal was not opened");
  }

  @Test
  void aMissingBucketMakesSluiceServeExitWithStatus1() throws Exception {
    CommandRun run =
        CommandRun.of(
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--data-dir",
            dataDir.toString(),
            "--store",
            "s3",
            "--s3-bucket",
            "no-such-bucket",
            "--s3-endpoint",
            faults.endpoint().toString(),
            "--s3-path-style",
            "--s3-access-key-id",
            IDENTITY,
            "--s3-secret-access-key",
            SECRET);

    assertEquals(1, run.exit(), run.toString());
  }

  @Test
  void noCredentialsAnywhereStopsTheStartSayingWhereToSetThem() throws Exception {
    // given no static credentials and none the SDK's default chain can find (no profile file, no
    // instance metadata; the environment is checked to hold none)
    assumeTrue(
        System.getenv("AWS_ACCESS_KEY_ID") == null
            && System.getenv("AWS_WEB_IDENTITY_TOKEN_FILE") == null
            && System.getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") == null
            && System.getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI") == null,
        "the environment holds AWS credentials");
    Map<String, String> properties =
        Map.of(
            "aws.disableEc2Metadata", "true",
            "aws.sharedCredentialsFile", dataDir.resolve("no-credentials").toString(),
            "aws.configFile", dataDir.resolve("no-config").toString());
    Map<String, String> saved = new java.util.HashMap<>();
    properties.forEach((k, v) -> saved.put(k, System.setProperty(k, v)));
    try {
      S3Options anonymous =
          S3Options.forBucket(bucket).withEndpoint(faults.endpoint()).withPathStyle(true);

      // when the service starts, then the start fails saying where credentials come from
      IOException refused =
          assertThrows(IOException.class, () -> startService(anonymous, Duration.ofSeconds(60), 3));
      assertMentions(refused.getMessage(), "no S3 credentials", "--s3-access-key-id");
    } finally {
      saved.forEach(
          (k, v) -> {
            if (v == null) {
              System.clearProperty(k);
            } else {
              System.setProperty(k, v);
            }
          });
    }
  }

  // ---------------------------------------------------------------- slow answers

  @Test
  void anAnswerSlowerThanTheS3TimeoutsFailsTheAttemptAsATimeoutAndTheRetrySucceeds()
      throws Exception {
    // given a store whose answers to the first attempt's PUTs (1 + 1 SDK retry) of each key never
    // come, a 250 ms attempt timeout and a call timeout far longer than the two attempts together
    faults.faultFirstPutsOfEachKey(2, Fault.HOLD_ANSWER);
    startService(
        storeOptions(1, Duration.ofSeconds(20), Duration.ofMillis(250)), Duration.ofSeconds(60), 3);

    // when every payload is accepted
    List<String> ids = postAll();

    // then each first attempt timed out in the SDK, and the second succeeded
    for (String id : ids) {
      service.awaitState(id, "succeeded");
    }
    for (String id : ids) {
      Map<String, Object> job = job(id);
      assertEquals(2, attempts(job), job.toString());
      assertEquals(3, faults.puts(bucket, (String) job.get("key")), job.toString());
      assertMentions((String) job.get("lastError"), "timed out", "PT0.25S", "PT20S");
    }
    assertEveryPayloadIsItsObject(ids);
    int n = ids.size();
    assertEquals(n, meter("sluice_retries_total{type=\"payload\"}"));
    assertEquals(
        n, meter("sluice_upload_attempts_seconds_count{outcome=\"failed\",type=\"payload\"}"));
    assertEquals(0.0, meter("sluice_jobs_died_total{type=\"payload\"}"));
    awaitNoAnswerHeld();
  }

  @Test
  void anAnswerSlowerThanTheUploadTimeoutIsCutShortByTheEngineAndTheRetrySucceeds()
      throws Exception {
    // given a store whose answer to the first PUT of each key never comes, S3 timeouts far longer
    // than the engine's upload timeout of 500 ms
    faults.faultFirstPutsOfEachKey(1, Fault.HOLD_ANSWER);
    startService(
        storeOptions(1, Duration.ofSeconds(60), Duration.ofSeconds(60)), Duration.ofMillis(500), 3);

    // when every payload is accepted
    List<String> ids = postAll();

    // then the engine interrupted each first attempt, which gave up its connection, and the
    // second attempt succeeded
    for (String id : ids) {
      service.awaitState(id, "succeeded");
    }
    for (String id : ids) {
      Map<String, Object> job = job(id);
      assertEquals(2, attempts(job), job.toString());
      assertEquals(2, faults.puts(bucket, (String) job.get("key")), job.toString());
      assertMentions(
          (String) job.get("lastError"), "timed out after PT0.5S (attempt 1)", "PutObject");
    }
    assertEveryPayloadIsItsObject(ids);
    int n = ids.size();
    assertEquals(
        n, meter("sluice_upload_attempts_seconds_count{outcome=\"timed_out\",type=\"payload\"}"));
    awaitNoAnswerHeld();
  }

  @Test
  void uploadsHangingWhenTheServiceStopsAreUploadedAfterTheNextStart() throws Exception {
    // given a store that never answers, S3 and upload timeouts of a minute, no shutdown grace,
    // and every worker waiting for an answer
    faults.faultEveryPut(Fault.HOLD_ANSWER);
    S3Options patient = storeOptions(1, Duration.ofSeconds(60), Duration.ofSeconds(60));
    startService(patient, Duration.ofSeconds(60), 3, c -> c.withShutdownGrace(Duration.ZERO));
    List<String> ids = postAll();
    awaitHeld(WORKERS);

    // when the service stops, the store heals, and the service starts again on the same journal
    service.close();
    awaitHeld(0);
    faults.heal();
    startService(patient, Duration.ofSeconds(60), 3);

    // then every payload arrives whole; the stopped attempts were not counted against them
    for (String id : ids) {
      service.awaitState(id, "succeeded");
      assertEquals(1, attempts(job(id)), id);
    }
    assertEveryPayloadIsItsObject(ids);
    List<Integer> puts = new ArrayList<>();
    for (String id : ids) {
      puts.add(faults.puts(bucket, (String) job(id).get("key")));
    }
    List<Integer> expected = new ArrayList<>();
    for (int i = 0; i < ids.size(); i++) {
      expected.add(i < WORKERS ? 2 : 1); // the ones hanging at the stop went out twice
    }
    assertEquals(expected.stream().sorted().toList(), puts.stream().sorted().toList());
  }

  @Test
  void closingTheServiceAfterTimedOutUploadsEndsEveryThreadItStarted() throws Exception {
    // given a service whose first upload attempts timed out in the SDK and were retried
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    faults.faultFirstPutsOfEachKey(2, Fault.HOLD_ANSWER);
    startService(
        storeOptions(1, Duration.ofSeconds(20), Duration.ofMillis(250)), Duration.ofSeconds(60), 3);
    for (String id : postAll()) {
      service.awaitState(id, "succeeded");
    }
    List<Thread> started =
        Thread.getAllStackTraces().keySet().stream()
            .filter(
                t -> !before.contains(t) && !processWide(t) && !t.getName().startsWith("S3Proxy"))
            .toList();
    assertTrue(
        started.stream().anyMatch(t -> t.getName().startsWith("sdk-")),
        "the S3 client's threads are among those checked: " + started);

    // when
    service.close();

    // then each of them ends (join waits for it, up to a bound far beyond what it needs); s3proxy's
    // own threads, the test's S3, are left out
    for (Thread t : started) {
      t.join(Duration.ofSeconds(10));
      assertFalse(t.isAlive(), t.getName() + " still runs after the service closed");
    }
  }

  /**
   * Threads one per process, started by whichever server or test came first: virtual-thread
   * carriers, Helidon's timers, the sluice-core timer wheel.
   */
  private static boolean processWide(Thread t) {
    String name = t.getName();
    return name.startsWith("ForkJoinPool")
        || name.startsWith("helidon-")
        || name.equals("sluice-timer");
  }

  /** The SDK closed every connection whose answer was held (the proxy sees each close). */
  private void awaitNoAnswerHeld() {
    awaitHeld(0);
  }

  /** Waits (asking again, without sleeping) until the proxy holds exactly {@code n} answers. */
  private void awaitHeld(int n) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (faults.held() != n) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(faults.held() + " answers held, not " + n);
      }
      Thread.yield();
    }
  }
}
