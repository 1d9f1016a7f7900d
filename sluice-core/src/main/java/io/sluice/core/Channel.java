package io.sluice.core;

/**
 * A typed conduit between virtual threads, with Go's semantics: Go's {@code chan T}.
 *
 * <pre>{@code
 * Channel<String> ch = Channel.buffered(16);
 * Thread.startVirtualThread(() -> {
 *   try {
 *     for (String s : List.of("foo", "bar")) ch.send(s);
 *   } catch (InterruptedException e) {
 *     Thread.currentThread().interrupt();
 *   } finally {
 *     ch.close();            // whoever creates and feeds the channel closes it
 *   }
 * });
 * for (String s : ch) System.out.println(s);   // ends at close
 * }</pre>
 *
 * <p>A channel is both a {@link SendChannel} and a {@link ReceiveChannel}; pass the narrower type
 * to code that should only do one. See those interfaces for the operation tables, and {@link
 * Select} for waiting on several channels at once.
 *
 * <p>Fairness: waiting senders and receivers are served first come, first served.
 *
 * <p>Memory consistency effects: actions in a thread before a send happen-before the receive of
 * that value completes in another thread; for an unbuffered channel, the receive also
 * happens-before the send completes; closing happens-before a receive that sees the end of the
 * stream.
 *
 * @param <T> the element type; {@code null} is never a value
 */
public sealed interface Channel<T> extends SendChannel<T>, ReceiveChannel<T> permits ChannelImpl {

  /** The {@link #cap()} of an {@link #unlimited()} channel. */
  int UNLIMITED = Integer.MAX_VALUE;

  /**
   * A rendezvous channel: each send waits for a receiver to take the value. Go's {@code make(chan
   * T)}.
   *
   * @param <T> the element type
   * @return a new open channel
   */
  static <T> Channel<T> unbuffered() {
    return new ChannelImpl<>(0);
  }

  /**
   * A channel whose sends complete without a receiver while fewer than {@code capacity} values are
   * buffered. Go's {@code make(chan T, capacity)}. The buffer grows to {@code capacity} as needed.
   *
   * @param capacity the buffer size; 0 gives an unbuffered channel
   * @param <T> the element type
   * @return a new open channel
   * @throws IllegalArgumentException if {@code capacity} is negative
   */
  static <T> Channel<T> buffered(int capacity) {
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must be >= 0, was " + capacity);
    }
    return new ChannelImpl<>(capacity);
  }

  /**
   * A channel whose sends never wait: the buffer grows without bound. Use it only where the
   * producer is bounded by other means; otherwise a slow consumer costs unbounded memory.
   *
   * @param <T> the element type
   * @return a new open channel
   */
  static <T> Channel<T> unlimited() {
    return new ChannelImpl<>(UNLIMITED);
  }
}
