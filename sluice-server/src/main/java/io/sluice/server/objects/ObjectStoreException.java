package io.sluice.server.objects;

import java.io.IOException;
import java.util.Optional;

/**
 * An object store refused or failed an operation: the message says which operation, key, bucket or
 * directory, what the store answered, and what to check.
 *
 * <p>{@link #statusCode()} and {@link #errorCode()} carry the S3 answer where there is one. {@link
 * #retryable()} tells whether trying again can help (a timeout, a 5xx, throttling) or not (bad
 * credentials, a missing bucket): the job engine may dead-letter the second kind at once.
 */
public final class ObjectStoreException extends IOException {
  private static final long serialVersionUID = 1L;

  /** The HTTP status of the store's answer, 0 without one. */
  private final int statusCode;

  /** The store's error code, or null. */
  private final String errorCode;

  /** Whether trying again may help. */
  private final boolean retryable;

  ObjectStoreException(
      String message, int statusCode, String errorCode, boolean retryable, Throwable cause) {
    super(message, cause);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
    this.retryable = retryable;
  }

  /**
   * The HTTP status the store answered with.
   *
   * @return the status, or 0 when there was no answer (connection refused, timeout, local I/O)
   */
  public int statusCode() {
    return statusCode;
  }

  /**
   * The store's error code, like {@code NoSuchBucket} or {@code AccessDenied}.
   *
   * @return the code, or empty when the store gave none
   */
  public Optional<String> errorCode() {
    return Optional.ofNullable(errorCode);
  }

  /**
   * Whether trying the same operation again may succeed.
   *
   * @return true for timeouts, connection failures, throttling, 5xx answers (but 501) and error
   *     codes that pass by themselves (a conflicting operation, a body cut short, clock skew,
   *     expired credentials); false for answers that only a configuration change fixes (403, a
   *     missing bucket, a bad request, a feature the store lacks)
   */
  public boolean retryable() {
    return retryable;
  }
}
