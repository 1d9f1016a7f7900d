package io.sluice.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ProtocolException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ServerSocketFactory;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice load}'s HTTP/1.1 connection against scripted servers on a real port: each way a
 * response may be delimited, kept-alive and closed connections, timeouts, and answers that are not
 * HTTP.
 */
@Timeout(60)
class LoadConnectionTest {
  private static final byte[] BODY = "{\"payloads\":[1]}".getBytes(UTF_8);
  private static final long LONG = TimeUnit.SECONDS.toNanos(30);

  private final List<Scripted> servers = new CopyOnWriteArrayList<>();
  private final List<String> received = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeServers() throws Exception {
    for (Scripted s : servers) {
      s.stop();
    }
  }

  @Test
  void sendsThePostAsWrittenAndReadsAContentLengthAnswerKeepingTheConnection() throws Exception {
    // given a server that answers every request 202 with a length-delimited body
    Scripted server =
        serve(
            (in, out) -> {
              for (; ; ) {
                String request = readRequest(in);
                if (request == null) {
                  return;
                }
                received.add(request);
                out.write(answer("HTTP/1.1 202 Accepted", "{\"accepted\":1}"));
              }
            });
    LoadConnection.Endpoint endpoint = endpoint(server, "/base/v1/payloads");

    // when two requests go over one connection
    try (LoadConnection c = endpoint.open(null)) {
      LoadConnection.Response first = c.exchange(post(endpoint, Optional.of("s3cret")), deadline());
      LoadConnection.Response second = c.exchange(post(endpoint, Optional.empty()), deadline());

      // then both are answered, on the one connection, and a 2xx body is not kept
      assertEquals(202, first.status());
      assertEquals(202, second.status());
      assertEquals(Optional.empty(), first.body());
      assertTrue(c.isOpen());
    }
    assertEquals(1, server.accepted.get());
    String head = received.getFirst();
    assertTrue(head.startsWith("POST /base/v1/payloads HTTP/1.1\r\n"), head);
    assertTrue(head.contains("\r\nHost: 127.0.0.1:" + server.port() + "\r\n"), head);
    assertTrue(head.contains("\r\nContent-Type: application/json\r\n"), head);
    assertTrue(head.contains("\r\nContent-Length: " + BODY.length + "\r\n"), head);
    assertTrue(head.contains("\r\nAuthorization: Bearer s3cret\r\n"), head);
    assertTrue(head.endsWith("\r\n\r\n" + new String(BODY, UTF_8)), head);
    assertFalse(received.get(1).contains("Authorization"), received.get(1));
  }

