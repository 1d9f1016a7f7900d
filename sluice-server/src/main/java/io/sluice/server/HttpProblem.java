package io.sluice.server;

/**
 * A request the service answers with an error: the HTTP status, a stable machine-readable code, and
 * a message for people that says what was wrong and, where it helps, what to do. Becomes the JSON
 * body {@code {"error": code, "message": message}}.
 */
final class HttpProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;

  HttpProblem(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }

  int status() {
    return status;
  }

  String code() {
    return code;
  }

  static HttpProblem badRequest(String code, String message) {
    return new HttpProblem(400, code, message);
  }
}
