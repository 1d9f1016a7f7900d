package io.sluice.server;

import static io.sluice.server.HostileInputTest.assertError;
import static io.sluice.server.HostileInputTest.readResponse;
import static io.sluice.server.HostileInputTest.send;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The header timeout (--header-timeout) over real connections: clients that stall or trickle inside
 * their headers are answered 408 and cut off, and nobody else notices it.
 */
@Timeout(60)
class HeaderTimeoutTest {
  /** Short, so the tests are quick; the clients below that must not hit it stay far inside it. */
  private static final Duration HEADER_TIMEOUT = Duration.ofMillis(300);

  private static final String POST_HEAD =
      "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n";

  @TempDir Path dataDir;
  private SluiceServer server;
  private final List<LogRecord> warnings = new ArrayList<>();
  private final Handler warningsHandler =
      new Handler() {
        @Override
        public void publish(LogRecord record) {
          if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
            synchronized (warnings) {
              warnings.add(record);
            }
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void listenForWarnings() {
    Logger.getLogger("").addHandler(warningsHandler);
  }

  @AfterEach
  void nothingWasLoggedAsAWarningAndTheServiceCloses() {
    try {
      if (server != null) {
        server.checkInvariants();
        server.close();
      }
    } finally {
      Logger.getLogger("").removeHandler(warningsHandler);
    }
    synchronized (warnings) {
      assertEquals(
          List.of(),
          warnings.stream().map(r -> r.getLoggerName() + ": " + r.getMessage()).toList(),
          "warnings logged while clients were cut off");
    }
  }

  private void start(UnaryOperator<ServerConfig> config) throws IOException {
    ServerConfig c =
        config.apply(
            ServerConfig.defaults(dataDir)
                .withPort(0)
                .withShutdownGrace(Duration.ofSeconds(5))
                .withHeaderTimeout(HEADER_TIMEOUT));
    server = SluiceServer.start(c, FilesystemObjectStore.open(dataDir.resolve("objects")), p -> {});
  }

  private Socket connect() throws IOException {
    return HostileInputTest.connect(server.port());
  }

  private static String post(String body) {
    return POST_HEAD + "Content-Length: " + body.getBytes(UTF_8).length + "\r\n\r\n" + body;
  }

  /** A request whose request line and first header are sent, and then nothing. */
  private Socket stalledInItsHeaders() throws IOException {
    Socket socket = connect();
    send(socket, "POST /v1/payloads HTTP/1.1\r\nHost: test\r\n");
    return socket;
  }

  /** The response is the header timeout's 408, says so in JSON, and closes the connection. */
  private static void assertHeaderTimeout(String response) {
    assertError(response, 408, "header_timeout");
    assertTrue(response.startsWith("HTTP/1.1 408 Request Timeout\r\n"), response);
    assertTrue(response.contains("\r\nConnection: close\r\n"), response);
    String message =
        (String) Json.object(response.substring(response.indexOf("\r\n\r\n") + 4)).get("message");
    assertTrue(message.contains("within 300 ms"), message);
    assertTrue(message.contains("--header-timeout"), message);
  }

  /** The server closed the connection: end of stream, or a reset if bytes sent were unread. */
  private static void assertClosed(Socket socket) throws IOException {
    try {
      InputStream in = socket.getInputStream();
      int next = in.read();
      assertEquals(-1, next, "the connection stayed open; then came: " + (char) next);
    } catch (java.net.SocketException e) {
      // reset: the server closed while bytes the client sent were unread
    }
  }

  /** A counter's value from /metrics, if it is there (a labelled one appears once counted). */
  private OptionalLong counter(String nameAndLabels) throws IOException {
    try (Socket socket = connect()) {
      send(socket, "GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n");
      for (String line : readResponse(socket.getInputStream()).split("\n")) {
        if (line.startsWith(nameAndLabels + " ")) {
          return OptionalLong.of(
              (long) Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1).strip()));
        }
      }
    }
    return OptionalLong.empty();
  }

  @Test
  void aClientThatStallsInItsHeadersGets408AndTheConnectionIsClosed() throws Exception {
    start(c -> c);
    try (Socket socket = stalledInItsHeaders()) {

      String response = readResponse(socket.getInputStream());

      assertHeaderTimeout(response);
      assertClosed(socket);
    }
  }

  @Test
  void aClientThatTricklesItsHeadersIsCutOffAsTheDeadlineIsForTheWholeHead() throws Exception {
    // given a client that sends a header byte every 50 ms, far more often than every 300 ms
    start(c -> c);
    try (Socket socket = connect()) {
      send(socket, "POST /v1/payloads HTTP/1.1\r\nHost: test\r\nX-Slow: ");
      HostileInputTest.Trickle trickle =
          HostileInputTest.Trickle.start(socket, "a", Duration.ofMillis(50));

      // when it has been sending for longer than the header timeout
      String response = readResponse(socket.getInputStream());

      // then it is answered 408 all the same, and cut off
      assertHeaderTimeout(response);
      assertClosed(socket);
      trickle.stop();
      assertTrue(trickle.sent() > 1, "the client kept sending: " + trickle.sent() + " bytes");
    }
  }

