package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.Durability;
import io.sluice.jobs.JobStoreOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Where {@code sluice serve}'s settings come from: flags, then the environment ({@code SLUICE_*},
 * {@code MAX_WORKERS}, {@code MAX_QUEUE}), then the config file ({@code --config} or {@code
 * SLUICE_CONFIG}), then the defaults; and how mistakes in them are reported.
 */
class ServeSettingsTest {
  @TempDir Path dir;

  /** The settings {@code serve} would run with, parsed but not started. */
  private static ServerConfig settings(Map<String, String> environment, String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "serve";
    System.arraycopy(args, 0, all, 1, args.length);
    CommandLine cli = Main.commandLine(all, environment);
    cli.parseArgs(all);
    ServeCommand serve = cli.getSubcommands().get("serve").getCommand();
    return serve.settings();
  }

  private Path configFile(String... lines) throws Exception {
    Path file = dir.resolve("sluice.properties");
    Files.write(file, List.of(lines));
    return file;
  }

  @Test
  void sluiceEnvironmentVariablesSetTheSettings() {
    ServerConfig c =
        settings(
            Map.of(
                "SLUICE_QUEUE_CAPACITY", "5000",
                "SLUICE_BODY_TIMEOUT", "5s",
                "SLUICE_DURABILITY", "never",
                "SLUICE_OBJECT_PREFIX", "in/"));

    assertEquals(5000, c.queueCapacity());
    assertEquals(Duration.ofSeconds(5), c.bodyTimeout());
    assertEquals(Durability.NEVER, c.durability());
    assertEquals("in/", c.objectPrefix());
  }

  @Test
  void theJournalTimeoutsComeFromTheirFlagsOrTheEnvironment() {
    ServerConfig defaults = settings(Map.of());
    ServerConfig c =
        settings(
            Map.of("SLUICE_JOURNAL_STALL_THRESHOLD", "2s", "SLUICE_JOURNAL_ACK_TIMEOUT", "5s"),
            "--journal-ack-timeout",
            "500ms");

    assertEquals(JobStoreOptions.DEFAULT_ACK_TIMEOUT, defaults.journalAckTimeout());
    assertEquals(JobStoreOptions.DEFAULT_STALL_THRESHOLD, defaults.journalStallThreshold());
    assertEquals(Duration.ofMillis(500), c.journalAckTimeout(), "the flag beats the environment");
    assertEquals(Duration.ofSeconds(2), c.journalStallThreshold());
    assertThrows(
        IllegalArgumentException.class,
        () ->
            ServerConfig.defaults(dir)
                .withJournalTimeouts(Duration.ZERO, c.journalStallThreshold()));
  }

  @Test
  void journalPreallocationIsOnUnlessAFlagOrTheEnvironmentTurnsItOff() {
    assertTrue(settings(Map.of()).journalPreallocate());
    assertTrue(ServerConfig.defaults(dir).journalPreallocate());
    assertFalse(settings(Map.of(), "--journal-preallocate", "false").journalPreallocate());
    assertFalse(settings(Map.of(), "--journal-preallocate=false").journalPreallocate());
    assertFalse(settings(Map.of("SLUICE_JOURNAL_PREALLOCATE", "false")).journalPreallocate());
    assertTrue(
        settings(Map.of("SLUICE_JOURNAL_PREALLOCATE", "false"), "--journal-preallocate")
            .journalPreallocate(),
        "the flag beats the environment");
    assertFalse(ServerConfig.defaults(dir).withJournalPreallocate(false).journalPreallocate());
  }

  @Test
  void theRetryDelayAndTheQueueBytesComeFromTheirFlagsOrTheEnvironment() {
    ServerConfig defaults = settings(Map.of());
    ServerConfig c =
        settings(
            Map.of("SLUICE_RETRY_DELAY", "250ms", "SLUICE_QUEUE_BYTES", "5000000"),
            "--retry-delay",
            "2s");

    assertEquals(ServerConfig.DEFAULT_RETRY_DELAY, defaults.retryDelay());
    assertEquals(JobStoreOptions.defaultPayloadBytesLimit(), defaults.queueBytes());
    assertEquals(Duration.ofSeconds(2), c.retryDelay(), "the flag beats the environment");
    assertEquals(5_000_000, c.queueBytes());
    assertEquals(
        Duration.ofMillis(250), settings(Map.of("SLUICE_RETRY_DELAY", "250ms")).retryDelay());
  }

