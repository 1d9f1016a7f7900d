package io.sluice.core;

import io.sluice.core.internal.Nanos;
import java.time.Duration;
import java.util.List;
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
 * <p><b>Receivers that a timer leaves waiting.</b> Always on: Sluice's timers and tickers follow Go
 * 1.23, so {@link Timer#stop()} and {@link Ticker#stop()} do not close the channel, and a receive
 * on it waits until a {@code reset}. For a <em>plain</em> receive — no timeout, no {@link Context},
 * no other {@link Select} clause — that is a hang, the one the seed's Go notes show. So one warning
 * (logger {@code io.sluice.core.Timer}, a child of {@code io.sluice.core}, level WARNING) is logged
 *
 * <ul>
 *   <li>when {@code stop()} leaves threads waiting in a plain receive on the channel: it names
 *       them, with the stack of the thread that called {@code stop()};
 *   <li>when a plain receive starts on the channel of a timer that is stopped or whose value was
 *       already received (Go's {@code if !t.Stop() { <-t.C }} drain idiom, which Sluice timers
 *       never need), of a stopped ticker, or of an {@link Clock#after} channel whose one value was
 *       already received, with the receiver's stack;
 *   <li>when a timer, or an {@link Clock#after} channel, fires while several threads wait in a
 *       plain receive on its channel: its one value goes to one of them, and the others are left
 *       exactly as in the case above. It names them, with the stack of the first; with the system
 *       clock it is logged on a virtual thread of its own, not on the timer engine's thread.
 * </ul>
 *
 * <p>Each timer or ticker reports at most once, and at most ten such warnings are logged a minute
 * in the whole process; the next one logged says how many were left out. They are looked for only
 * where a receiver is about to park, where a {@code stop()} finds that one may be parked, or where
 * a timer's value was handed to a receiver while others stay queued. Nothing else changes: a reset
 * still wakes the receivers, and an interrupt still ends their wait. To silence them while meaning
 * to reset later, set the level of logger {@code io.sluice.core.Timer}.
 *
 * <p>Memory consistency effects: the threshold is a volatile setting; a change applies to waits
 * that start parking after it.
 */
public final class Diagnostics {
  private static volatile long blockedWarningNanos =
      parse(System.getProperty("sluice.blockedWarning"));

  /** The most timer warnings logged in a minute, process-wide; a hot loop cannot flood the log. */
  static final int TIMER_WARNINGS_PER_MINUTE = 10;

  private static final Budget TIMER_WARNINGS =
      new Budget(TIMER_WARNINGS_PER_MINUTE, Duration.ofMinutes(1).toNanos());

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
    blockedWarningNanos = Nanos.of(threshold); // saturated: too long to count is nearly never
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
        return Nanos.of(Duration.parse(v.toUpperCase(java.util.Locale.ROOT)));
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
    warn(System.getLogger("io.sluice.core"), message, new Throwable("stack of the blocked thread"));
  }

  /**
   * Logs, on the thread that called {@code stop()}, that the stop left {@code waiting} blocked in a
   * plain receive on the channel of {@code timer}.
   */
  static void reportStoppedTimerWithReceivers(
      ChannelTimer.Kind kind, Object timer, List<Thread> waiting) {
    long suppressed = TIMER_WARNINGS.take(System.nanoTime());
    if (suppressed < 0) {
      return;
    }
    String what = kind == ChannelTimer.Kind.TICKER ? "ticker" : "timer";
    StringBuilder names = new StringBuilder();
    for (Thread t : waiting) {
      names.append(names.isEmpty() ? "" : ", ").append(describe(t));
    }
    String message =
        String.format(
            "%s was stopped while %d thread(s) wait in a plain receive on its channel (no timeout,"
                + " no context, no other select clause): %s. stop() does not close the channel (as"
                + " in Go), so these receivers now wait until the %s is reset, and for ever if it"
                + " never is. To be able to wake them, receive with a Context (channel().receive(ctx)"
                + " with Context.withTimeout, or a context you cancel where you stop the %s), or"
                + " select on the channel together with a done channel or ctx.onDone(...). The stack"
                + " is the thread that called stop(). Reported once per %s.%s",
            timer, waiting.size(), names, what, what, what, suppressedNote(suppressed));
    warn(timerLogger(), message, new Throwable("stack of the thread that called stop()"));
  }

  /**
   * Logs, on the receiving thread, that it is about to wait in a plain receive on the channel of
   * {@code timer}, which only a reset can make deliver again.
   */
  static void reportStrandedTimerReceive(ChannelTimer.Kind kind, Object timer) {
    long suppressed = TIMER_WARNINGS.take(System.nanoTime());
    if (suppressed < 0) {
      return;
    }
    String receiver = describe(Thread.currentThread());
    String message =
        switch (kind) {
          case TIMER ->
              String.format(
                  "%s receives, with no timeout or context, from the channel of %s, which is"
                      + " stopped or whose value was already received: it waits until another"
                      + " thread resets the timer, and for ever if none does. Sluice timers (like"
                      + " Go 1.23's) never need draining after stop() or reset(): drop the"
                      + " 'if (!t.stop()) t.channel().receive()' idiom, as stop() or reset(d) alone"
                      + " leaves no stale value. To wait for a reset that may not come, receive"
                      + " with a Context. Reported once per timer.",
                  receiver, timer);
          case TICKER ->
              String.format(
                  "%s receives, with no timeout or context, from the channel of %s, which is"
                      + " stopped: it waits until another thread resets the ticker, and for ever if"
                      + " none does. Tickers never need draining after stop() or reset(). To wait"
                      + " for a reset that may not come, receive with a Context. Reported once per"
                      + " ticker.",
                  receiver, timer);
          case AFTER ->
              String.format(
                  "%s receives, with no timeout or context, from a channel made by after(d) whose"
                      + " one value was already received (%s): nothing can make another value due,"
                      + " so this receive waits for ever, until interrupted. Receive from an"
                      + " after(d) channel once; for a timeout that repeats, make a new one or use"
                      + " a Timer and reset(d).",
                  receiver, timer);
        };
    warn(
        timerLogger(),
        message + suppressedNote(suppressed),
        new Throwable("stack of the receiving thread"));
  }

  /**
   * Logs that a one-shot timer's value (or an {@code after(d)} channel's) went to one receiver
   * while {@code stranded}, in a plain receive on the same channel, were left waiting. Called with
   * no lock held and never on the system clock's engine thread, as a log handler may block.
   */
  static void reportReceiversLeftByValue(
      ChannelTimer.Kind kind, Object value, List<Thread> stranded) {
    long suppressed = TIMER_WARNINGS.take(System.nanoTime());
    if (suppressed < 0) {
      return;
    }
    StringBuilder names = new StringBuilder();
    for (Thread t : stranded) {
      names.append(names.isEmpty() ? "" : ", ").append(describe(t));
    }
    String message =
        switch (kind) {
          case AFTER ->
              String.format(
                  "The one value (%s) of a channel made by after(d) went to one receiver while %d"
                      + " other thread(s) waited in a plain receive on it (no timeout, no context, no"
                      + " other select clause): %s. Nothing can make"
                      + " another value due, so they wait for ever, until interrupted. Each"
                      + " receiver needs its own after(d); to wake several threads at one moment,"
                      + " let one receive and then cancel a Context or close a done channel that the"
                      + " others wait on (receive(ctx), or a select with ctx.onDone(...) or the"
                      + " done channel). The stack is the first stranded thread's. Reported once per"
                      + " channel.",
                  value, stranded.size(), names);
          default -> // TIMER; a ticker's next tick comes by itself, so it strands nobody
              String.format(
                  "A timer's value (%s) went to one receiver while %d other thread(s) waited in a"
                      + " plain receive on its channel (no timeout, no context, no other select"
                      + " clause): %s. A timer delivers each value to one receiver only, so these"
                      + " wait until the timer is reset (one of them"
                      + " per reset), and for ever if it never is. To wake several threads when it"
                      + " fires, give each its own timer, or let one receive and then cancel a"
                      + " Context or close a done channel that the others wait on (receive(ctx), or"
                      + " a select with ctx.onDone(...) or the done channel). The stack is the first"
                      + " stranded thread's. Reported once per timer.",
                  value, stranded.size(), names);
        };
    Thread first = stranded.getFirst();
    Throwable stack = new Throwable("stack of " + describe(first) + ", left waiting");
    stack.setStackTrace(first.getStackTrace());
    warn(timerLogger(), message + suppressedNote(suppressed), stack);
  }

  /**
   * Logs a warning. A warning must change nothing else: a log handler that throws loses the
   * warning, never the operation that reports it (a receive whose node is queued, a stop that has
   * happened).
   */
  private static void warn(System.Logger logger, String message, Throwable stack) {
    try {
      logger.log(System.Logger.Level.WARNING, message, stack);
    } catch (RuntimeException e) {
      // the warning is lost, the operation is not
    }
  }

  private static System.Logger timerLogger() {
    return System.getLogger("io.sluice.core.Timer");
  }

  private static String describe(Thread t) {
    String name = t.getName();
    return String.format(
        "%s thread #%d %s",
        t.isVirtual() ? "Virtual" : "Platform",
        t.threadId(),
        name.isEmpty() ? "(unnamed)" : "'" + name + "'");
  }

  private static String suppressedNote(long suppressed) {
    return suppressed == 0
        ? ""
        : " (" + suppressed + " similar warning(s) were left out before this one.)";
  }

  /** The process-wide cap on timer warnings, for tests. */
  static Budget timerWarnings() {
    return TIMER_WARNINGS;
  }

  /**
   * At most {@code perWindow} warnings in each window of {@code windowNanos}, a window starting at
   * the first warning after the previous one ended; the warnings over the cap are counted, and the
   * count is told with the next one logged. Times are passed in, so tests need no real time.
   */
  static final class Budget {
    private final int perWindow;
    private final long windowNanos;
    private boolean started;
    private long windowStart;
    private int used;
    private long suppressed;

    Budget(int perWindow, long windowNanos) {
      this.perWindow = perWindow;
      this.windowNanos = windowNanos;
    }

    /**
     * Takes one warning's place at {@code nowNanos}: -1 if the warning must be left out, else how
     * many were left out since the last one that was logged.
     */
    synchronized long take(long nowNanos) {
      if (!started || nowNanos - windowStart >= windowNanos) {
        started = true;
        windowStart = nowNanos;
        used = 0;
      }
      if (used >= perWindow) {
        suppressed++;
        return -1;
      }
      used++;
      long left = suppressed;
      suppressed = 0;
      return left;
    }

    /** Starts afresh, for tests. */
    synchronized void reset() {
      started = false;
      used = 0;
      suppressed = 0;
    }
  }
}
