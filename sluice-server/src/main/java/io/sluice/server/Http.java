package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;

/*
 * What every route of the HTTP API shares: the bearer token check, reading a JSON body within the
 * size and time limits, JSON answers, and turning problems and failures into {"error", "message"}
 * answers counted in the metrics by route template and status.
 */
final class Http {
  private static final System.Logger LOG = System.getLogger(Http.class.getName());
  private static final JsonFactory JSON = new JsonFactory();

  private final ServerConfig config;
  private final ServerMetrics metrics;
  private final byte[] expectedAuthorization;

  Http(ServerConfig config, ServerMetrics metrics) {
    this.config = config;
    this.metrics = metrics;
    this.expectedAuthorization =
        config.token().map(t -> ("Bearer " + t).getBytes(StandardCharsets.UTF_8)).orElse(null);
  }

  /**
   * Refuses a request without the configured bearer token with 401 and the {@code WWW-Authenticate}
   * challenge RFC 6750 asks for: {@code Bearer realm="sluice"}, with {@code error="invalid_token"}
   * when a bearer token was sent but is not the one.
   */
  void authorize(ServerRequest req, ServerResponse res) {
    if (expectedAuthorization == null) {
      return;
    }
    String header = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
    byte[] given = header.getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, expectedAuthorization)) {
      boolean bearer = header.regionMatches(true, 0, "Bearer ", 0, 7);
      res.header(
          HeaderNames.WWW_AUTHENTICATE,
          bearer ? "Bearer realm=\"sluice\", error=\"invalid_token\"" : "Bearer realm=\"sluice\"");
      throw new HttpProblem(
          401,
          "unauthorized",
          "this service needs the header"
              + " \"Authorization: Bearer <token>\" with its configured token");
    }
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
   * Reads the body, refusing at once what is or becomes larger than the limit. A body that has not
   * fully arrived within the body timeout is answered 408 by {@link BodyDeadline}, and this method
   * then throws {@link AlreadyAnswered}.
   */
  byte[] readBody(ServerRequest req, ServerResponse res) {
    int max = config.maxBodyBytes();
    OptionalLong declared = req.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > max) {
      throw bodyTooLarge(res, declared.getAsLong() + " bytes");
    }
    BodyDeadline deadline = new BodyDeadline(res, Thread.currentThread());
    byte[] body;
    try (InputStream in = req.content().inputStream()) {
      byte[] buffer = new byte[(int) Math.min(max + 1L, declared.orElse(8192) + 1)];
      int length = 0;
      int n;
      while ((n = in.read(buffer, length, buffer.length - length)) > 0) {
        length += n;
        if (length > max) {
          throw bodyTooLarge(res, "more than " + max + " bytes");
        }
        if (length == buffer.length) {
          buffer = Arrays.copyOf(buffer, (int) Math.min(max + 1L, 2L * buffer.length));
        }
      }
      body = Arrays.copyOf(buffer, length);
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
   * A body Helidon could not read: a chunk size that is not hexadecimal (Helidon's chunked decoder
   * throws NumberFormatException), or a body that ended early. Either way the rest of the stream
   * cannot be framed, so the connection is closed after the answer.
   */
  private static HttpProblem unreadableBody(ServerResponse res, Exception e) {
    res.header(HeaderNames.CONNECTION, "close");
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof NumberFormatException) {
        return HttpProblem.badRequest(
            "malformed_chunk",
            "a chunk size of the chunked body is not a hexadecimal number;"
                + " send a valid chunked body, or a Content-Length");
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

  /** Runs a route, turning problems and failures into JSON errors, and counts the answer. */
  Handler handle(String template, Route route) {
    return (req, res) -> {
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

  Handler methodNotAllowed(String template, String allowed) {
    return handle(
        template,
        (req, res) -> {
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
        });
  }
}
