package io.sluice.server;

import io.sluice.jobs.Durability;
import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.ObjectStore;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The {@code sluice} command line. */
@Command(
    name = "sluice",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Sluice: a durable HTTP ingest service. JSON batches in, one object per payload out.",
      "",
      "Run 'sluice serve --help' for the service's settings, 'sluice help COMMAND' for any other.",
      ""
    },
    footer = {
      "",
      "The client commands (load, jobs, dead-letters) talk to the service at --url"
          + " (SLUICE_URL, default http://localhost:8080) with --token (SLUICE_TOKEN)."
    },
    subcommands = {
      Main.Serve.class,
      LoadCommand.class,
      JobsCommand.class,
      DeadLettersCommand.class,
      CommandLine.HelpCommand.class
    })
public final class Main implements Callable<Integer> {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line.
   *
   * @param args the arguments
   */
  public static void main(String[] args) {
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      // One line per record: time, level, logger, message, and the stack trace if any.
      System.setProperty(
          "java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    }
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    return new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** {@code sluice serve}. */
  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Runs the ingest service until interrupted (Ctrl-C or SIGTERM shut it down gracefully).",
        "",
        "POST /v1/payloads takes {\"payloads\": [...]}; every payload is journaled before the 202,"
            + " then uploaded as its own object by the workers, with retries and dead letters."
            + " Every option can also be set by the environment variable in brackets.",
        ""
      },
      footer = {
        "",
        "Example:",
        "  sluice serve --port 8080 --data-dir /var/lib/sluice",
        "  curl -H 'Content-Type: application/json' -d '{\"payloads\": [{\"hello\": 1}]}' "
            + "localhost:8080/v1/payloads"
      })
  static final class Serve implements Callable<Integer> {
    @Option(
        names = "--host",
        defaultValue = "${SLUICE_HOST:-0.0.0.0}",
        description = "Address to listen on (SLUICE_HOST). Default: ${DEFAULT-VALUE}.")
    String host;

    @Option(
        names = "--port",
        defaultValue = "${SLUICE_PORT:-8080}",
        description =
            "Port to listen on; 0 picks a free one (SLUICE_PORT). Default: " + "${DEFAULT-VALUE}.")
    int port;

    @Option(
        names = "--data-dir",
        defaultValue = "${SLUICE_DATA_DIR:-sluice-data}",
        description =
            "Journal directory (<dir>/journal) and filesystem objects (<dir>/objects)"
                + " (SLUICE_DATA_DIR). Default: ${DEFAULT-VALUE}.")
    Path dataDir;

    @Option(
        names = "--object-prefix",
        defaultValue = "${SLUICE_OBJECT_PREFIX:-}",
        description = "Prefix of every object key, empty or ending in '/' (SLUICE_OBJECT_PREFIX).")
    String objectPrefix;

    @Option(
        names = "--token",
        defaultValue = "${SLUICE_TOKEN:-}",
        description =
            "Require 'Authorization: Bearer <token>' on /v1 (SLUICE_TOKEN). Default:" + " none.")
    String token;

    @Option(
        names = "--workers",
        defaultValue = "${SLUICE_WORKERS:-64}",
        description = "Upload workers (SLUICE_WORKERS). Default: ${DEFAULT-VALUE}.")
    int workers;

    @Option(
        names = "--queue-capacity",
        defaultValue = "${SLUICE_QUEUE_CAPACITY:-100000}",
        description =
            "Most payloads waiting to upload; beyond it POST answers 429"
                + " (SLUICE_QUEUE_CAPACITY). Default: ${DEFAULT-VALUE}.")
    int queueCapacity;

    @Option(
        names = "--durability",
        defaultValue = "${SLUICE_DURABILITY:-always}",
        description =
            "always: fsync before every 202 (group commit); interval:<ms>: fsync"
                + " every <ms>; never: leave it to the OS (SLUICE_DURABILITY). Default:"
                + " ${DEFAULT-VALUE}.")
    String durability;

    @Option(
        names = "--max-body-bytes",
        defaultValue = "${SLUICE_MAX_BODY_BYTES:-1048576}",
        description =
            "Largest request body; larger answers 413 (SLUICE_MAX_BODY_BYTES)."
                + " Default: ${DEFAULT-VALUE}.")
    int maxBodyBytes;

