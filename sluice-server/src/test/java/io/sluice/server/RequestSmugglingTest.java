package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketException;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A request the service refuses before it has read all of its body must end its connection: the
 * unread rest of the body must never be parsed as a next request. Each test sends the refused
 * request and, in the same write, a second request that would accept a payload if it were parsed.
 */
@Timeout(60)
class RequestSmugglingTest {
  private static final String SMUGGLED_BODY = "{\"payloads\": [666]}";
  private static final String SMUGGLED =
      "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
          + "Content-Length: "
          + SMUGGLED_BODY.length()
          + "\r\n\r\n"
          + SMUGGLED_BODY;

  /** A request that ends the connection, sent last so that the server closes after it. */
  private static final String LAST =
      "GET /health/live HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";

  @TempDir Path dataDir;
  private SluiceServer server;

  @BeforeEach
  void start() throws IOException {
    ServerConfig config =
        ServerConfig.defaults(dataDir).withPort(0).withLimits(100_000, 10_000, 1_000, 64);
    server =
        SluiceServer.start(config, FilesystemObjectStore.open(dataDir.resolve("objects")), p -> {});
  }

  @AfterEach
  void stop() {
    server.close();
  }

  static Stream<Arguments> refusedRequests() {
    String chunkedHead =
        "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Transfer-Encoding: chunked\r\n\r\n";
    String overLimit = "x".repeat(10_001);
    return Stream.of(
        Arguments.of("a malformed chunk size", chunkedHead + "zz\r\n", 400),
        Arguments.of(
            "a chunked body over the limit",
            chunkedHead + Integer.toHexString(overLimit.length()) + "\r\n" + overLimit + "\r\n",
            413),
        Arguments.of(
            "a Content-Length over the limit",
            "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Content-Length: 20000\r\n\r\n",
            413),
        Arguments.of(
            "a body that is not JSON by its Content-Type",
            "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: text/plain\r\n"
                + "Content-Length: "
                + SMUGGLED.length()
                + "\r\n\r\n",
            415),
        Arguments.of(
            "a body sent to no resource",
            "POST /v1/nothing HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + SMUGGLED.length()
                + "\r\n\r\n",
            404),
        Arguments.of(
            "a body sent with a method the resource does not take",
            "PUT /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
                + "Content-Length: "
                + SMUGGLED.length()
                + "\r\n\r\n",
            405));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("refusedRequests")
  void theUnreadRestOfARefusedBodyIsNeverParsedAsANextRequest(
      String what, String refused, int status) throws Exception {
    try (Socket socket = HostileInputTest.connect(server.port())) {
      // when
      HostileInputTest.send(socket, refused + SMUGGLED + LAST);

      // then: the refusal, and then either the end of the connection or, where the refused body
      // had a Content-Length and was skipped, the answer to the last request; never a 202
      String response = HostileInputTest.readResponse(socket.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 " + status + " "), response);
      String rest = restOf(socket.getInputStream());
      assertFalse(rest.contains("HTTP/1.1 202"), "the smuggled request was answered: " + rest);
    }
    assertEquals(0, payloadsAccepted(), "payloads accepted");
  }

  @Test
  void aWholeChunkedBodyKeepsTheConnectionForTheNextRequest() throws Exception {
    String body = "{\"payloads\": [1]}";
    try (Socket socket = HostileInputTest.connect(server.port())) {
      HostileInputTest.send(
          socket,
          "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
              + "Transfer-Encoding: chunked\r\n\r\n"
              + Integer.toHexString(body.length())
              + "\r\n"
              + body
              + "\r\n0\r\n\r\n"
              + SMUGGLED);

      String first = HostileInputTest.readResponse(socket.getInputStream());
      String second = HostileInputTest.readResponse(socket.getInputStream());

      assertTrue(first.startsWith("HTTP/1.1 202 "), first);
      assertTrue(second.startsWith("HTTP/1.1 202 "), second);
    }
    assertEquals(2, payloadsAccepted(), "payloads accepted");
  }

  /** What the server sends after the first response, until it closes the connection. */
  private static String restOf(InputStream in) throws IOException {
    java.io.ByteArrayOutputStream rest = new java.io.ByteArrayOutputStream();
    try {
      in.transferTo(rest);
    } catch (SocketException e) {
      // reset: the server closed while bytes the client sent were unread
    }
    return rest.toString(UTF_8);
  }

  private long payloadsAccepted() throws IOException {
    try (Socket socket = HostileInputTest.connect(server.port())) {
      HostileInputTest.send(socket, "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
      String metrics = HostileInputTest.readResponse(socket.getInputStream());
      for (String line : metrics.split("\n")) {
        if (line.startsWith("sluice_payloads_accepted_total ")) {
          return (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).strip());
        }
      }
      return 0;
    }
  }
}
