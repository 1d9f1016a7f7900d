package io.sluice.server;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.helidon.http.HeaderNames;
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

  void authorize(ServerRequest req) {
    if (expectedAuthorization == null) {
      return;
    }
    byte[] given =
        req.headers().first(HeaderNames.AUTHORIZATION).orElse("").getBytes(StandardCharsets.UTF_8);
    if (!MessageDigest.isEqual(given, expectedAuthorization)) {
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

  /** Reads the body, refusing at once what is or becomes larger than the limit. */
  byte[] readBody(ServerRequest req, ServerResponse res) {
    int max = config.maxBodyBytes();
    OptionalLong declared = req.headers().contentLength();
    if (declared.isPresent() && declared.getAsLong() > max) {
      throw bodyTooLarge(res, declared.getAsLong() + " bytes");
    }
    // A client that stops sending mid-body would hold this thread forever: at the deadline the
    // thread is interrupted, which closes the connection under the blocked read.
    Thread reader = Thread.currentThread();
    io.sluice.core.Timer watchdog =
        io.sluice.core.Time.afterFunc(config.bodyTimeout(), reader::interrupt);
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
      return Arrays.copyOf(buffer, length);
    } catch (IOException | RuntimeException e) {
      if (e instanceof HttpProblem p) {
        throw p;
      }
      if (!watchdog.stop() || Thread.interrupted()) {
        throw bodyTimedOut(res);
      }
      // Helidon reports a body cut short (fewer bytes than Content-Length) this way.
      throw HttpProblem.badRequest(
          "truncated_body",
          "the body ended before its Content-Length ("
              + e.getClass().getSimpleName()
              + "); send the whole body");
    } finally {
      if (!watchdog.stop()) {
        Thread.interrupted(); // the watchdog fired after the read: its interrupt is not for us
      }
    }
  }

  private HttpProblem bodyTimedOut(ServerResponse res) {
    res.header(HeaderNames.CONNECTION, "close");
    return new HttpProblem(
        408,
        "body_timeout",
        "the body did not arrive within "
            + config.bodyTimeout().toSeconds()
            + " s; send it at once, or raise --body-timeout");
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
