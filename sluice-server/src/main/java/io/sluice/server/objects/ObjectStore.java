package io.sluice.server.objects;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * Where payloads end up: a flat namespace of keys (see {@link ObjectKeys}) to byte contents.
 *
 * <table>
 *   <caption>Operations</caption>
 *   <tr><th>method</th><th>waits for</th><th>on interrupt</th><th>on failure</th></tr>
 *   <tr><td>{@link #put}</td><td>the object to be stored whole (durably, for the filesystem)</td>
 *       <td>{@link InterruptedException}</td><td>{@link IOException}, object unchanged or whole</td></tr>
 *   <tr><td>{@link #get}</td><td>the whole content</td>
 *       <td>{@link InterruptedException}</td><td>{@link IOException}</td></tr>
 *   <tr><td>{@link #exists}</td><td>the store's answer about the key (no content)</td>
 *       <td>{@link InterruptedException}</td><td>{@link IOException}</td></tr>
 *   <tr><td>{@link #check}</td><td>one round trip to the store</td>
 *       <td>{@link IOException}</td><td>{@link IOException} saying what to fix</td></tr>
 * </table>
 *
 * <p>Timeouts are the store's own (see {@link S3Options}); the job engine bounds an attempt by
 * interrupting its thread, which every blocking method here answers promptly. Keys are validated by
 * every method that takes one: a bad key is an {@link InvalidObjectKeyException}, thrown before any
 * I/O.
 *
 * <p>Implementations are safe for use by many threads at once. Memory consistency effects: actions
 * in a thread before {@code put} returns happen-before a {@code get} of the same key, in any
 * thread, that returns the content it wrote.
 */
public interface ObjectStore extends AutoCloseable {

  /**
   * Writes the whole object, replacing any object with that key atomically: a reader sees the old
   * content or the new, never a part.
   *
   * <p>If the calling thread is interrupted (before or during the call), this throws {@link
   * InterruptedException} with the interrupt status cleared. The object may then be absent, the old
   * one, or the new one, but never partial; putting it again settles it.
   *
   * @param key the final key, from {@link ObjectKeys#forJob} (prefix included)
   * @param content the bytes; not copied, so do not change them during the call
   * @param contentType the media type, for example {@code application/json}
   * @throws InvalidObjectKeyException if {@code key} is not valid
   * @throws ObjectStoreException if the store refused or failed the write; its message names the
   *     key and the store and says what to check
   * @throws IOException if the write failed otherwise
   * @throws InterruptedException if the calling thread was interrupted
   * @throws IllegalStateException if the store is closed
   */
  void put(String key, byte[] content, String contentType) throws IOException, InterruptedException;

  /**
   * Writes the whole object as {@link #put(String, byte[], String)} does, with user metadata where
   * the store keeps some: S3 sends each entry as an {@code x-amz-meta-<name>} header. This default,
   * and the filesystem store, drop the metadata.
   *
   * @param key the final key, from {@link ObjectKeys#forJob} (prefix included)
   * @param content the bytes; not copied, so do not change them during the call
   * @param contentType the media type, for example {@code application/json}
   * @param metadata names (lower-case ASCII letters, digits and {@code -}) to values of any text
   * @throws InvalidObjectKeyException if {@code key} is not valid
   * @throws ObjectStoreException if the store refused or failed the write
   * @throws IOException if the write failed otherwise
   * @throws InterruptedException if the calling thread was interrupted
   * @throws IllegalStateException if the store is closed
   */
  default void put(String key, byte[] content, String contentType, Map<String, String> metadata)
      throws IOException, InterruptedException {
    put(key, content, contentType);
  }

  /**
   * Reads an object, for tests and the command line.
   *
   * @param key the key
   * @return the content, or empty if there is no object with that key
   * @throws InvalidObjectKeyException if {@code key} is not valid
   * @throws IOException if the read failed
   * @throws InterruptedException if the calling thread was interrupted (status cleared)
   * @throws IllegalStateException if the store is closed
   */
  Optional<byte[]> get(String key) throws IOException, InterruptedException;

  /**
   * Whether an object with this key exists, without reading its content: for telling whether a job
   * the service no longer remembers was uploaded. This default reads the whole object with {@link
   * #get}; the stores override it with a cheaper check.
   *
   * @param key the key
   * @return true if there is an object with that key
   * @throws InvalidObjectKeyException if {@code key} is not valid
   * @throws IOException if the store could not be asked
   * @throws InterruptedException if the calling thread was interrupted (status cleared)
   * @throws IllegalStateException if the store is closed
   */
  default boolean exists(String key) throws IOException, InterruptedException {
    return get(key).isPresent();
  }

  /**
   * A short description for logs, like {@code filesystem /var/lib/sluice/objects} or {@code s3
   * bucket/prefix/ at http://127.0.0.1:9000}. Never holds credentials.
   *
   * @return the description
   */
  String describe();

  /**
   * Checks at startup that the store is reachable and writable, so that a misconfiguration fails
   * the start instead of every upload. The service refuses to start on a failure that only a
   * settings change fixes, and starts anyway, with a warning, on an {@link ObjectStoreException}
   * that is {@link ObjectStoreException#retryable()} (a store that is down for a while).
   *
   * @throws ObjectStoreException if the store refused or failed the check; {@link
   *     ObjectStoreException#retryable()} tells whether asking again later may succeed
   * @throws IOException saying what is wrong and what to fix (a path, a bucket, credentials, an
   *     endpoint)
   */
  void check() throws IOException;

  /**
   * Checks that this store can hold an object under {@code key}, without asking anything of its
   * service: the rules of {@link ObjectKeys}, and any of the store's own. This default checks the
   * former; the filesystem store also reserves its temporary files' names.
   *
   * @param key the key
   * @throws InvalidObjectKeyException if {@code put} would refuse the key
   */
  default void validateKey(String key) {
    ObjectKeys.validate(key);
  }

  /** Releases the store's resources (connections, threads). Idempotent. */
  @Override
  void close();
}
