package io.sluice.server.objects;

/**
 * A key or key prefix that no object store accepts: empty, too long, absolute, with a backslash, a
 * control character, an empty, {@code .} or {@code ..} segment, or text that is not valid UTF-16.
 *
 * <p>The message says which rule the key broke and quotes the key with control characters escaped,
 * so it is safe to log.
 */
public final class InvalidObjectKeyException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  /** The offending key, as given. */
  private final String key;

  InvalidObjectKeyException(String key, String message) {
    super(message);
    this.key = key;
  }

  /**
   * The key that was rejected.
   *
   * @return the key, exactly as given (it may hold control characters: escape it before logging)
   */
  public String key() {
    return key;
  }
}
