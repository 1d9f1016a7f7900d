package io.sluice.server.objects;

import static io.sluice.server.objects.S3ObjectStoreTest.assertMentions;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * S3ObjectStore against a scripted HTTP server on loopback that answers what each test needs: S3
 * errors, no answer at all, and records every request, so the tests can count SDK retries and see
 * the exact bytes and headers that go over the wire.
 */
class S3ObjectStoreFaultsTest {

  private static final String JSON = "application/json";

  /** One request as the server saw it. */
  private record Seen(String method, String path, Headers headers, byte[] body) {}

  @FunctionalInterface
  private interface Answer {
    void answer(HttpExchange exchange) throws Exception;
  }

  private static HttpServer server;
  private static URI endpoint;
  private static final List<Seen> seen = new CopyOnWriteArrayList<>();
  private static volatile Answer answer;
  private static volatile CountDownLatch arrived = new CountDownLatch(1);
  private static volatile CountDownLatch release = new CountDownLatch(1);

  @BeforeAll
  static void startServer() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext(
        "/",
        exchange -> {
          byte[] body = exchange.getRequestBody().readAllBytes();
          seen.add(
              new Seen(
                  exchange.getRequestMethod(),
                  exchange.getRequestURI().getRawPath(),
                  exchange.getRequestHeaders(),
                  body));
          try {
            answer.answer(exchange);
          } catch (Exception e) {
            // a test's scripted answer gave up (its latch was released at the end of the test)
          } finally {
            exchange.close();
          }
        });
    server.start();
    endpoint = URI.create("http://127.0.0.1:" + server.getAddress().getPort());
  }

  @AfterEach
  void releaseBlockedAnswers() {
    release.countDown();
    release = new CountDownLatch(1);
    arrived = new CountDownLatch(1);
    seen.clear();
  }

  @AfterAll
  static void stopServer() {
    server.stop(0);
  }

  private static S3Options options() {
    return S3Options.forBucket("faults")
        .withEndpoint(endpoint)
        .withPathStyle(true)
        .withCredentials("id", "secret");
  }

  private static void ok(HttpExchange exchange) throws IOException {
    exchange.getResponseHeaders().add("ETag", "\"0123456789abcdef\"");
    exchange.sendResponseHeaders(200, -1);
  }

  private static Answer s3Error(int status, String code) {
    return exchange -> {
      byte[] xml =
          ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
                  + code
                  + "</Code><Message>scripted "
                  + code
                  + "</Message><RequestId>r1</RequestId></Error>")
              .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().add("Content-Type", "application/xml");
      if (exchange.getRequestMethod().equals("HEAD")) {
        exchange.sendResponseHeaders(status, -1);
        return;
      }
      exchange.sendResponseHeaders(status, xml.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(xml);
      }
    };
  }

  private static void hang(HttpExchange exchange) throws InterruptedException {
    arrived.countDown();
    release.await();
  }

  @Test
  void aPutSendsThePayloadBytesAsIsWithoutChecksumTrailersOrChunkedSigning() throws Exception {
    // given a server that accepts
    answer = S3ObjectStoreFaultsTest::ok;
    byte[] payload = "{\"a\":[1,2,3],\"b\":\"ü\"}".getBytes(StandardCharsets.UTF_8);

    // when
    try (S3ObjectStore store = S3ObjectStore.create(options())) {
      store.put("p/2026/11/27/k.json", payload, JSON);
    }

    // then one plain PUT went out: the body is the payload, signed by its hash, no aws-chunked
    // encoding, no checksum
    Seen put = seen.getFirst();
    assertEquals(1, seen.size());
    assertEquals("PUT", put.method());
    assertEquals("/faults/p/2026/11/27/k.json", put.path());
    assertArrayEquals(payload, put.body());
    assertEquals(JSON, put.headers().getFirst("Content-Type"));
    assertEquals(String.valueOf(payload.length), put.headers().getFirst("Content-Length"));
    assertFalse(
        String.valueOf(put.headers().getFirst("Content-Encoding")).contains("aws-chunked"),
        "no chunked signing");
    assertEquals(
        HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(payload)),
        put.headers().getFirst("x-amz-content-sha256"),
        "over plain HTTP the signature covers the payload's hash");
    for (String name : put.headers().keySet()) {
      String lower = name.toLowerCase(java.util.Locale.ROOT);
      assertFalse(lower.startsWith("x-amz-checksum-"), name);
      assertFalse(lower.equals("x-amz-sdk-checksum-algorithm"), name);
      assertFalse(lower.equals("x-amz-trailer"), name);
      assertFalse(lower.equals("expect"), name);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1, 2})
  void aServerErrorIsRetriedByTheSdkExactlyMaxSdkRetriesTimesThenReportedAsRetryable(int retries) {
    // given a server that always fails with 500
    answer = s3Error(500, "InternalError");

    try (S3ObjectStore store = S3ObjectStore.create(options().withMaxSdkRetries(retries))) {
      // when
      var e =
          assertThrows(ObjectStoreException.class, () -> store.put("k.json", new byte[] {1}, JSON));

      // then
      assertEquals(1 + retries, seen.size(), "attempts");
      assertEquals(500, e.statusCode());
      assertEquals(Optional.of("InternalError"), e.errorCode());
      assertTrue(e.retryable());
      assertMentions(e, "HTTP 500 InternalError", "\"k.json\"", "faults", endpoint.toString());
      assertMentions(e, "trying again later may succeed");
    }
  }

  @Test
  void aRefusalIsNotRetriedByTheSdk() {
    answer = s3Error(403, "AccessDenied");

    try (S3ObjectStore store = S3ObjectStore.create(options().withMaxSdkRetries(2))) {
      var e =
          assertThrows(ObjectStoreException.class, () -> store.put("k.json", new byte[] {1}, JSON));

      assertEquals(1, seen.size());
      assertFalse(e.retryable());
      assertMentions(e, "HTTP 403 AccessDenied", "check the credentials");
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "409, OperationAborted",
    "400, IncompleteBody",
    "400, RequestTimeout",
    "403, RequestTimeTooSkewed",
    "400, ExpiredToken",
    "400, Throttling",
    "400, RequestLimitExceeded",
    "503, SlowDown",
    "429, TooManyRequests"
  })
  void anAnswerThatPassesByItselfIsRetryable(int status, String code) {
    // given a server that answers with an error that trying again can get past: a conflicting
    // operation, a body cut short on the way, a clock the SDK corrects, credentials the chain
    // refreshes, throttling
    answer = s3Error(status, code);

    try (S3ObjectStore store = S3ObjectStore.create(options().withMaxSdkRetries(0))) {
      // when
      var e =
          assertThrows(ObjectStoreException.class, () -> store.put("k.json", new byte[] {1}, JSON));

      // then the job engine may try again rather than dead-letter the payload at once
      assertEquals(status, e.statusCode());
      assertEquals(Optional.of(code), e.errorCode());
      assertTrue(e.retryable(), e.getMessage());
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "400, InvalidArgument",
    "400, MetadataTooLarge",
    "403, AccessDenied",
    "404, NoSuchBucket",
    "501, NotImplemented"
  })
  void anAnswerOnlyAChangeOfSettingsFixesIsNotRetryable(int status, String code) {
    // given a server that refuses the request itself, or a feature it lacks
    answer = s3Error(status, code);

    try (S3ObjectStore store = S3ObjectStore.create(options().withMaxSdkRetries(0))) {
      // when
      var e =
          assertThrows(ObjectStoreException.class, () -> store.put("k.json", new byte[] {1}, JSON));

      // then
      assertEquals(status, e.statusCode());
      assertFalse(e.retryable(), e.getMessage());
    }
  }

  @Test
  @Timeout(30)
  void aServerThatNeverAnswersFailsThePutAsARetryableTimeout() {
    // given a server that takes the request and never answers, and short timeouts
    answer = S3ObjectStoreFaultsTest::hang;
    S3Options impatient =
        options()
            .withTimeouts(Duration.ofMillis(1500), Duration.ofMillis(300))
            .withMaxSdkRetries(1);

    try (S3ObjectStore store = S3ObjectStore.create(impatient)) {
      // when
      var e =
          assertThrows(ObjectStoreException.class, () -> store.put("k.json", new byte[] {1}, JSON));

      // then
      assertEquals(0, e.statusCode());
      assertTrue(e.retryable());
      assertMentions(e, "timed out", "PT0.3S", "PT1.5S", "raise the timeouts");
    }
  }

  @Test
  @Timeout(30)
  void aPutWaitingForAnAnswerStopsWhenItsThreadIsInterrupted() throws Exception {
    // given a put on a virtual thread, waiting for a server that never answers, with timeouts far
    // longer than this test's own
    answer = S3ObjectStoreFaultsTest::hang;
    S3Options patient = options().withTimeouts(Duration.ofMinutes(5), Duration.ofMinutes(5));
    try (S3ObjectStore store = S3ObjectStore.create(patient)) {
      CompletableFuture<String> outcome = new CompletableFuture<>();
      Thread putter =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      store.put("k.json", new byte[] {1}, JSON);
                      outcome.complete("returned");
                    } catch (InterruptedException e) {
                      outcome.complete(
                          Thread.currentThread().isInterrupted() ? "status leaked" : "interrupted");
                    } catch (Throwable t) {
                      outcome.completeExceptionally(t);
                    }
                  });
      assertTrue(arrived.await(20, TimeUnit.SECONDS), "the request reached the server");

      // when
      putter.interrupt();

      // then
      assertEquals("interrupted", outcome.get(20, TimeUnit.SECONDS));
    }
  }

  @Test
  void gettingAKeyTheServerDoesNotHaveIsEmpty() throws Exception {
    answer = s3Error(404, "NoSuchKey");
    try (S3ObjectStore store = S3ObjectStore.create(options())) {
      assertEquals(Optional.empty(), store.get("k.json"));
    }
  }

  @Test
  void gettingFromAMissingBucketIsAnError() {
    answer = s3Error(404, "NoSuchBucket");
    try (S3ObjectStore store = S3ObjectStore.create(options())) {
      var e = assertThrows(ObjectStoreException.class, () -> store.get("k.json"));
      assertMentions(e, "GetObject", "NoSuchBucket", "check the bucket name");
    }
  }

  @Test
  void checkOfABucketTheCredentialsMayNotSeeSaysWhatToFix() {
    answer = s3Error(403, "AccessDenied");
    try (S3ObjectStore store = S3ObjectStore.create(options())) {
      var e = assertThrows(ObjectStoreException.class, store::check);
      assertEquals("HEAD", seen.getFirst().method());
      assertEquals(403, e.statusCode());
      assertMentions(e, "HeadBucket", "faults", "check the credentials", "id");
    }
  }

  @Test
  void aConfiguredRegionSignsTheRequestsAndShowsInTheDescription() throws Exception {
    answer = S3ObjectStoreFaultsTest::ok;
    try (S3ObjectStore store = S3ObjectStore.create(options().withRegion("eu-west-1"))) {
      store.put("k.json", new byte[] {1}, JSON);

      assertTrue(store.describe().endsWith("(region eu-west-1)"), store.describe());
      String authorization = seen.getFirst().headers().getFirst("Authorization");
      assertTrue(authorization.contains("/eu-west-1/s3/aws4_request"), authorization);
    }
  }

  @Test
  void withAnEndpointAndNoRegionTheRequestsAreSignedForUsEast1() throws Exception {
    answer = S3ObjectStoreFaultsTest::ok;
    try (S3ObjectStore store = S3ObjectStore.create(options())) {
      store.put("k.json", new byte[] {1}, JSON);

      String authorization = seen.getFirst().headers().getFirst("Authorization");
      assertTrue(authorization.contains("Credential=id/"), authorization);
      assertTrue(authorization.contains("/us-east-1/s3/aws4_request"), authorization);
    }
  }

  @Test
  void anEndpointWithoutPathStyleGetsAHintToEnableIt() throws Exception {
    // given virtual-host addressing against an IP endpoint: the SDK cannot reach faults.127.0.0.1
    answer = S3ObjectStoreFaultsTest::ok;
    S3Options hostStyle =
        options()
            .withEndpoint(URI.create("http://localhost.invalid:" + endpoint.getPort()))
            .withPathStyle(false)
            .withMaxSdkRetries(0);
    try (S3ObjectStore store = S3ObjectStore.create(hostStyle)) {
      var e =
          assertThrows(ObjectStoreException.class, () -> store.put("k.json", new byte[] {1}, JSON));
      assertTrue(e.retryable());
      assertMentions(e, "enable path-style access");
    }
  }
}
