package io.sluice.schedule;

import com.cronutils.model.CronType;
import java.util.Locale;

/**
 * The cron syntaxes Sluice understands, all parsed by cron-utils. Fields are separated by single
 * spaces (any run of whitespace is accepted and normalised).
 *
 * <table class="striped">
 *   <caption>Dialects</caption>
 *   <thead><tr><th>dialect</th><th>fields</th><th>example</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@link #UNIX}</td><td>minute hour day-of-month month day-of-week</td>
 *       <td>{@code 30 2 * * *}: 02:30 every day</td></tr>
 *     <tr><td>{@link #QUARTZ}</td><td>second minute hour day-of-month month day-of-week [year];
 *       one of the two day fields must be {@code ?}</td><td>{@code 0 0/5 * * * ?}: every five
 *       minutes</td></tr>
 *     <tr><td>{@link #SPRING}</td><td>second minute hour day-of-month month day-of-week</td>
 *       <td>{@code 0 *}{@code /5 * * * *}: every five minutes</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>The expression only chooses wall-clock times; the time zone and the {@link DstPolicy} turn
 * them into instants (see {@link Trigger#cron(String, CronDialect, java.time.ZoneId, DstPolicy)}).
 */
public enum CronDialect {
  /** Classic Unix crontab: five fields, minute precision. */
  UNIX(CronType.UNIX, "30 2 * * *"),
  /** Quartz: six or seven fields (seconds first, optional year), {@code ?} in one day field. */
  QUARTZ(CronType.QUARTZ, "0 0/5 * * * ?"),
  /** Spring's {@code @Scheduled(cron = ...)}: six fields, seconds first. */
  SPRING(CronType.SPRING, "0 */5 * * * *");

  final CronType type;
  final String example;

  CronDialect(CronType type, String example) {
    this.type = type;
    this.example = example;
  }

  /** The dialect's word in a trigger spec: {@code unix}, {@code quartz}, {@code spring}. */
  String specName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
