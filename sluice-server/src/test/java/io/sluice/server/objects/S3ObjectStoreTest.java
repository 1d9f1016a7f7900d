package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.JobId;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.TransientNio2BlobStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * S3ObjectStore against a real S3 API: s3proxy on loopback with its in-memory {@code
 * transient-nio2} backend and fixed credentials, started once for the class.
 */
class S3ObjectStoreTest {

  private static final String IDENTITY = "sluice-test";
  private static final String SECRET = "sluice-test-secret";
  private static final String JSON = "application/json";

  private static S3Proxy proxy;
  private static URI endpoint;
  private static S3Client admin;
  private static int bucketCounter;

  private String bucket;
  private S3ObjectStore store;

  @BeforeAll
  static void startS3Proxy() throws Exception {
    proxy =
        S3Proxy.builder()
            .blobStore(new TransientNio2BlobStore())
            .endpoint(URI.create("http://127.0.0.1:0"))
            .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, SECRET)
            .build();
    proxy.start();
    endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
    admin = adminClient();
  }

  @AfterAll
  static void stopS3Proxy() throws Exception {
    if (admin != null) {
      admin.close();
    }
    if (proxy != null) {
      proxy.stop();
    }
  }

  /** Options for the embedded s3proxy: endpoint, path style, its credentials, short timeouts. */
  static S3Options optionsFor(String bucket) {
    return S3Options.forBucket(bucket)
        .withEndpoint(endpoint)
        .withPathStyle(true)
        .withCredentials(IDENTITY, SECRET)
        .withTimeouts(Duration.ofSeconds(20), Duration.ofSeconds(10));
  }

  @BeforeEach
  void freshBucket() {
    bucket = "bucket-" + (++bucketCounter);
    store = S3ObjectStore.create(optionsFor(bucket).withPrefix("payloads/"));
    admin.createBucket(b -> b.bucket(bucket));
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  /** A plain SDK client for the test's own look at the bucket, configured independently. */
  private static S3Client adminClient() {
    return S3Client.builder()
        .endpointOverride(endpoint)
        .forcePathStyle(true)
        .region(Region.US_EAST_1)
        .credentialsProvider(
            StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, SECRET)))
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .build();
  }

  @Test
  void aPutObjectReadsBackWithItsBytesAndContentType() throws Exception {
    // given a job's key under the configured prefix
    String key = ObjectKeys.forJob(store.options().prefix(), JobId.next(), Instant.now());
    byte[] payload = "{\"user\":\"é\",\"n\":1.50e3}".getBytes(StandardCharsets.UTF_8);

    // when
    store.put(key, payload, JSON);

    // then the bytes and the content type are as put
    assertArrayEquals(payload, store.get(key).orElseThrow());
    HeadObjectResponse head = admin.headObject(b -> b.bucket(bucket).key(key));
    assertEquals(JSON, head.contentType());
    assertEquals(payload.length, head.contentLength());
  }

  @Test
  void puttingTheSameKeyAgainReplacesTheObject() throws Exception {
    store.put("payloads/k.json", "first, longer".getBytes(StandardCharsets.UTF_8), JSON);

    store.put("payloads/k.json", "second".getBytes(StandardCharsets.UTF_8), JSON);

    assertEquals(
        "second", new String(store.get("payloads/k.json").orElseThrow(), StandardCharsets.UTF_8));
    assertEquals(1, admin.listObjectsV2(b -> b.bucket(bucket)).keyCount());
  }

  @Test
  void gettingAMissingKeyIsEmpty() throws Exception {
    assertEquals(Optional.empty(), store.get("payloads/none.json"));
  }

  @Test
  void existsIsTrueForAnObjectAndFalseForAMissingKey() throws Exception {
    store.put("payloads/2026/11/27/a.json", new byte[] {1}, JSON);

    assertTrue(store.exists("payloads/2026/11/27/a.json"));
    assertFalse(store.exists("payloads/2026/11/27/b.json"));
    assertFalse(store.exists("payloads/2026/11/27"), "a key's prefix is no object");
  }

  @Test
  void existsWithWrongCredentialsFailsWithA403InsteadOfSayingNo() {
    try (S3ObjectStore wrong =
        S3ObjectStore.create(optionsFor(bucket).withCredentials(IDENTITY, "not-the-secret"))) {
      var e = assertThrows(ObjectStoreException.class, () -> wrong.exists("k.json"));

      assertEquals(403, e.statusCode());
      assertMentions(e, "HeadObject", "\"k.json\"", bucket);
    }
  }

  @Test
  void existsInAMissingBucketFailsAsAPermanentRefusalInsteadOfSayingNo() {
    // given a store for a bucket that was never created
    try (S3ObjectStore missing = S3ObjectStore.create(optionsFor("no-such-bucket"))) {
      // when asked about a key: a HEAD answers 404 for a missing key and a missing bucket alike
      var e = assertThrows(ObjectStoreException.class, () -> missing.exists("k.json"));

      // then it says the bucket is missing, which only a configuration change fixes
      assertEquals(404, e.statusCode());
      assertFalse(e.retryable());
      assertMentions(e, "HeadObject", "\"k.json\"", "no-such-bucket", "check the bucket name");
    }
  }

  @Test
  void metadataIsSentAsUserMetadataAndTextThatIsNotPrintableAsciiIsRfc2047Encoded()
      throws Exception {
    byte[] payload = {'1'};
    String unusual = "capteur é\r\nX-Injected: 1";

    store.put("payloads/a.json", payload, JSON, Map.of("source", "sensor-7"));
    store.put("payloads/b.json", payload, JSON, Map.of("source", unusual));
    store.put("payloads/c.json", payload, JSON);

    assertEquals(
        Map.of("source", "sensor-7"),
        admin.headObject(b -> b.bucket(bucket).key("payloads/a.json")).metadata());
    String encoded =
        admin.headObject(b -> b.bucket(bucket).key("payloads/b.json")).metadata().get("source");
    assertEquals(
        "=?UTF-8?B?"
            + Base64.getEncoder().encodeToString(unusual.getBytes(StandardCharsets.UTF_8))
            + "?=",
        encoded);
    assertEquals(
        Map.of(), admin.headObject(b -> b.bucket(bucket).key("payloads/c.json")).metadata());
    assertArrayEquals(payload, store.get("payloads/b.json").orElseThrow());
  }

  @Test
  void metadataWithSpacesAtEitherEndKeepsThemThroughRfc2047() throws Exception {
    String padded = " sensor 7  ";

    store.put("payloads/p.json", new byte[] {'1'}, JSON, Map.of("source", padded));

    String sent =
        admin.headObject(b -> b.bucket(bucket).key("payloads/p.json")).metadata().get("source");
    assertEquals(
        "=?UTF-8?B?"
            + Base64.getEncoder().encodeToString(padded.getBytes(StandardCharsets.UTF_8))
            + "?=",
        sent);
  }

  @Test
  void aOneMebibyteObjectRoundTrips() throws Exception {
    byte[] big = new byte[1 << 20];
    new Random(42).nextBytes(big);

    store.put("payloads/big.bin", big, "application/octet-stream");

    assertArrayEquals(big, store.get("payloads/big.bin").orElseThrow());
  }

  @Test
  void anEmptyObjectRoundTrips() throws Exception {
    store.put("payloads/empty.json", new byte[0], JSON);
    assertArrayEquals(new byte[0], store.get("payloads/empty.json").orElseThrow());
  }

  @Test
  void keysWithUnicodeAndReservedUrlCharactersAreStoredUnderExactlyThatKey() throws Exception {
    // given keys that need percent-encoding in a URL
    List<String> keys =
        List.of(
            "payloads/ünïcödé/日本語/😀.json",
            "payloads/a b+c%20d&e=f?g#h.json",
            "payloads/~tilde/'quote'/(paren)*!$.json");

    for (String key : keys) {
      // when
      store.put(key, key.getBytes(StandardCharsets.UTF_8), JSON);

      // then
      assertArrayEquals(key.getBytes(StandardCharsets.UTF_8), store.get(key).orElseThrow(), key);
    }
    List<String> listed =
        admin.listObjectsV2(b -> b.bucket(bucket)).contents().stream()
            .map(S3Object::key)
            .sorted()
            .toList();
    assertEquals(keys.stream().sorted().toList(), listed);
  }

  @Test
  @Timeout(60)
  void manyVirtualThreadsPutAtOnceAndEveryObjectArrives() throws Exception {
    // given 32 jobs, one virtual thread each, and a pool of 4 connections they must share
    int jobs = 32;
    store.close();
    store = S3ObjectStore.create(optionsFor(bucket).withMaxConnections(4));
    List<String> keys = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      keys.add(ObjectKeys.forJob("payloads/", JobId.next(), Instant.now()));
    }
    CountDownLatch start = new CountDownLatch(1);

    // when
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> puts = new ArrayList<>();
      for (String key : keys) {
        puts.add(
            threads.submit(
                () -> {
                  start.await();
                  store.put(key, key.getBytes(StandardCharsets.UTF_8), JSON);
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> put : puts) {
        put.get();
      }
    }

    // then every object is there with its own content
    for (String key : keys) {
      assertArrayEquals(key.getBytes(StandardCharsets.UTF_8), store.get(key).orElseThrow());
    }
  }

  @Test
  void checkPassesForAnExistingBucket() throws Exception {
    store.check();
  }

  @Test
  void aMissingBucketFailsThePutWithAMessageThatNamesItAndSaysWhatToCheck() {
    // given a store for a bucket that was never created
    try (S3ObjectStore missing = S3ObjectStore.create(optionsFor("no-such-bucket"))) {
      // when
      var e =
          assertThrows(
              ObjectStoreException.class, () -> missing.put("k.json", new byte[] {1}, JSON));

      // then
      assertEquals(404, e.statusCode());
      assertEquals(Optional.of("NoSuchBucket"), e.errorCode());
      assertFalse(e.retryable(), "only a configuration change helps");
      assertMentions(e, "PutObject", "\"k.json\"", "no-such-bucket", endpoint.toString());
      assertMentions(e, "check the bucket name");
    }
  }

  @Test
  void checkOfAMissingBucketSaysWhatToFix() {
    try (S3ObjectStore missing = S3ObjectStore.create(optionsFor("no-such-bucket"))) {
      var e = assertThrows(ObjectStoreException.class, missing::check);

      assertEquals(404, e.statusCode());
      assertMentions(e, "HeadBucket", "no-such-bucket", endpoint.toString(), "check the bucket");
    }
  }

  @Test
  void wrongCredentialsFailWithA403ThatPointsAtTheCredentials() {
    try (S3ObjectStore wrong =
        S3ObjectStore.create(optionsFor(bucket).withCredentials(IDENTITY, "not-the-secret"))) {
      var e =
          assertThrows(ObjectStoreException.class, () -> wrong.put("k.json", new byte[] {1}, JSON));

      assertEquals(403, e.statusCode());
      assertFalse(e.retryable());
      assertMentions(e, "check the credentials", IDENTITY, bucket);
      assertFalse(e.getMessage().contains("not-the-secret"), "the secret stays out of messages");
    }
  }

  @Test
  void anEndpointWhereNothingListensFailsAsRetryableWithAMessageNamingIt() throws Exception {
    // given a port that was free a moment ago
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }
    URI nowhere = URI.create("http://127.0.0.1:" + port);
    try (S3ObjectStore unreachable =
        S3ObjectStore.create(optionsFor(bucket).withEndpoint(nowhere).withMaxSdkRetries(0))) {
      // when
      var e =
          assertThrows(
              ObjectStoreException.class, () -> unreachable.put("k.json", new byte[] {1}, JSON));

      // then
      assertEquals(0, e.statusCode());
      assertTrue(e.retryable());
      assertMentions(e, nowhere.toString(), "check the endpoint URL");
      assertThrows(ObjectStoreException.class, unreachable::check);
    }
  }

  @Test
  void anAlreadyInterruptedPutThrowsSendsNothingAndClearsTheStatus() throws Exception {
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> store.put("payloads/k.json", new byte[1], JSON));

    assertFalse(Thread.interrupted());
    assertEquals(Optional.empty(), store.get("payloads/k.json"));
  }

  @Test
  void hostileKeysAreRejectedBeforeAnyRequest() {
    for (String key : List.of("../x", "/abs", "a//b", "a\u0000b", "a\\b", "")) {
      assertThrows(InvalidObjectKeyException.class, () -> store.put(key, new byte[1], JSON), key);
      assertThrows(InvalidObjectKeyException.class, () -> store.get(key), key);
    }
  }

  @Test
  void describeNamesBucketPrefixAndEndpointButNoSecret() {
    String description = store.describe();
    assertEquals("s3 " + bucket + "/payloads/ at " + endpoint + " (region us-east-1)", description);
    assertFalse(description.contains(SECRET));
  }

  @Test
  void aClosedStoreRefusesCallsAndClosingTwiceIsHarmless() {
    store.close();
    store.close();

    assertThrows(IllegalStateException.class, () -> store.put("payloads/k", new byte[1], JSON));
    assertThrows(IllegalStateException.class, () -> store.get("payloads/k"));
    assertThrows(IllegalStateException.class, store::check);
  }

  static void assertMentions(Exception e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), "\"" + part + "\" in: " + e.getMessage());
    }
  }
}
