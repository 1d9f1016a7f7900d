package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Requests a well-behaved client would not send, written byte by byte on a raw socket: each gets a
 * precise error, nothing is accepted, and the service keeps serving.
 */
@Timeout(60)
class HostileInputTest {
  @TempDir Path dataDir;
  private SluiceServer server;

  /** Tests of slow clients: the service gets a short body timeout, the others a long one. */
  private static final String SHORT_BODY_TIMEOUT = "short-body-timeout";

  /**
   * Tests of the in-flight body budget: 30,000 bytes, of which bodies over 625 bytes (a sixteenth
   * of the largest, 10,000) may use three quarters, 22,500: two bodies of the largest size and a
   * quarter of one; the others get the default, far more than they send.
   */
  private static final String SMALL_BODY_BUDGET = "small-body-budget";

  private static final long BUDGET = 30_000;

  /**
   * Tests at the least in-flight body budget allowed with a largest body of 10,000 bytes: its large
   * share is exactly 10,000 bytes.
   */
  private static final String LEAST_BODY_BUDGET = "least-body-budget";

  /** The test of the connection limit: the service takes two connections at once. */
  private static final String TWO_CONNECTIONS = "two-connections";

  @BeforeEach
  void start(TestInfo test) throws IOException {
    Duration bodyTimeout =
        test.getTags().contains(SHORT_BODY_TIMEOUT) ? Duration.ofSeconds(1) : Duration.ofMinutes(5);
    ServerConfig config =
        ServerConfig.defaults(dataDir)
            .withPort(0)
            .withLimits(100_000, 10_000, 1_000, 64)
            .withBodyTimeout(bodyTimeout);
    if (test.getTags().contains(SMALL_BODY_BUDGET)) {
      config = config.withMaxInflightBodyBytes(BUDGET);
    }
    if (test.getTags().contains(LEAST_BODY_BUDGET)) {
      config = config.withMaxInflightBodyBytes(BodyBudget.minimumLimit(10_000));
    }
    if (test.getTags().contains(TWO_CONNECTIONS)) {
      config = config.withMaxConnections(2);
    }
    server =
        SluiceServer.start(config, FilesystemObjectStore.open(dataDir.resolve("objects")), p -> {});
  }

  @AfterEach
  void serviceIsUnharmedAndNothingWasKeptFromTheHostileRequests() throws Exception {
    // Every way a request ended gave its body's bytes back (the handler may still be finishing
    // when the client has its answer, so this waits for it).
    awaitBodyBytesInFlight(0);
    server.checkInvariants();
    assertEquals(acceptedHere, payloadsAccepted(), "payloads accepted by the hostile requests");
    String ok = exchange(request("{\"payloads\": [1]}", -1), false);
    assertTrue(ok.startsWith("HTTP/1.1 202"), ok);
    assertEquals(acceptedHere + 1, payloadsAccepted(), "payloads accepted in all");
    server.close();
  }

  /** The service's own count of accepted payloads, from /metrics. */
  private long payloadsAccepted() throws IOException {
    return counter("sluice_payloads_accepted_total")
        .orElseThrow(() -> new AssertionError("no sluice_payloads_accepted_total in /metrics"));
  }

