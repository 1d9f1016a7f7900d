package io.sluice.core;

import java.time.Duration;
import java.util.Iterator;
import java.util.function.Function;

/**
 * The receiving side of a {@link Channel}: Go's {@code <-chan T}. Hand this type to a consumer so
 * it can receive but neither send nor close.
 *
 * <table class="striped">
 *   <caption>Receiving</caption>
 *   <thead><tr><th>result</th><th>blocks</th><th>never blocks</th><th>times out</th><th>in a
 *   select</th></tr></thead>
 *   <tbody>
 *     <tr><td>the value; end of stream throws</td><td>{@link #receive()}, {@link #receive(Context)}</td>
 *       <td></td><td></td><td>{@link #onReceive(Function)}</td></tr>
 *     <tr><td>{@link Received} / {@link TryReceived}: value, closed or nothing yet</td>
 *       <td>{@link #receiveOrClosed()}, {@link #receiveOrClosed(Context)}</td><td>{@link #tryReceive()}</td>
 *       <td>{@link #tryReceive(Duration)}</td><td>{@link #onReceiveOrClosed(Function)}</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>After {@link SendChannel#close()}, receivers first drain the buffered values, then see the end
 * of the stream, for ever. A receive on a closed channel never blocks — and, unlike Go's zero
 * value, never produces a value that was not sent: the seed's busy loop on a closed channel cannot
 * happen silently.
 *
 * <p>Blocking receives end early by {@link InterruptedException} when the thread is interrupted (no
 * value is taken) and, for the forms that take one, by {@link ContextCancelledException} when the
 * context is done.
 *
 * <p>Memory consistency effects: actions in a thread before a send happen-before the receive of
 * that value completes; closing happens-before a receive that sees the end of the stream.
 *
 * @param <T> the element type
 */
public sealed interface ReceiveChannel<T> extends Iterable<T> permits Channel {

  /**
   * Receives the next value, waiting until one is sent.
   *
   * @return the value
   * @throws InterruptedException if the thread is interrupted before a value arrives
   * @throws ChannelClosedException if the channel is closed and drained; its cause is the close
   *     error, if any
   */
  T receive() throws InterruptedException;

  /**
   * Receives like {@link #receive()}, giving up when {@code ctx} is done. A context that is already
   * done fails the receive even if a value is ready.
   *
   * @param ctx ends the wait when it is done
   * @return the value
   * @throws InterruptedException if the thread is interrupted before a value arrives
   * @throws ContextCancelledException if {@code ctx} is done first
   * @throws ChannelClosedException if the channel is closed and drained
   */
  T receive(Context ctx) throws InterruptedException;

  /**
   * Receives the next value or learns that the stream ended: Go's {@code v, ok := <-ch}.
   *
   * @return a {@link Received.Value} or, once the channel is closed and drained, {@link
   *     Received.Closed}
   * @throws InterruptedException if the thread is interrupted first
   */
  Received<T> receiveOrClosed() throws InterruptedException;

  /**
   * Receives like {@link #receiveOrClosed()}, giving up when {@code ctx} is done.
   *
   * @param ctx ends the wait when it is done
   * @return the value or the end of the stream
   * @throws InterruptedException if the thread is interrupted first
   * @throws ContextCancelledException if {@code ctx} is done first
   */
  Received<T> receiveOrClosed(Context ctx) throws InterruptedException;

  /**
   * Receives a value only if one is ready now.
   *
   * @return a value, the end of the stream, or {@link TryReceived.WouldBlock}
   */
  TryReceived<T> tryReceive();

  /**
   * Receives a value, waiting at most {@code timeout}.
   *
   * @param timeout the longest wait; zero or negative means do not wait
   * @return a value, the end of the stream, or {@link TryReceived.WouldBlock} if the timeout passed
   * @throws InterruptedException if the thread is interrupted before or while waiting, even with a
   *     zero timeout and a value ready; no value is then taken
   */
  TryReceived<T> tryReceive(Duration timeout) throws InterruptedException;

  /**
   * A {@link Select} clause that receives a value and passes it to {@code onValue}. If the channel
   * is closed and drained when the select would choose this clause, the select throws {@link
   * ChannelClosedException}; use {@link #onReceiveOrClosed(Function)} to handle the end instead.
   *
   * @param onValue runs on the selecting thread with the value; its result is the select's
   * @param <R> the select's result type
   * @return the clause
   */
  <R> Clause<R> onReceive(Function<? super T, ? extends R> onValue);

  /**
   * A {@link Select} clause that receives a value or the end of the stream. A closed, drained
   * channel makes this clause ready at once — so a loop that merges channels drops the clause of a
   * closed one (Go sets the channel variable to {@code nil}; here, use {@link Select#never()} or
   * leave the clause out).
   *
   * @param onResult runs on the selecting thread; its result is the select's
   * @param <R> the select's result type
   * @return the clause
   */
  <R> Clause<R> onReceiveOrClosed(Function<? super Received<T>, ? extends R> onResult);

  /**
   * Iterates over the values until the channel is closed and drained: Go's {@code for v := range
   * ch}. {@link Iterator#hasNext()} blocks. If the channel was closed with an error, the iteration
   * ends by throwing {@link ChannelClosedException} with that error as cause rather than ending
   * quietly. An interrupt while waiting (or before) throws {@link UncheckedInterruptedException}
   * from {@link Iterator#hasNext()} or {@link Iterator#next()}, takes no value, and leaves the
   * thread's interrupt status set, so code further up still sees it.
   *
   * @return a single-use iterator; several iterators on one channel share its values
   */
  @Override
  Iterator<T> iterator();

  /**
   * Iterates like {@link #iterator()}, giving up when {@code ctx} is done: Go's {@code for v :=
   * range ch} inside a {@code select} on {@code ctx.Done()}. A wait that {@code ctx} ends throws
   * {@link ContextCancelledException} (or {@link DeadlineExceededException}) from {@link
   * Iterator#hasNext()}; values already taken are not lost, the next one stays in the channel.
   * Interruption is as for {@link #iterator()}: {@link UncheckedInterruptedException}, no value
   * taken, and the interrupt status left set.
   *
   * <pre>{@code
   * for (Order o : orders.range(ctx)) {
   *   handle(o);
   * }
   * }</pre>
   *
   * @param ctx ends the iteration's waits when it is done
   * @return an iterable whose each iterator is single-use; several share the channel's values
   */
  Iterable<T> range(Context ctx);

  /**
   * Whether {@link SendChannel#close()} has been called. Values may still be buffered.
   *
   * @return {@code true} once closed
   */
  boolean isClosed();

  /**
   * The number of values in the buffer: Go's {@code len(ch)}.
   *
   * @return the buffered value count; always 0 for an unbuffered channel
   */
  int len();

  /**
   * The buffer capacity: Go's {@code cap(ch)}.
   *
   * @return 0 for an unbuffered channel, {@link Channel#UNLIMITED} for an unlimited one
   */
  int cap();
}
