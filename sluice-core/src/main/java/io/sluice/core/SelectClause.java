package io.sluice.core;

import java.time.Duration;
import java.util.function.Function;
import java.util.function.Supplier;

/** The clause kinds a {@link Select} understands. */
abstract sealed class SelectClause<R> implements Clause<R> {

  /** {@link ReceiveChannel#onReceive} (onValue set) or {@link ReceiveChannel#onReceiveOrClosed}. */
  static final class Receive<T, R> extends SelectClause<R> {
    final ChannelImpl<T> channel;
    final Function<? super T, ? extends R> onValue;
    final Function<? super Received<T>, ? extends R> onResult;

    Receive(
        ChannelImpl<T> channel,
        Function<? super T, ? extends R> onValue,
        Function<? super Received<T>, ? extends R> onResult) {
      this.channel = channel;
      this.onValue = onValue;
      this.onResult = onResult;
    }

    @Override
    public String toString() {
      return "receive from " + channel;
    }

    /** Runs the handler for a receive result: a value or ChannelImpl's CLOSED. */
    @SuppressWarnings("unchecked")
    R complete(Object result) {
      if (onResult != null) {
        return onResult.apply(channel.toReceived(result));
      }
      if (ChannelImpl.isClosedResult(result)) {
        throw channel.closedForReceive();
      }
      return onValue.apply((T) result);
    }
  }

  /** {@link SendChannel#onSend}. */
  static final class Send<T, R> extends SelectClause<R> {
    final ChannelImpl<T> channel;
    final T value;
    final Supplier<? extends R> onSent;

    Send(ChannelImpl<T> channel, T value, Supplier<? extends R> onSent) {
      this.channel = channel;
      this.value = value;
      this.onSent = onSent;
    }

    @Override
    public String toString() {
      return "send on " + channel;
    }
  }

  /** {@link Select#onDefault}. */
  static final class Default<R> extends SelectClause<R> {
    final Supplier<? extends R> handler;

    Default(Supplier<? extends R> handler) {
      this.handler = handler;
    }
  }

  /** {@link Select#onTimeout}. */
  static final class Timeout<R> extends SelectClause<R> {
    final Duration timeout;
    final Supplier<? extends R> handler;

    Timeout(Duration timeout, Supplier<? extends R> handler) {
      this.timeout = timeout;
      this.handler = handler;
    }

    @Override
    public String toString() {
      return "timeout " + timeout;
    }
  }

  /** {@link Context#onDone}. */
  static final class Done<R> extends SelectClause<R> {
    final BaseContext context;
    final Supplier<? extends R> handler;

    Done(BaseContext context, Supplier<? extends R> handler) {
      this.context = context;
      this.handler = handler;
    }

    @Override
    public String toString() {
      return "done of " + context;
    }
  }

  /** {@link Select#never()}. */
  static final class Never<R> extends SelectClause<R> {
    private static final Never<?> INSTANCE = new Never<>();

    @Override
    public String toString() {
      return "never";
    }

    @SuppressWarnings("unchecked")
    static <R> Never<R> instance() {
      return (Never<R>) INSTANCE;
    }
  }
}
