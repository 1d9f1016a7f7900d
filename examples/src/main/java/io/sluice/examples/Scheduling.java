package io.sluice.examples;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import io.sluice.core.Select;
import io.sluice.core.Ticker;
import io.sluice.core.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * The seed's timer and scheduling notes, done right: wait until an instant, a stream of aligned
 * fire times, and a timeout inside a loop — two ways.
 *
 * <p><b>The timeout in a loop.</b> The seed's "Timer pitfalls" section shows {@code for { select {
 * case <-someDone: ... case <-time.After(30 * time.Second): return } }} and why it hurt before Go
 * 1.23: every {@code time.After} put a new timer in the runtime's timer heap, and it stayed there,
 * unreachable but alive, until its 30 seconds ran out — a busy loop piled up tens of thousands of
 * timers, memory grew and the scheduler's {@code checkTimers} burned CPU on the heap. The seed's
 * fix is one {@code time.NewTimer} made before the loop and {@code Reset} on every iteration. That
 * fix had a trap of its own: the old timer channel had a one-value buffer, so a timer that fired
 * while the loop was busy left a stale value in it, and the next {@code select} timed out at once
 * unless the code first drained it ({@code if !t.Stop() { <-t.C }}, which blocks for ever if the
 * value was already received). Go 1.23 changed timers: an unreferenced timer is collected even if
 * never stopped, and the channel is unbuffered, so after {@code Stop} or {@code Reset} returns no
 * stale value can be received. Sluice timers never need that drain, and one that blocks logs a
 * warning naming its thread.
 *
 * <p><b>Stop wakes nobody.</b> The same section's other trap: one goroutine blocks on {@code
 * <-timer1.C} while another calls {@code timer1.Stop()}, which does not close the channel, so the
 * first blocks for ever. Sluice keeps Go's rule, and logs a warning naming a thread that {@code
 * stop()} leaves in a plain receive; {@link #awaitTimerUnlessStopped} and {@link #stopAndRelease}
 * show the wait that a stop can end.
 *
 * <p>Sluice's {@link Timer} has the Go 1.23 semantics, and {@link Select#onTimeout} needs no timer
 * at all. So both forms here are sound:
 *
 * <ul>
 *   <li>{@link #drainUntilIdle}: {@code Select.onTimeout(idle, ...)} in every iteration, the direct
 *       counterpart of {@code case <-time.After(d)}; it allocates a clause, not a timer, and is
 *       measured on the system clock.
 *   <li>{@link #drainUntilIdleOneTimer}: the seed's recommended form, one {@link Timer} for the
 *       whole loop, {@link Timer#reset reset} after each value without a drain, {@link Timer#stop
 *       stopped} on the way out. It takes a {@link Clock}, so a test can make the timer fall due
 *       while a value is being handled and check that no stale timeout follows.
 * </ul>
 *
 * <p>Every function but {@link #drainUntilIdle} takes a {@link Clock}, so the tests drive them with
 * a {@link io.sluice.core.ManualClock} instead of waiting; {@link #main} uses the system clock.
 */
public final class Scheduling {
  private static final Optional<String> NONE = Optional.empty();

  private Scheduling() {}

  /**
   * Waits until {@code until} or until {@code ctx} is done: the seed's {@code waitUntil}. The timer
   * is stopped on the way out, as in the Go version; with Go 1.23 timers (and Sluice's) that is
   * tidiness, not a leak fix. The library has it as {@link Clock#sleepUntil(Context, Instant)},
   * which throws {@link io.sluice.core.ContextCancelledException} when {@code ctx} ends the wait
   * and never returns early if the wall clock is set back.
   *
   * @param ctx ends the wait early
   * @param clock the time source
   * @param until the instant to wait for
   * @return {@code true} if the instant came, {@code false} if the context ended the wait
   * @throws InterruptedException if interrupted
   */
  static boolean waitUntil(Context ctx, Clock clock, Instant until) throws InterruptedException {
    Timer timer = clock.newTimer(Duration.between(clock.now(), until));
    try {
      return Select.select(timer.channel().onReceive(t -> true), ctx.onDone(() -> false));
    } finally {
      timer.stop();
    }
  }

  /**
   * Waits for {@code timer} unless the stopping side releases the wait first: the seed's {@code go
   * func() { timer1.Stop() }(); <-timer1.C}, done so that it ends. A plain {@code
   * timer.channel().receive()} here would wait for ever once another thread stops the timer (and
   * Sluice would log a warning naming this thread); selecting on {@code stopped} as well lets
   * {@link #stopAndRelease} wake it.
   *
   * @param timer the timer to wait for
   * @param stopped done when the timer's owner stops it
   * @return the instant the timer fired, or empty if it was stopped first
   * @throws InterruptedException if interrupted
   */
  static Optional<Instant> awaitTimerUnlessStopped(Timer timer, Context stopped)
      throws InterruptedException {
    return Select.select(
        timer.channel().onReceive(Optional::of), stopped.onDone(Optional::<Instant>empty));
  }

  /**
   * The stopping side of {@link #awaitTimerUnlessStopped}: stops the timer, then cancels the
   * context its waiters select on, since {@code stop} itself wakes nobody. No drain follows: after
   * {@code stop} there is no value left to receive.
   *
   * @param timer the timer
   * @param waiters the context the waiters select on
   * @return what {@link Timer#stop()} returned: {@code true} if the timer had not fired
   */
  static boolean stopAndRelease(Timer timer, CancelableContext waiters) {
    boolean wasRunning = timer.stop();
    waiters.cancel();
    return wasRunning;
  }

  /**
   * The first boundary {@code start + k * period} that is not in the past: the seed's "a start time
   * in the past moves forward to the next boundary".
   *
   * @param now the current instant
   * @param start the first intended fire time, possibly in the past
   * @param period the interval
   * @return the next fire time at or after {@code now}
   */
  static Instant nextBoundary(Instant now, Instant start, Duration period) {
    if (!start.isBefore(now)) {
      return start;
    }
    long behind = Duration.between(start, now).toNanos();
    long periods = (behind + period.toNanos() - 1) / period.toNanos();
    return start.plusNanos(periods * period.toNanos());
  }

  /**
   * A channel of fire times {@code start, start + period, ...}, aligned to {@code start}, closed
   * when {@code ctx} is done: the seed's {@code cron(ctx, startTime, delay) <-chan time.Time}.
   *
   * <p>Unlike the Go version, the feeding thread waits for its consumer with {@code send(ctx, t)},
   * so when the consumer stops reading and cancels the context, the thread ends instead of blocking
   * for ever on a full channel; and the ticker is stopped in {@code finally}.
   *
   * @param ctx stops the stream and its thread
   * @param clock the time source
   * @param start the first fire time; a past one moves forward to the next boundary
   * @param period the interval
   * @return the stream of fire times
   */
  static ReceiveChannel<Instant> cron(Context ctx, Clock clock, Instant start, Duration period) {
    return cron(ctx, clock, start, period, Thread.ofVirtual().name("cron").factory());
  }

  /**
   * {@link #cron(Context, Clock, Instant, Duration)} with its feeding thread made by {@code
   * threads}, so a test can check that the thread ends.
   *
   * @param ctx stops the stream and its thread
   * @param clock the time source
   * @param start the first fire time; a past one moves forward to the next boundary
   * @param period the interval
   * @param threads makes the feeding thread
   * @return the stream of fire times
   */
  static ReceiveChannel<Instant> cron(
      Context ctx, Clock clock, Instant start, Duration period, ThreadFactory threads) {
    Channel<Instant> stream = Channel.buffered(1);
    threads
        .newThread(
            () -> {
              Ticker ticker = null;
              try {
                Instant first = nextBoundary(clock.now(), start, period);
                clock.sleep(ctx, Duration.between(clock.now(), first));
                stream.send(ctx, clock.now());
                ticker = clock.newTicker(period);
                while (true) {
                  stream.send(ctx, ticker.channel().receive(ctx));
                }
              } catch (InterruptedException | ContextCancelledException e) {
                // cancelled: close below
              } finally {
                if (ticker != null) {
                  ticker.stop();
                }
                stream.close();
              }
            })
        .start();
    return stream;
  }

  /**
   * Receives values until the producer is idle for {@code idle}: the seed's timeout in a loop,
   * without a timer per iteration ({@link Select#onTimeout} creates none).
   *
   * @param values the stream
   * @param idle how long a silence ends the loop
   * @return how many values arrived
   * @throws InterruptedException if interrupted
   */
  static int drainUntilIdle(ReceiveChannel<String> values, Duration idle)
      throws InterruptedException {
    int received = 0;
    while (Select.select(
        values.onReceiveOrClosed(r -> r.ok()), Select.onTimeout(idle, () -> false))) {
      received++;
    }
    return received;
  }

  /**
   * Receives and handles values until the producer is idle for {@code idle}, with one timer for the
   * whole loop: the seed's {@code timer := time.NewTimer(d); for { timer.Reset(d); select { ... }
   * }} with Go 1.23 semantics. The reset needs no {@code Stop}-and-drain first: a timer that fell
   * due while {@code handle} ran, with nobody receiving, has no value left once {@code reset}
   * returns.
   *
   * @param values the stream
   * @param clock makes the timer
   * @param idle how long a silence ends the loop
   * @param handle runs on this thread for each value, outside the select
   * @return how many values arrived
   * @throws InterruptedException if interrupted while waiting
   */
  static int drainUntilIdleOneTimer(
      ReceiveChannel<String> values, Clock clock, Duration idle, Consumer<? super String> handle)
      throws InterruptedException {
    Timer quiet = clock.newTimer(idle);
    try {
      int received = 0;
      while (true) {
        Optional<String> next =
            Select.select(
                values.onReceiveOrClosed(
                    r -> r instanceof Received.Value<String>(String v) ? Optional.of(v) : NONE),
                quiet.channel().onReceive(t -> NONE));
        if (next.isEmpty()) {
          return received; // end of stream, or quiet for `idle`
        }
        handle.accept(next.get());
        received++;
        quiet.reset(idle);
      }
    } finally {
      quiet.stop(); // tidiness: an unreferenced Sluice timer is garbage either way
    }
  }

  /**
   * Prints three aligned ticks, half a second apart, then stops the stream; waits until an instant;
   * drains a burst until it is quiet; and stops an hour's timer while a thread waits for it, which
   * wakes with nothing instead of waiting for ever.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Clock clock = Clock.system();
    try (CancelableContext ctx = Context.background().withCancel()) {
      Instant start = clock.now().minusSeconds(10); // in the past: moves to the next boundary
      ReceiveChannel<Instant> ticks = cron(ctx, clock, start, Duration.ofMillis(500));
      for (int i = 0; i < 3; i++) {
        System.out.println("tick " + ticks.receive());
      }
    }
    System.out.println(
        "waited until now+200ms: "
            + waitUntil(Context.background(), clock, clock.now().plusMillis(200)));
    Channel<String> burst = Channel.buffered(3);
    for (String s : List.of("foo", "bar", "bax")) {
      burst.send(s);
    }
    int n =
        drainUntilIdleOneTimer(
            burst, clock, Duration.ofMillis(200), s -> System.out.println("handled " + s));
    System.out.println(n + " value(s), then 200 ms of quiet ended the loop; one timer in all");
    Timer hour = clock.newTimer(Duration.ofHours(1));
    try (CancelableContext stopped = Context.background().withCancel()) {
      Thread waiter =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      System.out.println(
                          "the waiter woke with " + awaitTimerUnlessStopped(hour, stopped));
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  });
      System.out.println("stopped a running timer: " + stopAndRelease(hour, stopped));
      waiter.join();
    }
  }
}
