package io.sluice.server;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/*
 * The HTTP API as the admin commands (jobs, dead-letters, schedules) see it: one request at a time, answers
 * as status + body, and every way of failing turned into a sentence that says what to do. The
 * commands decide what a 404 means for them; a 401 and an unreachable service mean the same
 * thing everywhere, so they are explained here.
 */
final class ApiClient implements AutoCloseable {
  static final Duration TIMEOUT = Duration.ofSeconds(10);

  /** An answer from the service. */
  record Response(int status, String body) {
    Map<String, Object> json() {
      return Json.object(body);
    }

    /** The service's own explanation of an error, or the status when the body has none. */
    String problem() {
      Object message = json().get("message");
      return message instanceof String s ? s : "HTTP " + status + " " + abbreviate(body);
    }
  }

  /** The service could not be asked, or refused the request; the message says what to do. */
  static final class ApiException extends Exception {
    private static final long serialVersionUID = 1L;

    ApiException(String message) {
      super(message);
    }
  }

  private final URI base;
  private final Optional<String> token;
  private final HttpClient http;

  ApiClient(URI base, Optional<String> token) {
    this.base = base;
    this.token = token;
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(TIMEOUT)
            .build();
  }

  URI base() {
    return base;
  }

  Response get(String path) throws ApiException, InterruptedException {
    return send(request(path).GET());
  }

  Response post(String path) throws ApiException, InterruptedException {
    return send(request(path).POST(HttpRequest.BodyPublishers.noBody()));
  }

  Response put(String path, String json) throws ApiException, InterruptedException {
    return send(
        request(path)
            .header("Content-Type", "application/json")
            .PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  Response delete(String path) throws ApiException, InterruptedException {
    return send(request(path).DELETE());
  }

  /**
   * {@code text} as one path segment: every byte of its UTF-8 form but letters, digits, {@code -},
   * {@code _} and {@code ~} percent-encoded. An id or name typed by a user then names that resource
   * and no other: a {@code /} or a {@code ..} in it cannot reach another path (the service
   * normalises dot-segments before routing), and a space cannot make the URL invalid.
   */
  static String segment(String text) {
    StringBuilder b = new StringBuilder(text.length());
    for (byte c : text.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
      if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '-'
          || c == '_'
          || c == '~') {
        b.append((char) c);
      } else {
        b.append('%').append(Character.toUpperCase(Character.forDigit((c >> 4) & 0xF, 16)));
        b.append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
      }
    }
    return b.toString();
  }

  private HttpRequest.Builder request(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(TIMEOUT);
    token.ifPresent(t -> b.header("Authorization", "Bearer " + t));
    return b;
  }

  private Response send(HttpRequest.Builder request) throws ApiException, InterruptedException {
    HttpResponse<String> r;
    try {
      r = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw unreachable(base, e);
    }
    if (r.statusCode() == 401) {
      throw new ApiException(
          token.isPresent()
              ? "the service at " + base + " refused the token: check --token or SLUICE_TOKEN"
              : "the service at " + base + " needs a token: pass --token or set SLUICE_TOKEN");
    }
    if (r.statusCode() == 503) {
      throw new ApiException(
          "the service at " + base + " is not ready: " + new Response(503, r.body()).problem());
    }
    return new Response(r.statusCode(), r.body());
  }

  /** Explains why the service at {@code base} could not be asked anything. */
  static ApiException unreachable(URI base, IOException e) {
    return new ApiException(
        switch (e) {
          case HttpConnectTimeoutException t ->
              "no connection to "
                  + base
                  + " within "
                  + TIMEOUT.toSeconds()
                  + " s: is the service running at "
                  + base
                  + " and reachable from here?";
          case ConnectException c ->
              "cannot connect to "
                  + base
                  + " ("
                  + describe(c)
                  + "): is the service running at "
                  + base
                  + "? Start it with './sluice serve', or point --url (SLUICE_URL) at it";
          case HttpTimeoutException t ->
              "no answer from " + base + " within " + TIMEOUT.toSeconds() + " s; is it overloaded?";
          default -> "cannot talk to " + base + ": " + describe(e);
        });
  }

  private static String describe(IOException e) {
    if (e instanceof ConnectException) {
      // java.net.http reports a refused connection as a ConnectException without a message.
      return e.getMessage() == null ? "connection refused" : e.getMessage();
    }
    Throwable cause = e;
    while (cause.getMessage() == null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getName() : cause.getMessage();
  }

  private static String abbreviate(String text) {
    String t = text.strip();
    return t.length() > 200 ? t.substring(0, 200) + "..." : t;
  }

  @Override
  public void close() {
    http.close();
  }
}
