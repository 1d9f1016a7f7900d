package io.sluice.server.objects;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@link S3ObjectStore} reaches its bucket. Immutable; start from {@link #forBucket} and change
 * what differs with the {@code withX} methods.
 *
 * <table>
 *   <caption>Options and defaults</caption>
 *   <tr><th>option</th><th>default</th><th>meaning</th></tr>
 *   <tr><td>{@code bucket}</td><td>(required)</td><td>the bucket the objects go to</td></tr>
 *   <tr><td>{@code prefix}</td><td>{@code ""}</td><td>prepended to every key by {@link
 *       ObjectKeys#forJob}; empty or ending with {@code /}</td></tr>
 *   <tr><td>{@code region}</td><td>empty</td><td>empty: the SDK's region chain ({@code AWS_REGION},
 *       profile, instance metadata), or {@code us-east-1} when an endpoint is set</td></tr>
 *   <tr><td>{@code endpoint}</td><td>empty (AWS)</td><td>an S3-compatible server, like
 *       {@code http://127.0.0.1:9000} for MinIO</td></tr>
 *   <tr><td>{@code pathStyle}</td><td>false</td><td>{@code endpoint/bucket/key} instead of
 *       {@code bucket.endpoint/key}; most S3-compatible servers need it</td></tr>
 *   <tr><td>{@code accessKeyId}, {@code secretAccessKey}</td><td>empty</td><td>both or neither;
 *       neither: the SDK's default credential chain (environment, profile, container or instance
 *       role)</td></tr>
 *   <tr><td>{@code connectTimeout}</td><td>2 s</td><td>to open a TCP (and TLS) connection, and to
 *       wait for a free pooled connection</td></tr>
 *   <tr><td>{@code callTimeout}</td><td>30 s</td><td>a whole call, retries included</td></tr>
 *   <tr><td>{@code attemptTimeout}</td><td>10 s</td><td>one HTTP attempt; also the socket read
 *       timeout</td></tr>
 *   <tr><td>{@code maxSdkRetries}</td><td>1</td><td>retries inside the SDK (0..10). Kept small on
 *       purpose: the job engine retries failed uploads itself, with backoff, jitter and dead
 *       letters, so SDK retries only smooth over a dropped connection</td></tr>
 *   <tr><td>{@code maxConnections}</td><td>64</td><td>the HTTP connection pool; at least the number
 *       of upload workers, or workers wait for connections</td></tr>
 * </table>
 *
 * <p>{@link #toString()} masks the secret.
 *
 * @param bucket the bucket
 * @param prefix the key prefix
 * @param region the region, or empty for the default
 * @param endpoint the endpoint override, or empty for AWS
 * @param pathStyle whether to use path-style addressing
 * @param accessKeyId the access key id, or empty for the default credential chain
 * @param secretAccessKey the secret access key, present exactly when {@code accessKeyId} is
 * @param connectTimeout the connection timeout
 * @param callTimeout the whole-call timeout
 * @param attemptTimeout the per-attempt timeout, at most {@code callTimeout}
 * @param maxSdkRetries the SDK's retries after the first attempt
 * @param maxConnections the connection pool size
 */
public record S3Options(
    String bucket,
    String prefix,
    Optional<String> region,
    Optional<URI> endpoint,
    boolean pathStyle,
    Optional<String> accessKeyId,
    Optional<String> secretAccessKey,
    Duration connectTimeout,
    Duration callTimeout,
    Duration attemptTimeout,
    int maxSdkRetries,
    int maxConnections) {

  /** The most SDK retries allowed: more belongs in the job engine's retry policy. */
  public static final int MAX_SDK_RETRIES = 10;

  /**
   * Checks every option.
   *
   * @throws IllegalArgumentException naming the option that is wrong and why
   * @throws InvalidObjectKeyException if the prefix is not a valid prefix
   */
  public S3Options {
    Objects.requireNonNull(bucket, "bucket");
    if (bucket.isBlank() || bucket.chars().anyMatch(c -> c <= ' ' || c == '/' || c == 0x7F)) {
      throw new IllegalArgumentException(
          "S3 bucket name "
              + ObjectKeys.quote(bucket)
              + " is empty or holds '/', a space or a control character");
    }
    ObjectKeys.validatePrefix(prefix);
    Objects.requireNonNull(region, "region");
    region.ifPresent(
        r -> {
          if (r.isBlank()) {
            throw new IllegalArgumentException(
                "S3 region is blank; leave it unset for the default");
          }
        });
    Objects.requireNonNull(endpoint, "endpoint");
    endpoint.ifPresent(S3Options::checkEndpoint);
    Objects.requireNonNull(accessKeyId, "accessKeyId");
    Objects.requireNonNull(secretAccessKey, "secretAccessKey");
    if (accessKeyId.isPresent() != secretAccessKey.isPresent()) {
      throw new IllegalArgumentException(
          "S3 access key id and secret access key go together: set both, or neither to use the"
              + " SDK's default credential chain");
    }
    requirePositive(connectTimeout, "connectTimeout");
    requirePositive(callTimeout, "callTimeout");
    requirePositive(attemptTimeout, "attemptTimeout");
    if (attemptTimeout.compareTo(callTimeout) > 0) {
      throw new IllegalArgumentException(
          "S3 attemptTimeout ("
              + attemptTimeout
              + ") is longer than callTimeout ("
              + callTimeout
              + "), which bounds all attempts together");
    }
    if (maxSdkRetries < 0 || maxSdkRetries > MAX_SDK_RETRIES) {
      throw new IllegalArgumentException(
          "S3 maxSdkRetries must be 0.."
              + MAX_SDK_RETRIES
              + ", was "
              + maxSdkRetries
              + " (the job engine retries failed uploads itself)");
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("S3 maxConnections must be at least 1: " + maxConnections);
    }
  }

  /**
   * The defaults in the class comment, for one bucket on AWS.
   *
   * @param bucket the bucket
   * @return the options
   */
  public static S3Options forBucket(String bucket) {
    return new S3Options(
        bucket,
        "",
        Optional.empty(),
        Optional.empty(),
        false,
        Optional.empty(),
        Optional.empty(),
        Duration.ofSeconds(2),
        Duration.ofSeconds(30),
        Duration.ofSeconds(10),
        1,
        64);
  }

  /**
   * These options with another bucket.
   *
   * @param bucket the bucket
   * @return the new options
   */
  public S3Options withBucket(String bucket) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with another key prefix.
   *
   * @param prefix empty, or a valid key ending with {@code /}
   * @return the new options
   */
  public S3Options withPrefix(String prefix) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with a region.
   *
   * @param region like {@code eu-west-1}
   * @return the new options
   */
  public S3Options withRegion(String region) {
    return new S3Options(
        bucket,
        prefix,
        Optional.of(region),
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with an endpoint override, for an S3-compatible server.
   *
   * @param endpoint an absolute {@code http} or {@code https} URI
   * @return the new options
   */
  public S3Options withEndpoint(URI endpoint) {
    return new S3Options(
        bucket,
        prefix,
        region,
        Optional.of(endpoint),
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with path-style addressing on or off.
   *
   * @param pathStyle true for {@code endpoint/bucket/key}
   * @return the new options
   */
  public S3Options withPathStyle(boolean pathStyle) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with fixed credentials instead of the SDK's default chain.
   *
   * @param accessKeyId the access key id
   * @param secretAccessKey the secret access key
   * @return the new options
   */
  public S3Options withCredentials(String accessKeyId, String secretAccessKey) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        Optional.of(accessKeyId),
        Optional.of(secretAccessKey),
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with the SDK's default credential chain instead of fixed credentials.
   *
   * @return the new options
   */
  public S3Options withDefaultCredentials() {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        Optional.empty(),
        Optional.empty(),
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with another connection timeout.
   *
   * @param connectTimeout positive
   * @return the new options
   */
  public S3Options withConnectTimeout(Duration connectTimeout) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with another whole-call timeout.
   *
   * @param callTimeout positive, at least the attempt timeout
   * @return the new options
   */
  public S3Options withCallTimeout(Duration callTimeout) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with another per-attempt timeout.
   *
   * @param attemptTimeout positive, at most the call timeout
   * @return the new options
   */
  public S3Options withAttemptTimeout(Duration attemptTimeout) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with other call and attempt timeouts, set together so that neither order of
   * {@link #withCallTimeout} and {@link #withAttemptTimeout} trips the check between them.
   *
   * @param callTimeout positive
   * @param attemptTimeout positive, at most {@code callTimeout}
   * @return the new options
   */
  public S3Options withTimeouts(Duration callTimeout, Duration attemptTimeout) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with another number of SDK retries.
   *
   * @param maxSdkRetries 0..{@value #MAX_SDK_RETRIES}
   * @return the new options
   */
  public S3Options withMaxSdkRetries(int maxSdkRetries) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /**
   * These options with another connection pool size.
   *
   * @param maxConnections at least 1
   * @return the new options
   */
  public S3Options withMaxConnections(int maxConnections) {
    return new S3Options(
        bucket,
        prefix,
        region,
        endpoint,
        pathStyle,
        accessKeyId,
        secretAccessKey,
        connectTimeout,
        callTimeout,
        attemptTimeout,
        maxSdkRetries,
        maxConnections);
  }

  /** The options, with the secret access key masked. */
  @Override
  public String toString() {
    return "S3Options[bucket="
        + bucket
        + ", prefix="
        + prefix
        + ", region="
        + region.orElse("(default)")
        + ", endpoint="
        + endpoint.map(URI::toString).orElse("(AWS)")
        + ", pathStyle="
        + pathStyle
        + ", accessKeyId="
        + accessKeyId.orElse("(default chain)")
        + ", secretAccessKey="
        + secretAccessKey.map(s -> "****").orElse("(default chain)")
        + ", connectTimeout="
        + connectTimeout
        + ", callTimeout="
        + callTimeout
        + ", attemptTimeout="
        + attemptTimeout
        + ", maxSdkRetries="
        + maxSdkRetries
        + ", maxConnections="
        + maxConnections
        + "]";
  }

  private static void checkEndpoint(URI endpoint) {
    String scheme = endpoint.getScheme();
    if (!endpoint.isAbsolute()
        || endpoint.getHost() == null
        || !("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme))) {
      throw new IllegalArgumentException(
          "S3 endpoint "
              + endpoint
              + " is not an absolute http or https URI with a host, like http://127.0.0.1:9000");
    }
  }

  private static void requirePositive(Duration d, String name) {
    Objects.requireNonNull(d, name);
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("S3 " + name + " must be positive, was " + d);
    }
  }
}
