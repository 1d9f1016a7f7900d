package io.sluice.schedule;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;

/** {@link Trigger#parse(String)}: the grammar of trigger specs, with precise errors. */
final class TriggerSpecs {
  static final String AT = "at 2026-03-29T01:30:00Z";
  static final String EVERY = "every PT15M from 2026-01-01T00:00:00Z";
  static final String DAILY = "daily 02:30 Europe/Berlin [skip-gap]";
  static final String CRON =
      "cron unix|quartz|spring ZONE FIELDS... [skip-gap], e.g. cron unix Europe/Berlin 0 0 31 * *";
  private static final String SKIP_GAP = "skip-gap";

  private TriggerSpecs() {}

  static Trigger parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw fail(
          spec, "it is empty", "one of: " + AT + " | " + EVERY + " | " + DAILY + " | " + CRON);
    }
    String[] words = spec.trim().split("\\s+");
    return switch (words[0]) {
      case "at" -> parseAt(spec, words);
      case "every" -> parseEvery(spec, words);
      case "daily" -> parseDaily(spec, words);
      case "cron" -> parseCron(spec, words);
      default ->
          throw fail(
              spec,
              "unknown kind '" + words[0] + "'",
              "one of: " + AT + " | " + EVERY + " | " + DAILY + " | " + CRON);
    };
  }

  private static Trigger parseAt(String spec, String[] w) {
    if (w.length != 2) {
      throw fail(spec, "'at' takes exactly one instant", AT);
    }
    return Trigger.at(instant(spec, w[1], AT));
  }

  private static Trigger parseEvery(String spec, String[] w) {
    if (w.length != 4 || !w[2].equals("from")) {
      throw fail(spec, "'every' takes a period, the word 'from' and a start instant", EVERY);
    }
    Duration period;
    try {
      period = Duration.parse(w[1]);
    } catch (DateTimeParseException e) {
      throw fail(spec, "'" + w[1] + "' is not an ISO-8601 duration", EVERY);
    }
    if (period.isZero() || period.isNegative()) {
      throw fail(spec, "the period " + w[1] + " is not positive", EVERY);
    }
    return Trigger.every(period, instant(spec, w[3], EVERY));
  }

  private static Trigger parseDaily(String spec, String[] w) {
    boolean skipGap = w[w.length - 1].equals(SKIP_GAP);
    int n = skipGap ? w.length - 1 : w.length;
    if (n != 3) {
      throw fail(spec, "'daily' takes a local time and a zone, then optionally skip-gap", DAILY);
    }
    LocalTime time;
    try {
      time = LocalTime.parse(w[1]);
    } catch (DateTimeParseException e) {
      throw fail(spec, "'" + w[1] + "' is not a local time such as 02:30 or 02:30:15", DAILY);
    }
    return Trigger.daily(time, zone(spec, w[2], DAILY), policy(skipGap));
  }

  private static Trigger parseCron(String spec, String[] w) {
    boolean skipGap = w[w.length - 1].equals(SKIP_GAP);
    int n = skipGap ? w.length - 1 : w.length;
    if (n < 4) {
      throw fail(spec, "'cron' takes a dialect, a zone and the expression's fields", CRON);
    }
    CronDialect dialect;
    try {
      dialect = CronDialect.valueOf(w[1].toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw fail(spec, "unknown cron dialect '" + w[1] + "' (unix, quartz or spring)", CRON);
    }
    ZoneId zone = zone(spec, w[2], CRON);
    String expression = String.join(" ", Arrays.copyOfRange(w, 3, n));
    try {
      return Trigger.cron(expression, dialect, zone, policy(skipGap));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "invalid trigger spec '" + spec + "': " + e.getMessage(), e);
    }
  }

  private static Instant instant(String spec, String text, String example) {
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw fail(
          spec, "'" + text + "' is not an ISO-8601 instant such as 2026-03-29T01:30:00Z", example);
    }
  }

  private static ZoneId zone(String spec, String text, String example) {
    try {
      return ZoneId.of(text);
    } catch (DateTimeException e) {
      throw fail(
          spec, "'" + text + "' is not a time zone id such as Europe/Berlin or UTC", example);
    }
  }

  private static DstPolicy policy(boolean skipGap) {
    return skipGap ? DstPolicy.SKIP_GAP : DstPolicy.SHIFT;
  }

  private static IllegalArgumentException fail(String spec, String problem, String example) {
    return new IllegalArgumentException(
        "invalid trigger spec '" + spec + "': " + problem + "; expected " + example);
  }
}
