package io.sluice.jobs;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A recurring job definition as a {@link JobStore} keeps it: a name, the definition's text (which
 * the store keeps but does not interpret; the scheduler that wrote it reads it back), and what the
 * store knows of its last fire.
 *
 * @param name the schedule's name, unique in the store
 * @param definition the definition, as its scheduler wrote it
 * @param updatedAt when the definition was last put
 * @param lastFire the latest fire time recorded with {@link JobStore#fire} or passed over with
 *     {@link JobStore#skipFire}; empty if it never fired
 * @param lastJob the job of the latest {@link JobStore#fire}; empty if it never fired
 */
public record StoredSchedule(
    String name,
    String definition,
    Instant updatedAt,
    Optional<Instant> lastFire,
    Optional<JobId> lastJob) {

  /** Checks the fields. */
  public StoredSchedule {
    checkName(name);
    Objects.requireNonNull(definition, "definition");
    Objects.requireNonNull(updatedAt, "updatedAt");
    Objects.requireNonNull(lastFire, "lastFire");
    Objects.requireNonNull(lastJob, "lastJob");
  }

  /** The longest name, in characters. */
  public static final int MAX_NAME_LENGTH = 200;

  /**
   * Checks a schedule name: 1 to {@value #MAX_NAME_LENGTH} characters from {@code A-Z a-z 0-9 . _
   * -}, so a name is safe in a URL path, a file name and a log line.
   *
   * @param name the name
   * @return the name
   * @throws IllegalArgumentException saying what is wrong with it
   */
  public static String checkName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty() || name.length() > MAX_NAME_LENGTH) {
      throw new IllegalArgumentException(
          "a schedule name has 1 to " + MAX_NAME_LENGTH + " characters, got " + name.length());
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '_'
              || c == '-';
      if (!ok) {
        throw new IllegalArgumentException(
            "a schedule name may hold only letters A-Z a-z, digits, '.', '_' and '-'; \""
                + name
                + "\" has '"
                + c
                + "' at index "
                + i);
      }
    }
    return name;
  }
}
