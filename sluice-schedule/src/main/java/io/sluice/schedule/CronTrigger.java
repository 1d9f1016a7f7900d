package io.sluice.schedule;

import com.cronutils.model.Cron;
import com.cronutils.model.definition.CronDefinitionBuilder;
import com.cronutils.model.time.ExecutionTime;
import com.cronutils.parser.CronParser;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/*
 * Trigger.cron: cron-utils parses the expression and enumerates its wall-clock times in UTC, a
 * frame without DST, so each candidate is a plain local date-time; WallClockTrigger maps them to
 * instants with Sluice's DST rule. cron-utils' own handling of zones is never used.
 */
final class CronTrigger extends WallClockTrigger {
  private static final Map<CronDialect, CronParser> PARSERS = new EnumMap<>(CronDialect.class);

  static {
    for (CronDialect d : CronDialect.values()) {
      PARSERS.put(d, new CronParser(CronDefinitionBuilder.instanceDefinitionFor(d.type)));
    }
  }

  private static final Pattern NEAREST_WEEKDAY = Pattern.compile("(\\d+)W");

  final String expression;
  final CronDialect dialect;
  private final ExecutionTime times;

  CronTrigger(String expression, CronDialect dialect, ZoneId zone, DstPolicy dst) {
    super(zone, dst);
    Objects.requireNonNull(expression, "expression");
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.expression = expression.trim().replaceAll("\\s+", " ");
    this.times = ExecutionTime.forCron(parse(this.expression, dialect));
    String unsupported = unsupportedNearestWeekday(this.expression, dialect);
    if (unsupported != null) {
      throw invalid(this.expression, dialect, unsupported);
    }
    try {
      // cron-utils parses some expressions it cannot evaluate ("1-L"): fail here, not on a fire.
      times.nextExecution(ZonedDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC));
    } catch (RuntimeException e) {
      throw invalid(this.expression, dialect, e.getMessage());
    }
  }

  private static Cron parse(String expression, CronDialect dialect) {
    String problem;
    if (expression.isEmpty()) {
      problem = "it is empty";
    } else {
      CronParser parser = PARSERS.get(dialect);
      try {
        synchronized (parser) { // cron-utils does not promise that a parser is thread-safe
          return parser.parse(expression).validate();
        }
      } catch (IllegalArgumentException e) {
        problem = e.getMessage();
      }
    }
    throw invalid(expression, dialect, problem);
  }

  /**
   * Why cron-utils cannot enumerate a day field's {@code L} or {@code W}, or null. It accepts
   * {@code L} in a list and silently drops it; it accepts {@code 29W} to {@code 31W} but reports no
   * fire time once a month shorter than the day comes (the schedule would stop for good), and
   * {@code W} in a list fires on weekends. Quartz itself allows neither in a list.
   */
  private static String unsupportedNearestWeekday(String expression, CronDialect dialect) {
    String[] fields = expression.split(" ");
    int dayOfMonth = dialect == CronDialect.UNIX ? 2 : 3; // Unix has no seconds field
    if (fields.length <= dayOfMonth) {
      return null;
    }
    for (int f : new int[] {dayOfMonth, dayOfMonth + 2}) { // day of month, day of week
      String field = fields.length > f ? fields[f].toUpperCase(Locale.ROOT) : "";
      if (field.contains("L") && field.contains(",")) {
        return "'L' cannot be part of a list (Quartz does not allow it; the cron library drops it): "
            + field;
      }
    }
    String day = fields[dayOfMonth].toUpperCase(Locale.ROOT);
    if (!day.contains("W") || day.equals("LW")) {
      return null;
    }
    Matcher single = NEAREST_WEEKDAY.matcher(day);
    if (!single.matches()) {
      return "'W' (nearest weekday) takes a single day of the month, not a list or range: " + day;
    }
    if (Integer.parseInt(single.group(1)) > 28) {
      return day
          + " is not supported: the cron library stops finding fire times at the first month"
          + " shorter than that day; use LW for the last weekday of the month";
    }
    return null;
  }

  private static IllegalArgumentException invalid(
      String expression, CronDialect dialect, String problem) {
    return new IllegalArgumentException(
        "invalid "
            + dialect
            + " cron expression '"
            + expression
            + "': "
            + problem
            + ". A valid "
            + dialect
            + " expression looks like '"
            + dialect.example
            + "'");
  }

  @Override
  LocalDateTime candidateAfter(LocalDateTime local) {
    Optional<ZonedDateTime> next = times.nextExecution(local.atZone(ZoneOffset.UTC));
    return next.map(ZonedDateTime::toLocalDateTime).orElse(null);
  }

  @Override
  public String spec() {
    return "cron " + dialect.specName() + " " + zone.getId() + " " + expression + dst.specSuffix();
  }
}
