package io.sluice.core;

import java.time.Duration;
import java.time.Instant;

/**
 * A single event in the future: Go's {@code time.Timer}, with the semantics of Go 1.23. Made by
 * {@link Clock#newTimer(Duration)} (or {@link Time#newTimer(Duration)}), which offers one {@link
 * Instant} on {@link #channel()}, or by {@link Clock#afterFunc(Duration, Runnable)}, which runs a
 * function instead.
 *
 * <pre>{@code
 * Timer idle = Time.newTimer(Duration.ofSeconds(30));
 * for (;;) {
 *   String r = Select.select(
 *       work.onReceive(w -> { handle(w); return "work"; }),
 *       idle.channel().onReceive(t -> "idle"));
 *   if (r.equals("idle")) break;
 *   idle.reset(Duration.ofSeconds(30));   // no drain needed: no stale value survives a reset
 * }
 * }</pre>
 *
 * <p>Go 1.23 rules, which {@link #stop()} and {@link #reset(Duration)} follow:
 *
 * <ul>
 *   <li>The channel is unbuffered ({@code cap() == 0}, {@code len() == 0}): the value is produced
 *       when a receiver takes it, never queued. So once {@code stop} or {@code reset} returns, no
 *       receive gets a value belonging to the settings before the call.
 *   <li>A timer whose time has come but whose value nobody has received is still running: {@code
 *       stop} returns {@code true} for it and the value is never delivered.
 *   <li>An unreferenced timer is garbage even if never stopped: the timer engine holds a timer only
 *       while a receiver waits on its channel. {@code stop} is never needed to free memory.
 * </ul>
 *
 * <p><b>{@code stop} wakes nobody.</b> As in Go, {@code stop} does not close the channel, so a
 * thread blocked receiving from it waits until a {@code reset} — for ever if none comes. And Go's
 * drain idiom, {@code if (!t.stop()) t.channel().receive()}, is never needed (no stale value
 * survives {@code stop} or {@code reset}) and blocks for ever once the value was received. A
 * receiver whose timer another thread may stop needs another way to end its wait: receive with a
 * context that the stopping thread cancels too ({@code timer.channel().receive(ctx)}, then {@code
 * timer.stop(); ctx.cancel()}), or with {@link Context#withTimeout}; or select on the timer's
 * channel and {@code ctx.onDone(...)} or a done channel.
 *
 * <p><b>One value, one receiver.</b> If several threads wait on the channel when the timer fires,
 * one of them gets the value and the others keep waiting, as after {@code stop}: until a {@code
 * reset} (each reset's value again serves one of them), for ever if none comes. To wake several
 * threads at once, give each its own timer, or let one receive and then cancel a context or close a
 * done channel that the others wait on.
 *
 * <p>Sluice logs one warning naming the threads left in any of these three hangs — waiting when
 * {@code stop} is called, starting to wait after {@code stop} or after the value was taken, or
 * waiting beside the receiver that got the value — if they wait in a plain receive (no timeout, no
 * context, no other select clause), which nothing but a reset or an interrupt can end. At most one
 * warning per timer; {@link Diagnostics} describes them.
 *
 * <p>Memory consistency effects: actions before creating or resetting a timer happen-before the
 * receive of its value completes, or its function starts.
 */
public sealed interface Timer permits TimerImpl, FuncTimer {

  /**
   * The channel on which the timer offers its value, the {@link Instant} its delay ran out: Go's
   * {@code t.C}. Receiving from it is an ordinary channel receive, with that operation's blocking,
   * interrupt, timeout and context rules; after the one value, or after {@link #stop()}, a receive
   * waits until a {@link #reset(Duration)} makes a new value due. The channel is never closed. The
   * value goes to one receiver: other threads waiting with it keep waiting. A plain receive that
   * starts when only a reset can complete it, or that the value leaves waiting so, logs a warning
   * ({@link Diagnostics}).
   *
   * @return the channel; the same object for the timer's whole life
   * @throws IllegalStateException for a timer made by {@code afterFunc}, which has no channel (in
   *     Go its {@code C} is nil, and a receive would block for ever)
   */
  ReceiveChannel<Instant> channel();

  /**
   * Prevents the timer from firing. Never blocks.
   *
   * <p>For a channel timer, returns {@code true} if the value had not been received yet, and after
   * this returns no receive gets it. For an {@code afterFunc} timer, returns {@code false} if the
   * function has already been started on its own thread; {@code stop} does not wait for it.
   *
   * <p>{@code stop} does not close the channel and does not wake a thread blocked receiving from it
   * (Go's rule): that thread waits until a {@link #reset(Duration)}. If it waits in a plain
   * receive, which nothing else can end, {@code stop} logs one warning naming it ({@link
   * Diagnostics}); give such a receiver a {@link Context} to cancel, or a select clause on a done
   * channel, to wake it. Never drain the channel after {@code stop}: there is nothing to drain.
   *
   * @return {@code true} if this call stopped a running timer; {@code false} if it had already
   *     fired or been stopped
   */
  boolean stop();

  /**
   * Changes the timer to fire {@code delay} from now, whether or not it was running. Never blocks.
   *
   * <p>For a channel timer, no receive after this returns gets a value for the previous settings.
   * For an {@code afterFunc} timer, either moves the pending call ({@code true}) or schedules the
   * function to run again ({@code false}), possibly while its previous run is still going.
   *
   * @param delay the new delay from now; zero or negative fires at once
   * @return {@code true} if the timer was running (not yet fired, not stopped)
   */
  boolean reset(Duration delay);
}
