package io.sluice.core;

/**
 * What a non-blocking or timed receive found: a {@link Received.Value value}, the {@link
 * Received.Closed end} of the stream, or {@link WouldBlock nothing yet}.
 *
 * <pre>{@code
 * switch (ch.tryReceive()) {
 *   case Received.Value<String>(var v) -> use(v);
 *   case Received.Closed<String> c -> finish(c.error());
 *   case TryReceived.WouldBlock<String> w -> doSomethingElse();
 * }
 * }</pre>
 *
 * @param <T> the channel's element type
 */
public sealed interface TryReceived<T> permits Received, TryReceived.WouldBlock {

  /**
   * Whether a value was received: Go's {@code ok} in {@code v, ok := <-ch}.
   *
   * @return {@code true} only for a {@link Received.Value}
   */
  boolean ok();

  /**
   * Nothing was available: the channel is open and was empty for the whole wait (none for {@code
   * tryReceive()}, the timeout for {@code tryReceive(Duration)}).
   *
   * @param <T> the channel's element type
   */
  record WouldBlock<T>() implements TryReceived<T> {
    private static final WouldBlock<?> INSTANCE = new WouldBlock<>();

    @SuppressWarnings("unchecked")
    static <T> WouldBlock<T> instance() {
      return (WouldBlock<T>) INSTANCE;
    }

    @Override
    public boolean ok() {
      return false;
    }
  }
}