  /** A counter's value from /metrics, if it is there (a labelled one appears once counted). */
  private java.util.OptionalLong counter(String nameAndLabels) throws IOException {
    String metrics = exchange("GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n", false);
    for (String line : metrics.split("\n")) {
      if (line.startsWith(nameAndLabels + " ")) {
        return java.util.OptionalLong.of(
            (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).strip()));
      }
    }
    return java.util.OptionalLong.empty();
  }

  private int acceptedHere;

  /** The request body bytes the service holds now, from /metrics. */
  private long bodyBytesInFlight() throws IOException {
    String metrics = exchange("GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n", false);
    for (String line : metrics.split("\n")) {
      if (line.startsWith("sluice_http_body_bytes_in_flight ")) {
        double value = Double.parseDouble(line.substring(line.indexOf(' ') + 1).strip());
        assertFalse(Double.isNaN(value), line);
        return (long) value;
      }
    }
    throw new AssertionError("no sluice_http_body_bytes_in_flight in\n" + metrics);
  }

  /** Waits (asking again, no sleep) until the service holds exactly {@code bytes} of bodies. */
  private void awaitBodyBytesInFlight(long bytes) throws IOException {
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(20);
    long now;
    while ((now = bodyBytesInFlight()) != bytes) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("body bytes in flight stayed " + now + ", expected " + bytes);
      }
      Thread.yield();
    }
  }

  /** Opens a connection that declares {@code length} bytes of body, sends 14, and stalls. */
  private Socket stalledUpload(int length) throws IOException {
    Socket socket = connect();
    send(socket, request("{\"payloads\": [", length));
    return socket;
  }

  private static String request(String body, int contentLength) {
    int length = contentLength >= 0 ? contentLength : body.getBytes(UTF_8).length;
    return "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + "Content-Length: "
        + length
        + "\r\n\r\n"
        + body;
  }

  /** A POST of {@code body}, which may be any bytes, with its Content-Length. */
  private static byte[] request(byte[] body) {
    byte[] head = request("", body.length).getBytes(UTF_8);
    byte[] raw = Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, raw, head.length, body.length);
    return raw;
  }

  /** Bytes: {@code before} and {@code after} in UTF-8 around {@code hex} (like "C0 AF"). */
  private static byte[] bytes(String before, String hex, String after) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(before.getBytes(UTF_8));
    for (String b : hex.split(" ")) {
      out.write(Integer.parseInt(b, 16));
    }
    out.writeBytes(after.getBytes(UTF_8));
    return out.toByteArray();
  }

  /** Sends a request, optionally half-closes, and reads the first response. */
  private String exchange(String raw, boolean halfClose) throws IOException {
    return exchange(raw.getBytes(UTF_8), halfClose);
  }

  /** Sends raw bytes, optionally half-closes, and reads the first response. */
  private String exchange(byte[] raw, boolean halfClose) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(raw);
      out.flush();
      if (halfClose) {
        socket.shutdownOutput();
      }
      return readResponse(socket.getInputStream());
    }
  }

  /** Reads one response, head and body (by its Content-Length), from a raw connection. */
  static String readResponse(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1) {
      head.write(b);
      String text = head.toString(UTF_8);
      int end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        int length = 0;
        for (String line : text.substring(0, end).split("\r\n")) {
          if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
            length = Integer.parseInt(line.substring(15).trim());
          }
        }
        return text + new String(in.readNBytes(length), UTF_8);
      }
    }
    return head.toString(UTF_8);
  }

  /** The raw response has this status and a JSON error body with this code and a message. */
  static void assertError(String response, int status, String code) {
    assertTrue(response.startsWith("HTTP/1.1 " + status + " "), response);
    assertTrue(response.contains("\r\nContent-Type: application/json\r\n"), response);
    Map<String, Object> body = Json.object(response.substring(response.indexOf("\r\n\r\n") + 4));
    assertEquals(code, body.get("error"), response);
    assertTrue(body.get("message") instanceof String m && !m.isBlank(), response);
  }

  /** A request Helidon refuses before routing: a JSON error naming the problem, then close. */
  private void assertProtocolError(String raw, int status, String code, String messagePart)
      throws IOException {
    try (Socket socket = connect()) {
      send(socket, raw);

      String response = readResponse(socket.getInputStream());

      assertError(response, status, code);
      assertTrue(response.contains(messagePart), response);
      assertClosed(socket);
    }
  }

  private Socket connect() throws IOException {
    return connect(server.port());
  }

  /** A raw connection to the service on {@code port}, whose reads time out after 20 s. */
  static Socket connect(int port) throws IOException {
    Socket socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout(20_000);
    return socket;
  }

  static void send(Socket socket, String raw) throws IOException {
    OutputStream out = socket.getOutputStream();
    out.write(raw.getBytes(UTF_8));
    out.flush();
  }

  /**
   * The server closed the connection: end of stream, or a reset if the client was still sending.
   */
  private static void assertClosed(Socket socket) {
    try {
      int next = socket.getInputStream().read();
      if (next != -1) {
        throw new AssertionError(
            "the connection stayed open; then came: "
                + (char) next
                + new String(socket.getInputStream().readNBytes(300), UTF_8));
      }
    } catch (java.net.SocketException e) {
      // reset: the server closed while bytes the client sent were unread
    } catch (IOException e) {
      throw new AssertionError("the connection stayed open", e);
    }
  }

  /**
   * A client that sends the same few bytes over and over, a pause between each, until the server
   * closes the connection. The pause makes it slow, which is the behaviour under test; nothing
   * waits on it.
   */
  static final class Trickle {
    private final Thread thread;
    private final java.util.concurrent.atomic.AtomicLong sent =
        new java.util.concurrent.atomic.AtomicLong();

    private Trickle(Socket socket, byte[] piece, Duration pause) {
      thread =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      OutputStream out = socket.getOutputStream();
                      while (true) {
                        for (byte b : piece) {
                          out.write(b);
                          out.flush();
                          sent.incrementAndGet();
                          Thread.sleep(pause);
                        }
                      }
                    } catch (IOException | InterruptedException e) {
                      // the server closed the connection, or the test is over
                    }
                  });
    }

    static Trickle start(Socket socket, String piece) {
      return start(socket, piece, Duration.ofMillis(20));
    }

    static Trickle start(Socket socket, String piece, Duration pause) {
      return new Trickle(socket, piece.getBytes(UTF_8), pause);
    }

    long sent() {
      return sent.get();
    }

    void stop() throws InterruptedException {
      thread.interrupt();
      thread.join();
    }
  }

  @Test
  void aBodyShorterThanItsContentLengthIs400AndTheConnectionIsClosed() throws Exception {
    try (Socket socket = connect()) {
      send(socket, request("{\"payloads\": [1, 2", 100));
      socket.shutdownOutput();

      String response = readResponse(socket.getInputStream());

      assertError(response, 400, "truncated_body");
      assertClosed(socket);
    }
  }

  @Test
  @Tag(SHORT_BODY_TIMEOUT)
  void aClientThatStallsMidBodyGets408AndTheConnectionIsClosed() throws Exception {
    try (Socket socket = connect()) {
      send(socket, request("{\"payloads\": [1, 2", 100));

      String response = readResponse(socket.getInputStream());

      assertError(response, 408, "body_timeout");
      assertTrue(response.contains("\r\nConnection: close\r\n"), response);
      assertClosed(socket);
    }
  }

  @Test
  @Tag(SHORT_BODY_TIMEOUT)
  void aClientThatTricklesOneByteAtATimeGets408AndTheConnectionIsClosed() throws Exception {
    try (Socket socket = connect()) {
      send(socket, request("{\"payloads\": [", 5_000));
      Trickle trickle = Trickle.start(socket, "1,");

      String response = readResponse(socket.getInputStream());

      assertError(response, 408, "body_timeout");
      assertClosed(socket);
      trickle.stop();
      assertTrue(trickle.sent() > 2, "the client kept sending: " + trickle.sent() + " bytes");
    }
  }

  @Test
  @Tag(SHORT_BODY_TIMEOUT)
  void aChunkedBodyThatNeverEndsGets408AndTheConnectionIsClosed() throws Exception {
    try (Socket socket = connect()) {
      send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\ne\r\n{\"payloads\": [\r\n");
      Trickle trickle = Trickle.start(socket, "2\r\n1,\r\n");

      String response = readResponse(socket.getInputStream());

      assertError(response, 408, "body_timeout");
      assertClosed(socket);
      trickle.stop();
    }
  }

  @Test
  void aChunkSizeThatIsNotHexadecimalIs400AndTheConnectionIsClosed() throws Exception {
    try (Socket socket = connect()) {
      send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{\"payloads\": [1]}\r\n0\r\n\r\n");

      String response = readResponse(socket.getInputStream());

      assertError(response, 400, "malformed_chunk");
      assertFalse(response.contains("NumberFormatException"), response);
      assertClosed(socket);
    }
  }

  @Test
  void aChunkExtensionIs400MalformedChunkSayingExtensionsAreNotAccepted() throws Exception {
    // given a chunk whose size, a valid hexadecimal number, carries a chunk extension, which
    // Helidon does not accept
    String body = "{\"payloads\": [1]}";
    try (Socket socket = connect()) {
      // when
      send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + Integer.toHexString(body.length())
              + ";name=value\r\n"
              + body
              + "\r\n0\r\n\r\n");

      // then the answer does not only claim the size is not hexadecimal, and closes
      String response = readResponse(socket.getInputStream());
      assertError(response, 400, "malformed_chunk");
      assertTrue(response.contains("chunk extensions"), response);
      assertClosed(socket);
    }
  }

  @Test
  void aChunkedBodyWithTrailerFieldsIs400SayingSoNotThatItEndedEarly() throws Exception {
    // given a whole chunked body whose last chunk is followed by a trailer field, which Helidon
    // does not accept
    String body = "{\"payloads\": [1]}";
    try (Socket socket = connect()) {
      // when
      send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + Integer.toHexString(body.length())
              + "\r\n"
              + body
              + "\r\n0\r\nX-Checksum: 1234\r\n\r\n");

      // then the answer names the trailer, not a body that ended early, and closes
      String response = readResponse(socket.getInputStream());
      assertError(response, 400, "unsupported_trailer");
      assertClosed(socket);
    }
  }

  /**
   * A malformed chunk-size line followed by no more than the client has sent so far, on a
   * connection the client keeps open to read its answer: answered 400 at once, not 408 at the body
   * timeout. (Closing Helidon's entity stream after the failed read asked it for one more chunk,
   * which parsed what followed the bad line as the next chunk and waited for the rest of it.)
   */
  @ParameterizedTest
  @Tag(SHORT_BODY_TIMEOUT)
  @ValueSource(
      strings = {
        "zz\r\n",
        "zz\r\n{\"payloads\": [1]}",
        "zz\r\n0\r\n",
        "zz\r\n8\r\n[1]",
        "fffffffff\r\n"
      })
  void aMalformedChunkOnAConnectionLeftOpenIs400AtOnce(String body) throws Exception {
    try (Socket socket = connect()) {
      send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + body);

      String response = readResponse(socket.getInputStream());

      assertError(response, 400, "malformed_chunk");
      assertClosed(socket);
    }
  }

  @Test
  @Tag(SHORT_BODY_TIMEOUT)
  void aChunkedBodyOverTheLimitIs413AtOnceWhileTheClientWaitsToSendMore() throws Exception {
    // given a chunked body whose chunks so far add up to one byte more than the 10,000-byte limit,
    // and a client that sends no more until it has its answer
    String start = "{\"payloads\": [\"";
    String data = start + "x".repeat(10_001 - start.length());
    try (Socket socket = connect()) {
      send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n");
      for (int at = 0; at < data.length(); at += 4_000) {
        String chunk = data.substring(at, Math.min(data.length(), at + 4_000));
        send(socket, Integer.toHexString(chunk.length()) + "\r\n" + chunk + "\r\n");
      }

      // when
      String response = readResponse(socket.getInputStream());

      // then
      assertError(response, 413, "body_too_large");
      assertClosed(socket);
    }
  }

  @ParameterizedTest(name = "Content-Length: {0}")
  @ValueSource(strings = {"abc", "-5", "12x", ""})
  void aContentLengthThatIsNotANumberOfBytesIs400(String value) throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Length: "
            + value
            + "\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(raw, 400, "invalid_content_length", "non-negative decimal number");
  }

  @Test
  void twoContentLengthsAre400EvenWhenTheyAgree() throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Length: 17\r\nContent-Length: 17\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(raw, 400, "invalid_content_length", "more than one Content-Length");
  }

  @Test
  void aContentLengthWithChunkedEncodingIs400() throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Length: 17\r\nTransfer-Encoding: chunked\r\n\r\n"
            + "11\r\n{\"payloads\": [1]}\r\n0\r\n\r\n";

    assertProtocolError(raw, 400, "ambiguous_body_length", "both Content-Length and");
  }

  @ParameterizedTest(name = "Content-Encoding: {0}")
  @ValueSource(strings = {"gzip", "deflate", "br"})
  void aCompressedBodyIs415SayingToSendItUncompressed(String coding) throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Encoding: "
            + coding
            + "\r\nContent-Length: 17\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(
        raw,
        415,
        "unsupported_content_encoding",
        "Content-Encoding \\\"" + coding + "\\\" is not accepted; send the body uncompressed");
  }

  @Test
  void aHeaderLineWithoutAColonIs400() throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Not a header\r\nContent-Length: 17\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(raw, 400, "malformed_header", "\\\"Name: value\\\"");
  }

  @Test
  void a100KilobyteHeaderIs431() throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "X-Big: "
            + "a".repeat(100_000)
            + "\r\nContent-Length: 17\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(raw, 431, "headers_too_large", "smaller headers");
  }

  @Test
  void aBadPercentEscapeInThePathIs400() throws Exception {
    String raw =
        "POST /v1/pay%zzloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Length: 17\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(raw, 400, "invalid_path", "/v1/pay%zzloads");
  }

  @Test
  void anHttp10RequestIs505() throws Exception {
    String raw =
        "POST /v1/payloads HTTP/1.0\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Length: 17\r\n\r\n{\"payloads\": [1]}";

    assertProtocolError(raw, 505, "http_version_not_supported", "HTTP/1.1");
  }

  @Test
  void refusalsBeforeRoutingAreCountedUnderTheRouteProtocolByStatus() throws Exception {
    String protocol400 = "sluice_http_requests_total{route=\"protocol\",status=\"400\"}";
    String protocol505 = "sluice_http_requests_total{route=\"protocol\",status=\"505\"}";
    assertEquals(java.util.OptionalLong.empty(), counter(protocol400));

    assertProtocolError("GARBAGE\r\n\r\n", 400, "malformed_request_line", "METHOD /path");
    assertProtocolError(
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Length: abc\r\n\r\n",
        400,
        "invalid_content_length",
        "non-negative decimal number");
    assertProtocolError(
        "GET /health/live HTTP/1.0\r\nHost: test\r\n\r\n",
        505,
        "http_version_not_supported",
        "HTTP/1.1");

    assertEquals(java.util.OptionalLong.of(2), counter(protocol400));
    assertEquals(java.util.OptionalLong.of(1), counter(protocol505));
  }

  @Test
  void aHeadRequestHelidonRefusesBeforeRoutingGetsTheErrorsHeadersWithoutItsBody()
      throws Exception {
    // given a HEAD request Helidon refuses before any route sees it (HTTP/1.0)
    try (Socket socket = connect()) {
      send(socket, "HEAD /health/live HTTP/1.0\r\nHost: test\r\n\r\n");

      // then the answer is the error's status and headers and nothing after them (a HEAD answer
      // has no content, RFC 9110 9.3.2), then the connection closes. (Helidon writes these answers'
      // Content-Length from the entity it is given, so it says 0 here.)
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int b;
      while (!head.toString(UTF_8).endsWith("\r\n\r\n")
          && (b = socket.getInputStream().read()) != -1) {
        head.write(b);
      }
      String headers = head.toString(UTF_8);
      assertTrue(headers.startsWith("HTTP/1.1 505 "), headers);
      assertTrue(headers.contains("\r\nContent-Type: application/json\r\n"), headers);
      assertClosed(socket);
    }
  }

  @Test
  void aRequestLineThatIsNotHttpIs400() throws Exception {
    assertProtocolError("GARBAGE\r\n\r\n", 400, "malformed_request_line", "METHOD /path");
  }

  @Test
  void aContentLengthShorterThanTheBodyCutsTheJsonAndIs400() throws Exception {
    String response = exchange(request("{\"payloads\": [1, 2, 3]}", 12), false);

    assertError(response, 400, "malformed_json");
  }

  @Test
  void aContentLengthOverTheLimitIs413BeforeAnyBodyIsRead() throws Exception {
    String response = exchange(request("", 50_000_000), false);

    assertError(response, 413, "body_too_large");
  }

  @Test
  void numbersTooLongToReadAre400ButMerelyHugeOnesAreStoredAsWritten() throws Exception {
    assertError(
        exchange(request("{\"payloads\": [" + "9".repeat(5_000) + "]}", -1), false),
        400,
        "value_too_large");

    String accepted =
        exchange(
            request("{\"payloads\": [1e999999, -0.0, 123456789012345678901234567890]}", -1), false);
    assertTrue(accepted.startsWith("HTTP/1.1 202"), accepted);
    acceptedHere += 3;
  }

  @Test
  void duplicateKeysInsideAPayloadAreKeptAsWrittenButADuplicatePayloadsMemberIs400()
      throws Exception {
    assertError(
        exchange(request("{\"payloads\": [1], \"payloads\": [2]}", -1), false),
        400,
        "duplicate_member");

    String accepted = exchange(request("{\"payloads\": [{\"a\": 1, \"a\": 2}]}", -1), false);
    assertTrue(accepted.startsWith("HTTP/1.1 202"), accepted);
    acceptedHere += 1;
  }

  @Test
  void deepNestingIs400WithoutExhaustingTheStack() throws Exception {
    String deep = "[".repeat(100_000);

    assertError(
        exchange(request("{\"payloads\": [" + deep + "]}", -1), false), 413, "body_too_large");
    String deepButSmall = "[".repeat(4_000) + "]".repeat(4_000);
    assertError(
        exchange(request("{\"payloads\": [" + deepButSmall + "]}", -1), false), 400, "too_deep");
  }

  static Stream<Arguments> illFormedUtf8() {
    return Stream.of(
        Arguments.of("overlong '/' in two bytes", bytes("{\"payloads\": [\"a", "C0 AF", "\"]}")),
        Arguments.of("overlong NUL in two bytes", bytes("{\"payloads\": [\"a", "C0 80", "\"]}")),
        Arguments.of(
            "overlong '/' in three bytes", bytes("{\"payloads\": [\"", "E0 80 AF", "\"]}")),
        Arguments.of(
            "overlong '/' in four bytes", bytes("{\"payloads\": [\"", "F0 80 80 AF", "\"]}")),
        Arguments.of("high surrogate U+D800", bytes("{\"payloads\": [\"", "ED A0 80", "\"]}")),
        Arguments.of("low surrogate U+DFFF", bytes("{\"payloads\": [\"", "ED BF BF", "\"]}")),
        Arguments.of(
            "surrogate pair encoded as two sequences",
            bytes("{\"payloads\": [\"", "ED A0 BD ED B8 80", "\"]}")),
        Arguments.of("U+110000", bytes("{\"payloads\": [\"", "F4 90 80 80", "\"]}")),
        Arguments.of("lead byte F5", bytes("{\"payloads\": [\"", "F5 80 80 80", "\"]}")),
        Arguments.of("byte FF", bytes("{\"payloads\": [\"", "FF", "\"]}")),
        Arguments.of("stray continuation byte", bytes("{\"payloads\": [\"", "80", "\"]}")),
        Arguments.of(
            "three-byte sequence cut by a quote", bytes("{\"payloads\": [\"", "E2 82", "\"]}")),
        Arguments.of(
            "two-byte sequence at the end of the body", bytes("{\"payloads\": [1]}", "C3", "")),
        Arguments.of(
            "four-byte sequence at the end of the body",
            bytes("{\"payloads\": [\"", "F0 9F 98", "")),
        Arguments.of(
            "in a payload's field name", bytes("{\"payloads\": [{\"k", "ED A0 80", "\": 1}]}")),
        Arguments.of(
            "in a top-level field name", bytes("{\"payloads\": [1], \"na", "C0 80", "me\": 1}")),
        Arguments.of(
            "in a skipped top-level member",
            bytes("{\"payloads\": [1], \"other\": \"", "F4 90 80 80", "\"}")),
        Arguments.of(
            "deep in a skipped top-level member",
            bytes("{\"other\": {\"deep\": [true, \"", "E0 80 AF", "\"]}, \"payloads\": [1]}")),
        Arguments.of(
            "in the source", bytes("{\"payloads\": [1], \"source\": \"s", "ED BF BF", "\"}")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("illFormedUtf8")
  void illFormedUtf8AnywhereIs400(String what, byte[] body) throws Exception {
    String response = exchange(request(body), false);

    assertError(response, 400, "malformed_json");
    assertTrue(response.contains("not valid UTF-8"), response);
  }

  static Stream<Arguments> jsonInOtherUnicodeEncodings() {
    return Stream.of(
            "UTF-16LE", "UTF-16BE", "UTF-32LE", "UTF-32BE") // Java writes these without a BOM
        .flatMap(
            charset ->
                Stream.of(
                    Arguments.of(charset, false, encoded("{\"payloads\": [1]}", charset, false)),
                    Arguments.of(charset, true, encoded("{\"payloads\": [1]}", charset, true))));
  }

  /** {@code text} in {@code charset}, after a byte order mark if {@code bom}. */
  private static byte[] encoded(String text, String charset, boolean bom) {
    return ((bom ? "\uFEFF" : "") + text).getBytes(java.nio.charset.Charset.forName(charset));
  }

  @ParameterizedTest(name = "{0}, byte order mark: {1}")
  @MethodSource("jsonInOtherUnicodeEncodings")
  void jsonInUtf16OrUtf32Is400SayingToSendUtf8(String charset, boolean bom, byte[] body)
      throws Exception {
    String response = exchange(request(body), false);

    assertError(response, 400, "malformed_json");
    assertTrue(response.contains("must be UTF-8"), response);
    assertTrue(response.contains("looks like " + charset.substring(0, 6)), response);
  }

  @ParameterizedTest(name = "{0}, byte order mark: {1}")
  @MethodSource("jsonInOtherUnicodeEncodings")
  void aScheduleInUtf16OrUtf32Is400SayingToSendUtf8(String charset, boolean bom, byte[] ignored)
      throws Exception {
    byte[] body =
        encoded(
            "{\"trigger\": \"cron unix UTC 0 2 * * *\", \"payload\": {\"a\": 1}}", charset, bom);
    byte[] head =
        ("PUT /v1/schedules/enc HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(UTF_8);
    byte[] raw = Arrays.copyOf(head, head.length + body.length);
    System.arraycopy(body, 0, raw, head.length, body.length);

    String response = exchange(raw, false);

    assertError(response, 400, "malformed_json");
    assertTrue(response.contains("must be UTF-8"), response);
    String schedules = exchange("GET /v1/schedules HTTP/1.1\r\nHost: test\r\n\r\n", false);
    assertTrue(schedules.endsWith("{\"schedules\":[]}"), schedules);
  }

  @Test
  void wellFormedUtf8AtItsEdgesIsAcceptedByteForByte() throws Exception {
    // U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF, U+10000, U+10FFFF: the edges of each range
    byte[] body =
        bytes(
            "{\"payloads\": [\"",
            "C2 80 DF BF E0 A0 80 ED 9F BF EE 80 80 EF BF BF F0 90 80 80 F4 8F BF BF",
            "\"]}");

    String response = exchange(request(body), false);

    assertTrue(response.startsWith("HTTP/1.1 202"), response);
    acceptedHere += 1;
  }

  @Test
  void aChunkedBodyOverTheLimitIs413AndTheConnectionIsClosed() throws Exception {
    // given a whole chunked body whose chunks add up to one byte more than the 10,000-byte limit
    String start = "{\"payloads\": [\"";
    String data = start + "x".repeat(10_001 - start.length());
    StringBuilder raw =
        new StringBuilder(
            "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n");
    for (int at = 0; at < data.length(); at += 4_000) {
      String chunk = data.substring(at, Math.min(data.length(), at + 4_000));
      raw.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    raw.append("0\r\n\r\n");
    assertEquals(10_001, data.length());

    try (Socket socket = connect()) {
      // when
      send(socket, raw.toString());

      // then
      String response = readResponse(socket.getInputStream());
      assertError(response, 413, "body_too_large");
      assertTrue(response.contains("\r\nConnection: close\r\n"), response);
      assertClosed(socket);
    }
  }

  @Test
  @Tag(LEAST_BODY_BUDGET)
  void
      givenTheLeastBodyBudgetWhenAChunkedBodyOfExactlyTheLimitArrivesAtAnIdleServiceThenItIsAccepted()
          throws Exception {
    // given a whole chunked body of exactly the 10,000-byte limit, and nothing else in flight
    String start = "{\"payloads\": [\"";
    String end = "\"]}";
    String data = start + "x".repeat(10_000 - start.length() - end.length()) + end;
    StringBuilder raw =
        new StringBuilder(
            "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n");
    for (int at = 0; at < data.length(); at += 4_000) {
      String chunk = data.substring(at, Math.min(data.length(), at + 4_000));
      raw.append(Integer.toHexString(chunk.length())).append("\r\n").append(chunk).append("\r\n");
    }
    raw.append("0\r\n\r\n");
    assertEquals(10_000, data.length());

    // when
    String response = exchange(raw.toString(), false);

    // then: the budget, which a body of the largest size must fit, holds it
    assertTrue(response.startsWith("HTTP/1.1 202"), response);
    acceptedHere += 1;
  }

  @Test
  void controlCharactersAndBinaryAre400() throws Exception {
    assertError(
        exchange(request("{\"payloads\": [\"a\u0001b\"]}", -1), false), 400, "malformed_json");
    assertError(exchange(request("\u0000\u0001\u0002\u0003", -1), false), 400, "malformed_json");
  }

  // ---------------------------------------------------------------- the in-flight body budget

  @Test
  @Tag(SMALL_BODY_BUDGET)
  @SuppressWarnings("try") // the stalled uploads only need closing
  void aBodyThatDoesNotFitTheInFlightBudgetIs503WithRetryAfterBeforeAnyOfItIsRead()
      throws Exception {
    // given: two stalled uploads hold 20,000 of the 22,500 bytes large bodies may use
    try (Socket first = stalledUpload(10_000);
        Socket second = stalledUpload(10_000)) {
      awaitBodyBytesInFlight(20_000);

      // when: a third declares 10,000 bytes and sends none of them
      try (Socket third = connect()) {
        send(third, request("", 10_000));
        String response = readResponse(third.getInputStream());

        // then: refused at once, the connection closed; a small body still fits
        assertError(response, 503, "server_busy");
        assertTrue(response.contains("\r\nRetry-After: 1\r\n"), response);
        assertTrue(response.contains("--max-inflight-body-bytes"), response);
        assertTrue(response.contains("bodies over 625 bytes may use three quarters"), response);
        assertTrue(response.contains("\r\nConnection: close\r\n"), response);
        assertClosed(third);
      }
      String ok = exchange(request("{\"payloads\": [1]}", -1), false);
      assertTrue(ok.startsWith("HTTP/1.1 202"), ok);
      acceptedHere += 1;
      awaitBodyBytesInFlight(20_000); // the refused and the accepted gave theirs back
    }
  }

  @ParameterizedTest(name = "reset: {0}")
  @ValueSource(booleans = {false, true})
  @Tag(SMALL_BODY_BUDGET)
  void aClientThatDisconnectsMidBodyGivesItsReservationBack(boolean reset) throws Exception {
    Socket socket = stalledUpload(10_000);
    awaitBodyBytesInFlight(10_000);

    if (reset) {
      socket.setSoLinger(true, 0); // close with RST instead of FIN
    }
    socket.close();

    awaitBodyBytesInFlight(0);
  }

  @Test
  @Tag(SMALL_BODY_BUDGET)
  @Tag(SHORT_BODY_TIMEOUT)
  void aStalledBodyGivesItsReservationBackWhenItTimesOut() throws Exception {
    try (Socket socket = stalledUpload(10_000)) {
      String response = readResponse(socket.getInputStream());

      assertError(response, 408, "body_timeout");
      awaitBodyBytesInFlight(0);
    }
  }

  @Test
  @Tag(SMALL_BODY_BUDGET)
  @SuppressWarnings("try") // the stalled uploads only need closing
  void aChunkedBodyIsRefusedWith503OnceItsNextChunksNoLongerFit() throws Exception {
    // given: stalled uploads hold 13,000 bytes, leaving 9,500 of the 22,500 large bodies may use:
    // room for the chunked body's first 8,192-byte buffer, not for its growth to the limit (10,000
    // bytes), though the whole budget would have room for that
    try (Socket a = stalledUpload(10_000);
        Socket b = stalledUpload(3_000)) {
      awaitBodyBytesInFlight(13_000);

      // when: a chunked body sends 9,000 bytes
      try (Socket chunked = connect()) {
        send(
            chunked,
            "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 9; i++) {
          send(chunked, "3e8\r\n" + " ".repeat(1_000) + "\r\n");
        }
        String response = readResponse(chunked.getInputStream());

        // then: refused mid-body, and what it held is given back
        assertError(response, 503, "server_busy");
        assertTrue(response.contains("\r\nRetry-After: 1\r\n"), response);
        assertClosed(chunked);
      }
      awaitBodyBytesInFlight(13_000);
    }
  }

  @Test
  @Tag(SMALL_BODY_BUDGET)
  @SuppressWarnings("try") // the stalled uploads only need closing
  void largeUploadsThatStallLeaveAQuarterOfTheBudgetToSmallBodies() throws Exception {
    // given: stalled uploads of large bodies hold the 22,500 bytes large bodies may use
    List<Socket> stalled = new ArrayList<>();
    try {
      stalled.add(stalledUpload(10_000));
      stalled.add(stalledUpload(10_000));
      stalled.add(stalledUpload(2_500));
      awaitBodyBytesInFlight(22_500);

      // when: another large body comes, and then small ones that stall too
      try (Socket large = connect()) {
        send(large, request("", 1_000));
        String response = readResponse(large.getInputStream());

        // then: the large one is refused though 7,500 bytes are free ...
        assertError(response, 503, "server_busy");
        assertClosed(large);
      }
      for (int i = 0; i < 12; i++) {
        stalled.add(stalledUpload(600));
      }
      // ... and the small ones get them: 12 x 600 bytes, and a whole small batch is accepted
      awaitBodyBytesInFlight(22_500 + 12 * 600);
      String ok = exchange(request("{\"payloads\": [1]}", -1), false);
      assertTrue(ok.startsWith("HTTP/1.1 202"), ok);
      acceptedHere += 1;
    } finally {
      for (Socket s : stalled) {
        s.close();
      }
    }
  }

  @Test
  @Tag(TWO_CONNECTIONS)
  @SuppressWarnings("try") // the silent connections only need closing
  void pastTheConnectionLimitANewConnectionWaitsUntilAnotherCloses() throws Exception {
    // given: two connections that send nothing hold both places
    Socket first = connect();
    try (Socket second = connect();
        Socket third = connect()) {
      send(third, "GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n");

      // then: the third is not served while they stay (a slow host can only make this pass)
      third.setSoTimeout(500);
      assertThrows(
          java.net.SocketTimeoutException.class, () -> third.getInputStream().read(), "answered");

      // when one of them closes, the third is served
      first.close();
      third.setSoTimeout(20_000);
      String response = readResponse(third.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 200"), response);
    }
  }
}
