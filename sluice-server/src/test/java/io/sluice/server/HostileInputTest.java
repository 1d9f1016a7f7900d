package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests a well-behaved client would not send, written byte by byte on a raw socket: each gets a
 * precise error, nothing is accepted, and the service keeps serving.
 */
@Timeout(60)
class HostileInputTest {
  @TempDir Path dataDir;
  private SluiceServer server;

  @BeforeEach
  void start() throws IOException {
    server =
        SluiceServer.start(
            ServerConfig.defaults(dataDir)
                .withPort(0)
                .withLimits(100_000, 10_000, 1_000, 64)
                .withBodyTimeout(Duration.ofSeconds(1)),
            FilesystemObjectStore.open(dataDir.resolve("objects")),
            p -> {});
  }

  @AfterEach
  void serviceIsUnharmedAndNothingWasKeptFromTheHostileRequests() throws Exception {
    String ok = exchange(request("{\"payloads\": [1]}", -1), false);
    assertTrue(ok.startsWith("HTTP/1.1 202"), ok);
    long objects = ObjectFiles.json(dataDir.resolve("objects")).size();
    assertTrue(objects <= 1 + acceptedHere, "objects: " + objects);
    server.close();
  }

  private int acceptedHere;

  private static String request(String body, int contentLength) {
    int length = contentLength >= 0 ? contentLength : body.getBytes(UTF_8).length;
    return "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + "Content-Length: "
        + length
        + "\r\n\r\n"
        + body;
  }

  /** Sends raw bytes, optionally half-closes, and reads the first response. */
  private String exchange(String raw, boolean halfClose) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(raw.getBytes(UTF_8));
      out.flush();
      if (halfClose) {
        socket.shutdownOutput();
      }
      return readResponse(socket.getInputStream());
    }
  }

  private static String readResponse(InputStream in) throws IOException {
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

  private static void assertError(String response, int status, String code) {
    assertTrue(response.startsWith("HTTP/1.1 " + status), response);
    assertTrue(response.contains("\"error\":\"" + code + "\""), response);
  }

  @Test
  void aClientThatStopsSendingMidBodyIsCutOffAfterTheBodyTimeout() throws Exception {
    String response = exchange(request("{\"payloads\": [1, 2", 100), false);

    // The read is abandoned by closing the connection under it; a 408 gets out only if the
    // close loses the race with the answer.
    assertTrue(response.isEmpty() || response.startsWith("HTTP/1.1 408"), response);
  }

  @Test
  void aBodyShorterThanItsContentLengthIs400() throws Exception {
    String response = exchange(request("{\"payloads\": [1, 2", 100), true);

    assertTrue(
        response.startsWith("HTTP/1.1 400") || response.startsWith("HTTP/1.1 408"), response);
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

  @Test
  void controlCharactersAndBinaryAre400() throws Exception {
    assertError(
        exchange(request("{\"payloads\": [\"a\u0001b\"]}", -1), false), 400, "malformed_json");
    assertError(exchange(request("\u0000\u0001\u0002\u0003", -1), false), 400, "malformed_json");
  }
}
