package io.sluice.server;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ProtocolException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/*
 * One HTTP/1.1 connection of 'sluice load': a blocking socket on the worker's virtual thread, one
 * request at a time, kept alive between requests.
 *
 * Why not java.net.http.HttpClient: on this project's 2-core machine it spent 360-600 µs of CPU per
 * request (its selector thread, futures and per-request objects), Helidon's WebClient 180-260 µs,
 * and this 35-45 µs; with the generator and the service sharing two cores, the generator's cost
 * is taken from the service's, so the JDK client measured 1,700 requests/s where wrk measured 7,100
 * on the same service (docs/benchmarks.md, "Ingest service").
 *
 * What it speaks: a request is written whole (head and body, one flush); the response is read as
 * RFC 9112 says: a status line, header fields, then a body delimited by Content-Length, by the
 * chunked transfer coding (when it is the final coding; another final coding reads to the end), or
 * (neither) by the end of the connection; 1xx interim responses are skipped, but 101 is an error.
 * `Connection: close` in any field, an HTTP/1.0 answer without keep-alive, a body that ends with
 * the connection, or bytes beyond the answer (nobody asked for them; they would be read as the
 * next answer) leave the connection closed, and the next request opens a new one. A connection
 * idle for over a second is checked before reuse (a read of 1 ms): servers close idle keep-alive
 * connections, and a request written on one would fail though the server is well. A TLS handshake
 * happens when the connection opens, within the connect timeout. Bounds against
 * a hostile or broken server: a header line of at most 8 KiB, at most 100 fields (and trailer
 * fields), and only the
 * first 4 KiB of an error's body kept (the rest is read and dropped; a 2xx body only up to what
 * the caller asks for, to check it). The answer must come within the
 * request's deadline: each read waits at most the time left (SO_TIMEOUT), and a timeout closes the
 * connection, since its late answer would be read as the next request's. A socket write has no
 * timeout in Java, so a write still under way past the deadline (a server that stopped reading,
 * with the request larger than what the socket buffers hold) is ended from outside: the owner calls
 * closeIfWriteOverdue now and then (the load generator, once a second), which closes the socket and
 * makes the write fail as a timeout.
 */
final class LoadConnection implements AutoCloseable {
  /** How much of a body is kept: enough for an error's JSON, not a hostile server's megabytes. */
  static final int KEPT_BODY_BYTES = 4096;

  private static final int MAX_LINE_BYTES = 8192;
  private static final int MAX_FIELDS = 100;

  /**
   * An answer: its status, the start of its body (an error's; a 2xx's only when asked for), and its
   * body's whole length in bytes.
   */
  record Response(int status, Optional<String> body, long length) {}

  /** Where connections go and how they are made; shared by the workers. */
  record Endpoint(String host, int port, boolean tls, String hostHeader, Duration connectTimeout) {

    /** The endpoint of {@code url} (http or https; default ports 80 and 443). */
    static Endpoint of(URI url, Duration connectTimeout) {
      boolean tls = "https".equalsIgnoreCase(url.getScheme());
      if (!tls && !"http".equalsIgnoreCase(url.getScheme())) {
        throw new IllegalArgumentException("not an http or https URL: " + url);
      }
      int port = url.getPort() >= 0 ? url.getPort() : tls ? 443 : 80;
      String host = url.getHost();
      if (host == null) {
        throw new IllegalArgumentException("no host in " + url);
      }
      String hostHeader = url.getPort() >= 0 ? url.getRawAuthority() : host;
      int at = hostHeader.lastIndexOf('@'); // user info never goes in Host
      return new Endpoint(
          host, port, tls, at >= 0 ? hostHeader.substring(at + 1) : hostHeader, connectTimeout);
    }