  @Test
  void theInFlightBodyBudgetAndTheConnectionLimitComeFromTheirFlagsOrTheEnvironment() {
    ServerConfig defaults = settings(Map.of());
    ServerConfig fromEnv =
        settings(
            Map.of("SLUICE_MAX_INFLIGHT_BODY_BYTES", "3000000", "SLUICE_MAX_CONNECTIONS", "500"));
    ServerConfig fromFlags =
        settings(
            Map.of("SLUICE_MAX_INFLIGHT_BODY_BYTES", "3000000"),
            "--max-inflight-body-bytes",
            "4000000",
            "--max-connections",
            "600");

    assertEquals(
        ServerConfig.defaultMaxInflightBodyBytes(1 << 20), defaults.maxInflightBodyBytes());
    assertEquals(ServerConfig.defaultMaxConnections(), defaults.maxConnections());
    assertEquals(3_000_000, fromEnv.maxInflightBodyBytes());
    assertEquals(500, fromEnv.maxConnections());
    assertEquals(4_000_000, fromFlags.maxInflightBodyBytes(), "the flag beats the environment");
    assertEquals(600, fromFlags.maxConnections());
  }

  @Test
  void theDefaultInFlightBodyBudgetHoldsABodyOfTheLargestSizeInTheShareLargeBodiesMayUse() {
    ServerConfig c = settings(Map.of(), "--max-body-bytes", "8388608");

    assertTrue(
        BodyBudget.largeShare(c.maxInflightBodyBytes()) >= 8_388_608,
        "budget " + c.maxInflightBodyBytes());
  }

  @Test
  void theFinishedRetentionComesFromItsFlagTheEnvironmentOrTheConfigFile() throws Exception {
    Path file = configFile("finished-retention=300");

    assertEquals(ServerConfig.DEFAULT_FINISHED_RETENTION, settings(Map.of()).finishedRetention());
    assertEquals(
        JobStoreOptions.defaults().finishedRetention(), ServerConfig.DEFAULT_FINISHED_RETENTION);
    assertEquals(
        200_000,
        settings(Map.of("SLUICE_FINISHED_RETENTION", "200000")).finishedRetention(),
        "from the environment");
    assertEquals(
        300,
        settings(Map.of("SLUICE_CONFIG", file.toString())).finishedRetention(),
        "from the file");
    assertEquals(
        0,
        settings(Map.of("SLUICE_FINISHED_RETENTION", "200000"), "--finished-retention", "0")
            .finishedRetention(),
        "the flag beats the environment");
  }

  @Test
  void theHeaderTimeoutComesFromItsFlagTheEnvironmentOrTheConfigFile() throws Exception {
    Path file = configFile("header-timeout=3s");

    assertEquals(ServerConfig.DEFAULT_HEADER_TIMEOUT, settings(Map.of()).headerTimeout());
    assertEquals(
        Duration.ofMillis(500),
        settings(Map.of("SLUICE_HEADER_TIMEOUT", "500ms")).headerTimeout(),
        "from the environment");
    assertEquals(
        Duration.ofSeconds(3),
        settings(Map.of("SLUICE_CONFIG", file.toString())).headerTimeout(),
        "from the file");
    assertEquals(
        Duration.ofSeconds(20),
        settings(Map.of("SLUICE_HEADER_TIMEOUT", "500ms"), "--header-timeout", "20s")
            .headerTimeout(),
        "the flag beats the environment");
  }

  @Test
  void theSeedsMaxWorkersAndMaxQueueSetWorkersAndQueueCapacity() {
    ServerConfig c = settings(Map.of("MAX_WORKERS", "7", "MAX_QUEUE", "1234"));

    assertEquals(7, c.workers());
    assertEquals(1234, c.queueCapacity());
  }

