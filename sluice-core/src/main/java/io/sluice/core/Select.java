package io.sluice.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Waits on several channel operations and completes exactly one: Go's {@code select}.
 *
 * <pre>{@code
 * String what = Select.select(
 *     in.onReceiveOrClosed(r -> r.ok() ? "got " + r : "in closed"),
 *     out.onSend(next, () -> "sent"),
 *     ctx.onDone(() -> "cancelled"),
 *     Select.onTimeout(Duration.ofSeconds(1), () -> "idle"));
 * }</pre>
 *
 * <p>Rules, as in Go:
 *
 * <ul>
 *   <li>If one or more clauses can proceed, one of them is chosen uniformly at random, so no clause
 *       starves another. (Some libraries always prefer the first ready clause.)
 *   <li>Otherwise, with an {@link #onDefault} clause, that runs at once; without one, the select
 *       waits until a clause can proceed.
 *   <li>Exactly one clause completes: a value is received from or sent on exactly one channel.
 *   <li>The chosen clause's handler runs on the selecting thread after the operation, and its
 *       result is returned. An exception from a handler propagates from {@code select}.
 *   <li>A receive clause on a closed, drained channel is ready. {@link
 *       ReceiveChannel#onReceiveOrClosed} passes {@link Received.Closed} to its handler; {@link
 *       ReceiveChannel#onReceive} makes the select throw {@link ChannelClosedException}, as does a
 *       send clause on a closed channel.
 *   <li>{@link #never()} is a clause that never fires: Go's {@code nil} channel.
 * </ul>
 *
 * <p>Waiting ends early when the thread is interrupted ({@link InterruptedException}; no clause
 * completed) or when the context given to {@link #select(Context, Clause[])} is done ({@link
 * ContextCancelledException}). To handle cancellation as an ordinary case instead, add a {@link
 * Context#onDone} clause.
 *
 * <p>Memory consistency effects: those of the channel operation that completes.
 */
public final class Select {
  private Select() {}

  /**
   * Runs a select, waiting until one clause can complete.
   *
   * @param clauses the cases; at most one {@link #onDefault}; any number of timeouts (the earliest
   *     counts)
   * @param <R> the result type
   * @return the chosen clause's handler result
   * @throws InterruptedException if the thread is interrupted before or while waiting, even if a
   *     clause is ready; no clause completed
   * @throws ChannelClosedException if the chosen clause met a closed channel (see above)
   * @throws IllegalArgumentException for no clauses or more than one default
   */
  @SafeVarargs
  @SuppressWarnings("varargs") // the array is only read
  public static <R> R select(Clause<? extends R>... clauses) throws InterruptedException {
    return SelectImpl.run(null, clauses);
  }

  /**
   * Runs a select that also ends when {@code ctx} is done. A context already done fails the select
   * at once, even if a clause is ready.
   *
   * @param ctx ends the wait with {@link ContextCancelledException} when done
   * @param clauses the cases
   * @param <R> the result type
   * @return the chosen clause's handler result
   * @throws InterruptedException if the thread is interrupted before or while waiting, even if a
   *     clause is ready; no clause completed
   * @throws ContextCancelledException if {@code ctx} is done first; no clause completed
   * @throws ChannelClosedException if the chosen clause met a closed channel
   */
  @SafeVarargs
  @SuppressWarnings("varargs") // the array is only read
  public static <R> R select(Context ctx, Clause<? extends R>... clauses)
      throws InterruptedException {
    return SelectImpl.run(Objects.requireNonNull(ctx, "ctx"), clauses);
  }

  /**
   * Runs a select over a list of clauses built at run time (fan-in over a variable number of
   * channels).
   *
   * @param ctx ends the wait when done, or {@code null} for no context
   * @param clauses the cases
   * @param <R> the result type
   * @return the chosen clause's handler result
   * @throws InterruptedException if the thread is interrupted before or while waiting; no clause
   *     completed
   * @throws ContextCancelledException if {@code ctx} is done first
   */
  public static <R> R select(Context ctx, List<? extends Clause<? extends R>> clauses)
      throws InterruptedException {
    return SelectImpl.run(ctx, clauses.toArray(new Clause<?>[0]));
  }

  /**
   * The {@code default:} case: chosen at once when no other clause is ready, so the select never
   * waits.
   *
   * @param handler gives the select's result
   * @param <R> the result type
   * @return the clause
   */
  public static <R> Clause<R> onDefault(Supplier<? extends R> handler) {
    return new SelectClause.Default<>(Objects.requireNonNull(handler, "handler"));
  }

  /**
   * A case that fires when {@code timeout} has passed since the select started waiting, measured by
   * the system's monotonic clock: Go's {@code case <-time.After(d)}, without creating a timer. For
   * a test clock, use a {@link Clock#after(Duration)} channel instead.
   *
   * @param timeout how long to wait; zero or negative fires at once if nothing else is ready
   * @param handler gives the select's result
   * @param <R> the result type
   * @return the clause
   */
  public static <R> Clause<R> onTimeout(Duration timeout, Supplier<? extends R> handler) {
    return new SelectClause.Timeout<>(
        Objects.requireNonNull(timeout, "timeout"), Objects.requireNonNull(handler, "handler"));
  }

  /**
   * A clause that never fires: Go's {@code nil} channel. Use it in place of a clause to switch it
   * off without changing the select's shape.
   *
   * @param <R> the result type
   * @return the clause
   */
  public static <R> Clause<R> never() {
    return SelectClause.Never.instance();
  }
}
