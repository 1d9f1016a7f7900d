package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/*
 * What every route of the HTTP API shares: the bearer token check, reading a JSON body within the
 * size and time limits and the in-flight body budget (BodyBudget), JSON answers, and turning
 * problems and failures into {"error", "message"} answers counted in the metrics by route template
 * and status.
 */
final class Http {
  private static final System.Logger LOG = System.getLogger(Http.class.getName());
  private static final JsonFactory JSON = new JsonFactory();

  private final ServerConfig config;
  private final ServerMetrics metrics;
  private final byte[] expectedToken;
  private final BodyBudget budget;

  Http(ServerConfig config, ServerMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.budget =
        new BodyBudget(
            config.maxInflightBodyBytes(), BodyBudget.smallBodyBytes(config.maxBodyBytes()));
    metrics.readBodyBytesFrom(budget::inFlight, budget.limit());
    this.expectedToken = config.token().map(t -> t.getBytes(StandardCharsets.UTF_8)).orElse(null);
  }

  /**
   * Refuses a request without the configured bearer token with 401 and the {@code WWW-Authenticate}
   * challenge RFC 6750 asks for: {@code Bearer realm="sluice"}, with {@code error="invalid_token"}
   * when a bearer token was sent but is not the one. The token is compared in constant time (for a
   * token of the right length).
   */
  void authorize(ServerRequest req, ServerResponse res) {
    if (expectedToken == null) {
      return;
    }
    byte[] given = bearerToken(req.headers().first(HeaderNames.AUTHORIZATION).orElse(""));
    if (given == null || !MessageDigest.isEqual(given, expectedToken)) {
      res.header(
          HeaderNames.WWW_AUTHENTICATE,
          given != null
              ? "Bearer realm=\"sluice\", error=\"invalid_token\""
              : "Bearer realm=\"sluice\"");
      throw new HttpProblem(
          401,
          "unauthorized",
          "this service needs the header"
              + " \"Authorization: Bearer <token>\" with its configured token");
    }
  }

  /**
   * The token of an {@code Authorization} header holding Bearer credentials, or null if it holds
   * none. The scheme is case-insensitive and one or more spaces separate it from the token (RFC
   * 9110, section 11.4; RFC 6750, section 2.1); the token is everything after them, exactly.
   */
  static byte[] bearerToken(String header) {
    if (header.length() < 7
        || !header.regionMatches(true, 0, "Bearer", 0, 6)
        || header.charAt(6) != ' ') {
      return null;
    }
    int start = 7;
    while (start < header.length() && header.charAt(start) == ' ') {
      start++;
    }
    return header.substring(start).getBytes(StandardCharsets.UTF_8);
  }

  static void checkContentType(ServerRequest req) {
    Optional<String> header = req.headers().first(HeaderNames.CONTENT_TYPE);
    String value = header.orElse("");
    String[] parts = value.split(";");
    String mediaType = parts[0].trim().toLowerCase(Locale.ROOT);
    if (!mediaType.equals("application/json")) {
      throw new HttpProblem(
          415,
          "unsupported_media_type",
          header.isEmpty()
              ? "the request has no Content-Type; send \"Content-Type: application/json\""
              : "Content-Type "
                  + abbreviate(value)
                  + " is not JSON; send \"Content-Type:"
                  + " application/json\"");
    }
    for (int i = 1; i < parts.length; i++) {
      String[] param = parts[i].trim().split("=", 2);
      if (param[0].trim().equalsIgnoreCase("charset") && param.length == 2) {
        String charset = param[1].trim().replace("\"", "");
        if (!charset.equalsIgnoreCase("utf-8") && !charset.equalsIgnoreCase("utf8")) {
          throw new HttpProblem(
              415,
              "unsupported_charset",
              "charset " + abbreviate(charset) + " is not supported; send JSON in UTF-8");
        }
      }
    }
  }