  @Test
  void theSeedsNamesAndTheSluiceNamesWithDifferentValuesAreAUsageErrorNamingBoth() {
    // (--object-writers 0 would stop serve right after the settings are checked, should they pass:
    // this test never starts a service.)
    CommandRun run =
        CommandRun.of(
            Map.of("MAX_WORKERS", "16", "SLUICE_WORKERS", "8"),
            "serve",
            "--data-dir",
            dir.resolve("d").toString(),
            "--object-writers",
            "0");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(
        run.err()
            .contains(
                "the environment sets SLUICE_WORKERS=8 and MAX_WORKERS=16, two names of --workers"),
        run.toString());
    assertFalse(Files.exists(dir.resolve("d")), "nothing started");
  }

  @Test
  void givenTheSeedsNameAndTheSluiceNameSpellingOneNumberTwoWays_whenServeStarts_thenTheyAgree() {
    // --object-writers 0 stops serve right after the settings are checked, before it starts.
    CommandRun run =
        CommandRun.of(
            Map.of("MAX_WORKERS", "08", "SLUICE_WORKERS", "8"), "serve", "--object-writers", "0");

    assertTrue(run.err().contains("--object-writers must be at least 1"), run.toString());
    assertFalse(run.err().contains("MAX_WORKERS"), run.toString());
    assertEquals(8, settings(Map.of("MAX_WORKERS", "08", "SLUICE_WORKERS", "8")).workers());
  }

  @Test
  void theSeedsNamesAndTheSluiceNamesAgreeingOrOverriddenByTheFlagAreFine() {
    // --object-writers 0 stops serve right after the settings are checked, before it starts.
    CommandRun agreeing =
        CommandRun.of(
            Map.of("MAX_QUEUE", "5000", "SLUICE_QUEUE_CAPACITY", "5000"),
            "serve",
            "--object-writers",
            "0");
    CommandRun overridden =
        CommandRun.of(
            Map.of("MAX_QUEUE", "5000", "SLUICE_QUEUE_CAPACITY", "6000"),
            "serve",
            "--queue-capacity",
            "7000",
            "--object-writers",
            "0");

    for (CommandRun run : List.of(agreeing, overridden)) {
      assertTrue(run.err().contains("--object-writers must be at least 1"), run.toString());
      assertFalse(run.err().contains("MAX_QUEUE"), run.toString());
    }
    assertEquals(
        5000,
        settings(Map.of("MAX_QUEUE", "5000", "SLUICE_QUEUE_CAPACITY", "5000")).queueCapacity());
    assertEquals(
        7000,
        settings(
                Map.of("MAX_QUEUE", "5000", "SLUICE_QUEUE_CAPACITY", "6000"),
                "--queue-capacity",
                "7000")
            .queueCapacity());
  }

  @Test
  void flagsBeatTheEnvironmentWhichBeatsTheConfigFileWhichBeatsTheDefaults() throws Exception {
    Path file = configFile("workers=3", "queue-capacity=4000", "max-depth=10");

    ServerConfig c =
        settings(
            Map.of("SLUICE_QUEUE_CAPACITY", "5000", "SLUICE_MAX_DEPTH", "11"),
            "--config",
            file.toString(),
            "--max-depth",
            "12");

    assertEquals(3, c.workers(), "from the file");
    assertEquals(5000, c.queueCapacity(), "from the environment");
    assertEquals(12, c.maxDepth(), "from the flag");
    assertEquals(8080, c.port(), "the default");
  }

  @Test
  void sluiceConfigNamesTheConfigFileAndConfigOverridesIt() throws Exception {
    Path file = configFile("max-payloads=17");
    Path other = dir.resolve("other.properties");
    Files.write(other, List.of("max-payloads=19"));

    assertEquals(17, settings(Map.of("SLUICE_CONFIG", file.toString())).maxPayloads());
    assertEquals(
        19, settings(Map.of("SLUICE_CONFIG", file.toString()), "--config=" + other).maxPayloads());
  }

