package io.sluice.core;

import java.time.Duration;
import java.time.Instant;

/**
 * Go's {@code time} functions over the {@linkplain Clock#system() system clock}, for code that does
 * not need a {@link ManualClock} in its tests. Code that does takes a {@link Clock} (or a {@link
 * Context}, whose {@link Context#clock()} it uses) and calls the same methods on it.
 *
 * <table class="striped">
 *   <caption>Go and Sluice</caption>
 *   <thead><tr><th>Go</th><th>Sluice</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@code time.After(d)}</td><td>{@link #after(Duration)}</td></tr>
 *     <tr><td>{@code time.AfterFunc(d, f)}</td><td>{@link #afterFunc(Duration, Runnable)}</td></tr>
 *     <tr><td>{@code time.NewTimer(d)}</td><td>{@link #newTimer(Duration)}</td></tr>
 *     <tr><td>{@code time.NewTicker(d)}</td><td>{@link #newTicker(Duration)}</td></tr>
 *     <tr><td>{@code time.Sleep(d)}</td><td>{@link #sleep(Duration)}</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>Memory consistency effects: those of the {@link Clock} methods these delegate to.
 */
public final class Time {
  private Time() {}

  /**
   * See {@link Clock#after(Duration)}.
   *
   * @param delay how long until the value is due
   * @return a channel that offers one instant once {@code delay} has passed
   */
  public static ReceiveChannel<Instant> after(Duration delay) {
    return Clock.system().after(delay);
  }

  /**
   * See {@link Clock#afterFunc(Duration, Runnable)}.
   *
   * @param delay how long until {@code fn} starts on its own virtual thread
   * @param fn the function
   * @return a timer that can stop or reschedule the call
   */
  public static Timer afterFunc(Duration delay, Runnable fn) {
    return Clock.system().afterFunc(delay, fn);
  }

  /**
   * See {@link Clock#newTimer(Duration)}.
   *
   * @param delay how long until the value is due
   * @return a running timer
   */
  public static Timer newTimer(Duration delay) {
    return Clock.system().newTimer(delay);
  }

  /**
   * See {@link Clock#newTicker(Duration)}.
   *
   * @param period the time between ticks
   * @return a running ticker
   * @throws IllegalArgumentException if {@code period} is zero or negative
   */
  public static Ticker newTicker(Duration period) {
    return Clock.system().newTicker(period);
  }

  /**
   * See {@link Clock#sleep(Duration)}: blocks for at least {@code duration}.
   *
   * @param duration how long to sleep; zero or negative returns at once
   * @throws InterruptedException if the thread is interrupted before or while sleeping; the sleep
   *     ends early and the interrupt status is cleared
   */
  public static void sleep(Duration duration) throws InterruptedException {
    Clock.system().sleep(duration);
  }

  /**
   * See {@link Clock#sleep(Context, Duration)}: blocks for at least {@code duration}, or until
   * {@code ctx} is done.
   *
   * @param ctx ends the sleep early with {@link ContextCancelledException} when done
   * @param duration how long to sleep; zero or negative returns at once (after the checks)
   * @throws InterruptedException if the thread is interrupted before or while sleeping; the
   *     interrupt status is cleared
   * @throws ContextCancelledException if {@code ctx} is done before the time has passed ({@link
   *     DeadlineExceededException} if its deadline passed)
   */
  public static void sleep(Context ctx, Duration duration) throws InterruptedException {
    Clock.system().sleep(ctx, duration);
  }

  /**
   * See {@link Clock#sleepUntil(Context, Instant)}: blocks until the system clock reads {@code
   * instant}, or until {@code ctx} is done.
   *
   * @param ctx ends the wait early with {@link ContextCancelledException} when done
   * @param instant when to wake; one in the past returns at once (after the checks)
   * @throws InterruptedException if the thread is interrupted before or while waiting; the
   *     interrupt status is cleared
   * @throws ContextCancelledException if {@code ctx} is done first ({@link
   *     DeadlineExceededException} if its deadline passed)
   */
  public static void sleepUntil(Context ctx, Instant instant) throws InterruptedException {
    Clock.system().sleepUntil(ctx, instant);
  }
}
