package io.sluice.server.objects;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * An {@link ObjectStore} in an S3 bucket, on AWS or on an S3-compatible server (MinIO, Ceph,
 * s3proxy), through the AWS SDK v2's synchronous client. Configured by {@link S3Options}.
 *
 * <p>Each {@link #put} is one {@code PutObject}: S3 replaces an object whole, so a reader never
 * sees part of one. Keys are checked by {@link ObjectKeys#validate} before any request.
 *
 * <p>Blocking methods wait for the HTTP exchange, bounded by the options' attempt and call
 * timeouts; an expired timeout is an {@link ObjectStoreException} with {@link
 * ObjectStoreException#retryable()} true. Interrupting the calling thread aborts the exchange (the
 * SDK checks the status between stages, and a virtual thread blocked in socket I/O is woken by the
 * interrupt, which closes the socket); the method then throws {@link InterruptedException} with the
 * status cleared.
 *
 * <p>Failures the store answers (403, {@code NoSuchBucket}, 5xx, ...) become {@link
 * ObjectStoreException}s whose message names the operation, key, bucket and endpoint, the store's
 * answer, and what to check. Payload content never appears in a message.
 *
 * <p>Memory consistency effects: as {@link ObjectStore}; the SDK client is thread-safe and shared
 * by all callers, with at most {@link S3Options#maxConnections()} exchanges at once.
 */
public final class S3ObjectStore implements ObjectStore {

  /*
   * Why this client configuration:
   * - Apache HttpClient 5 (apache5-client) is the SDK's default sync client under this BOM. It pools
   *   and reuses connections, has connect, socket and pool-wait timeouts, and guards its pool with
   *   j.u.c locks, so thousands of virtual threads can share it (and since JDK 24 a monitor no longer
   *   pins a virtual thread anyway). url-connection-client has no pool limit or pool-wait timeout,
   *   and the Netty/CRT clients are asynchronous, which buys nothing on virtual threads.
   * - Checksums "when required": by default SDK 2.30+ sends CRC32 trailers with aws-chunked
   *   encoding, which many S3-compatible servers reject. Integrity still has SigV4's payload hash
   *   over plain HTTP and TLS over HTTPS.
   * - No aws-chunked signing: the body goes out as the plain payload bytes, signed by its SHA-256
   *   in x-amz-content-sha256 over HTTP (UNSIGNED-PAYLOAD under TLS). Payloads are small and held
   *   in memory, so hashing them up front is cheap, and every S3-compatible server accepts it.
   * - No "Expect: 100-continue": payloads are small (the server's body limit is 1 MiB), so waiting a
   *   round trip for the server's go-ahead costs more than sending a body that might be refused.
   * - Retries: the standard strategy, at most 1 + maxSdkRetries attempts. The job engine owns
   *   retrying with backoff, jitter and dead letters; SDK retries only hide a dropped connection.
   */

  private final S3Options options;
  private final S3Client client;
  private final AwsCredentialsProvider credentials;
  private final String where;
  private volatile boolean closed;

  private S3ObjectStore(S3Options options, S3Client client, AwsCredentialsProvider credentials) {
    this.options = options;
    this.client = client;
    this.credentials = credentials;
    this.where =
        options.endpoint().map(URI::toString).orElse("AWS")
            + " (region "
            + client.serviceClientConfiguration().region()
            + ")";
  }

  /**
   * Creates a store and its SDK client. Makes no request: call {@link #check()} to test the
   * connection.
   *
   * @param options where and how to connect
   * @return the store; close it to release its connections
   * @throws IllegalArgumentException if no region is configured and the SDK's region chain finds
   *     none
   */
  public static S3ObjectStore create(S3Options options) {
    Objects.requireNonNull(options, "options");
    AwsCredentialsProvider credentials =
        options.accessKeyId().isPresent()
            ? StaticCredentialsProvider.create(
                AwsBasicCredentials.create(
                    options.accessKeyId().get(), options.secretAccessKey().orElseThrow()))
            : DefaultCredentialsProvider.builder().build();
    S3ClientBuilder builder =
        S3Client.builder()
            .httpClientBuilder(
                Apache5HttpClient.builder()
                    .connectionTimeout(options.connectTimeout())
                    .connectionAcquisitionTimeout(options.connectTimeout())
                    .socketTimeout(options.attemptTimeout())
                    .maxConnections(options.maxConnections())
                    .expectContinueEnabled(false))
            .overrideConfiguration(
                c ->
                    c.apiCallTimeout(options.callTimeout())
                        .apiCallAttemptTimeout(options.attemptTimeout())
                        .retryStrategy(
                            AwsRetryStrategy.standardRetryStrategy().toBuilder()
                                .maxAttempts(1 + options.maxSdkRetries())
                                .build()))
            .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
            .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
            .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
            .forcePathStyle(options.pathStyle())
            .credentialsProvider(credentials);
    options.endpoint().ifPresent(builder::endpointOverride);
    if (options.region().isPresent()) {
      builder.region(Region.of(options.region().get()));
    } else if (options.endpoint().isPresent()) {
      builder.region(Region.US_EAST_1); // S3-compatible servers mostly ignore it; SigV4 needs one
    }
    try {
      return new S3ObjectStore(options, builder.build(), credentials);
    } catch (SdkException e) {
      closeQuietly(credentials);
      throw new IllegalArgumentException(
          "cannot set up the S3 client for bucket "
              + options.bucket()
              + ": "
              + e.getMessage()
              + " (set the region, for example with AWS_REGION, or an endpoint)",
          e);
    }
  }

  /**
   * The options this store was made with.
   *
   * @return the options
   */
  public S3Options options() {
    return options;
  }

  @Override
  public void put(String key, byte[] content, String contentType)
      throws IOException, InterruptedException {
    put(key, content, contentType, Map.of());
  }

  /**
   * Writes the object with its metadata as {@code x-amz-meta-<name>} headers. A value of printable
   * ASCII, without a space at either end, is sent as it is; any other is sent RFC 2047-encoded
   * ({@code =?UTF-8?B?<base64>?=}), as S3 documents for user metadata that is not ASCII, so no
   * value can break the request's headers.
   */
  @Override
  public void put(String key, byte[] content, String contentType, Map<String, String> metadata)
      throws IOException, InterruptedException {
    ObjectKeys.validate(key);
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(contentType, "contentType");
    Map<String, String> headers = metadataHeaders(metadata);
    ensureOpen();
    throwIfInterrupted();
    try {
      client.putObject(
          b ->
              b.bucket(options.bucket())
                  .key(key)
                  .contentType(contentType)
                  .contentLength((long) content.length)
                  .metadata(headers),
          RequestBody.fromContentProvider(
              () -> new ByteArrayInputStream(content), content.length, contentType));
    } catch (SdkException e) {
      throw failure("PutObject of key " + ObjectKeys.quote(key) + " to", e);
    }
  }

  /** The metadata as S3 header values: printable ASCII as it is, anything else RFC 2047. */
  static Map<String, String> metadataHeaders(Map<String, String> metadata) {
    if (metadata.isEmpty()) {
      return Map.of();
    }
    Map<String, String> headers = new LinkedHashMap<>();
    metadata.forEach(
        (name, value) -> {
          if (!name.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException(
                "metadata name \"" + name + "\" is not lower-case letters, digits and '-'");
          }
          headers.put(name, printableAscii(value) ? value : rfc2047(value));
        });
    return headers;
  }

  private static boolean printableAscii(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7E) {
        return false;
      }
    }
    // "=?": so that a plain value never reads as an encoded one; a space at either end: HTTP
    // trims header values, so S3 would keep the value without it.
    return !value.startsWith("=?") && !value.startsWith(" ") && !value.endsWith(" ");
  }

  private static String rfc2047(String value) {
    return "=?UTF-8?B?"
        + Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))
        + "?=";
  }

  @Override
  public Optional<byte[]> get(String key) throws IOException, InterruptedException {
    ObjectKeys.validate(key);
    ensureOpen();
    throwIfInterrupted();
    try {
      return Optional.of(
          client.getObjectAsBytes(b -> b.bucket(options.bucket()).key(key)).asByteArrayUnsafe());
    } catch (NoSuchKeyException e) {
      return Optional.empty();
    } catch (SdkException e) {
      throw failure("GetObject of key " + ObjectKeys.quote(key) + " from", e);
    }
  }

  /**
   * Whether the key exists, with one {@code HeadObject}. Its 404 has no body, so it does not say
   * whether the key or the bucket is missing: a {@code HeadBucket} then tells them apart, and a
   * missing bucket is an {@link ObjectStoreException} that is not {@link
   * ObjectStoreException#retryable()}, as for the other operations. Other failures throw.
   */
  @Override
  public boolean exists(String key) throws IOException, InterruptedException {
    ObjectKeys.validate(key);
    ensureOpen();
    throwIfInterrupted();
    String operation = "HeadObject of key " + ObjectKeys.quote(key) + " in";
    try {
      client.headObject(b -> b.bucket(options.bucket()).key(key));
      return true;
    } catch (NoSuchKeyException e) {
      return bucketAnswers(operation);
    } catch (S3Exception e) {
      if (e.statusCode() == 404 && !wasInterrupted(e)) {
        return bucketAnswers(operation);
      }
      throw failure(operation, e);
    } catch (SdkException e) {
      throw failure(operation, e);
    }
  }

  /**
   * After a {@code HeadObject} answered 404: false if the bucket exists (the key does not), or
   * whatever {@code HeadBucket} answers other than 404 (a credential allowed to read objects may
   * not be allowed to see the bucket), and the bucket's 404 as a failure of {@code operation}.
   */
  private boolean bucketAnswers(String operation) throws IOException, InterruptedException {
    try {
      client.headBucket(b -> b.bucket(options.bucket()));
      return false;
    } catch (AwsServiceException e) {
      if (e.statusCode() == 404 || wasInterrupted(e)) {
        throw failure(operation, e);
      }
      return false;
    } catch (SdkException e) {
      throw failure(operation, e);
    }
  }

  @Override
  public String describe() {
    return "s3 " + options.bucket() + "/" + options.prefix() + " at " + where;
  }

  /**
   * Checks that credentials can be found, and that the bucket exists and the credentials may see
   * it, with one {@code HeadBucket}. It does not write, so write permission shows only at the first
   * upload. Credentials that cannot be found are not {@link ObjectStoreException#retryable()}: only
   * a settings change finds them.
   */
  @Override
  public void check() throws IOException {
    ensureOpen();
    try {
      credentials.resolveCredentials();
    } catch (SdkException e) {
      throw new ObjectStoreException(
          "no S3 credentials for bucket "
              + options.bucket()
              + " at "
              + where
              + ": "
              + e.getMessage()
              + "; set --s3-access-key-id and --s3-secret-access-key, or the AWS SDK's"
              + " AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or an instance role",
          0,
          null,
          false,
          e);
    }
    try {
      client.headBucket(b -> b.bucket(options.bucket()));
    } catch (SdkException e) {
      try {
        throw failure("HeadBucket (startup check) of", e);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while checking " + describe());
      }
    }
  }

  /** Closes the SDK client and its connection pool, and the credential provider. Idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    client.close();
    closeQuietly(credentials);
  }

  /** Turns an SDK failure into the exception this store reports. */
  private ObjectStoreException failure(String operation, SdkException e)
      throws InterruptedException {
    if (wasInterrupted(e)) {
      Thread.interrupted();
      InterruptedException interrupted =
          new InterruptedException("interrupted during S3 " + operation + " " + describe());
      interrupted.initCause(e);
      throw interrupted;
    }
    String what = "S3 " + operation + " bucket " + options.bucket() + " at " + where + " failed: ";
    if (e instanceof AwsServiceException service) {
      int status = service.statusCode();
      String code =
          service.awsErrorDetails() == null ? null : service.awsErrorDetails().errorCode();
      String answer =
          "HTTP "
              + status
              + (code == null ? "" : " " + code)
              + (service.awsErrorDetails() == null
                      || service.awsErrorDetails().errorMessage() == null
                  ? ""
                  : " (" + service.awsErrorDetails().errorMessage() + ")");
      return new ObjectStoreException(
          what + answer + "; " + hint(status, code), status, code, isRetryable(status, code), e);
    }
    String hint;
    if (timedOut(e)) {
      hint =
          "timed out (connect timeout "
              + options.connectTimeout()
              + ", attempt timeout "
              + options.attemptTimeout()
              + ", call timeout "
              + options.callTimeout()
              + "); check that the endpoint is reachable and not overloaded, or raise the timeouts";
    } else {
      hint = "could not reach the store; check the endpoint URL, DNS and the network";
      if (options.endpoint().isPresent() && !options.pathStyle()) {
        hint += ", and enable path-style access, which most S3-compatible servers need";
      }
    }
    return new ObjectStoreException(what + e.getMessage() + "; " + hint, 0, null, true, e);
  }

  private String hint(int status, String code) {
    if ("RequestTimeTooSkewed".equals(code)) {
      return "this machine's clock and the store's differ too much; the SDK corrects for the"
          + " difference, so trying again may succeed, but check the clock (NTP)";
    }
    if ("ExpiredToken".equals(code)) {
      return "the credentials expired; the SDK's credential chain fetches new ones, so trying"
          + " again may succeed; if it persists, check how the credentials are refreshed";
    }
    if ("NoSuchBucket".equals(code) || (status == 404 && code == null)) {
      return "check the bucket name ("
          + options.bucket()
          + ") and that the bucket exists at this endpoint and region";
    }
    if (status == 403) {
      return "check the credentials ("
          + (options.accessKeyId().isPresent()
              ? "the configured access key id " + options.accessKeyId().get() + " and its secret"
              : "the SDK's default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,"
                  + " or the instance role")
          + ") and that they may write to the bucket";
    }
    if (status == 301 || "AuthorizationHeaderMalformed".equals(code)) {
      return "check the region: the bucket seems to be in another one";
    }
    if (isRetryable(status, code)) {
      // Not "will be retried": the store cannot know, and this text ends up in dead letters too.
      return "the store is failing or throttling, which often passes: trying again later may"
          + " succeed";
    }
    return "the store rejected the request; check the endpoint and bucket configuration";
  }

  /**
   * Whether an S3 answer may pass by itself: a 5xx other than 501 (a feature the store lacks), a
   * 408 or 429, or an error code that S3 and the SDK's own retry policy count as transient,
   * whatever its status (S3 answers several with 400, 403 or 409).
   */
  private static boolean isRetryable(int status, String code) {
    return (status >= 500 && status != 501)
        || status == 429
        || status == 408
        || (code != null && TRANSIENT_CODES.contains(code));
  }

  /**
   * Error codes of answers that trying again can get past: throttling (as the SDK's retry policy
   * lists it), a request or body the network cut short, a conflicting operation, a clock skew the
   * SDK corrects, and credentials the default chain refreshes.
   */
  private static final Set<String> TRANSIENT_CODES =
      Set.of(
          "SlowDown",
          "Throttling",
          "ThrottlingException",
          "ThrottledException",
          "RequestThrottled",
          "RequestThrottledException",
          "RequestLimitExceeded",
          "BandwidthLimitExceeded",
          "TooManyRequestsException",
          "RequestTimeout",
          "RequestTimeoutException",
          "IncompleteBody",
          "OperationAborted",
          "RequestTimeTooSkewed",
          "ExpiredToken",
          "InternalError",
          "ServiceUnavailable");

  /**
   * Whether the call failed for want of time: the SDK's attempt or call timeout, or the HTTP
   * client's own connect or socket read timeout. The socket timeout is the attempt timeout, so
   * either may expire first when an answer is late; both are the same condition to the user.
   * Interruptions are told apart before this ({@link #wasInterrupted}), so an {@link
   * InterruptedIOException} left in the causes is a timeout ({@code SocketTimeoutException}, the
   * HTTP client's {@code ConnectTimeoutException}).
   */
  private static boolean timedOut(SdkException e) {
    if (e instanceof ApiCallAttemptTimeoutException || e instanceof ApiCallTimeoutException) {
      return true;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedIOException) {
        return true;
      }
    }
    return false;
  }

  private static boolean wasInterrupted(Throwable e) {
    if (Thread.currentThread().isInterrupted() || e instanceof AbortedException) {
      return true;
    }
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof InterruptedException || t instanceof ClosedByInterruptException) {
        return true;
      }
    }
    return false;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("object store closed: " + describe());
    }
  }

  private static void throwIfInterrupted() throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException("interrupted before the object store call");
    }
  }

  private static void closeQuietly(AwsCredentialsProvider credentials) {
    if (credentials instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        // nothing to do: the process is letting go of it
      }
    }
  }
}
