package io.sluice.server;

import io.sluice.jobs.Durability;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.ObjectStore;
import io.sluice.server.objects.S3ObjectStore;
import io.sluice.server.objects.S3Options;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code sluice serve}: runs the ingest service until SIGTERM or Ctrl-C. */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs the ingest service until stopped. SIGTERM or Ctrl-C shut it down gracefully: new"
          + " payloads get 503, uploads in progress get --shutdown-grace, the journal is closed,"
          + " and the exit code is 0. Payloads accepted but not yet uploaded are uploaded after"
          + " the next start. While starting, they abandon the start (a journal replay included)"
          + " and the exit code is 0. A second SIGTERM or Ctrl-C while stopping stops at once,"
          + " exit code 143 (130 for Ctrl-C); uploads cut off run again after the next start."
          + " A journal whose disk hangs (see --journal-stall-threshold) cannot be closed: once"
          + " the grace has passed and it has been stalled for --journal-ack-timeout, the stop"
          + " gives up on it, says so, and the exit code is 1.",
      "",
      "POST /v1/payloads takes {\"payloads\": [...]}; every payload is journaled before the 202,"
          + " then uploaded as its own object by the workers, with retries and dead letters.",
      "",
      "The object store is checked at startup: a refusal only a settings change fixes (403, a"
          + " missing bucket, no credentials) exits with status 1; a store that is down for a"
          + " while (5xx, timeout, connection refused) gets a warning, and the service starts and"
          + " retries the uploads.",
      "",
      "Settings come from, first to last: the flags; the environment (SLUICE_<NAME>, e.g."
          + " SLUICE_QUEUE_CAPACITY; also the seed's MAX_WORKERS and MAX_QUEUE, other names of"
          + " SLUICE_WORKERS and SLUICE_QUEUE_CAPACITY, refused if both names differ); the .properties"
          + " file named by --config or SLUICE_CONFIG (keys are flag names: queue-capacity=50000);"
          + " the defaults shown.",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  sluice serve                                   # port 8080, data in ./data",
      "  sluice serve --port 9000 --data-dir /var/lib/sluice --workers 128",
      "  sluice serve --store s3 --s3-bucket my-bucket --s3-region eu-west-1",
      "  sluice serve --store s3 --s3-bucket b --s3-endpoint http://127.0.0.1:9000"
          + " --s3-path-style   # MinIO",
      "  curl -H 'Content-Type: application/json' -d '{\"payloads\": [{\"hello\": 1}]}'"
          + " localhost:8080/v1/payloads"
    })
