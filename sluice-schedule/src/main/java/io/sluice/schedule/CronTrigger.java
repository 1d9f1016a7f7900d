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
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

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

  final String expression;
  final CronDialect dialect;
  private final ExecutionTime times;

  CronTrigger(String expression, CronDialect dialect, ZoneId zone, DstPolicy dst) {
    super(zone, dst);
    Objects.requireNonNull(expression, "expression");
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.expression = expression.trim().replaceAll("\\s+", " ");
    this.times = ExecutionTime.forCron(parse(this.expression, dialect));
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