    LoadConnection open(SSLSocketFactory tlsSockets) throws IOException {
      Socket socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(host, port), connectMillis());
        if (tls) {
          SSLSocket secured = (SSLSocket) tlsSockets.createSocket(socket, host, port, true);
          SSLParameters checks = secured.getSSLParameters();
          checks.setEndpointIdentificationAlgorithm("HTTPS"); // the certificate must name the host
          secured.setSSLParameters(checks);
          socket = secured;
          // The handshake within the connect timeout, not inside the first request's write,
          // where no read timeout applies and a server that never answers it would hold the
          // worker for ever.
          secured.setSoTimeout(connectMillis());
          secured.startHandshake();
        }
        return new LoadConnection(socket);
      } catch (IOException | RuntimeException e) {
        socket.close();
        throw e;
      }
    }

    private int connectMillis() {
      return (int) Math.min(Integer.MAX_VALUE, Math.max(1, connectTimeout.toMillis()));
    }
  }

  /**
   * How long a connection may sit idle before {@link #usable()} checks that the server has not
   * closed it: servers close idle keep-alive connections (this service after 60 s), and a request
   * written on such a connection fails with no answer though the service is well.
   */
  static final long IDLE_CHECK_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final byte[] buf = new byte[16 * 1024];
  private final byte[] line = new byte[MAX_LINE_BYTES];
  private int pos;
  private int lim;
  private boolean open = true;
  private long idleSince = -1; // System.nanoTime() when the last answer ended; -1 before any
  // The deadline of the write under way, NOT_WRITING when none; read by closeIfWriteOverdue.
  private volatile long writingUntil = NOT_WRITING;
  private volatile boolean writeOverdue;

  private static final long NOT_WRITING = Long.MIN_VALUE;

  private LoadConnection(Socket socket) throws IOException {
    this.socket = socket;
    this.in = socket.getInputStream();
    this.out = socket.getOutputStream();
  }

  /** Whether the connection can take another request. */
  boolean isOpen() {
    return open;
  }

  /**
   * Whether the connection can take another request, checking, when it has been idle longer than
   * {@link #IDLE_CHECK_NANOS}, that the server has not closed it meanwhile; a connection found
   * closed (or holding bytes nobody asked for) is closed here.
   */
  boolean usable() {
    return usable(IDLE_CHECK_NANOS);
  }

  /** {@link #usable()} with the idle time after which to check; for tests. */
  boolean usable(long idleCheckNanos) {
    if (!open || idleSince < 0 || System.nanoTime() - idleSince < idleCheckNanos) {
      return open;
    }
    try {
      socket.setSoTimeout(1);
      in.read(buf, 0, buf.length); // the end of the stream, or bytes no request asked for
    } catch (SocketTimeoutException e) {
      return true; // nothing to read: still open
    } catch (IOException e) {
      // reset: closed below
    }
    close();
    return false;
  }

  /**
   * Sends one request (its bytes, head and body) and reads the answer.
   *
   * @param request the whole request
   * @param deadlineNanos the {@link System#nanoTime()} by which the answer must have come
   * @throws SocketTimeoutException if the answer did not come in time, or the request could not be
   *     written in time (see {@link #closeIfWriteOverdue}); the connection is closed
   * @throws ProtocolException if the answer is not HTTP/1.x; the connection is closed
   * @throws IOException if the connection failed; it is closed
   */
  Response exchange(byte[] request, long deadlineNanos) throws IOException {
    return exchange(request, deadlineNanos, 0);
  }

  /**
   * {@link #exchange(byte[], long)}, keeping up to {@code keptSuccessBytes} of a 2xx answer's body
   * too (read whole either way), for a caller that checks what a success says.
   */
  Response exchange(byte[] request, long deadlineNanos, int keptSuccessBytes) throws IOException {
    try {
      write(request, deadlineNanos);
      for (; ; ) {
        Response r = readResponse(deadlineNanos, keptSuccessBytes);
        if (r != null) {
          return r;
        }
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
  }

  private void write(byte[] request, long deadlineNanos) throws IOException {
    writingUntil = deadlineNanos == NOT_WRITING ? deadlineNanos + 1 : deadlineNanos;
    try {
      out.write(request);
      out.flush();
    } catch (IOException e) {
      if (writeOverdue) {
        throw new SocketTimeoutException(
            "the request could not be written within its timeout: the server stopped reading");
      }
      throw e;
    } finally {
      writingUntil = NOT_WRITING;
    }
  }

  /**
   * Closes the connection if a request's write is still under way at {@code nowNanos}, past its
   * deadline; the writing thread then gets a {@link SocketTimeoutException}. Safe to call from any
   * thread.
   *
   * @param nowNanos the current {@link System#nanoTime()}
   * @return whether it closed the connection
   */
  boolean closeIfWriteOverdue(long nowNanos) {
    long until = writingUntil;
    if (until == NOT_WRITING || nowNanos - until < 0) {
      return false;
    }
    writeOverdue = true;
    close();
    return true;
  }

  /** One response, or null for a 1xx interim one (skipped). */
  private Response readResponse(long deadline, int keptSuccessBytes) throws IOException {
    String status = readLine(deadline);
    if (!status.startsWith("HTTP/1.") || status.length() < 12 || status.charAt(8) != ' ') {
      throw new ProtocolException("not an HTTP/1.x status line: " + printable(status));
    }
    int code = parseStatus(status);
    boolean http10 = status.charAt(7) == '0';
    long length = -1;
    boolean chunked = false;
    boolean transferCoded = false;
    boolean closeAsked = false;
    boolean keepAliveAsked = false;
    int fields = 0;
    for (String field; !(field = readLine(deadline)).isEmpty(); ) {
      if (++fields > MAX_FIELDS) {
        throw new ProtocolException("more than " + MAX_FIELDS + " header fields");
      }
      int colon = field.indexOf(':');
      if (colon <= 0) {
        throw new ProtocolException("not a header field: " + printable(field));
      }
      String name = field.substring(0, colon).strip().toLowerCase(Locale.ROOT);
      String value = field.substring(colon + 1).strip();
      switch (name) {
        case "content-length" -> length = parseLength(value, length);
        case "transfer-encoding" -> {
          transferCoded = true;
          chunked = lastToken(value).equals("chunked"); // only the final coding frames the body
        }
        case "connection" -> {
          for (String token : value.split(",")) {
            String t = token.strip().toLowerCase(Locale.ROOT);
            closeAsked |= t.equals("close");
            keepAliveAsked |= t.equals("keep-alive");
          }
        }
        default -> {}
      }
    }
    if (code == 101) {
      throw new ProtocolException("the server switched protocols (101) on a plain POST");
    }
    if (code / 100 == 1) {
      return null; // 100 Continue and the like: the answer follows
    }
    boolean close = closeAsked || (http10 && (!keepAliveAsked || transferCoded));
    // an error's message; a success's body only when the caller checks it
    int kept = code / 100 != 2 ? KEPT_BODY_BYTES : keptSuccessBytes;
    BodySink body = new BodySink(kept);
    if (code == 204 || code == 304) {
      // no body, whatever the fields say
    } else if (chunked) {
      readChunked(deadline, body);
    } else if (length >= 0 && !transferCoded) {
      readExactly(length, deadline, body);
    } else {
      readToEnd(deadline, body);
      close = true;
    }
    if (close || pos != lim) {
      close(); // asked, or bytes beyond the answer: they would be read as the next answer
    } else {
      idleSince = System.nanoTime();
    }
    return new Response(
        code, kept > 0 ? Optional.of(body.text()) : Optional.empty(), body.length());
  }

  private static int parseStatus(String status) throws ProtocolException {
    int code = 0;
    for (int i = 9; i < 12; i++) {
      char c = status.charAt(i);
      if (c < '0' || c > '9') {
        throw new ProtocolException("no status code in " + printable(status));
      }
      code = code * 10 + (c - '0');
    }
    if (status.length() > 12 && status.charAt(12) != ' ') {
      throw new ProtocolException("no status code in " + printable(status));
    }
    return code;
  }

  private static long parseLength(String value, long earlier) throws ProtocolException {
    long n;
    try {
      n = Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new ProtocolException("Content-Length is not a number: " + printable(value));
    }
    if (n < 0 || (earlier >= 0 && earlier != n)) {
      throw new ProtocolException("Content-Length " + printable(value) + " is not a length");
    }
    return n;
  }

  private void readChunked(long deadline, BodySink body) throws IOException {
    for (; ; ) {
      String size = readLine(deadline);
      int ext = size.indexOf(';');
      String hex = (ext >= 0 ? size.substring(0, ext) : size).strip();
      long n;
      try {
        n = Long.parseLong(hex, 16);
      } catch (NumberFormatException e) {
        throw new ProtocolException("not a chunk size: " + printable(size));
      }
      if (n < 0) {
        throw new ProtocolException("not a chunk size: " + printable(size));
      }
      if (n == 0) {
        for (int trailers = 0; !readLine(deadline).isEmpty(); trailers++) {
          if (trailers == MAX_FIELDS) { // trailer fields: read and dropped, as many as fields
            throw new ProtocolException("more than " + MAX_FIELDS + " trailer fields");
          }
        }
        return;
      }
      readExactly(n, deadline, body);
      if (!readLine(deadline).isEmpty()) {
        throw new ProtocolException("a chunk does not end with CRLF");
      }
    }
  }

  private void readExactly(long n, long deadline, BodySink body) throws IOException {
    while (n > 0) {
      if (pos == lim && !fill(deadline)) {
        throw new EOFException("the connection ended " + n + " bytes before the body's end");
      }
      int take = (int) Math.min(n, lim - pos);
      body.add(buf, pos, take);
      pos += take;
      n -= take;
    }
  }

  private void readToEnd(long deadline, BodySink body) throws IOException {
    while (pos < lim || fill(deadline)) {
      body.add(buf, pos, lim - pos);
      pos = lim;
    }
  }

  /** A line without its CRLF (a bare LF is accepted), as ISO-8859-1 text. */
  private String readLine(long deadline) throws IOException {
    int n = 0;
    for (; ; ) {
      if (pos == lim && !fill(deadline)) {
        throw new EOFException(
            n == 0 ? "the connection closed with no answer" : "the connection ended mid-line");
      }
      byte b = buf[pos++];
      if (b == '\n') {
        if (n > 0 && line[n - 1] == '\r') {
          n--;
        }
        return new String(line, 0, n, ISO_8859_1);
      }
      if (n == line.length) {
        throw new ProtocolException(
            "a line of the answer is longer than " + line.length + " bytes");
      }
      line[n++] = b;
    }
  }

  /** Reads more into the empty buffer; false at the end of the stream. */
  private boolean fill(long deadline) throws IOException {
    long left = deadline - System.nanoTime();
    if (left <= 0) {
      throw new SocketTimeoutException("no answer within the request timeout");
    }
    socket.setSoTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, left / 1_000_000)));
    int n = in.read(buf, 0, buf.length);
    if (n < 0) {
      return false;
    }
    pos = 0;
    lim = n;
    return true;
  }

  @Override
  public void close() {
    open = false;
    try {
      socket.close();
    } catch (IOException e) {
      // closing: nothing left to do with it
    }
  }

  private static String lastToken(String list) {
    int comma = list.lastIndexOf(',');
    return list.substring(comma + 1).strip().toLowerCase(Locale.ROOT);
  }

  private static String printable(String s) {
    String cut = s.length() > 80 ? s.substring(0, 80) + "..." : s;
    return '"' + cut.replaceAll("\\p{Cntrl}", "?") + '"';
  }

  /**
   * The start of a body, up to a limit (none: 0); the rest is only counted. The buffer grows as
   * bytes come, so a short body of a large limit allocates little.
   */
  private static final class BodySink {
    private final int limit;
    private byte[] kept;
    private int size;
    private long length;

    BodySink(int limit) {
      this.limit = limit;
      this.kept = new byte[Math.min(limit, 256)];
    }

    void add(byte[] b, int off, int len) {
      length += len;
      int n = Math.min(len, limit - size);
      if (n <= 0) {
        return;
      }
      if (size + n > kept.length) {
        kept = Arrays.copyOf(kept, (int) Math.min(limit, Math.max(size + n, 2L * kept.length)));
      }
      System.arraycopy(b, off, kept, size, n);
      size += n;
    }

    String text() {
      return new String(kept, 0, size, UTF_8);
    }

    long length() {
      return length;
    }
  }

  /** The head of a POST of {@code bodyLength} bytes to {@code path}, ready to be followed. */
  static byte[] postHead(
      Endpoint endpoint, String path, int bodyLength, Optional<String> bearerToken) {
    StringBuilder h = new StringBuilder(160);
    h.append("POST ").append(path).append(" HTTP/1.1\r\n");
    h.append("Host: ").append(endpoint.hostHeader()).append("\r\n");
    h.append("Content-Type: application/json\r\n");
    h.append("Content-Length: ").append(bodyLength).append("\r\n");
    bearerToken.ifPresent(t -> h.append("Authorization: Bearer ").append(t).append("\r\n"));
    h.append("\r\n");
    return h.toString().getBytes(ISO_8859_1);
  }

  /** The deadline of an answer that may take {@code timeout}. */
  static long deadlineAfter(Duration timeout) {
    return System.nanoTime() + Math.min(TimeUnit.DAYS.toNanos(1), timeout.toNanos());
  }
}
