package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * HEAD is answered as GET is, without the body (RFC 9110, section 9.3.2): the same status and
 * headers, Content-Length included, on every route that serves GET, errors included; over real HTTP
 * on a real port, and on a raw connection to see that no body byte follows the headers.
 */
@Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class HeadRequestTest {
  private static final String UNKNOWN_ID = "01a21b75-c66e-7000-a27f-961b37adfe4d";

  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();

  /** The HEAD answer has the GET answer's status, Content-Type and Content-Length, and no body. */
  private static void assertLikeGetWithoutBody(
      HttpResponse<String> get, HttpResponse<String> head) {
    assertEquals(get.statusCode(), head.statusCode(), get.body());
    assertEquals(contentType(get), contentType(head));
    assertEquals(
        Optional.of(String.valueOf(get.body().getBytes(UTF_8).length)),
        head.headers().firstValue("Content-Length"),
        "the length GET sends");
    assertEquals("", head.body());
  }

  private static Optional<String> contentType(HttpResponse<String> r) {
    return r.headers().firstValue("Content-Type");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/health/live",
        "/health/ready",
        "/v1/dead-letters",
        "/v1/dead-letters?limit=0",
        "/v1/schedules",
        "/v1/schedules/nightly",
        "/v1/jobs/" + UNKNOWN_ID,
        "/v1/jobs/not-an-id"
      })
  void headIsAnsweredLikeGetWithoutTheBody(String path) throws Exception {
    RunningService service = services.start(dataDir);

    HttpResponse<String> get = service.send(path, HttpRequest.Builder::GET);
    HttpResponse<String> head = service.send(path, HttpRequest.Builder::HEAD);

    assertLikeGetWithoutBody(get, head);
  }

  @Test
  void headOnAKnownJobIsAnsweredLikeGetWithoutTheBody() throws Exception {
    RunningService service = services.start(dataDir);
    String id = service.post("{\"payloads\": [{\"n\": 1}]}").getFirst();
    service.awaitState(id, "succeeded"); // from then on its answer does not change

    HttpResponse<String> get = service.send("/v1/jobs/" + id, HttpRequest.Builder::GET);
    HttpResponse<String> head = service.send("/v1/jobs/" + id, HttpRequest.Builder::HEAD);

    assertEquals(200, head.statusCode());
    assertLikeGetWithoutBody(get, head);
  }

  @Test
  void headOnTheMetricsHasTheirContentTypeAndALengthButNoBody() throws Exception {
    RunningService service = services.start(dataDir);

    HttpResponse<String> get = service.send("/metrics", HttpRequest.Builder::GET);
    HttpResponse<String> head = service.send("/metrics", HttpRequest.Builder::HEAD);

    // the counts change with every request, so the length is the one of the metrics at that moment
    assertEquals(200, head.statusCode());
    assertEquals(contentType(get), contentType(head));
    long length = Long.parseLong(head.headers().firstValue("Content-Length").orElse("0"));
    assertTrue(length > 0, "Content-Length " + length);
    assertEquals("", head.body());
  }

  @Test
  void withATokenConfiguredHeadWithoutItIs401WithTheChallengeAndNoBody() throws Exception {
    RunningService service =
        services.start(
            dataDir,
            c -> c.withToken("s3cret"),
            FilesystemObjectStore.open(dataDir.resolve("objects")));
    try (HttpClient anonymous = HttpClient.newHttpClient()) {
      URI uri = URI.create(service.url() + "/v1/dead-letters");
      HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10));

      HttpResponse<String> get =
          anonymous.send(request.copy().GET().build(), HttpResponse.BodyHandlers.ofString());
      HttpResponse<String> head =
          anonymous.send(request.copy().HEAD().build(), HttpResponse.BodyHandlers.ofString());

      assertEquals(401, head.statusCode());
      assertLikeGetWithoutBody(get, head);
      assertEquals(
          Optional.of("Bearer realm=\"sluice\""), head.headers().firstValue("WWW-Authenticate"));
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"/health/live", "/v1/jobs/" + UNKNOWN_ID, "/v1/schedules"})
  void noBodyByteFollowsAHeadAnswerAndTheConnectionCarriesTheNextRequest(String path)
      throws Exception {
    RunningService service = services.start(dataDir);
    try (Socket socket = HostileInputTest.connect(service.port())) {
      HostileInputTest.send(socket, "HEAD " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      String head = readHead(socket.getInputStream());

      HostileInputTest.send(socket, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      String get = HostileInputTest.readResponse(socket.getInputStream());

      // a body after the HEAD answer's headers would be read here, before the GET's answer
      assertTrue(get.startsWith("HTTP/1.1 "), "after the HEAD answer came: " + get);
      assertEquals(get.substring(0, get.indexOf("\r\n")), head.substring(0, head.indexOf("\r\n")));
      for (String name : List.of("Content-Type", "Content-Length")) {
        assertEquals(header(get, name), header(head, name), name + " in\n" + head);
      }
      String body = get.substring(get.indexOf("\r\n\r\n") + 4);
      assertEquals(
          Optional.of(String.valueOf(body.getBytes(UTF_8).length)), header(head, "Content-Length"));
    }
  }

  @ParameterizedTest(name = "{0} {1}")
  @CsvSource({
    "PUT, /health/live, 'GET, HEAD'",
    "POST, /health/ready, 'GET, HEAD'",
    "DELETE, /metrics, 'GET, HEAD'",
    "PUT, /v1/jobs/" + UNKNOWN_ID + ", 'GET, HEAD'",
    "POST, /v1/dead-letters, 'GET, HEAD'",
    "POST, /v1/schedules, 'GET, HEAD'",
    "POST, /v1/schedules/nightly, 'GET, HEAD, PUT, DELETE'",
    "HEAD, /v1/payloads, POST",
    "HEAD, /v1/dead-letters/" + UNKNOWN_ID + ", DELETE"
  })
  void the405AnswersAllowHeadWhereverGetIsAllowed(String method, String path, String allowed)
      throws Exception {
    RunningService service = services.start(dataDir);

    HttpResponse<String> r =
        service.send(path, b -> b.method(method, HttpRequest.BodyPublishers.noBody()));

    assertEquals(405, r.statusCode(), r.body());
    assertEquals(List.of(allowed), r.headers().allValues("Allow"));
  }

  /** Reads a response's status line and headers, up to and with the empty line that ends them. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(UTF_8).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new AssertionError("the connection closed inside the headers: " + head);
      }
      head.write(b);
    }
    return head.toString(UTF_8);
  }

  /** The value of a header of a raw response, by its name in any case. */
  private static Optional<String> header(String response, String name) {
    String prefix = name.toLowerCase(Locale.ROOT) + ":";
    for (String line : response.substring(0, response.indexOf("\r\n\r\n")).split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith(prefix)) {
        return Optional.of(line.substring(prefix.length()).strip());
      }
    }
    return Optional.empty();
  }
}
