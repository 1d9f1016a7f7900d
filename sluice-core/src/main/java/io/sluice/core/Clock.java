package io.sluice.core;

import io.sluice.core.internal.Nanos;
import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;
import io.sluice.core.internal.TimerWheel;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The source of time for timers, tickers, context deadlines and sleeps, and the factory for timers
 * and tickers: Go's {@code time} package as an object, so tests can swap the real clock for a
 * {@link ManualClock}.
 *
 * <p>{@link #system()} reads the operating system's clocks and fires timers from one shared timer
 * engine; {@link Time} offers its methods as static functions. {@link #manual(Instant)} makes a
 * clock that moves only when a test advances it, firing due timers on the advancing thread.
 *
 * <table class="striped">
 *   <caption>Timers</caption>
 *   <thead><tr><th>Go</th><th>Sluice</th><th>blocks?</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@code time.NewTimer(d)}, {@code t.Stop()}, {@code t.Reset(d)}</td>
 *       <td>{@link #newTimer(Duration)}, {@link Timer#stop()}, {@link Timer#reset(Duration)}</td>
 *       <td>never; receive from {@link Timer#channel()} to wait</td></tr>
 *     <tr><td>{@code time.After(d)}</td><td>{@link #after(Duration)}</td><td>never</td></tr>
 *     <tr><td>{@code time.AfterFunc(d, f)}</td><td>{@link #afterFunc(Duration, Runnable)}</td>
 *       <td>never; {@code f} runs on its own virtual thread</td></tr>
 *     <tr><td>{@code time.NewTicker(d)}</td><td>{@link #newTicker(Duration)}</td><td>never</td></tr>
 *     <tr><td>{@code time.Sleep(d)}</td><td>{@link #sleep(Duration)}, {@link #sleep(Context,
 *       Duration)}</td><td>yes: ends early on interrupt or a done context</td></tr>
 *     <tr><td>{@code time.Sleep(time.Until(t))}</td><td>{@link #sleepUntil(Context, Instant)}</td>
 *       <td>yes: ends early on interrupt or a done context, never before {@code t}</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>The system clock's timers share one engine: a hierarchical timing wheel on one daemon thread,
 * {@code sluice-timer}, that sleeps until the next timer is due. Scheduling and cancelling are
 * lock-free; a pending timer costs 40 bytes; a timer fires at most about a quarter of a millisecond
 * after its time, plus the thread's wake-up latency. Timers and tickers whose channel nobody waits
 * on cost the engine nothing.
 *
 * <p>Memory consistency effects: actions in a thread before it schedules, resets or creates a timer
 * happen-before that timer's function starts, its sleeper wakes, or a receive of its value
 * completes.
 */
public abstract sealed class Clock permits SystemClock, ManualClock {
  static {
    TimerEngine.install(new EngineAccess());
  }

  Clock() {}

  /**
   * The shared system clock.
   *
   * @return the clock backed by {@link System#nanoTime()} and {@link System#currentTimeMillis()}
   */
  public static Clock system() {
    return SystemClock.INSTANCE;
  }

  /**
   * A clock for tests that stands still until {@link ManualClock#advance(Duration)} moves it.
   *
   * @param start the wall-clock instant it starts at
   * @return a new manual clock
   */
  public static ManualClock manual(Instant start) {
    return new ManualClock(start);
  }

  /**
   * The current wall-clock instant.
   *
   * @return now
   */
  public abstract Instant now();

  /**
   * A monotonic reading in nanoseconds, for measuring intervals; like {@link System#nanoTime()},
   * meaningful only as differences between readings of the same clock.
   *
   * @return the reading
   */
  public abstract long nanoTime();

  /**
   * A timer that makes one value available on its {@linkplain Timer#channel() channel} once {@code
   * delay} has passed: Go's {@code time.NewTimer}. A zero or negative delay makes the value
   * available at once.
   *
   * <p>The timer costs the engine nothing until a receiver waits on its channel, so a timer that is
   * dropped without being stopped is garbage, not a leak (Go 1.23).
   *
   * @param delay how long until the value is due
   * @return a running timer
   */
  public final Timer newTimer(Duration delay) {
    return new TimerImpl(ChannelTimer.timer(this, delayNanos(delay)));
  }

  /**
   * The channel of a new timer: Go's {@code time.After}. It delivers one {@link Instant}, the time
   * the delay ran out. Safe in a loop: an unreceived value and its timer become garbage with the
   * channel.
   *
   * <p>The one value goes to one receiver, and nothing can make another due: a receive that starts
   * after it was taken, or that waited beside the receiver that took it, waits for ever (until
   * interrupted). Give each receiver its own {@code after(d)}. Where such a receive is plain (no
   * timeout, no context, no other select clause), one warning names the thread ({@link
   * Diagnostics}).
   *
   * @param delay how long until the value is due
   * @return the timer's channel
   */
  public final ReceiveChannel<Instant> after(Duration delay) {
    return ChannelTimer.after(this, delayNanos(delay)).channel;
  }

  /**
   * Runs {@code fn} on a new virtual thread of its own once {@code delay} has passed: Go's {@code
   * time.AfterFunc}. A function that blocks or fails never delays other timers; an exception it
   * throws goes to that thread's uncaught exception handler.
   *
   * <p>The returned timer has no channel; {@link Timer#stop()} prevents the call if it has not
   * started, and {@link Timer#reset(Duration)} schedules it again.
   *
   * @param delay how long until {@code fn} starts; zero or negative starts it at once
   * @param fn the function
   * @return a running timer
   */
  public final Timer afterFunc(Duration delay, Runnable fn) {
    return FuncTimer.start(this, delayNanos(delay), Objects.requireNonNull(fn, "fn"));
  }

  /**
   * A ticker whose {@linkplain Ticker#channel() channel} offers a value every {@code period}: Go's
   * {@code time.NewTicker}. A receiver that falls behind gets the oldest missed tick, and the ticks
   * it missed after that are dropped, so a slow receiver never builds a backlog.
   *
   * @param period the time between ticks
   * @return a running ticker
   * @throws IllegalArgumentException if {@code period} is zero or negative
   */
  public final Ticker newTicker(Duration period) {
    return new TickerImpl(ChannelTimer.ticker(this, periodNanos(period)));
  }

  /**
   * Blocks the current thread until {@code duration} has passed on this clock: Go's {@code
   * time.Sleep}. On a {@link ManualClock}, until a test advances the clock past the wake-up time.
   *
   * @param duration how long to sleep; zero or negative returns at once (after the interrupt check)
   * @throws InterruptedException if the thread is interrupted before or while sleeping; the sleep
   *     ends early and the interrupt status is cleared
   */
  public final void sleep(Duration duration) throws InterruptedException {
    Sleeper.sleep(this, null, delayNanos(duration));
  }

  /**
   * Sleeps like {@link #sleep(Duration)}, ending early when {@code ctx} is done.
   *
   * @param ctx ends the sleep when done; a context already done fails at once
   * @param duration how long to sleep; zero or negative returns at once (after the checks)
   * @throws InterruptedException if the thread is interrupted before or while sleeping (checked
   *     before the context); the sleep ends early and the interrupt status is cleared
   * @throws ContextCancelledException if {@code ctx} is done before the time has passed ({@link
   *     DeadlineExceededException} if its deadline passed)
   */
  public final void sleep(Context ctx, Duration duration) throws InterruptedException {
    Sleeper.sleep(this, (BaseContext) Objects.requireNonNull(ctx, "ctx"), delayNanos(duration));
  }

  /**
   * Blocks until this clock reads {@code instant} or later, or until {@code ctx} is done: the
   * seed's {@code waitUntil(ctx, t)}. The wait runs on the monotonic clock, and on waking the wall
   * clock is read again: if it was set back meanwhile and still reads before {@code instant}, the
   * rest is waited too, so this never returns early. (A wall clock set forward is noticed only at
   * that wake-up; for wall-clock schedules that must follow such steps, use {@code
   * sluice-schedule}.)
   *
   * @param ctx ends the wait when done; a context already done fails at once
   * @param instant when to wake; one in the past returns at once (after the checks)
   * @throws InterruptedException if the thread is interrupted before or while waiting (checked
   *     before the context); the interrupt status is cleared
   * @throws ContextCancelledException if {@code ctx} is done first ({@link
   *     DeadlineExceededException} if its deadline passed)
   */
  public final void sleepUntil(Context ctx, Instant instant) throws InterruptedException {
    Objects.requireNonNull(instant, "instant");
    Duration left = Duration.between(now(), instant);
    sleep(ctx, left); // not positive: only the interrupt and context checks
    while (!(left = Duration.between(now(), instant)).isNegative() && !left.isZero()) {
      sleep(ctx, left);
    }
  }

  /** {@code delay} in nanoseconds, saturated to the long range. */
  static long delayNanos(Duration delay) {
    return Nanos.of(Objects.requireNonNull(delay, "delay"));
  }

  static long periodNanos(Duration period) {
    long nanos = delayNanos(period);
    if (nanos <= 0) {
      throw new IllegalArgumentException("period must be positive, was " + period);
    }
    return nanos;
  }

  /** The {@link #nanoTime()} reading {@code delayNanos} from now, saturated. */
  final long deadlineAfter(long delayNanos) {
    return Nanos.add(nanoTime(), delayNanos);
  }

  /**
   * The wall-clock instant of the {@link #nanoTime()} reading {@code nanos}. Reading the wall clock
   * and the monotonic one are two calls: a thread paused between them (a busy machine) would shift
   * the result by the pause, enough to put a ticker's later tick before its earlier one. So the
   * wall clock is read between two monotonic readings, and of up to three tries the one whose
   * readings are closest is used. A reading saturated by a delay too long for nanoseconds (either
   * way) gives an instant as far from now as nanoseconds reach, on the same side of now. A {@link
   * ManualClock}, whose two readings are one, works it out exactly instead.
   */
  Instant instantAt(long nanos) {
    Instant wall = null;
    long mono = 0;
    long spread = Long.MAX_VALUE;
    for (int i = 0; i < 3 && spread > 20_000; i++) {
      long before = nanoTime();
      Instant w = now();
      long after = nanoTime();
      if (after - before < spread) {
        spread = after - before;
        wall = w;
        mono = before + spread / 2;
      }
    }
    return wall.minusNanos(Nanos.subtract(mono, nanos)); // a saturated deadline stays on its side
  }

  /**
   * Runs {@code action} on the clock's timer thread once {@link #nanoTime()} reaches {@code
   * deadlineNanos} (at once if it has), or on the thread that advances a {@link ManualClock}. For
   * the library's own short, non-blocking actions (cancelling a context, waking a waiter); user
   * functions go through {@code afterFunc}, which gives each run its own thread. Never blocks and
   * takes no lock: callable while holding any lock.
   *
   * @return the entry, whose {@code cancel()} stops the action if it has not started
   */
  final TimerEntry schedule(long deadlineNanos, Runnable action) {
    return wheel().schedule(deadlineNanos, action);
  }

  /** The timer engine that holds this clock's timers. */
  abstract TimerWheel wheel();

  /**
   * Cancels every pending entry that {@code filter} accepts; see {@link
   * TimerEngine#cancelMatching}.
   */
  abstract int cancelMatching(Predicate<? super TimerEntry> filter) throws InterruptedException;

  /** The engine as {@link TimerEngine} offers it to Sluice's other modules. */
  private static final class EngineAccess implements TimerEngine.Access {
    @Override
    public TimerWheel wheel(Clock clock) {
      return clock.wheel();
    }

    @Override
    public int cancelMatching(Clock clock, Predicate<? super TimerEntry> filter)
        throws InterruptedException {
      return clock.cancelMatching(filter);
    }

    @Override
    public CancelableContext watchedDeadline(Context parent, long deadlineNanos) {
      return CancelContext.createWatched((BaseContext) parent, deadlineNanos);
    }

    @Override
    public boolean expireWatched(CancelableContext ctx) {
      return CancelContext.expire(ctx);
    }
  }
}