    @Option(
        names = "--max-payloads",
        defaultValue = "${SLUICE_MAX_PAYLOADS:-1000}",
        description =
            "Most payloads per request; more answers 413 (SLUICE_MAX_PAYLOADS)."
                + " Default: ${DEFAULT-VALUE}.")
    int maxPayloads;

    @Option(
        names = "--max-depth",
        defaultValue = "${SLUICE_MAX_DEPTH:-64}",
        description =
            "Deepest JSON nesting; deeper answers 400 (SLUICE_MAX_DEPTH). Default:"
                + " ${DEFAULT-VALUE}.")
    int maxDepth;

    @Option(
        names = "--upload-timeout",
        defaultValue = "${SLUICE_UPLOAD_TIMEOUT:-60s}",
        converter = DurationConverter.class,
        description =
            "Longest upload attempt, e.g. 60s or 2m (SLUICE_UPLOAD_TIMEOUT). Default:"
                + " ${DEFAULT-VALUE}.")
    Duration uploadTimeout;

    @Option(
        names = "--max-attempts",
        defaultValue = "${SLUICE_MAX_ATTEMPTS:-10}",
        description =
            "Upload attempts per payload before it becomes a dead letter"
                + " (SLUICE_MAX_ATTEMPTS). Default: ${DEFAULT-VALUE}.")
    int maxAttempts;

    @Option(
        names = "--shutdown-grace",
        defaultValue = "${SLUICE_SHUTDOWN_GRACE:-30s}",
        converter = DurationConverter.class,
        description =
            "How long uploads in progress may finish at shutdown"
                + " (SLUICE_SHUTDOWN_GRACE). Default: ${DEFAULT-VALUE}.")
    Duration shutdownGrace;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      ServerConfig config;
      try {
        config = config();
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      PrintStream err = System.err;
      ObjectStore objects = FilesystemObjectStore.open(config.dataDir().resolve("objects"));
      ReplayProgressBar progress = new ReplayProgressBar(err, System.console() != null);
      SluiceServer server = SluiceServer.start(config, objects, progress);
      progress.done();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    server.close();
                    stopped.countDown();
                  },
                  "sluice-shutdown"));
      err.println(
          "sluice: listening on http://"
              + config.host()
              + ":"
              + server.port()
              + "  (data in "
              + config.dataDir().toAbsolutePath()
              + "; Ctrl-C stops)");
      stopped.await();
      return 0;
    }

    ServerConfig config() {
      return new ServerConfig(
          host,
          port,
          dataDir,
          objectPrefix,
          token.isEmpty() ? Optional.empty() : Optional.of(token),
          workers,
          queueCapacity,
          parseDurability(durability),
          maxBodyBytes,
          maxPayloads,
          maxDepth,
          uploadTimeout,
          maxAttempts,
          shutdownGrace);
    }

    static Durability parseDurability(String text) {
      String t = text.trim().toLowerCase(java.util.Locale.ROOT);
      if (t.equals("always")) {
        return Durability.ALWAYS;
      }
      if (t.equals("never")) {
        return Durability.NEVER;
      }
      if (t.startsWith("interval:")) {
        try {
          return Durability.interval(Duration.ofMillis(Long.parseLong(t.substring(9))));
        } catch (NumberFormatException e) {
          // reported below
        }
      }
      throw new IllegalArgumentException(
          "--durability must be always, never or interval:<ms>"
              + " (e.g. interval:50), got '"
              + text
              + "'");
    }
  }

  /** Reads durations like {@code 30s}, {@code 2m}, {@code 500ms} or ISO-8601 {@code PT30S}. */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      String v = value.trim().toLowerCase(java.util.Locale.ROOT);
      try {
        if (v.startsWith("pt") || v.startsWith("p")) {
          return Duration.parse(value.trim());
        }
        if (v.endsWith("ms")) {
          return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
        }
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        return switch (v.charAt(v.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          default -> throw new NumberFormatException();
        };
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException(
            "'" + value + "' is not a duration; write e.g. 500ms, 30s, 2m, 1h or PT30S");
      }
    }
  }

  /** Prints the version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"sluice " + (v == null ? "(development build)" : v)};
    }
  }
}
