package io.sluice.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine;

/**
 * Where a setting of {@code sluice serve} comes from when its flag is not given: the environment
 * ({@code SLUICE_<NAME>}, and the seed's {@code MAX_WORKERS} and {@code MAX_QUEUE}, other names of
 * {@code SLUICE_WORKERS} and {@code SLUICE_QUEUE_CAPACITY}), then the properties file named by
 * {@code --config} or {@code SLUICE_CONFIG} (keys are the flag names without the leading {@code
 * --}: {@code queue-capacity=50000}), then the default written on the option. Both names of a
 * setting set to different values is refused by {@link #check}, unless the flag is given: neither
 * silently wins.
 *
 * <p>The file is read when the provider is made, before picocli parses the arguments (the defaults
 * must be known by then); a file that cannot be read, or holds a key that is no setting, is
 * reported by {@link #check}, which {@code serve} calls first, as a usage error.
 */
final class SettingsProvider implements CommandLine.IDefaultValueProvider {
  /**
   * The seed's environment variables by setting: other names of {@code SLUICE_WORKERS} and {@code
   * SLUICE_QUEUE_CAPACITY}.
   */
  private static final Map<String, String> ALIASES =
      Map.of("workers", "MAX_WORKERS", "queue-capacity", "MAX_QUEUE");

  /**
   * {@code SLUICE_} variables that are not settings of {@code serve}: the launcher's ({@code
   * ./sluice}, scripts/jdk.sh), the client commands' URL, and the config file itself.
   */
  private static final Set<String> NOT_SETTINGS =
      Set.of("SLUICE_CONFIG", "SLUICE_JAVA_OPTS", "SLUICE_JDK_FEATURE", "SLUICE_URL");

  /** Options that are not settings: they have no value in the environment or the file. */
  private static final Set<String> NOT_FILE_KEYS = Set.of("help", "version", "config");

  private final Map<String, String> environment;
  private final Properties file;
  private final Optional<String> fileProblem;
  private final String fileName;

  /**
   * Reads the config file named in {@code args} ({@code --config F} or {@code --config=F}) or by
   * {@code SLUICE_CONFIG}.
   *
   * @param args the command line
   * @param environment the environment variables
   */
  SettingsProvider(String[] args, Map<String, String> environment) {
    this.environment = Map.copyOf(environment);
    String path = environment.get("SLUICE_CONFIG");
    String from = "SLUICE_CONFIG";
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        path = args[i + 1];
        from = "--config";
      } else if (args[i].startsWith("--config=")) {
        path = args[i].substring("--config=".length());
        from = "--config";
      }
    }
    Properties loaded = new Properties();
    Optional<String> problem = Optional.empty();
    if (path != null && !path.isBlank()) {
      try (InputStream in = Files.newInputStream(Path.of(path))) {
        loaded.load(in);
      } catch (NoSuchFileException e) {
        problem = Optional.of("the config file " + path + " (" + from + ") does not exist");
      } catch (IOException | IllegalArgumentException e) {
        problem =
            Optional.of(
                "cannot read the config file " + path + " (" + from + "): " + e.getMessage());
      }
    }
    this.file = loaded;
    this.fileProblem = problem;
    this.fileName = path;
  }

  @Override
  public String defaultValue(CommandLine.Model.ArgSpec arg) {
    if (!(arg instanceof CommandLine.Model.OptionSpec option)) {
      return null;
    }
    String name = name(option);
    String fromEnv = environment.get(envName(name));
    if (fromEnv != null) {
      return fromEnv;
    }
    String alias = ALIASES.get(name);
    if (alias != null && environment.get(alias) != null) {
      return environment.get(alias);
    }
    return file.getProperty(name);
  }

  /** Whether two settings' texts mean one value: the same text, or the same whole number. */
  private static boolean sameValue(String a, String b) {
    if (a.strip().equals(b.strip())) {
      return true;
    }
    try {
      return Long.parseLong(a.strip()) == Long.parseLong(b.strip());
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /**
   * Refuses a config file that could not be read or holds a key that is no setting (naming the
   * closest setting), and an environment that gives a setting whose flag is not given two different
   * values under its two names ({@code SLUICE_WORKERS} and the seed's {@code MAX_WORKERS}, {@code
   * SLUICE_QUEUE_CAPACITY} and {@code MAX_QUEUE}); warns once on {@code err} about each {@code
   * SLUICE_} variable that is no setting.
   *
   * @param command the {@code serve} command, whose options are the settings
   * @param err where warnings go
   * @throws CommandLine.ParameterException for the config file's problems and conflicting names
   */
  void check(CommandLine.Model.CommandSpec command, PrintWriter err) {
    fileProblem.ifPresent(
        p -> {
          throw new CommandLine.ParameterException(command.commandLine(), p);
        });
    for (Map.Entry<String, String> alias : new java.util.TreeMap<>(ALIASES).entrySet()) {
      String flag = "--" + alias.getKey();
      String sluice = environment.get(envName(alias.getKey()));
      String seed = environment.get(alias.getValue());
      CommandLine.ParseResult parsed = command.commandLine().getParseResult();
      boolean flagGiven = parsed != null && parsed.hasMatchedOption(flag);
      if (sluice != null && seed != null && !sameValue(sluice, seed) && !flagGiven) {
        throw new CommandLine.ParameterException(
            command.commandLine(),
            "the environment sets "
                + envName(alias.getKey())
                + "="
                + sluice
                + " and "
                + alias.getValue()
                + "="
                + seed
                + ", two names of "
                + flag
                + "; unset one of them (the seed's "
                + alias.getValue()
                + " is kept for old scripts), give them the same value, or pass "
                + flag);
      }
    }
    List<String> settings =
        command.options().stream()
            .map(SettingsProvider::name)
            .filter(n -> !NOT_FILE_KEYS.contains(n))
            .toList();
    for (String key : new TreeSet<>(file.stringPropertyNames())) {
      if (!settings.contains(key)) {
        throw new CommandLine.ParameterException(
            command.commandLine(),
            "the config file "
                + fileName
                + " has the key '"
                + key
                + "', which is no setting; did you mean '"
                + closest(key, settings)
                + "'? (keys are the flag names without the leading --; see 'sluice serve --help')");
      }
    }
    List<String> envNames = settings.stream().map(SettingsProvider::envName).toList();
    for (String variable : new TreeSet<>(environment.keySet())) {
      if (variable.startsWith("SLUICE_")
          && !NOT_SETTINGS.contains(variable)
          && !envNames.contains(variable)) {
        err.println(
            "sluice serve: warning: the environment variable "
                + variable
                + " is no setting and is ignored; did you mean "
                + closest(variable, envNames)
                + "?");
      }
    }
    err.flush();
  }

  static String envName(String option) {
    return "SLUICE_" + option.replace('-', '_').toUpperCase(Locale.ROOT);
  }

  private static String name(CommandLine.Model.OptionSpec option) {
    return option.longestName().replaceFirst("^--", "");
  }

  /** The candidate with the smallest edit distance to {@code word}. */
  static String closest(String word, List<String> candidates) {
    return candidates.stream()
        .min(Comparator.comparingInt(c -> editDistance(word, c)))
        .orElseThrow();
  }

  /** Levenshtein distance, two rows. */
  static int editDistance(String a, String b) {
    int[] previous = new int[b.length() + 1];
    int[] current = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      previous[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      current[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int substitute = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
        current[j] = Math.min(substitute, Math.min(previous[j], current[j - 1]) + 1);
      }
      int[] swap = previous;
      previous = current;
      current = swap;
    }
    return previous[b.length()];
  }
}