final class ServeCommand implements Callable<Integer> {

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "A .properties file of settings, keys as the flag names (SLUICE_CONFIG). Default:"
              + " none.")
  Path config;

  @Option(
      names = "--host",
      defaultValue = "0.0.0.0",
      description = "Address to listen on (SLUICE_HOST). Default: ${DEFAULT-VALUE}.")
  String host;

  @Option(
      names = "--port",
      defaultValue = "8080",
      description = "Port; 0 picks a free one (SLUICE_PORT). Default: ${DEFAULT-VALUE}.")
  int port;

  @Option(
      names = "--data-dir",
      defaultValue = "data",
      paramLabel = "DIR",
      description =
          "The journal (DIR/journal) and, with the filesystem store, the objects"
              + " (DIR/objects) (SLUICE_DATA_DIR). Default: ${DEFAULT-VALUE}.")
  Path dataDir;

  @Option(
      names = "--store",
      defaultValue = "filesystem",
      paramLabel = "KIND",
      description =
          "Where payloads go: filesystem or s3 (SLUICE_STORE). Default:" + " ${DEFAULT-VALUE}.")
  String store;

  @Option(
      names = "--object-sync",
      defaultValue = "every-put",
      paramLabel = "POLICY",
      description =
          "Filesystem store: every-put makes each object durable before the upload counts as"
              + " done (objects are written in batches, one flush per batch); none leaves it to the"
              + " OS, so a power loss may lose objects whose jobs already finished"
              + " (SLUICE_OBJECT_SYNC). Default: ${DEFAULT-VALUE}.")
  String objectSync;

  @Option(
      names = "--object-writers",
      defaultValue = "" + FilesystemObjectStore.DEFAULT_WRITERS,
      paramLabel = "N",
      description =
          "Filesystem store: threads that write objects in batches; one flushes while another"
              + " writes (SLUICE_OBJECT_WRITERS). Default: ${DEFAULT-VALUE}.")
  int objectWriters;

  @Option(
      names = "--object-prefix",
      defaultValue = "",
      paramLabel = "PREFIX",
      description =
          "Prefix of every object key: empty or ending in '/' (SLUICE_OBJECT_PREFIX). Default:"
              + " empty (keys start with the date).")
  String objectPrefix;

  @Option(
      names = "--s3-bucket",
      defaultValue = "",
      paramLabel = "NAME",
      description =
          "The bucket, with --store s3 (SLUICE_S3_BUCKET). Default: none (--store s3 needs"
              + " one).")
  String s3Bucket;

  @Option(
      names = "--s3-region",
      defaultValue = "",
      paramLabel = "REGION",
      description =
          "The region (SLUICE_S3_REGION). Default: the AWS SDK's (AWS_REGION, profile),"
              + " or us-east-1 with --s3-endpoint.")
  String s3Region;

  @Option(
      names = "--s3-endpoint",
      defaultValue = "",
      paramLabel = "URL",
      description =
          "An S3-compatible server, e.g. http://127.0.0.1:9000 (SLUICE_S3_ENDPOINT). Default:"
              + " AWS S3 in the region.")
  String s3Endpoint;

  @Option(
      names = "--s3-path-style",
      defaultValue = "false",
      arity = "0..1",
      description =
          "Path-style addressing, as MinIO, Ceph and s3proxy need"
              + " (SLUICE_S3_PATH_STYLE). Default: ${DEFAULT-VALUE}.")
  boolean s3PathStyle;

  @Option(
      names = "--s3-access-key-id",
      defaultValue = "",
      paramLabel = "ID",
      description =
          "Static credentials, with --s3-secret-access-key (SLUICE_S3_ACCESS_KEY_ID)."
              + " Default: the AWS SDK's default credential chain.")
  String s3AccessKeyId;

  @Option(
      names = "--s3-secret-access-key",
      defaultValue = "",
      paramLabel = "SECRET",
      description =
          "With --s3-access-key-id; prefer the environment (SLUICE_S3_SECRET_ACCESS_KEY) to"
              + " the flag. Default: the AWS SDK's default credential chain.")
  String s3SecretAccessKey;

  @Option(
      names = "--s3-timeout",
      defaultValue = "10s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "Longest S3 request attempt; a call with the SDK's retry may take three times as long"
              + " (SLUICE_S3_TIMEOUT). Default: ${DEFAULT-VALUE}.")
  Duration s3Timeout;

  @Option(
      names = "--token",
      defaultValue = "",
      paramLabel = "TOKEN",
      description = "Require 'Authorization: Bearer TOKEN' on /v1 (SLUICE_TOKEN). Default: none.")
  String token;

  @Option(
      names = "--workers",
      defaultValue = "" + ServerConfig.DEFAULT_WORKERS,
      description =
          "Upload workers (SLUICE_WORKERS or MAX_WORKERS, not both with different values)."
              + " Default: ${DEFAULT-VALUE}.")
  int workers;

  @Option(
      names = "--queue-capacity",
      defaultValue = "100000",
      description =
          "Most payloads waiting to upload; beyond it POST answers 429 (SLUICE_QUEUE_CAPACITY or"
              + " MAX_QUEUE, not both with different values). Default: ${DEFAULT-VALUE}.")
  int queueCapacity;

  @Option(
      names = "--queue-bytes",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Most payload bytes held in memory (payloads waiting to upload, and dead letters);"
              + " beyond it POST answers 429 instead of the heap running out (SLUICE_QUEUE_BYTES)."
              + " Default: 0, meaning a quarter of the JVM's maximum heap (-Xmx, set through"
              + " SLUICE_JAVA_OPTS), at least 16 MiB.")
  long queueBytes;

  @Option(
      names = "--durability",
      defaultValue = "always",
      paramLabel = "POLICY",
      description =
          "always: fsync before every 202 (shared by concurrent requests);"
              + " interval:MS: fsync every MS ms; never: leave it to the OS (SLUICE_DURABILITY)."
              + " Default: ${DEFAULT-VALUE}.")
  String durability;

  @Option(
      names = "--journal-stall-threshold",
      defaultValue = "10s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "A journal write and fsync running longer is a stall (a hung disk): it is logged,"
              + " /health/ready answers 503 journal_stalled, and POST /v1/payloads answers 503"
              + " journal_stalled at once until it ends (SLUICE_JOURNAL_STALL_THRESHOLD)."
              + " Default: ${DEFAULT-VALUE}.")
  Duration journalStallThreshold;

  @Option(
      names = "--journal-preallocate",
      defaultValue = "true",
      arity = "0..1",
      paramLabel = "BOOL",
      description =
          "Write the next journal segment's file (64 MiB) with zeros while the current one fills,"
              + " so fsyncs have no file growth to record: about half the time per journal commit"
              + " on ext4. false saves that disk space and the second write of the journal's bytes"
              + " (SLUICE_JOURNAL_PREALLOCATE). Default: ${DEFAULT-VALUE}.")
  boolean journalPreallocate;

  @Option(
      names = "--journal-ack-timeout",
      defaultValue = "30s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "Longest a POST /v1/payloads waits for the journal to make its batch durable; then it"
              + " answers 503 journal_stalled with the batch's ids, whose outcome is unknown"
              + " (SLUICE_JOURNAL_ACK_TIMEOUT). Default: ${DEFAULT-VALUE}.")
  Duration journalAckTimeout;

  @Option(
      names = "--max-body-bytes",
      defaultValue = "1048576",
      paramLabel = "N",
      description =
          "Largest request body; larger answers 413 (SLUICE_MAX_BODY_BYTES)."
              + " Default: ${DEFAULT-VALUE}.")
  int maxBodyBytes;

  @Option(
      names = "--max-payloads",
      defaultValue = "1000",
      paramLabel = "N",
      description =
          "Most payloads per request; more answers 413 (SLUICE_MAX_PAYLOADS)."
              + " Default: ${DEFAULT-VALUE}.")
  int maxPayloads;

  @Option(
      names = "--max-depth",
      defaultValue = "64",
      paramLabel = "N",
      description =
          "Deepest a payload may nest arrays and objects ([[1]] is 2 deep); the body's own"
              + " object and \"payloads\" array do not count. Deeper answers 400 too_deep"
              + " (SLUICE_MAX_DEPTH). Default: ${DEFAULT-VALUE}.")
  int maxDepth;

  @Option(
      names = "--upload-timeout",
      defaultValue = "60s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "Longest upload attempt, e.g. 60s or 2m (SLUICE_UPLOAD_TIMEOUT). Default:"
              + " ${DEFAULT-VALUE}.")
  Duration uploadTimeout;

  @Option(
      names = "--max-attempts",
      defaultValue = "10",
      paramLabel = "N",
      description =
          "Upload attempts per payload before it becomes a dead letter"
              + " (SLUICE_MAX_ATTEMPTS). Default: ${DEFAULT-VALUE}.")
  int maxAttempts;

  @Option(
      names = "--retry-delay",
      defaultValue = "1s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "Cap of the wait before an upload's second attempt; each later cap doubles, up to 5m,"
              + " and the wait is drawn at random below it (SLUICE_RETRY_DELAY). Default:"
              + " ${DEFAULT-VALUE}.")
  Duration retryDelay;

  @Option(
      names = "--shutdown-grace",
      defaultValue = "30s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "How long uploads in progress may finish at shutdown"
              + " (SLUICE_SHUTDOWN_GRACE). Default: ${DEFAULT-VALUE}.")
  Duration shutdownGrace;

  @Option(
      names = "--header-timeout",
      defaultValue = "10s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "A request's header fields must all arrive within this time of its request line;"
              + " a client that stalls or trickles inside its headers gets 408 header_timeout and"
              + " its connection is closed, so such clients cannot hold --max-connections. A"
              + " client that sends its whole head at once never comes near it"
              + " (SLUICE_HEADER_TIMEOUT). Default: ${DEFAULT-VALUE}.")
  Duration headerTimeout;

  @Option(
      names = "--body-timeout",
      defaultValue = "30s",
      paramLabel = "DURATION",
      converter = Main.DurationConverter.class,
      description =
          "A whole request body must arrive within this time; slower clients (stalled,"
              + " trickling, or sending chunks forever) get 408 and their connection is closed"
              + " (SLUICE_BODY_TIMEOUT). Default: ${DEFAULT-VALUE}.")
  Duration bodyTimeout;

  @Option(
      names = "--max-inflight-body-bytes",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Most request body bytes being received at once, over all requests; a body that does"
              + " not fit (its Content-Length, or the next chunk of a chunked body) answers 503"
              + " server_busy with Retry-After at once, so slow or stalled uploads cannot exhaust"
              + " the heap. Bodies over 64 KiB (or a sixteenth of --max-body-bytes, if less) may"
              + " use only three quarters of it, so large uploads that stall cannot shut small"
              + " requests out (SLUICE_MAX_INFLIGHT_BODY_BYTES). Default: 0, meaning an eighth of"
              + " the JVM's maximum heap, and at least 4/3 of --max-body-bytes.")
  long maxInflightBodyBytes;

  @Option(
      names = "--max-connections",
      defaultValue = "0",
      paramLabel = "N",
      description =
          "Most TCP connections open at once; more wait in the listen backlog until one closes."
              + " Each holds about 22 KB of heap even when it sends nothing; connections idle for"
              + " 60 s between requests are closed (SLUICE_MAX_CONNECTIONS). Default: 0, meaning"
              + " what an eighth of the heap holds at 32 KiB each (256 with -Xmx64m, 2048 with"
              + " -Xmx512m), from 64 to 100000.")
  int maxConnections;

  @Option(
      names = "--finished-retention",
      defaultValue = "" + ServerConfig.DEFAULT_FINISHED_RETENTION,
      paramLabel = "N",
      description =
          "How many finished jobs GET /v1/jobs/ID answers from memory with attempts, error and"
              + " times (the most recent, kept in the heap without their payloads). An older success is"
              + " still answered from its object, as \"forgotten\": true, without them"
              + " (SLUICE_FINISHED_RETENTION). Default: ${DEFAULT-VALUE}.")
  int finishedRetention;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    if (spec.defaultValueProvider() instanceof SettingsProvider provider) {
      provider.check(spec, spec.commandLine().getErr());
    }
    ServerConfig settings;
    ObjectStore objects;
    try {
      settings = settings();
      objects = objectStore(settings);
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    PrintStream err = System.err;
    // Before the start, which may replay a long journal: a SIGTERM then abandons the start.
    Stopping stopping = new Stopping(err);
    Signals.onTerminate(stopping::signalled);
    Runtime.getRuntime().addShutdownHook(new Thread(stopping::shutdownHook, "sluice-shutdown"));
    ReplayProgressBar progress = new ReplayProgressBar(err, Terminal.stderr());
    SluiceServer server = null;
    try {
      server = SluiceServer.start(settings, objects, stopping.observer(progress, startHook));
    } catch (SluiceServer.StartCancelled e) {
      progress.done();
      err.println(
          "sluice: stopped while starting ("
              + e.getMessage()
              + "); nothing was lost: the journal is replayed at the next start");
      return 0;
    } catch (IOException e) {
      objects.close();
      printCannotStart(err, e);
      return 1;
    } catch (RuntimeException e) {
      // Not an I/O failure (a store that failed to open its journal, a bug): the same line, then
      // the stack trace, which a report of the failure needs. The start closed what it opened.
      printCannotStart(err, e);
      e.printStackTrace(err);
      return 1;
    } finally {
      stopping.started(server);
    }
    progress.done();
    err.println(
        "sluice: listening on http://"
            + settings.host()
            + ":"
            + server.port()
            + " (data in "
            + settings.dataDir().toAbsolutePath()
            + ", objects in "
            + objects.describe()
            + "); Ctrl-C stops");
    stopping.await();
    err.println(
        "sluice: stopping (uploads in progress get "
            + settings.shutdownGrace().toSeconds()
            + " s; a second SIGTERM or Ctrl-C stops at once)");
    if (!server.stop()) {
      err.println(
          "sluice: stopped without closing the journal: its disk hung (see the log above)."
              + " Everything answered 202 is durable and is uploaded after the next start;"
              + " check the device first. Exit status 1");
      return 1;
    }
    err.println("sluice: stopped");
    return 0;
  }

  /**
   * Prints that the start failed, on one line: the failure's message, then each failure to undo the
   * start that the start added to it (suppressed), as "; also: " and its message. One of those says
   * that the journal could not be closed (its disk hung), and what to check before starting again;
   * without it the user would see only the step that failed.
   */
  static void printCannotStart(PrintStream err, Exception failure) {
    StringBuilder line = new StringBuilder("sluice: cannot start: ").append(message(failure));
    for (Throwable also : failure.getSuppressed()) {
      line.append("; also: ").append(message(also));
    }
    err.println(line);
  }

  /** A failure's message, or its type when it has none. */
  private static String message(Throwable t) {
    return t.getMessage() != null ? t.getMessage() : t.getClass().getName();
  }

  /**
   * For tests that run {@code serve} in a child JVM and must act while it starts (a test's main
   * sets it before executing the command line): called with the start's progress, after the
   * progress bar. Nothing else sets it.
   */
  SluiceServer.StartObserver startHook = new SluiceServer.StartObserver() {};

  /**
   * The stop requests of one {@code serve}: the first SIGTERM or SIGINT asks for an orderly stop
   * (abandoning the start if it comes while starting, else draining), a second one while that stop
   * runs halts the JVM at once with the status a process killed by the signal has (143 for SIGTERM,
   * 130 for SIGINT): uploads in progress are cut off and run again after the next start, as after a
   * crash. The JVM's shutdown hook (SIGHUP, or where signals cannot be handled) asks for a stop,
   * waits for the start to end, and closes the service. Signals arrive on threads of their own.
   */
  static final class Stopping {
    private final PrintStream err;
    private final java.util.concurrent.atomic.AtomicInteger requests =
        new java.util.concurrent.atomic.AtomicInteger();
    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch startEnded = new CountDownLatch(1);
    private volatile SluiceServer server;

    Stopping(PrintStream err) {
      this.err = err;
    }

    /** The start's observer: the progress bar, then {@code hook}, asking whether to stop. */
    SluiceServer.StartObserver observer(
        java.util.function.LongConsumer progress, SluiceServer.StartObserver hook) {
      return new SluiceServer.StartObserver() {
        @Override
        public void listening(int port) {
          hook.listening(port);
        }

        @Override
        public void replayProgress(long percent) {
          progress.accept(percent);
          hook.replayProgress(percent);
        }

        @Override
        public boolean stopRequested() {
          return stop.getCount() == 0;
        }
      };
    }

    void signalled(String name, int number) {
      if (requests.incrementAndGet() == 1) {
        stop.countDown();
        err.println("sluice: SIG" + name + " received, stopping");
        return;
      }
      err.println(
          "sluice: SIG"
              + name
              + " again: stopping at once, without waiting for uploads in progress (they run"
              + " again after the next start); exit status "
              + (128 + number));
      err.flush();
      Runtime.getRuntime().halt(128 + number);
    }

    /** The start ended: with the running service, or null if it failed or was abandoned. */
    void started(SluiceServer running) {
      server = running;
      startEnded.countDown();
    }

    /** Waits for a stop request; interruption throws. */
    void await() throws InterruptedException {
      stop.await();
    }

    void shutdownHook() {
      stop.countDown();
      boolean interrupted = false;
      while (true) {
        try {
          startEnded.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      SluiceServer running = server;
      if (running != null) {
        running.close();
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  ServerConfig settings() {
    return new ServerConfig(
        host,
        port,
        dataDir,
        objectPrefix,
        token.isEmpty() ? Optional.empty() : Optional.of(token),
        workers,
        queueCapacity,
        queueBytes == 0 ? JobStoreOptions.defaultPayloadBytesLimit() : queueBytes,
        parseDurability(durability),
        maxBodyBytes,
        maxPayloads,
        maxDepth,
        uploadTimeout,
        maxAttempts,
        retryDelay,
        shutdownGrace,
        headerTimeout,
        bodyTimeout,
        maxInflightBodyBytes == 0
            ? ServerConfig.defaultMaxInflightBodyBytes(maxBodyBytes)
            : maxInflightBodyBytes,
        maxConnections == 0 ? ServerConfig.defaultMaxConnections() : maxConnections,
        finishedRetention,
        journalAckTimeout,
        journalStallThreshold,
        journalPreallocate);
  }

  private ObjectStore objectStore(ServerConfig settings) throws IOException {
    return switch (store.trim().toLowerCase(Locale.ROOT)) {
      case "filesystem" ->
          FilesystemObjectStore.open(
              settings.dataDir().resolve("objects"), objectSync(), objectWriters());
      case "s3" -> S3ObjectStore.create(s3Options());
      default ->
          throw new IllegalArgumentException(
              "--store must be filesystem or s3, got '" + store + "'");
    };
  }

  int objectWriters() {
    if (objectWriters < 1) {
      throw new IllegalArgumentException(
          "--object-writers must be at least 1, got " + objectWriters);
    }
    return objectWriters;
  }

  FilesystemObjectStore.Sync objectSync() {
    return switch (objectSync.trim().toLowerCase(Locale.ROOT)) {
      case "every-put" -> FilesystemObjectStore.Sync.EVERY_PUT;
      case "none" -> FilesystemObjectStore.Sync.NONE;
      default ->
          throw new IllegalArgumentException(
              "--object-sync must be every-put or none, got '" + objectSync + "'");
    };
  }

  S3Options s3Options() {
    if (s3Bucket.isBlank()) {
      throw new IllegalArgumentException("--store s3 needs --s3-bucket (or SLUICE_S3_BUCKET)");
    }
    S3Options options =
        S3Options.forBucket(s3Bucket)
            .withPrefix(objectPrefix)
            .withPathStyle(s3PathStyle)
            .withMaxConnections(Math.max(64, workers));
    if (!s3Timeout.isPositive()) {
      throw new IllegalArgumentException("--s3-timeout must be positive, got " + s3Timeout);
    }
    options = options.withTimeouts(s3Timeout.multipliedBy(3), s3Timeout);
    if (!s3Region.isBlank()) {
      options = options.withRegion(s3Region);
    }
    if (!s3Endpoint.isBlank()) {
      options = options.withEndpoint(URI.create(s3Endpoint));
    }
    if (s3AccessKeyId.isBlank() != s3SecretAccessKey.isBlank()) {
      throw new IllegalArgumentException(
          "give both --s3-access-key-id and"
              + " --s3-secret-access-key, or neither (to use the AWS SDK's credential chain)");
    }
    if (!s3AccessKeyId.isBlank()) {
      options = options.withCredentials(s3AccessKeyId, s3SecretAccessKey);
    }
    return options;
  }

  static Durability parseDurability(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("always")) {
      return Durability.ALWAYS;
    }
    if (t.equals("never")) {
      return Durability.NEVER;
    }
    if (t.startsWith("interval:")) {
      try {
        return Durability.interval(Duration.ofMillis(Long.parseLong(t.substring(9))));
      } catch (IllegalArgumentException e) {
        // reported below
      }
    }
    throw new IllegalArgumentException(
        "--durability must be always, never or interval:MS"
            + " (e.g. interval:50), got '"
            + text
            + "'");
  }
}
