package io.sluice.server;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.http.DirectHandlers;
import java.util.List;
import java.util.Locale;

/*
 * Answers the requests Helidon refuses before any route sees them (a request line or headers it
 * cannot parse, framing it will not guess at, HTTP/1.0) with the service's JSON errors instead of
 * Helidon's empty bodies.
 *
 * Helidon reports these as a RequestException to the listener's DirectHandlers; the handler gets the
 * event type, Helidon's status and (with ErrorHandling.includeEntity) Helidon's message when Helidon
 * considers it safe to show, else a generic text. The message is the only thing that tells the
 * cases apart, so each known message is mapped to a stable code and a message for people; the
 * mapping is pinned by HostileInputTest, which fails if a Helidon upgrade rewords one. Anything
 * unknown still gets a JSON body, with the code derived from the status; a HEAD request gets the
 * status and headers of that answer without its body (and, as Helidon writes it, Content-Length 0).
 * Every answer closes the connection: after a framing error the rest of the stream cannot be
 * trusted. Each refusal is
 * counted in sluice_http_requests_total under the route "protocol", as no route template applies.
 */
final class ProtocolErrors implements DirectHandler {
  private static final Status HEADERS_TOO_LARGE =
      Status.create(431, "Request Header Fields Too Large");

  /** One refusal: the status, the code and the message of the JSON error. */
  record Problem(Status status, String code, String message) {}

  /** The route under which these refusals are counted in sluice_http_requests_total. */
  static final String ROUTE = "protocol";

  private final ServerMetrics metrics;

  private ProtocolErrors(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  /** Makes this the handler of every event type, counting each refusal in {@code metrics}. */
  static void register(DirectHandlers.Builder handlers, ServerMetrics metrics) {
    ProtocolErrors errors = new ProtocolErrors(metrics);
    for (EventType type : EventType.values()) {
      handlers.addHandler(type, errors);
    }
  }

  @Override
  public TransportResponse handle(
      TransportRequest request,
      EventType eventType,
      Status defaultStatus,
      ServerResponseHeaders responseHeaders,
      String message) {
    Problem p = classify(request, eventType, defaultStatus, message == null ? "" : message);
    metrics.request(ROUTE, p.status().code());
    responseHeaders.set(HeaderNames.CONTENT_TYPE, "application/json");
    TransportResponse.Builder answer =
        TransportResponse.builder().status(p.status()).headers(responseHeaders).keepAlive(false);
    if ("HEAD".equals(request.method())) {
      // No content in an answer to HEAD (RFC 9110 9.3.2). Helidon sets Content-Length to the
      // entity's length here, whatever was set before, so it says 0 rather than the length a GET
      // would get: a client reads no content after a HEAD answer whatever that header says, and the
      // connection closes next.
      return answer.build();
    }
    return answer.entity(Http.problemBody(p.code(), p.message())).build();
  }

  static Problem classify(
      TransportRequest request, EventType eventType, Status status, String helidonMessage) {
    String m = helidonMessage.toLowerCase(Locale.ROOT);
    if (eventType == EventType.HTTP_VERSION_NOT_SUPPORTED) {
      return new Problem(
          status,
          "http_version_not_supported",
          "this service speaks HTTP/1.1 only, got "
              + Http.abbreviate(request.protocolVersion())
              + "; send the request as HTTP/1.1");
    }
    if (m.contains("content length is not a number")) {
      return new Problem(
          status,
          "invalid_content_length",
          "Content-Length must be a non-negative decimal number of bytes, got "
              + contentLengths(request)
              + "; send the body's length in bytes");
    }
    if (m.contains("content-length header must have exactly one value")) {
      return new Problem(
          status,
          "invalid_content_length",
          "the request has more than one Content-Length ("
              + contentLengths(request)
              + "); send exactly one");
    }
    if (m.contains("transfer-encoding and content-length")) {
      return new Problem(
          status,
          "ambiguous_body_length",
          "the request has both Content-Length and Transfer-Encoding, so its body length is"
              + " ambiguous; send one of them");
    }
    if (m.contains("transfer-encoding")) {
      return new Problem(
          status,
          "unsupported_transfer_encoding",
          "the only Transfer-Encoding accepted is chunked; send chunked or a Content-Length");
    }
    if (m.contains("content-encoding") || m.contains("content encoding")) {
      // Helidon's two refusals of a Content-Encoding: "Content-Encoding header present when content
      // encoding is disabled" (this service), and "Unsupported content encoding".
      return new Problem(
          Status.UNSUPPORTED_MEDIA_TYPE_415,
          "unsupported_content_encoding",
          "Content-Encoding "
              + contentEncodings(request)
              + " is not accepted; send the body uncompressed, without a Content-Encoding header");
    }
    if (m.contains("missing colon") || m.contains("invalid header")) {
      return new Problem(
          status,
          "malformed_header",
          "a header line is not \"Name: value\" (" + helidonMessage + "); fix the header");
    }
    if (m.contains("header size exceeded")) {
      return new Problem(
          HEADERS_TOO_LARGE,
          "headers_too_large",
          "the request's headers are larger than the server accepts; send smaller headers");
    }
    if (status.code() == Status.REQUEST_URI_TOO_LONG_414_CODE) {
      return new Problem(
          status, "uri_too_long", "the request line is too long; send a shorter path and query");
    }
    if (request.method().isEmpty()) {
      return new Problem(
          status,
          "malformed_request_line",
          "the request line is not \"METHOD /path HTTP/1.1\"; send a valid HTTP/1.1 request");
    }
    if (!validEscapes(request.path())) {
      return new Problem(
          status,
          "invalid_path",
          "the path "
              + Http.abbreviate(request.path())
              + " has a '%' not followed by two hexadecimal digits; escape '%' as %25");
    }
    return new Problem(
        status,
        status.code() == 400 ? "bad_request" : "http_" + status.code(),
        "the request is not valid HTTP/1.1: " + helidonMessage);
  }

  private static String contentEncodings(TransportRequest request) {
    List<String> values = request.headers().all(HeaderNames.CONTENT_ENCODING, List::of);
    return values.isEmpty()
        ? "(none)"
        : String.join(", ", values.stream().map(Http::abbreviate).toList());
  }

  private static String contentLengths(TransportRequest request) {
    List<String> values = request.headers().all(HeaderNames.CONTENT_LENGTH, List::of);
    return values.isEmpty()
        ? "none"
        : String.join(", ", values.stream().map(Http::abbreviate).toList());
  }

  /** Whether every '%' in the path starts an escape of two hexadecimal digits. */
  static boolean validEscapes(String path) {
    for (int i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i + 1)) {
      if (i + 2 >= path.length()
          || Character.digit(path.charAt(i + 1), 16) < 0
          || Character.digit(path.charAt(i + 2), 16) < 0) {
        return false;
      }
    }
    return true;
  }
}
