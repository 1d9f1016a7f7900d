package io.sluice.server;

import java.util.List;

/**
 * A request the service answers with an error: the HTTP status, a stable machine-readable code, and
 * a message for people that says what was wrong and, where it helps, what to do. Becomes the JSON
 * body {@code {"error": code, "message": message}}, plus {@code "ids"} when the problem names jobs
 * (a batch whose outcome is unknown).
 */
final class HttpProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final transient List<String> ids; // null: the answer names no jobs

  HttpProblem(int status, String code, String message) {
    this(status, code, message, null);
  }

  HttpProblem(int status, String code, String message, List<String> ids) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.ids = ids == null ? null : List.copyOf(ids);
  }

  /** The ids of the jobs the problem is about, or null. */
  List<String> ids() {
    return ids;
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
