package io.sluice.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine;

/**
 * Where a setting comes from when its flag is not given: the environment ({@code SLUICE_<NAME>},
 * and the seed's {@code MAX_WORKERS} and {@code MAX_QUEUE}), then the properties file named by
 * {@code --config} or {@code SLUICE_CONFIG} (keys are the flag names without dashes: {@code
 * queue-capacity=50000}), then the default written on the option.
 */
final class SettingsProvider implements CommandLine.IDefaultValueProvider {
  /** The seed's environment variables, still honoured. */
  private static final Map<String, String> ALIASES =
      Map.of("workers", "MAX_WORKERS", "queue-capacity", "MAX_QUEUE");

  private static volatile Properties file = new Properties();
  private static volatile Map<String, String> environment = System.getenv();

  /**
   * Reads the config file named in {@code args} ({@code --config F} or {@code --config=F}) or by
   * {@code SLUICE_CONFIG}, before picocli parses the arguments.
   */
  static void load(String[] args, Map<String, String> env) {
    environment = env;
    String path = env.get("SLUICE_CONFIG");
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--config") && i + 1 < args.length) {
        path = args[i + 1];
      } else if (args[i].startsWith("--config=")) {
        path = args[i].substring("--config=".length());
      }
    }
    Properties loaded = new Properties();
    if (path != null && !path.isBlank()) {
      try (InputStream in = Files.newInputStream(Path.of(path))) {
        loaded.load(in);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the config file " + path + ": " + e, e);
      }
    }
    file = loaded;
  }

  @Override
  public String defaultValue(CommandLine.Model.ArgSpec arg) {
    if (!(arg instanceof CommandLine.Model.OptionSpec option)) {
      return null;
    }
    String name = option.longestName().replaceFirst("^--", "");
    String alias = ALIASES.get(name);
    if (alias != null && environment.get(alias) != null) {
      return environment.get(alias);
    }
    String fromEnv = environment.get(envName(name));
    if (fromEnv != null) {
      return fromEnv;
    }
    return file.getProperty(name);
  }

  static String envName(String option) {
    return "SLUICE_" + option.replace('-', '_').toUpperCase(Locale.ROOT);
  }
}