  /**
   * Reads the body, refusing at once what is or becomes larger than the limit, and what does not
   * fit the in-flight body budget. The buffer grows as bytes arrive (doubling, capped at the
   * Content-Length or the limit), so a request allocates no more than it has received, and it
   * reserves each growth (the whole Content-Length up front) before making it. A body that has not
   * fully arrived within the body timeout is answered 408 by {@link BodyDeadline}, and this method
   * then throws {@link AlreadyAnswered}. Whatever way it ends, the reservation is given back: by
   * this method when it throws, else by closing the returned body.
   *
   * @return the body, holding its reservation until closed
   */
  Body readBody(ServerRequest req, ServerResponse res) {
    int max = config.maxBodyBytes();
    OptionalLong declared = req.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > max) {
      throw bodyTooLarge(res, declared.getAsLong() + " bytes");
    }
    // Helidon ends a body at its Content-Length; a chunked one may run on. The buffer grows to the
    // limit at most: once it is full, read tries one byte more, and one byte past the limit tells
    // that the body is too large, without holding (or reserving) a byte over the limit.
    int cap = declared.isPresent() ? (int) declared.getAsLong() : max;
    Body body = new Body();
    try {
      byte[] buffer = new byte[Math.min(cap, INITIAL_BUFFER)];
      body.reserveUpTo(res, declared.isPresent() ? cap : buffer.length);
      body.bytes = read(req, res, body, buffer, cap);
      return body;
    } finally {
      if (body.bytes == null) {
        body.close();
      }
    }
  }

  private static final int INITIAL_BUFFER = 8192;

  /** Helidon's message for a last chunk not followed by the empty line that ends the body. */
  private static final String INVALID_LAST_CHUNK = "Invalid terminating chunk";

  private byte[] read(
      ServerRequest req, ServerResponse res, Body reservation, byte[] buffer, int cap) {
    int max = config.maxBodyBytes();
    BodyDeadline deadline = new BodyDeadline(res, Thread.currentThread());
    byte[] body;
    // The stream is closed only once the whole body was read. Closing it early asks Helidon for
    // the next chunk of a chunked body: after a malformed chunk-size line it would read what
    // follows as one more chunk, and after a refused chunk (413, 503) it would read the next, and
    // wait for bytes a client awaiting its answer does not send, so the answer would become 408 at
    // the body timeout. Every failure answers with "Connection: close", so Helidon does not read
    // the rest either.
    try {
      InputStream in = req.content().inputStream();
      int length = 0;
      while (true) {
        if (length == buffer.length) {
          if (length == cap) {
            if (in.read() < 0) {
              break;
            }
            throw bodyTooLarge(res, "more than " + max + " bytes");
          }
          int next = (int) Math.min(cap, 2L * buffer.length);
          reservation.reserveUpTo(res, next);
          buffer = Arrays.copyOf(buffer, next);
        }
        int n = in.read(buffer, length, buffer.length - length);
        if (n < 0) {
          break;
        }
        length += n;
        if (length > max) {
          throw bodyTooLarge(res, "more than " + max + " bytes");
        }
      }
      in.close(); // the body ended: marks it consumed, reads nothing more
      body = length == buffer.length ? buffer : Arrays.copyOf(buffer, length);
    } catch (IOException | RuntimeException e) {
      if (!deadline.finish()) {
        throw AlreadyAnswered.INSTANCE;
      }
      if (e instanceof HttpProblem p) {
        throw p;
      }
      throw unreadableBody(res, e);
    }
    if (!deadline.finish()) {
      throw AlreadyAnswered.INSTANCE;
    }
    return body;
  }

  /**
   * A request body, and the share of the in-flight body budget it holds until {@link #close()}.
   * Used by the one thread that handles the request.
   */
  final class Body implements AutoCloseable {
    private byte[] bytes;
    private long reserved;

    private Body() {}

    /** The body's bytes. */
    byte[] bytes() {
      return bytes;
    }

    /** Reserves what is missing for {@code total} bytes, or throws the 503 to answer. */
    private void reserveUpTo(ServerResponse res, long total) {
      long more = total - reserved;
      if (more <= 0) {
        return;
      }
      if (!budget.tryReserve(more, total)) {
        throw busy(res, total);
      }
      reserved = total;
    }

    /** Gives the reservation back; calling it again does nothing. */
    @Override
    public void close() {
      long r = reserved;
      reserved = 0;
      if (r > 0) {
        budget.release(r);
      }
    }
  }

  /**
   * The answer to a body that does not fit the in-flight budget. 503, not 429: in the HTTP contract
   * 429 says the queue has no room for this batch, which is about the payloads and is decided after
   * they are parsed; this refusal comes before the body is read, whatever it holds, because the
   * service as a whole is receiving as much as it may hold — the "temporary overload" of RFC 9110's
   * 503 (429 is for one client sending too many requests), and the status Helidon's own concurrency
   * limit answers. Either way nothing was accepted and Retry-After says when to try again; a load
   * balancer may well try another instance at once. The rest of the body is not read, so the
   * connection is closed after the answer.
   */
  private HttpProblem busy(ServerResponse res, long bytes) {
    res.header(HeaderNames.CONNECTION, "close");
    res.header(HeaderNames.RETRY_AFTER, "1");
    return new HttpProblem(
        503,
        "server_busy",
        "the service is receiving as many request bodies as it holds at once ("
            + budget.limit()
            + " bytes, --max-inflight-body-bytes, of which bodies over "
            + budget.smallBodyBytes()
            + " bytes may use three quarters), and this body's "
            + bytes
            + " bytes do not fit now; nothing was accepted. Retry after Retry-After seconds");
  }

  void checkInvariants() {
    budget.checkInvariants();
  }

  /**
   * A body Helidon could not read: a chunk size that is not hexadecimal, or that carries a chunk
   * extension, which Helidon 4.5 does not accept (its chunked decoder throws NumberFormatException
   * for both, and does not say which), a last chunk followed by trailer fields (which Helidon 4.5
   * refuses as an "Invalid terminating chunk"), or a body that ended early. Either way the rest of
   * the stream cannot be framed, so the connection is closed after the answer.
   */
  private static HttpProblem unreadableBody(ServerResponse res, Exception e) {
    res.header(HeaderNames.CONNECTION, "close");
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof NumberFormatException) {
        return HttpProblem.badRequest(
            "malformed_chunk",
            "a chunk-size line of the chunked body is not a hexadecimal number alone: the size"
                + " is not a hexadecimal number under 2^31, or it carries a chunk extension"
                + " (';name=value'), and chunk extensions are not accepted; send a chunked body"
                + " without them, or a Content-Length");
      }
      if (t instanceof io.helidon.http.RequestException
          && INVALID_LAST_CHUNK.equals(t.getMessage())) {
        return HttpProblem.badRequest(
            "unsupported_trailer",
            "the chunked body's last chunk is followed by trailer fields (or other bytes) before"
                + " its closing empty line, and trailer fields are not accepted; nothing was"
                + " accepted. Send the body without trailer fields, or with a Content-Length");
      }
    }
    return HttpProblem.badRequest(
        "truncated_body",
        "the body ended before its Content-Length, or before its last chunk; send the whole body");
  }

  /**
   * The body timeout of one request. The reading thread cannot answer a client that stops or
   * trickles: it is blocked in a read, and interrupting a virtual thread blocked on a socket closes
   * the socket. So the timer answers instead: at the deadline it claims the response (if the reader
   * has not finished first), sends 408 with "Connection: close" on its own virtual thread (the
   * socket is still open for writing), and only then interrupts the reader, which closes the
   * connection under the blocked read. Whoever claims the response first answers; the other stays
   * silent.
   */
  private final class BodyDeadline {
    private static final int READING = 0;
    private static final int READ = 1;
    private static final int TIMED_OUT = 2;

    private final java.util.concurrent.atomic.AtomicInteger state =
        new java.util.concurrent.atomic.AtomicInteger(READING);
    private final java.util.concurrent.CountDownLatch answered =
        new java.util.concurrent.CountDownLatch(1);
    private final ServerResponse res;
    private final Thread reader;
    private final io.sluice.core.Timer timer;

    BodyDeadline(ServerResponse res, Thread reader) {
      this.res = res;
      this.reader = reader;
      this.timer = io.sluice.core.Time.afterFunc(config.bodyTimeout(), this::expire);
    }

    private void expire() {
      if (!state.compareAndSet(READING, TIMED_OUT)) {
        return;
      }
      try {
        problem(res, bodyTimedOut(res));
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.DEBUG, "the 408 for a slow body could not be sent", e);
      } finally {
        reader.interrupt();
        answered.countDown();
      }
    }

    /**
     * Called by the reader when its read ended (with a body or an exception). Waits for nothing
     * unless the timer already claimed the response; then waits (uninterruptibly, for the few
     * moments the 408 takes to write) until it is sent, and clears the timer's interrupt.
     *
     * @return true if the reader owns the response; false if the timer answered 408
     */
    boolean finish() {
      if (state.compareAndSet(READING, READ)) {
        timer.stop();
        return true;
      }
      if (state.get() == READ) {
        return true;
      }
      while (true) {
        try {
          answered.await();
          break;
        } catch (InterruptedException e) {
          // the timer's interrupt, meant for the blocked read: wait on
        }
      }
      Thread.interrupted();
      return false;
    }
  }

  /** Thrown when the request has been answered already (by the body deadline). */
  static final class AlreadyAnswered extends RuntimeException {
    private static final long serialVersionUID = 1L;
    static final AlreadyAnswered INSTANCE = new AlreadyAnswered();

    private AlreadyAnswered() {
      super("the request was answered already", null, false, false);
    }
  }

  private HttpProblem bodyTimedOut(ServerResponse res) {
    res.header(HeaderNames.CONNECTION, "close");
    return new HttpProblem(
        408,
        "body_timeout",
        "the body did not arrive within "
            + config.bodyTimeout().toMillis()
            + " ms (--body-timeout); send it at once, or raise the limit");
  }

  private HttpProblem bodyTooLarge(ServerResponse res, String size) {
    // The rest of the body is not read, so the connection cannot carry another request.
    res.header(HeaderNames.CONNECTION, "close");
    return new HttpProblem(
        413,
        "body_too_large",
        "the body is "
            + size
            + "; the limit is "
            + config.maxBodyBytes()
            + " bytes. Split the payloads into several requests");
  }

  static String abbreviate(String text) {
    return "\"" + (text.length() > 64 ? text.substring(0, 64) + "..." : text) + "\"";
  }

  @FunctionalInterface
  interface Fields {
    void write(JsonGenerator w) throws IOException;
  }

  static void json(ServerResponse res, int status, Fields fields) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator w = JSON.createGenerator(out)) {
      w.writeStartObject();
      fields.write(w);
      w.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    res.status(status);
    res.header(HeaderNames.CONTENT_TYPE, "application/json");
    res.send(out.toByteArray());
  }

  @FunctionalInterface
  interface Route {
    void handle(ServerRequest req, ServerResponse res) throws Exception;
  }

  /**
   * Runs a route, turning problems and failures into JSON errors, and counts the answer. A HEAD
   * request gets the answer without its body (HeadResponse), whichever route answers it: the GET
   * route, a 405, a 404.
   */
  Handler handle(String template, Route route) {
    return (req, original) -> {
      ServerResponse res =
          Method.HEAD.equals(req.prologue().method()) ? new HeadResponse(original) : original;
      try {
        route.handle(req, res);
      } catch (AlreadyAnswered a) {
        // the body deadline sent 408
      } catch (HttpProblem p) {
        problem(res, p);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        problem(res, new HttpProblem(503, "interrupted", "the request was interrupted"));
      } catch (Exception | Error e) {
        LOG.log(System.Logger.Level.ERROR, "unexpected failure in " + template, e);
        problem(
            res,
            new HttpProblem(
                500,
                "internal_error",
                "unexpected failure: " + e.getClass().getSimpleName() + "; see the server log"));
      }
      metrics.request(template, res.status().code());
      if (res.headers().containsToken(HeaderValues.CONNECTION_CLOSE)) {
        // Helidon leaves the unread rest of the request alone when the answer says "Connection:
        // close", but would then read on from it as if it were the next request.
        throw new CloseConnectionException("answered with Connection: close");
      }
    };
  }

  /** A method of a resource, and the route that serves it. */
  record Serves(Method method, Route route) {}

  /** {@code method} is served by {@code route}. */
  static Serves on(Method method, Route route) {
    return new Serves(method, route);
  }

  /**
   * Routes the path {@code template} to the routes of its methods (each through {@link #handle}),
   * HEAD to the GET route where there is one (answered without the body, as RFC 9110 asks of every
   * resource that serves GET), and every other method to 405 with the methods in {@code Allow}.
   */
  void resource(HttpRules routing, String template, Serves... methods) {
    List<Method> allowed = new ArrayList<>();
    for (Serves serves : methods) {
      Handler handler = handle(template, serves.route());
      routing.route(serves.method(), template, handler);
      allowed.add(serves.method());
      if (serves.method().equals(Method.GET)) {
        routing.route(Method.HEAD, template, handler);
        allowed.add(Method.HEAD);
      }
    }
    routing.any(template, methodNotAllowed(template, allow(allowed)));
  }

  /** The value of an {@code Allow} header listing these methods, as "GET, HEAD, PUT". */
  private static String allow(List<Method> methods) {
    return String.join(", ", methods.stream().map(Method::text).toList());
  }

  /**
   * Answers a method the route does not serve with 405 and {@code Allow}. The API's routes (under
   * {@code /v1/}) check the token first, so a caller without it learns nothing of a route's
   * methods; the health and metrics routes need no token.
   */
  private Handler methodNotAllowed(String template, String allowed) {
    boolean needsToken = template.startsWith("/v1/");
    return handle(
        template,
        (req, res) -> {
          if (needsToken) {
            authorize(req, res);
          }
          res.header(HeaderNames.ALLOW, allowed);
          throw new HttpProblem(
              405,
              "method_not_allowed",
              req.prologue().method() + " is not" + " allowed on " + template + "; use " + allowed);
        });
  }

  /** The JSON error body {@code {"error": code, "message": message}}. */
  static byte[] problemBody(String code, String message) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator w = JSON.createGenerator(out)) {
      w.writeStartObject();
      w.writeStringField("error", code);
      w.writeStringField("message", message);
      w.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  static void problem(ServerResponse res, HttpProblem p) {
    json(
        res,
        p.status(),
        w -> {
          w.writeStringField("error", p.code());
          w.writeStringField("message", p.getMessage());
          if (p.ids() != null) {
            w.writeArrayFieldStart("ids");
            for (String id : p.ids()) {
              w.writeString(id);
            }
            w.writeEndArray();
          }
        });
  }
}
