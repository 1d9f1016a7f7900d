package io.sluice.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Reports threads that stay blocked in a channel operation or a select — the symptom of the
 * deadlock Go reports as "all goroutines are asleep".
 *
 * <p>Go's runtime notices when every goroutine is blocked. A JVM has other threads, so Sluice
 * cannot prove a deadlock; instead, once {@linkplain #warnWhenBlockedLongerThan(Duration) enabled},
 * a thread that has waited longer than the threshold in a send, receive or select without a timeout
 * logs one warning (logger {@code io.sluice.core}, level WARNING) naming the operation, the
 * channel, how many counterparts are waiting, and its own stack, with the usual fixes. It keeps
 * waiting: the warning changes nothing else.
 *
 * <p>Off by default. Enable with the system property {@code sluice.blockedWarning} (a duration such
 * as {@code 30s}, {@code 500ms} or ISO-8601 {@code PT30S}) or by calling {@link
 * #warnWhenBlockedLongerThan(Duration)}. The cost while enabled: a parked waiter wakes once at the
 * threshold.
 *
 * <p>Memory consistency effects: the threshold is a volatile setting; a change applies to waits
 * that start parking after it.
 */
public final class Diagnostics {
  private static volatile long blockedWarningNanos =
      parse(System.getProperty("sluice.blockedWarning"));

  private Diagnostics() {}

  /**
   * Enables (positive) or disables (zero) the blocked-operation warning.
   *
   * @param threshold how long a wait may last before it is reported; {@link Duration#ZERO} turns
   *     reporting off
   * @throws IllegalArgumentException if negative
   */
  public static void warnWhenBlockedLongerThan(Duration threshold) {
    Objects.requireNonNull(threshold, "threshold");
    if (threshold.isNegative()) {
      throw new IllegalArgumentException("threshold must not be negative: " + threshold);
    }
    blockedWarningNanos = threshold.toNanos();
  }

  /**
   * The current threshold.
   *
   * @return how long a wait lasts before it is reported; zero when reporting is off
   */
  public static Duration blockedWarning() {
    return Duration.ofNanos(blockedWarningNanos);
  }

  static long blockedWarningNanos() {
    return blockedWarningNanos;
  }

  /** Parses 30s, 500ms, 2m or ISO-8601; null or blank means off. */
  static long parse(String value) {
    if (value == null || value.isBlank()) {
      return 0;
    }
    String v = value.trim().toLowerCase(java.util.Locale.ROOT);
    try {
      if (v.startsWith("p")) {
        return Duration.parse(v.toUpperCase(java.util.Locale.ROOT)).toNanos();
      }
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2))).toNanos();
      }
      if (v.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1))).toNanos();
      }
      if (v.endsWith("m")) {
        return Duration.ofMinutes(Long.parseLong(v.substring(0, v.length() - 1))).toNanos();
      }
    } catch (RuntimeException e) {
      // fall through to the explanation below
    }
    throw new IllegalArgumentException(
        "sluice.blockedWarning='"
            + value
            + "' is not a duration; use e.g. 30s, 500ms, 2m or PT30S");
  }

  /** Logs the warning for the current thread, blocked in {@code what} for {@code waitedNanos}. */
  static void reportBlocked(String what, long waitedNanos) {
    Thread t = Thread.currentThread();
    String message =
        String.format(
            "%s thread #%d '%s' has been blocked for %d ms in %s. If no other thread will complete"
                + " it, this is a deadlock (Go: \"all goroutines are asleep\"). Usual fixes: run the"
                + " producer on its own virtual thread; close the channel when the producer is done;"
                + " pass a Context or a timeout so the wait can end.",
            t.isVirtual() ? "Virtual" : "Platform",
            t.threadId(),
            t.getName(),
            waitedNanos / 1_000_000,
            what);
    System.getLogger("io.sluice.core")
        .log(System.Logger.Level.WARNING, message, new Throwable("stack of the blocked thread"));
  }
}