  @Test
  void readsAChunkedErrorBodyWithExtensionsAndTrailers() throws Exception {
    Scripted server =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(
                  ("HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n"
                          + "b;name=value\r\n{\"error\":\"m\r\n"
                          + "a\r\nalformed\"}\r\n"
                          + "0\r\nX-Trailer: 1\r\n\r\n")
                      .getBytes(ISO_8859_1));
              readRequest(in); // and the connection is still good for the next one
              out.write(answer("HTTP/1.1 202 Accepted", ""));
            });
    LoadConnection.Endpoint endpoint = endpoint(server, "/v1/payloads");

    try (LoadConnection c = endpoint.open(null)) {
      LoadConnection.Response r = c.exchange(post(endpoint, Optional.empty()), deadline());
      LoadConnection.Response next = c.exchange(post(endpoint, Optional.empty()), deadline());

      assertEquals(400, r.status());
      assertEquals(Optional.of("{\"error\":\"malformed\"}"), r.body());
      assertEquals(202, next.status());
    }
  }

  @Test
  void connectionCloseAndAnHttp10AnswerReadToTheEndLeaveTheConnectionClosed() throws Exception {
    Scripted closing =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(
                  answer(
                      "HTTP/1.1 503 Service Unavailable",
                      "Content-Length: 4\r\nConnection: close",
                      "busy"));
            });
    Scripted http10 =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write("HTTP/1.0 500 Oops\r\n\r\nno length here".getBytes(ISO_8859_1));
            });

    LoadConnection a = endpoint(closing, "/v1/payloads").open(null);
    LoadConnection.Response ra =
        a.exchange(post(endpoint(closing, "/v1/payloads"), Optional.empty()), deadline());
    LoadConnection b = endpoint(http10, "/v1/payloads").open(null);
    LoadConnection.Response rb =
        b.exchange(post(endpoint(http10, "/v1/payloads"), Optional.empty()), deadline());

    assertEquals(503, ra.status());
    assertEquals(Optional.of("busy"), ra.body());
    assertFalse(a.isOpen());
    assertEquals(500, rb.status());
    assertEquals(Optional.of("no length here"), rb.body());
    assertFalse(b.isOpen());
  }

  @Test
  void skipsAnInterim100ContinueAnswer() throws Exception {
    Scripted server =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(ISO_8859_1));
              out.write(answer("HTTP/1.1 202 Accepted", "{}"));
            });
    LoadConnection.Endpoint endpoint = endpoint(server, "/v1/payloads");

    try (LoadConnection c = endpoint.open(null)) {
      assertEquals(202, c.exchange(post(endpoint, Optional.empty()), deadline()).status());
    }
  }

  @Test
  void keepsOnlyTheStartOfAHugeErrorBodyAndStaysUsable() throws Exception {
    int size = 200_000;
    Scripted server =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(answer("HTTP/1.1 500 Internal Server Error", "e".repeat(size)));
              readRequest(in);
              out.write(answer("HTTP/1.1 202 Accepted", ""));
            });
    LoadConnection.Endpoint endpoint = endpoint(server, "/v1/payloads");

    try (LoadConnection c = endpoint.open(null)) {
      LoadConnection.Response r = c.exchange(post(endpoint, Optional.empty()), deadline());
      assertEquals(500, r.status());
      assertEquals("e".repeat(LoadConnection.KEPT_BODY_BYTES), r.body().orElseThrow());
      assertEquals(202, c.exchange(post(endpoint, Optional.empty()), deadline()).status());
    }
  }

  @Test
  void keepsTheStartOfASuccessBodyWhenAskedAndCountsItsWholeLength() throws Exception {
    Scripted server =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(answer("HTTP/1.1 202 Accepted", "{\"accepted\":1,\"ids\":[\"a\"]}"));
              readRequest(in);
              out.write(answer("HTTP/1.1 200 OK", "o".repeat(5_000)));
              readRequest(in);
              out.write(answer("HTTP/1.1 202 Accepted", ""));
            });
    LoadConnection.Endpoint endpoint = endpoint(server, "/v1/payloads");

    try (LoadConnection c = endpoint.open(null)) {
      LoadConnection.Response whole = c.exchange(post(endpoint, Optional.empty()), deadline(), 64);
      LoadConnection.Response cut = c.exchange(post(endpoint, Optional.empty()), deadline(), 100);
      LoadConnection.Response empty = c.exchange(post(endpoint, Optional.empty()), deadline(), 64);

      assertEquals(Optional.of("{\"accepted\":1,\"ids\":[\"a\"]}"), whole.body());
      assertEquals(26, whole.length());
      assertEquals(Optional.of("o".repeat(100)), cut.body());
      assertEquals(5_000, cut.length());
      assertEquals(Optional.of(""), empty.body());
      assertEquals(0, empty.length());
      assertTrue(c.isOpen());
    }
  }

  @Test
  void noAnswerWithinTheDeadlineIsATimeoutAndClosesTheConnection() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Scripted silent =
        serve(
            (in, out) -> {
              readRequest(in);
              release.await(); // never answers while the test runs
            });
    LoadConnection.Endpoint endpoint = endpoint(silent, "/v1/payloads");
    LoadConnection c = endpoint.open(null);
    try {
      long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200);

      assertThrows(
          SocketTimeoutException.class,
          () -> c.exchange(post(endpoint, Optional.empty()), deadline));
      assertFalse(c.isOpen());
    } finally {
      release.countDown();
    }
  }

  @Test
  void answersThatAreNotHttpAreProtocolErrorsAndCloseTheConnection() throws Exception {
    List<String> answers =
        List.of(
            "SSH-2.0-OpenSSH_9.6\r\n",
            "HTTP/1.1 2x2 Nope\r\n\r\n",
            "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: -5\r\n\r\n",
            "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "HTTP/1.1 200 OK\r\nX-Long: " + "a".repeat(10_000) + "\r\n\r\n",
            "HTTP/1.1 200 OK\r\n" + "X-Field: 1\r\n".repeat(101) + "\r\n",
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
                + "X-Trailer: 1\r\n".repeat(101)
                + "\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
    for (String text : answers) {
      Scripted server =
          serve(
              (in, out) -> {
                readRequest(in);
                out.write(text.getBytes(ISO_8859_1));
                out.flush();
                readRequest(in); // hold the connection open until the client closes it
              });
      LoadConnection.Endpoint endpoint = endpoint(server, "/v1/payloads");
      LoadConnection c = endpoint.open(null);

      assertThrows(
          ProtocolException.class,
          () -> c.exchange(post(endpoint, Optional.empty()), deadline()),
          text);
      assertFalse(c.isOpen(), text);
    }
  }

  @Test
  void bytesBeyondTheAnswerCloseTheConnectionSoTheyAreNeverTakenForTheNextAnswer()
      throws Exception {
    // given a server that sends a second, unasked answer right after the first
    Scripted server =
        serve(
            (in, out) -> {
              readRequest(in);
              // one write, so that both arrive in the client's one read
              out.write(
                  (new String(answer("HTTP/1.1 202 Accepted", "{}"), UTF_8)
                          + new String(
                              answer("HTTP/1.1 500 Internal Server Error", "stray"), UTF_8))
                      .getBytes(UTF_8));
              out.flush();
              readRequest(in); // hold the connection until the client closes it
            });
    LoadConnection.Endpoint endpoint = endpoint(server, "/v1/payloads");
    LoadConnection c = endpoint.open(null);

    // when it answers one request, then the answer is the first, and the connection is closed
    LoadConnection.Response r = c.exchange(post(endpoint, Optional.empty()), deadline());
    assertEquals(202, r.status());
    assertFalse(c.isOpen(), "a connection holding bytes nobody asked for is not reused");
  }

  @Test
  void connectionTokensAccumulateOverFieldsAndAnHttp10KeepAliveStaysOpen() throws Exception {
    Scripted closeThenUpgrade =
        answering(
            answer(
                "HTTP/1.1 202 Accepted",
                "Content-Length: 0\r\nConnection: close\r\nConnection: upgrade",
                ""));
    Scripted notClose =
        answering(
            answer("HTTP/1.1 202 Accepted", "Content-Length: 0\r\nConnection: x-enclosed", ""));
    Scripted http10KeepAlive =
        answering(
            answer("HTTP/1.0 202 Accepted", "Content-Length: 0\r\nConnection: Keep-Alive", ""));

    LoadConnection a = open(closeThenUpgrade);
    postOver(a, closeThenUpgrade);
    LoadConnection b = open(notClose);
    postOver(b, notClose);
    LoadConnection c = open(http10KeepAlive);
    postOver(c, http10KeepAlive);

    assertFalse(a.isOpen(), "close in an earlier field is not undone by a later one");
    assertTrue(b.isOpen(), "a token that merely contains 'close' is not close");
    assertEquals(202, postOver(b, notClose).status());
    assertTrue(c.isOpen(), "HTTP/1.0 with keep-alive stays open");
    assertEquals(202, postOver(c, http10KeepAlive).status());
    b.close();
    c.close();
  }

  @Test
  void aTransferCodingOtherThanChunkedLastIsReadToTheEndWhateverItsContentLength()
      throws Exception {
    Scripted server = // answers once, then closes: the body ends with the connection
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(
                  answer(
                      "HTTP/1.1 500 Oops",
                      "Transfer-Encoding: chunked, identity\r\nContent-Length: 2",
                      "until the end"));
            });
    LoadConnection c = open(server);

    LoadConnection.Response r = postOver(c, server);

    assertEquals(500, r.status());
    assertEquals(Optional.of("until the end"), r.body());
    assertFalse(c.isOpen());
  }

  @Test
  void anIdleConnectionTheServerClosedIsFoundUnusableAndOneStillOpenIsKept() throws Exception {
    // given one server that closes each connection after its answer, without saying so, and one
    // that keeps it
    Scripted closing =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(answer("HTTP/1.1 202 Accepted", "{}"));
            });
    Scripted keeping = answering(answer("HTTP/1.1 202 Accepted", "{}"));
    LoadConnection a = open(closing);
    LoadConnection b = open(keeping);
    postOver(a, closing);
    postOver(b, keeping);
    closing.awaitScriptsEnded(1); // the server has closed its side

    // when both are checked as if idle past the limit
    boolean aUsable = a.usable(0);
    boolean bUsable = b.usable(0);

    // then the closed one is found so (and closed), the open one is kept and still answers
    assertFalse(aUsable);
    assertFalse(a.isOpen());
    assertTrue(bUsable);
    assertEquals(202, postOver(b, keeping).status());
    assertEquals(1, keeping.accepted.get());
    b.close();
  }

  @Test
  void aBodyCutShortOrNoAnswerAtAllIsAnEndOfStream() throws Exception {
    Scripted cut =
        serve(
            (in, out) -> {
              readRequest(in);
              out.write(answer("HTTP/1.1 202 Accepted", "Content-Length: 100", "short"));
            });
    Scripted hangUp = serve((in, out) -> readRequest(in));

    LoadConnection.Endpoint e1 = endpoint(cut, "/v1/payloads");
    LoadConnection.Endpoint e2 = endpoint(hangUp, "/v1/payloads");
    LoadConnection c1 = e1.open(null);
    LoadConnection c2 = e2.open(null);

    EOFException short1 =
        assertThrows(EOFException.class, () -> c1.exchange(post(e1, Optional.empty()), deadline()));
    EOFException none =
        assertThrows(EOFException.class, () -> c2.exchange(post(e2, Optional.empty()), deadline()));
    assertTrue(short1.getMessage().contains("95 bytes before the body's end"), short1.getMessage());
    assertTrue(none.getMessage().contains("no answer"), none.getMessage());
    assertFalse(c1.isOpen());
    assertFalse(c2.isOpen());
  }

  @Test
  void speaksHttpsThroughTheGivenSocketFactory(@TempDir Path dir) throws Exception {
    // given a TLS server with a certificate made for this test, and a client that trusts it
    SSLContext tls = selfSignedContext(dir);
    Scripted server =
        serve(
            tls.getServerSocketFactory(),
            (in, out) -> {
              readRequest(in);
              out.write(answer("HTTP/1.1 202 Accepted", "{}"));
            });
    LoadConnection.Endpoint endpoint =
        LoadConnection.Endpoint.of(
            URI.create("https://localhost:" + server.port() + "/v1/payloads"),
            Duration.ofSeconds(5));
    LoadConnection.Endpoint byAddress =
        LoadConnection.Endpoint.of(
            URI.create("https://127.0.0.1:" + server.port() + "/v1/payloads"),
            Duration.ofSeconds(5));
    SSLSocketFactory clientSockets = tls.getSocketFactory();

    // when it posts by the certificate's name, and by an address the certificate does not name
    try (LoadConnection c = endpoint.open(clientSockets)) {
      assertEquals(202, c.exchange(post(endpoint, Optional.empty()), deadline()).status());
    }
    // then the first is answered and the second refused as it connects (the handshake is part of
    // opening, within the connect timeout): the server's name is checked
    assertThrows(SSLHandshakeException.class, () -> byAddress.open(clientSockets));
  }

  @Test
  void aTlsServerThatNeverAnswersTheHandshakeTimesOutAtTheConnectTimeout(@TempDir Path dir)
      throws Exception {
    // given a server that accepts the connection and reads the client's hello but never answers
    Scripted silent =
        serve(
            (in, out) -> {
              while (in.read() >= 0) {
                // read and ignore
              }
            });
    LoadConnection.Endpoint endpoint =
        LoadConnection.Endpoint.of(
            URI.create("https://localhost:" + silent.port() + "/v1/payloads"),
            Duration.ofMillis(200));

    // when a connection is opened, then it fails with a timeout instead of waiting for ever
    assertThrows(
        SocketTimeoutException.class,
        () -> endpoint.open(selfSignedContext(dir).getSocketFactory()));
  }

  @Test
  @Timeout(60)
  void aWriteStillUnderWayPastItsDeadlineIsEndedFromOutsideAsATimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    Scripted notReading = serve((in, out) -> release.await()); // accepts, never reads
    LoadConnection c = open(notReading);
    byte[] huge = new byte[64 * 1024 * 1024]; // far beyond what both sockets' buffers hold
    long deadline = deadline();
    Thread writer =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    c.exchange(huge, deadline);
                  } catch (IOException e) {
                    received.add(e.getClass().getSimpleName() + ": " + e.getMessage());
                  }
                });
    while (writer.getState() != Thread.State.WAITING) { // parked in the write
      Thread.onSpinWait();
    }

    // when checked before the deadline, then after it
    boolean closedEarly = c.closeIfWriteOverdue(deadline - 1);
    boolean closedLate = c.closeIfWriteOverdue(deadline);
    writer.join();
    release.countDown();

    assertFalse(closedEarly, "not overdue before its deadline");
    assertTrue(closedLate);
    assertEquals(1, received.size());
    assertTrue(
        received.getFirst().startsWith("SocketTimeoutException: the request could not be written"),
        received.getFirst());
    assertFalse(c.isOpen());
  }

  @Test
  void aConnectionNotWritingIsNeverOverdue() throws Exception {
    Scripted server = answering(answer("HTTP/1.1 202 Accepted", "{}"));
    LoadConnection c = open(server);
    postOver(c, server);

    assertFalse(c.closeIfWriteOverdue(System.nanoTime() + LONG * 10));
    assertTrue(c.isOpen());
    assertEquals(202, postOver(c, server).status());
    c.close();
  }

  @Test
  void theEndpointFollowsTheUrl() {
    Duration t = Duration.ofSeconds(1);
    LoadConnection.Endpoint plain = LoadConnection.Endpoint.of(URI.create("http://h.example/x"), t);
    LoadConnection.Endpoint tls = LoadConnection.Endpoint.of(URI.create("https://h.example/x"), t);
    LoadConnection.Endpoint withPort =
        LoadConnection.Endpoint.of(URI.create("http://user:pw@h.example:8080/x"), t);

    assertEquals(80, plain.port());
    assertEquals("h.example", plain.hostHeader());
    assertFalse(plain.tls());
    assertEquals(443, tls.port());
    assertTrue(tls.tls());
    assertEquals(8080, withPort.port());
    assertEquals("h.example:8080", withPort.hostHeader());
    assertThrows(
        IllegalArgumentException.class,
        () -> LoadConnection.Endpoint.of(URI.create("ftp://h.example/x"), t));
  }

  // ---------------------------------------------------------------- helpers

  private static long deadline() {
    return System.nanoTime() + LONG;
  }

  private static byte[] post(LoadConnection.Endpoint endpoint, Optional<String> token) {
    byte[] head = LoadConnection.postHead(endpoint, "/base/v1/payloads", BODY.length, token);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.writeBytes(head);
    b.writeBytes(BODY);
    return b.toByteArray();
  }

  private static LoadConnection.Endpoint endpoint(Scripted server, String path) {
    return LoadConnection.Endpoint.of(
        URI.create("http://127.0.0.1:" + server.port() + path), Duration.ofSeconds(5));
  }

  private static byte[] answer(String statusLine, String fields, String body) {
    return (statusLine + "\r\n" + fields + "\r\n\r\n" + body).getBytes(UTF_8);
  }

  /** An answer whose body is delimited by its true Content-Length. */
  private static byte[] answer(String statusLine, String body) {
    return answer(statusLine, "Content-Length: " + body.getBytes(UTF_8).length, body);
  }

  /** One request's head and body as text, or null at the end of the connection. */
  private static String readRequest(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int last4 = 0;
    while (last4 != 0x0d0a0d0a) { // the head ends at CR LF CR LF
      int b = in.read();
      if (b < 0) {
        return null;
      }
      head.write(b);
      last4 = (last4 << 8) | b;
    }
    String text = head.toString(ISO_8859_1);
    int at = text.indexOf("Content-Length: ");
    int length = Integer.parseInt(text.substring(at + 16, text.indexOf("\r\n", at)));
    return text + new String(in.readNBytes(length), UTF_8);
  }

  private interface Script {
    void run(InputStream in, OutputStream out) throws Exception;
  }

  /** A server answering every request on a connection with {@code bytes}. */
  private Scripted answering(byte[] bytes) throws IOException {
    return serve(
        (in, out) -> {
          while (readRequest(in) != null) {
            out.write(bytes);
          }
        });
  }

  /** A connection to {@code server}'s payloads path. */
  private static LoadConnection open(Scripted server) throws IOException {
    return endpoint(server, "/v1/payloads").open(null);
  }

  /** One POST over {@code c}, which goes to {@code server}. */
  private static LoadConnection.Response postOver(LoadConnection c, Scripted server)
      throws IOException {
    return c.exchange(post(endpoint(server, "/v1/payloads"), Optional.empty()), deadline());
  }

  private Scripted serve(Script script) throws IOException {
    return serve(ServerSocketFactory.getDefault(), script);
  }

  private Scripted serve(ServerSocketFactory factory, Script script) throws IOException {
    Scripted s = new Scripted(factory.createServerSocket(0, 50, InetAddress.getLoopbackAddress()));
    servers.add(s);
    s.start(script);
    return s;
  }

  /** A server on a free port running {@code script} on each connection it accepts. */
  private static final class Scripted {
    final ServerSocket socket;
    final AtomicInteger accepted = new AtomicInteger();
    final List<Thread> threads = new CopyOnWriteArrayList<>();
    final List<Socket> sockets = new CopyOnWriteArrayList<>();

    Scripted(ServerSocket socket) {
      this.socket = socket;
    }

    int port() {
      return socket.getLocalPort();
    }

    void start(Script script) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    while (!socket.isClosed()) {
                      try {
                        Socket s = socket.accept();
                        accepted.incrementAndGet();
                        sockets.add(s);
                        threads.add(
                            Thread.ofVirtual()
                                .start(
                                    () -> {
                                      try (s) {
                                        script.run(s.getInputStream(), s.getOutputStream());
                                      } catch (Exception e) {
                                        // the client went away, or the test ended: done
                                      }
                                    }));
                      } catch (IOException e) {
                        return; // closed
                      }
                    }
                  }));
    }

    /** Waits until the scripts of the first {@code connections} connections have ended. */
    void awaitScriptsEnded(int connections) throws InterruptedException {
      while (threads.size() < 1 + connections) { // a script's thread is listed after it starts
        Thread.onSpinWait();
      }
      for (Thread t : threads.subList(1, 1 + connections)) {
        t.join();
      }
    }

    /** Closes the listening socket and every accepted one, and waits for each thread to end. */
    void stop() throws IOException, InterruptedException {
      socket.close();
      for (Socket s : sockets) {
        s.close();
      }
      for (Thread t : threads) {
        t.interrupt();
        assertTrue(t.join(Duration.ofSeconds(10)), "a scripted server thread did not end");
      }
    }
  }

  /** A context whose key store holds a self-signed certificate for localhost, trusted by itself. */
  private static SSLContext selfSignedContext(Path dir) throws Exception {
    Path store = dir.resolve("tls.p12");
    char[] password = "changeit".toCharArray();
    Process keytool =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                "test",
                "-keyalg",
                "EC",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                new String(password))
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), UTF_8);
    assertTrue(keytool.waitFor(60, TimeUnit.SECONDS), "keytool did not end");
    assertEquals(0, keytool.exitValue(), output);
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, password);
    }
    KeyManagerFactory km = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    km.init(keys, password);
    TrustManagerFactory tm =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tm.init(keys);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(km.getKeyManagers(), tm.getTrustManagers(), null);
    return context;
  }
}
