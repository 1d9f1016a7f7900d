package io.sluice.examples;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Select;
import io.sluice.core.Ticker;
import io.sluice.core.Timer;
import java.time.Duration;
import java.time.Instant;

/**
 * The seed's timer and scheduling notes, done right: wait until an instant, a stream of aligned
 * fire times, and a timeout inside a loop.
 *
 * <p>Every function takes a {@link Clock}, so the tests drive them with a {@link
 * io.sluice.core.ManualClock} instead of waiting; {@link #main} uses the system clock.
 */
public final class Scheduling {
  private Scheduling() {}

  /**
   * Waits until {@code until} or until {@code ctx} is done: the seed's {@code waitUntil}. The timer
   * is stopped on the way out, as in the Go version; with Go 1.23 timers (and Sluice's) that is
   * tidiness, not a leak fix.
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
    Channel<Instant> stream = Channel.buffered(1);
    Thread.ofVirtual()
        .name("cron")
        .start(
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
            });
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
   * Prints three aligned ticks, half a second apart, then stops the stream.
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
  }
}
