package io.sluice.server;

import io.sluice.jobs.Durability;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.server.objects.ObjectKeys;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How the ingest service runs. Immutable; {@link #defaults(Path)} gives the embedded defaults and
 * the {@code withX} methods change one setting. {@code sluice serve --help} lists the same settings
 * as options and environment variables.
 *
 * @param host the address to listen on
 * @param port the port; 0 picks a free one
 * @param dataDir where the journal lives ({@code <dataDir>/journal}) and, with the filesystem
 *     store, the objects ({@code <dataDir>/objects})
 * @param objectPrefix prepended to every object key: empty, or ending with {@code /}
 * @param token when present, every {@code /v1} request must carry {@code Authorization: Bearer
 *     <token>}
 * @param workers upload workers
 * @param queueCapacity the most payloads waiting (queued, uploading, waiting to retry)
 * @param queueBytes the most payload bytes held in memory (payloads waiting, and dead letters);
 *     beyond it POST answers 429, so a backlog of large payloads cannot exhaust the heap
 * @param durability when the journal is forced
 * @param maxBodyBytes the largest request body
 * @param maxPayloads the most payloads in one request
 * @param maxDepth the deepest a payload may nest arrays and objects ({@code [[1]]} is 2 deep, a
 *     number 0); the request's own object and {@code payloads} array do not count
 * @param uploadTimeout an upload attempt running longer fails and is retried
 * @param maxAttempts upload attempts per payload before it becomes a dead letter
 * @param retryDelay the longest wait before the second attempt of an upload; each later wait may be
 *     up to twice as long as the one before, at most 5 minutes, and is drawn at random below that
 *     cap (exponential backoff with full jitter, {@link io.sluice.jobs.RetryPolicy})
 * @param shutdownGrace how long uploads in progress may take to finish at shutdown
 * @param headerTimeout a request's header fields must arrive within this time of its request line,
 *     or the client gets 408 and its connection is closed
 * @param bodyTimeout a request body must arrive within this time, or the client gets 408 and its
 *     connection is closed
 * @param maxInflightBodyBytes the most request body bytes held by all requests being received at
 *     once: a request whose body does not fit (its Content-Length, or the next chunk of a chunked
 *     body) is answered 503 at once, so slow or idle uploads cannot exhaust the heap; bodies over
 *     64 KiB (or a sixteenth of {@code maxBodyBytes}, if less) may use only three quarters of it,
 *     so a quarter always serves smaller ones; at least 4/3 of {@code maxBodyBytes}
 * @param maxConnections the most TCP connections open at once; further connections wait in the
 *     listen backlog until one closes
 * @param finishedRetention how many finished jobs (the most recent) {@code GET /v1/jobs/{id}}
 *     answers from memory with their attempts and times; an older success is still reported, from
 *     its object, without them
 * @param journalAckTimeout the longest a {@code POST /v1/payloads} waits for the journal to confirm
 *     its batch durable; then it answers 503 {@code journal_stalled} with the batch's ids (the
 *     outcome is unknown)
 * @param journalStallThreshold a journal write and fsync running longer is a stall: logged, {@code
 *     /health/ready} answers 503 {@code journal_stalled} and new batches are refused at once until
 *     it ends
 * @param journalPreallocate whether the journal writes its next segment's file with zeros ahead, so
 *     that commits overwrite blocks instead of growing the file (see {@link
 *     io.sluice.jobs.JobStoreOptions#withPreallocate})
 */
public record ServerConfig(
    String host,
    int port,
    Path dataDir,
    String objectPrefix,
    Optional<String> token,
    int workers,
    int queueCapacity,
    long queueBytes,
    Durability durability,
    int maxBodyBytes,
    int maxPayloads,
    int maxDepth,
    Duration uploadTimeout,
    int maxAttempts,
    Duration retryDelay,
    Duration shutdownGrace,
    Duration headerTimeout,
    Duration bodyTimeout,
    long maxInflightBodyBytes,
    int maxConnections,
    int finishedRetention,
    Duration journalAckTimeout,
    Duration journalStallThreshold,
    boolean journalPreallocate) {

  /**
   * Checks the settings, with messages that name the option to fix.
   *
   * @throws IllegalArgumentException if a setting is out of range
   */
  public ServerConfig {
    Objects.requireNonNull(host, "host");
    require(port >= 0 && port <= 65_535, "--port must be in 0..65535, got " + port);
    Objects.requireNonNull(dataDir, "dataDir");
    ObjectKeys.validatePrefix(Objects.requireNonNull(objectPrefix, "objectPrefix"));
    Objects.requireNonNull(token, "token");
    token.ifPresent(t -> require(!t.isBlank(), "--token must not be blank"));
    // HTTP header values are read as ISO-8859-1 and trimmed, and clients strip the token: any
    // other character, or a space at either end, would make a token no request can match.
    token.ifPresent(
        t ->
            require(
                t.chars().allMatch(c -> c > 0x20 && c < 0x7F),
                "--token must be visible ASCII characters without spaces (as RFC 6750's bearer"
                    + " tokens are): no Authorization header could carry it exactly"));
    require(workers >= 1, "--workers must be at least 1, got " + workers);
    require(queueCapacity >= 1, "--queue-capacity must be at least 1, got " + queueCapacity);
    require(
        queueBytes >= maxBodyBytes,
        "--queue-bytes ("
            + queueBytes
            + ") must be at least --max-body-bytes ("
            + maxBodyBytes
            + "): a request that large could never be accepted");
    Objects.requireNonNull(durability, "durability");
    require(
        maxBodyBytes >= 64 && maxBodyBytes <= MAX_BODY_BYTES,
        "--max-body-bytes must be in 64.."
            + MAX_BODY_BYTES
            + " (a batch is journaled as one record of at most 16 MiB), got "
            + maxBodyBytes);
    require(maxPayloads >= 1, "--max-payloads must be at least 1, got " + maxPayloads);
    require(
        maxPayloads <= queueCapacity,
        "--max-payloads ("
            + maxPayloads
            + ") must not exceed --queue-capacity ("
            + queueCapacity
            + "): such a request could"
            + " never be accepted");
    require(maxDepth >= 1, "--max-depth must be at least 1, got " + maxDepth);
    require(uploadTimeout.isPositive(), "--upload-timeout must be positive");
    require(maxAttempts >= 1, "--max-attempts must be at least 1, got " + maxAttempts);
    require(
        !retryDelay.isNegative() && retryDelay.compareTo(MAX_RETRY_DELAY) <= 0,
        "the retry delay must be in 0.." + MAX_RETRY_DELAY + ", got " + retryDelay);
    require(!shutdownGrace.isNegative(), "--shutdown-grace must not be negative");
    require(
        headerTimeout.isPositive(),
        "--header-timeout must be positive, got " + headerTimeout.toMillis() + " ms");
    require(
        journalAckTimeout.compareTo(Duration.ofMillis(1)) >= 0,
        "--journal-ack-timeout must be at least 1ms, got " + journalAckTimeout);
    require(
        journalStallThreshold.compareTo(Duration.ofMillis(1)) >= 0,
        "--journal-stall-threshold must be at least 1ms, got " + journalStallThreshold);
    require(bodyTimeout.isPositive(), "--body-timeout must be positive");
    require(
        maxInflightBodyBytes >= BodyBudget.minimumLimit(maxBodyBytes),
        "--max-inflight-body-bytes ("
            + maxInflightBodyBytes
            + ") must be at least 4/3 of --max-body-bytes ("
            + maxBodyBytes
            + "), "
            + BodyBudget.minimumLimit(maxBodyBytes)
            + ": bodies over "
            + BodyBudget.smallBodyBytes(maxBodyBytes)
            + " bytes may use only three quarters of it (the rest is kept for smaller ones), so a"
            + " body of the largest size could never be received");
    require(maxConnections >= 1, "--max-connections must be at least 1, got " + maxConnections);
    require(
        finishedRetention >= 0,
        "--finished-retention must not be negative, got " + finishedRetention);
  }

  /**
   * Finished jobs remembered by default for {@code GET /v1/jobs/{id}}: as many as the job store
   * remembers by default ({@link JobStoreOptions#defaults()}).
   */
  public static final int DEFAULT_FINISHED_RETENTION = 10_000;

  /**
   * The in-flight body budget unless configured: an eighth of the JVM's maximum heap, and at least
   * 4/3 of the largest body, so that one body of the largest size fits the three quarters large
   * bodies may use. While a body is parsed and journaled the heap holds it about three times over
   * (the body, each payload's copy, the journal record), so the default keeps the bodies being
   * received to about three eighths of the heap, beside the quarter {@code --queue-bytes} gives to
   * payloads waiting.
   *
   * @param maxBodyBytes the largest request body
   * @return the budget in bytes
   */
  public static long defaultMaxInflightBodyBytes(int maxBodyBytes) {
    return Math.max(BodyBudget.minimumLimit(maxBodyBytes), Runtime.getRuntime().maxMemory() / 8);
  }

  /**
   * The heap an open connection is allowed for in {@link #defaultMaxConnections()}. Measured: 2,000
   * connections that sent nothing took a service's live heap from 8.5 MB to 52.7 MB, about 22 KB
   * each (Helidon's buffers and the connection's virtual thread), whether or not they ever send a
   * request; the in-flight body budget bounds the bodies, this the rest.
   */
  static final long HEAP_PER_CONNECTION = 32 << 10;

  /**
   * TCP connections open at once by default: as many as an eighth of the JVM's maximum heap holds
   * at {@value #HEAP_PER_CONNECTION} bytes each, from 64 to 100,000 — 256 with a 64 MiB heap, 2,048
   * with 512 MiB, 16,384 with 4 GiB.
   *
   * @return the limit
   */
  public static int defaultMaxConnections() {
    return Math.clamp(Runtime.getRuntime().maxMemory() / 8 / HEAP_PER_CONNECTION, 64, 100_000);
  }

  /**
   * How long a request's header fields may take after its request line unless configured: far
   * longer than any client on any network needs to send a few hundred bytes, and short enough that
   * clients stalling inside their headers give their connections back within seconds.
   */
  public static final Duration DEFAULT_HEADER_TIMEOUT = Duration.ofSeconds(10);

  /** The cap of the longest wait between two attempts of an upload. */
  public static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(5);

  /** The cap of the wait before an upload's second attempt, unless configured. */
  public static final Duration DEFAULT_RETRY_DELAY = Duration.ofSeconds(1);

  /** The largest body limit: a batch's journal record (payloads plus ids and times) fits 16 MiB. */
  public static final int MAX_BODY_BYTES = 8 << 20;

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /**
   * Upload workers by default: enough uploads in flight that the filesystem store's batches
   * amortise their flushes (measured in {@code docs/benchmarks.md}: 64 workers fell behind the
   * ingest rate, 256 and 512 kept up); virtual threads, so idle ones cost little.
   */
  public static final int DEFAULT_WORKERS = 256;

  /**
   * The embedded defaults: port 8080 on all interfaces, no token, 256 workers, room for 100,000
   * payloads and for a quarter of the heap in payload bytes ({@link
   * JobStoreOptions#defaultPayloadBytesLimit()}), {@link Durability#ALWAYS}, 1 MiB bodies, 1,000
   * payloads per request, depth 64, 60-second uploads, 10 attempts with waits capped at 1 s, 2 s, 4
   * s ..., 30 seconds of shutdown grace, 10 seconds for a request's headers, 30 seconds for a body,
   * an eighth of the heap for bodies being received ({@link #defaultMaxInflightBodyBytes(int)}),
   * and connections for another eighth ({@link #defaultMaxConnections()}), 10,000 finished jobs
   * remembered, and a journal that counts as stalled after 10 s, with submits waiting at most 30 s
   * for it, which writes its next segment's file ahead.
   *
   * @param dataDir where the journal and the filesystem objects live
   * @return the defaults
   */
  public static ServerConfig defaults(Path dataDir) {
    return new ServerConfig(
        "0.0.0.0",
        8080,
        dataDir,
        "",
        Optional.empty(),
        DEFAULT_WORKERS,
        100_000,
        JobStoreOptions.defaultPayloadBytesLimit(),
        Durability.ALWAYS,
        1 << 20,
        1_000,
        64,
        Duration.ofSeconds(60),
        10,
        DEFAULT_RETRY_DELAY,
        Duration.ofSeconds(30),
        DEFAULT_HEADER_TIMEOUT,
        Duration.ofSeconds(30),
        defaultMaxInflightBodyBytes(1 << 20),
        defaultMaxConnections(),
        DEFAULT_FINISHED_RETENTION,
        JobStoreOptions.DEFAULT_ACK_TIMEOUT,
        JobStoreOptions.DEFAULT_STALL_THRESHOLD,
        true);
  }

  /**
   * This configuration on another port.
   *
   * @param port 0..65535; 0 picks a free port
   * @return a new configuration
   */
  public ServerConfig withPort(int port) {
    return with(d -> d.port = port);
  }

  /**
   * This configuration requiring a bearer token.
   *
   * @param token the token clients must send
   * @return a new configuration
   */
  public ServerConfig withToken(String token) {
    return with(d -> d.token = Optional.of(token));
  }

  /**
   * This configuration with other queue and request limits.
   *
   * @param queueCapacity the most payloads waiting
   * @param maxBodyBytes the largest body
   * @param maxPayloads the most payloads per request
   * @param maxDepth the deepest a payload may nest arrays and objects (see {@link #maxDepth()})
   * @return a new configuration
   */
  public ServerConfig withLimits(
      int queueCapacity, int maxBodyBytes, int maxPayloads, int maxDepth) {
    return with(
        d -> {
          d.queueCapacity = queueCapacity;
          d.maxBodyBytes = maxBodyBytes;
          d.maxPayloads = maxPayloads;
          d.maxDepth = maxDepth;
        });
  }

  /**
   * This configuration with another limit on the payload bytes held in memory.
   *
   * @param queueBytes at least {@link #maxBodyBytes()}
   * @return a new configuration
   */
  public ServerConfig withQueueBytes(long queueBytes) {
    return with(d -> d.queueBytes = queueBytes);
  }

  /**
   * This configuration with other worker and retry settings.
   *
   * @param workers upload workers
   * @param uploadTimeout the longest upload attempt
   * @param maxAttempts attempts per payload
   * @return a new configuration
   */
  public ServerConfig withWorkers(int workers, Duration uploadTimeout, int maxAttempts) {
    return with(
        d -> {
          d.workers = workers;
          d.uploadTimeout = uploadTimeout;
          d.maxAttempts = maxAttempts;
        });
  }

  /**
   * This configuration with an object key prefix.
   *
   * @param objectPrefix empty, or ending with {@code /}
   * @return a new configuration
   */
  public ServerConfig withObjectPrefix(String objectPrefix) {
    return with(d -> d.objectPrefix = objectPrefix);
  }

  /**
   * This configuration with another header timeout.
   *
   * @param headerTimeout positive
   * @return a new configuration
   */
  public ServerConfig withHeaderTimeout(Duration headerTimeout) {
    return with(d -> d.headerTimeout = headerTimeout);
  }

  /**
   * This configuration with another body timeout.
   *
   * @param bodyTimeout positive
   * @return a new configuration
   */
  public ServerConfig withBodyTimeout(Duration bodyTimeout) {
    return with(d -> d.bodyTimeout = bodyTimeout);
  }

  /**
   * This configuration with another shutdown grace period.
   *
   * @param shutdownGrace not negative
   * @return a new configuration
   */
  public ServerConfig withShutdownGrace(Duration shutdownGrace) {
    return with(d -> d.shutdownGrace = shutdownGrace);
  }

  /**
   * This configuration with another wait before retrying a failed upload.
   *
   * @param retryDelay the cap of the wait before the second attempt, in 0..{@link
   *     #MAX_RETRY_DELAY}; later waits' caps double, up to {@link #MAX_RETRY_DELAY}
   * @return a new configuration
   */
  public ServerConfig withRetryDelay(Duration retryDelay) {
    return with(d -> d.retryDelay = retryDelay);
  }

  /**
   * This configuration with another budget for the bodies of requests being received.
   *
   * @param maxInflightBodyBytes at least {@link #maxBodyBytes()}
   * @return a new configuration
   */
  public ServerConfig withMaxInflightBodyBytes(long maxInflightBodyBytes) {
    return with(d -> d.maxInflightBodyBytes = maxInflightBodyBytes);
  }

  /**
   * This configuration with another limit on open connections.
   *
   * @param maxConnections at least 1
   * @return a new configuration
   */
  public ServerConfig withMaxConnections(int maxConnections) {
    return with(d -> d.maxConnections = maxConnections);
  }

  /**
   * This configuration remembering another number of finished jobs.
   *
   * @param finishedRetention not negative; 0 remembers none
   * @return a new configuration
   */
  public ServerConfig withFinishedRetention(int finishedRetention) {
    return with(d -> d.finishedRetention = finishedRetention);
  }

  /**
   * This configuration with other bounds on waiting for a hung journal.
   *
   * @param journalAckTimeout the longest a submit waits for the journal, at least 1 ms
   * @param journalStallThreshold how long a journal write and fsync may run before it is a stall,
   *     at least 1 ms
   * @return a new configuration
   */
  public ServerConfig withJournalTimeouts(
      Duration journalAckTimeout, Duration journalStallThreshold) {
    return with(
        d -> {
          d.journalAckTimeout = journalAckTimeout;
          d.journalStallThreshold = journalStallThreshold;
        });
  }

  /**
   * This configuration with the journal's next segment file written ahead, or not.
   *
   * @param journalPreallocate whether the journal writes its next segment's file ahead
   * @return a new configuration
   */
  public ServerConfig withJournalPreallocate(boolean journalPreallocate) {
    return with(d -> d.journalPreallocate = journalPreallocate);
  }

  /** This configuration with the changes {@code change} makes to a copy, checked as a whole. */
  private ServerConfig with(Consumer<Draft> change) {
    Draft d = new Draft(this);
    change.accept(d);
    return d.build();
  }

  /**
   * A configuration being changed by a {@code with} method: its components, checked anew by build.
   */
  private static final class Draft {
    String host;
    int port;
    Path dataDir;
    String objectPrefix;
    Optional<String> token;
    int workers;
    int queueCapacity;
    long queueBytes;
    Durability durability;
    int maxBodyBytes;
    int maxPayloads;
    int maxDepth;
    Duration uploadTimeout;
    int maxAttempts;
    Duration retryDelay;
    Duration shutdownGrace;
    Duration headerTimeout;
    Duration bodyTimeout;
    long maxInflightBodyBytes;
    int maxConnections;
    int finishedRetention;
    Duration journalAckTimeout;
    Duration journalStallThreshold;
    boolean journalPreallocate;

    Draft(ServerConfig c) {
      host = c.host;
      port = c.port;
      dataDir = c.dataDir;
      objectPrefix = c.objectPrefix;
      token = c.token;
      workers = c.workers;
      queueCapacity = c.queueCapacity;
      queueBytes = c.queueBytes;
      durability = c.durability;
      maxBodyBytes = c.maxBodyBytes;
      maxPayloads = c.maxPayloads;
      maxDepth = c.maxDepth;
      uploadTimeout = c.uploadTimeout;
      maxAttempts = c.maxAttempts;
      retryDelay = c.retryDelay;
      shutdownGrace = c.shutdownGrace;
      headerTimeout = c.headerTimeout;
      bodyTimeout = c.bodyTimeout;
      maxInflightBodyBytes = c.maxInflightBodyBytes;
      maxConnections = c.maxConnections;
      finishedRetention = c.finishedRetention;
      journalAckTimeout = c.journalAckTimeout;
      journalStallThreshold = c.journalStallThreshold;
      journalPreallocate = c.journalPreallocate;
    }

    ServerConfig build() {
      return new ServerConfig(
          host,
          port,
          dataDir,
          objectPrefix,
          token,
          workers,
          queueCapacity,
          queueBytes,
          durability,
          maxBodyBytes,
          maxPayloads,
          maxDepth,
          uploadTimeout,
          maxAttempts,
          retryDelay,
          shutdownGrace,
          headerTimeout,
          bodyTimeout,
          maxInflightBodyBytes,
          maxConnections,
          finishedRetention,
          journalAckTimeout,
          journalStallThreshold,
          journalPreallocate);
    }
  }
}
