package io.sluice.server;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;

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
      ServeCommand.class,
      LoadCommand.class,
      JobsCommand.class,
      DeadLettersCommand.class,
      SchedulesCommand.class,
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
    System.exit(commandLine(args, System.getenv()).execute(args));
  }

  /**
   * The command line for these arguments, with {@code serve}'s settings read from this environment
   * and the config file it names.
   *
   * @param args the arguments (read here for {@code --config})
   * @param environment the environment variables
   * @return the command line, ready to execute {@code args}
   */
  static CommandLine commandLine(String[] args, Map<String, String> environment) {
    CommandLine cli = new CommandLine(new Main()).setCaseInsensitiveEnumValuesAllowed(true);
    cli.getSubcommands()
        .get("serve")
        .setDefaultValueProvider(new SettingsProvider(args, environment));
    cli.setParameterExceptionHandler(Main::usageError);
    return cli;
  }

  /** A usage error: its message on one line with where to look, not the whole usage help. */
  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine cli = e.getCommandLine();
    String name = cli.getCommandSpec().qualifiedName();
    cli.getErr().println(name + ": " + e.getMessage() + " (see '" + name + " --help')");
    CommandLine.UnmatchedArgumentException.printSuggestions(e, cli.getErr());
    cli.getErr().flush();
    return cli.getCommandSpec().exitCodeOnInvalidInput();
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
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
