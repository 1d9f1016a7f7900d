package io.sluice.core.internal;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * <strong>Not API.</strong> The timer engine of a {@link Clock}, for Sluice's own modules that need
 * it without the {@link io.sluice.core.Timer} object around it: {@code io.sluice.schedule}'s
 * one-shot schedule is a {@link TimerEntry} subclass, one 40-byte object that is both the engine's
 * entry and the caller's handle. The module exports this package only to those modules; code on the
 * class path can reach it, but it may change or disappear in any release.
 *
 * <p>This is the JDK's {@code SharedSecrets} pattern: {@link Clock}'s static initializer installs
 * the implementation, whose methods are package-private in {@code io.sluice.core}.
 *
 * <p>Memory consistency effects: actions in a thread before it schedules an entry happen-before the
 * entry fires.
 */
public final class TimerEngine {
  private static volatile Access access;

  private TimerEngine() {}

  /**
   * What {@code io.sluice.core} provides to this package; installed once, by {@link Clock}'s static
   * initializer.
   */
  public interface Access {
    /**
     * The engine that holds {@code clock}'s timers.
     *
     * @param clock the clock
     * @return its wheel
     */
    TimerWheel wheel(Clock clock);

    /**
     * See {@link TimerEngine#cancelMatching}.
     *
     * @param clock the clock
     * @param filter which entries to cancel
     * @return how many entries this call cancelled
     * @throws InterruptedException if interrupted while waiting for the engine
     */
    int cancelMatching(Clock clock, Predicate<? super TimerEntry> filter)
        throws InterruptedException;

    /**
     * See {@link WatchedDeadlines#withDeadline}.
     *
     * @param parent the parent, without a deadline
     * @param deadlineNanos the deadline on the parent's clock's {@code nanoTime()} scale
     * @return the context
     */
    CancelableContext watchedDeadline(Context parent, long deadlineNanos);

    /**
     * See {@link WatchedDeadlines#expire}.
     *
     * @param ctx a context from {@link #watchedDeadline}
     * @return whether this call ended it
     */
    boolean expireWatched(CancelableContext ctx);
  }

  /**
   * Installs the implementation. Only {@link Clock} calls this, once.
   *
   * @param implementation the implementation
   * @throws IllegalStateException if already installed
   */
  public static synchronized void install(Access implementation) {
    if (access != null) {
      throw new IllegalStateException("the timer engine access is installed already");
    }
    access = Objects.requireNonNull(implementation, "implementation");
  }

  /**
   * Runs {@code action} on {@code clock}'s timer thread once its {@link Clock#nanoTime()} reaches
   * {@code deadlineNanos} (at once if it has), or on the thread that advances a {@link
   * io.sluice.core.ManualClock}. The action must be short and must not block: it runs on the one
   * engine thread. Never blocks, takes no lock.
   *
   * @param clock the clock whose engine holds the entry
   * @param deadlineNanos when the action is due
   * @param action what to run
   * @return the entry, which can cancel the action
   */
  public static TimerEntry schedule(Clock clock, long deadlineNanos, Runnable action) {
    return wheelOf(clock).schedule(deadlineNanos, Objects.requireNonNull(action, "action"));
  }

  /**
   * Hands {@code entry} to the engine of the clock it was made for: its {@link TimerEntry#fire()}
   * runs on the engine's thread once that clock's {@link Clock#nanoTime()} reaches the entry's
   * deadline (at once if it has), unless it is cancelled first. Call it once per entry, before the
   * entry is shared: an entry scheduled twice corrupts the engine. Never blocks, takes no lock.
   *
   * @param entry a new entry, never scheduled before
   */
  public static void schedule(TimerEntry entry) {
    entry.wheel.schedule(entry);
  }

  /**
   * Cancels every pending entry of {@code clock}'s engine that {@code filter} accepts: how an owner
   * that does not track its entries one by one cancels all of them at once (an owner recognises its
   * entries by their subclass and fields). The filter runs on the engine's thread (for the system
   * clock this call waits for it) and sees every pending entry of the clock, so it must be fast and
   * must not block. Costs time proportional to everything the engine holds.
   *
   * <p>Blocks until the engine has looked at every entry scheduled before this call. If the thread
   * is interrupted while waiting, the cancellation still happens, later.
   *
   * @param clock the clock
   * @param filter accepts the entries to cancel
   * @return how many entries were cancelled
   * @throws InterruptedException if interrupted while waiting for the engine thread
   */
  public static int cancelMatching(Clock clock, Predicate<? super TimerEntry> filter)
      throws InterruptedException {
    return access().cancelMatching(clock, Objects.requireNonNull(filter, "filter"));
  }

  static TimerWheel wheelOf(Clock clock) {
    return access().wheel(Objects.requireNonNull(clock, "clock"));
  }

  static Access access() {
    Access a = access;
    if (a == null) {
      Clock.system(); // initialises Clock, which installs the access
      a = access;
    }
    return a;
  }
}
