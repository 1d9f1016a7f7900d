package io.sluice.core;

import java.time.Duration;
import java.time.Instant;

/**
 * Offers the time on a channel at regular intervals: Go's {@code time.Ticker}, with the semantics
 * of Go 1.23. Made by {@link Clock#newTicker(Duration)} or {@link Time#newTicker(Duration)}.
 *
 * <pre>{@code
 * Ticker ticker = Time.newTicker(Duration.ofSeconds(1));
 * try {
 *   while (!ctx.isDone()) {
 *     Instant t = ticker.channel().receive(ctx);
 *     report(t);
 *   }
 * } finally {
 *   ticker.stop();
 * }
 * }</pre>
 *
 * <p>Ticks are never queued: a receiver that falls behind gets the oldest tick it missed, and the
 * other missed ticks are dropped; the next tick then comes at the next multiple of the period. The
 * channel is unbuffered, so after {@link #stop()} or {@link #reset(Duration)} returns no receive
 * gets a tick from before the call. An unreferenced ticker is garbage even if never stopped: the
 * timer engine holds it only while a receiver waits.
 *
 * <p>Memory consistency effects: actions before creating or resetting a ticker happen-before the
 * receive of a later tick completes.
 */
public sealed interface Ticker permits TickerImpl {

  /**
   * The channel on which the ticks arrive: Go's {@code t.C}. Receiving from it is an ordinary
   * channel receive, with that operation's blocking, interrupt, timeout and context rules. Never
   * closed, not even by {@link #stop()}, so a receiver never mistakes the end for a tick.
   *
   * @return the channel; the same object for the ticker's whole life
   */
  ReceiveChannel<Instant> channel();

  /**
   * Turns the ticker off: no tick is delivered after this returns. Never blocks.
   *
   * <p>Like Go's, it does not close the channel or wake a thread blocked receiving from it: that
   * thread waits until a {@link #reset(Duration)}. If it waits in a plain receive (no timeout, no
   * context, no other select clause), {@code stop} logs one warning naming it ({@link
   * Diagnostics}); receive with a {@link Context} to be able to end such a wait.
   */
  void stop();

  /**
   * Stops the ticker and restarts it with a new period: the next tick comes {@code period} from
   * now. Also restarts a stopped ticker. Never blocks.
   *
   * @param period the new period
   * @throws IllegalArgumentException if {@code period} is zero or negative
   */
  void reset(Duration period);
}