  @Test
  @SuppressWarnings("try") // the stalled clients only need closing
  void clientsStalledInTheirHeadersDoNotKeepAnotherFromTheConnectionLimitsSlots() throws Exception {
    // given room for two connections, both taken by clients that stall in their headers
    start(c -> c.withMaxConnections(2));
    try (Socket first = stalledInItsHeaders();
        Socket second = stalledInItsHeaders();
        Socket third = connect()) {

      // when a third client posts a whole request, waiting in the backlog
      send(third, post("{\"payloads\": [1]}"));

      // then the stalled two are cut off, and the third is served
      assertHeaderTimeout(readResponse(first.getInputStream()));
      assertHeaderTimeout(readResponse(second.getInputStream()));
      String response = readResponse(third.getInputStream());
      assertTrue(response.startsWith("HTTP/1.1 202"), response);
    }
  }

  @Test
  void aKeepAliveConnectionIdleBetweenRequestsLongerThanTheHeaderTimeoutIsServedEveryTime()
      throws Exception {
    start(c -> c);
    try (Socket socket = connect()) {
      for (int i = 0; i < 3; i++) {
        // the pause between requests is the behaviour under test; nothing waits on it
        Thread.sleep(HEADER_TIMEOUT.multipliedBy(2));

        send(socket, post("{\"payloads\": [" + i + "]}"));

        String response = readResponse(socket.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 202"), "request " + i + ": " + response);
      }
    }
  }

  @Test
  void headersInTimeAreAnsweredNormallyAndNoStrayInterruptHitsTheBodyOrTheNextRequest()
      throws Exception {
    // given a header timeout long enough for a head sent in two parts a moment apart
    start(c -> c.withHeaderTimeout(Duration.ofSeconds(2)));
    try (Socket socket = connect()) {
      for (int i = 0; i < 2; i++) {
        String body = "{\"payloads\": [" + i + "]}";
        // when the head comes in two parts, and the body well after the header timeout
        send(socket, "POST /v1/payloads HTTP/1.1\r\nHost: test\r\n");
        Thread.sleep(100); // a slow client, well within the timeout
        send(
            socket,
            "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n");
        Thread.sleep(2_500); // past the header timeout: only the body timeout counts now
        send(socket, body);

        // then each request is accepted, the connection kept
        String response = readResponse(socket.getInputStream());
        assertTrue(response.startsWith("HTTP/1.1 202"), "request " + i + ": " + response);
        assertTrue(!response.contains("Connection: close"), response);
      }
    }
  }

  @Test
  void eachHeaderTimeoutIsCountedUnderTheRouteProtocolAsA408AndNothingElse() throws Exception {
    start(c -> c);
    String protocol408 = "sluice_http_requests_total{route=\"protocol\",status=\"408\"}";
    assertEquals(OptionalLong.empty(), counter(protocol408));

    for (int i = 0; i < 2; i++) {
      try (Socket socket = stalledInItsHeaders()) {
        assertHeaderTimeout(readResponse(socket.getInputStream()));
        assertClosed(socket);
      }
    }

    assertEquals(OptionalLong.of(2), counter(protocol408));
    for (String status : new String[] {"400", "500", "503"}) {
      assertEquals(
          OptionalLong.empty(),
          counter("sluice_http_requests_total{route=\"protocol\",status=\"" + status + "\"}"),
          "no other answer was counted for the cut-off requests: " + status);
    }
  }

  @Test
  void closingTheServiceWithAClientStalledInItsHeadersEndsEveryThreadItStarted() throws Exception {
    // given a service with a client stalled in its headers, far from its header timeout
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    start(c -> c.withHeaderTimeout(Duration.ofMinutes(5)));
    try (Socket cutOffLater = stalledInItsHeaders()) {
      try (Socket healthy = connect()) {
        send(healthy, "GET /health/live HTTP/1.1\r\nHost: test\r\n\r\n");
        assertTrue(readResponse(healthy.getInputStream()).startsWith("HTTP/1.1 200"));
      }
      List<Thread> started =
          Thread.getAllStackTraces().keySet().stream()
              .filter(t -> !before.contains(t) && !processWide(t))
              .toList();

      // when
      server.close();
      server = null;

      // then the stalled client's connection is closed, and the threads the service started end
      assertClosed(cutOffLater);
      for (Thread t : started) {
        t.join(Duration.ofSeconds(10));
        assertTrue(!t.isAlive(), t.getName() + " still runs after the service closed");
      }
    }
  }

  /** Threads one per process: virtual-thread carriers, Helidon's timers, the timer wheel. */
  private static boolean processWide(Thread t) {
    String name = t.getName();
    return name.startsWith("ForkJoinPool")
        || name.startsWith("helidon-")
        || name.equals("sluice-timer");
  }
}
