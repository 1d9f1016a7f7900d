package io.sluice.core;

import java.util.Objects;
import java.util.Optional;

/**
 * What a blocking receive got: a {@link Value} or the {@link Closed} end of the stream. Go's {@code
 * v, ok := <-ch}, typed.
 *
 * <pre>{@code
 * while (true) {
 *   switch (ch.receiveOrClosed()) {
 *     case Received.Value<String>(var v) -> log(v);
 *     case Received.Closed<String> c -> { return; }
 *   }
 * }
 * }</pre>
 *
 * @param <T> the channel's element type
 */
public sealed interface Received<T> extends TryReceived<T> permits Received.Value, Received.Closed {

  /**
   * A value sent on the channel.
   *
   * @param value the value, never {@code null}
   * @param <T> the channel's element type
   */
  record Value<T>(T value) implements Received<T> {
    /**
     * Creates a received value.
     *
     * @param value the value, never {@code null}
     */
    public Value {
      Objects.requireNonNull(value, "value");
    }

    @Override
    public boolean ok() {
      return true;
    }
  }

  /**
   * The channel is closed and every value sent before the close has been received.
   *
   * @param error the error the producer closed the channel with, or empty for a normal close
   * @param <T> the channel's element type
   */
  record Closed<T>(Optional<Throwable> error) implements Received<T> {
    private static final Closed<?> NORMALLY = new Closed<>(Optional.empty());

    /**
     * Creates the end-of-stream result.
     *
     * @param error the close error, or empty
     */
    public Closed {
      Objects.requireNonNull(error, "error");
    }

    @SuppressWarnings("unchecked")
    static <T> Closed<T> of(Throwable error) {
      return error == null ? (Closed<T>) NORMALLY : new Closed<>(Optional.of(error));
    }

    @Override
    public boolean ok() {
      return false;
    }
  }
}
