package io.sluice.core;

import java.time.Duration;
import java.util.function.Supplier;

/**
 * The sending side of a {@link Channel}: Go's {@code chan<- T}. Hand this type to a producer so it
 * can send and close but not receive.
 *
 * <table class="striped">
 *   <caption>Sending</caption>
 *   <thead><tr><th>blocks</th><th>never blocks</th><th>times out</th><th>in a select</th></tr></thead>
 *   <tbody><tr>
 *     <td>{@link #send(Object)}, {@link #send(Context, Object)}</td>
 *     <td>{@link #trySend(Object)}</td>
 *     <td>{@link #trySend(Object, Duration)}</td>
 *     <td>{@link #onSend(Object, Supplier)}</td>
 *   </tr></tbody>
 * </table>
 *
 * <p>Every send on a closed channel throws {@link ChannelClosedException}; {@code null} values are
 * rejected with {@link NullPointerException}. Blocking sends end early by {@link
 * InterruptedException} when the thread is interrupted (the value is then not sent) and, for the
 * forms that take one, by {@link ContextCancelledException} when the context is done.
 *
 * <p>Memory consistency effects: actions in a thread before a send happen-before the receive of
 * that value completes in another thread, as in Go's memory model.
 *
 * @param <T> the element type
 */
public sealed interface SendChannel<T> permits Channel {

  /**
   * Sends {@code value}, waiting until a receiver takes it (unbuffered) or there is room in the
   * buffer.
   *
   * @param value the value, not {@code null}
   * @throws InterruptedException if the thread is interrupted before the value is sent; it is then
   *     not sent
   * @throws ChannelClosedException if the channel is closed, before or while waiting
   */
  void send(T value) throws InterruptedException;

  /**
   * Sends {@code value} like {@link #send(Object)}, giving up when {@code ctx} is done. A context
   * that is already done fails the send even if the channel has room.
   *
   * @param ctx ends the wait when it is done
   * @param value the value, not {@code null}
   * @throws InterruptedException if the thread is interrupted before the value is sent
   * @throws ContextCancelledException if {@code ctx} is done before the value is sent; the value is
   *     then not sent
   * @throws ChannelClosedException if the channel is closed
   */
  void send(Context ctx, T value) throws InterruptedException;

  /**
   * Sends {@code value} only if that is possible without waiting: a receiver is waiting, or the
   * buffer has room. Go's {@code select} with a {@code default}.
   *
   * @param value the value, not {@code null}
   * @return whether it was sent
   * @throws ChannelClosedException if the channel is closed
   */
  boolean trySend(T value);

  /**
   * Sends {@code value}, waiting at most {@code timeout}.
   *
   * @param value the value, not {@code null}
   * @param timeout the longest wait; zero or negative means do not wait
   * @return whether it was sent; {@code false} means the timeout passed and it was not
   * @throws InterruptedException if the thread is interrupted before or while waiting, even with a
   *     zero timeout and room to send; the value is then not sent
   * @throws ChannelClosedException if the channel is closed
   */
  boolean trySend(T value, Duration timeout) throws InterruptedException;

  /**
   * A {@link Select} clause that sends {@code value} and then runs {@code onSent}. If the channel
   * is closed when the select would choose this clause, the select throws {@link
   * ChannelClosedException}, as Go panics.
   *
   * @param value the value to send, not {@code null}
   * @param onSent runs after the send, on the selecting thread; its result is the select's
   * @param <R> the select's result type
   * @return the clause
   */
  <R> Clause<R> onSend(T value, Supplier<? extends R> onSent);

  /**
   * Closes the channel: no more sends. Values already in the buffer are still received; after them
   * receivers see the end of the stream. Every waiting sender fails with {@link
   * ChannelClosedException}; every waiting receiver of an empty channel sees the end.
   *
   * <p>Unlike Go, where a second close panics, closing again is a no-op that returns {@code false},
   * so {@code finally { ch.close(); }} is always safe. The first close decides the error, if any.
   *
   * @return {@code true} if this call closed the channel, {@code false} if it was already closed
   */
  boolean close();

  /**
   * Closes the channel like {@link #close()}, recording why the producer stopped. Receivers see the
   * error in {@link Received.Closed#error()}, and as the cause of the {@link
   * ChannelClosedException} thrown by {@link ReceiveChannel#receive()} and by iteration once the
   * buffer is drained.
   *
   * @param error why the channel closed, not {@code null}
   * @return {@code true} if this call closed the channel, {@code false} if it was already closed
   *     (the error is then ignored)
   */
  boolean close(Throwable error);

  /**
   * Whether {@link #close()} has been called. Values may still be buffered.
   *
   * @return {@code true} once closed
   */
  boolean isClosed();

  /**
   * The number of values in the buffer: Go's {@code len(ch)}. A snapshot, stale at once under
   * concurrency.
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