  @Test
  void aMissingConfigFileIsAOneLineUsageErrorNamingTheFile() {
    Path missing = dir.resolve("nowhere.properties");

    CommandRun run =
        CommandRun.of(
            "serve", "--config", missing.toString(), "--data-dir", dir.resolve("d").toString());

    assertEquals(2, run.exit(), run.toString());
    assertEquals(1, run.err().lines().count(), run.toString());
    assertTrue(
        run.err().contains("the config file " + missing + " (--config) does not exist"),
        run.toString());
    assertFalse(run.err().contains("Exception"), run.toString());
    assertFalse(Files.exists(dir.resolve("d")), "nothing started");
  }

  @Test
  void aMissingFileNamedBySluiceConfigIsAUsageErrorToo() {
    Path missing = dir.resolve("nowhere.properties");

    CommandRun run =
        CommandRun.of(
            Map.of("SLUICE_CONFIG", missing.toString()),
            "serve",
            "--data-dir",
            dir.resolve("d").toString());

    assertEquals(2, run.exit(), run.toString());
    assertTrue(run.err().contains("(SLUICE_CONFIG) does not exist"), run.toString());
  }

  @Test
  void anUnknownKeyInTheConfigFileIsAUsageErrorSuggestingTheClosestSetting() throws Exception {
    Path file = configFile("queue-capasity=5");

    CommandRun run =
        CommandRun.of(
            "serve", "--config", file.toString(), "--data-dir", dir.resolve("d").toString());

    assertEquals(2, run.exit(), run.toString());
    assertTrue(
        run.err().contains("has the key 'queue-capasity', which is no setting"), run.toString());
    assertTrue(run.err().contains("did you mean 'queue-capacity'?"), run.toString());
    assertFalse(Files.exists(dir.resolve("d")), "nothing started");
  }

  @Test
  void anUnknownSluiceVariableIsWarnedAboutOnceButTheLaunchersAreNot() {
    // --object-writers 0 stops serve right after the settings are checked, before it starts.
    CommandRun run =
        CommandRun.of(
            Map.of(
                "SLUICE_QUEUE_CAPASITY", "5",
                "SLUICE_JAVA_OPTS", "-Xmx1g",
                "SLUICE_JDK_FEATURE", "25",
                "SLUICE_URL", "http://localhost:8080",
                "SLUICE_TOKEN", "secret"),
            "serve",
            "--data-dir",
            dir.resolve("d").toString(),
            "--object-writers",
            "0");

    assertEquals(2, run.exit(), run.toString());
    List<String> warnings = run.err().lines().filter(l -> l.contains("warning")).toList();
    assertEquals(
        List.of(
            "sluice serve: warning: the environment variable SLUICE_QUEUE_CAPASITY is no setting"
                + " and is ignored; did you mean SLUICE_QUEUE_CAPACITY?"),
        warnings,
        run.toString());
  }

  @Test
  void theHelpShowsADefaultForEveryOption() {
    CommandRun run = CommandRun.of("serve", "--help");

    assertEquals(0, run.exit(), run.toString());
    List<String> options = new ArrayList<>();
    List<String> withoutDefault = new ArrayList<>();
    // An option's entry starts "  -h, --help" or "      --port=<port>" and runs to the next one.
    String start = "^(?:  -\\w, | {6})(--[\\w-]+)";
    Matcher entry =
        Pattern.compile(start + "(.*?)(?=" + start + "|\\z)", Pattern.DOTALL | Pattern.MULTILINE)
            .matcher(run.out());
    while (entry.find()) {
      String name = entry.group(1);
      if (name.equals("--help") || name.equals("--version")) {
        continue; // picocli's own, which have no value
      }
      options.add(name);
      if (!entry.group(2).replaceAll("\\s+", " ").contains("Default: ")) {
        withoutDefault.add(name);
      }
    }
    List<String> declared =
        Main.commandLine(new String[0], Map.of())
            .getSubcommands()
            .get("serve")
            .getCommandSpec()
            .options()
            .stream()
            .map(CommandLine.Model.OptionSpec::longestName)
            .filter(n -> !n.equals("--help") && !n.equals("--version"))
            .sorted()
            .toList();
    assertEquals(declared, options.stream().sorted().toList(), "every option is in the help");
    assertEquals(List.of(), withoutDefault, run.out());
  }
}
