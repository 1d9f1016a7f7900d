package io.sluice.core;

import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The blocking forms of the send and receive families (the "blocks" and "times out" columns of the
 * tables in {@link SendChannel} and {@link ReceiveChannel}), so each behaviour is tested once per
 * form.
 */
final class ChannelOps {
  /** Long enough never to pass in a test: the timed forms then wait like the untimed ones. */
  static final Duration FOREVER = Duration.ofHours(1);

  private ChannelOps() {}

  enum Send {
    SEND(false) {
      @Override
      void send(Channel<String> ch, Context ctx, String value) throws InterruptedException {
        ch.send(value);
      }
    },
    SEND_WITH_CONTEXT(true) {
      @Override
      void send(Channel<String> ch, Context ctx, String value) throws InterruptedException {
        ch.send(ctx, value);
      }
    },
    TIMED_TRY_SEND(false) {
      @Override
      void send(Channel<String> ch, Context ctx, String value) throws InterruptedException {
        if (!ch.trySend(value, FOREVER)) {
          throw new AssertionError("a send with a one-hour timeout timed out");
        }
      }
    };

    final boolean takesContext;

    Send(boolean takesContext) {
      this.takesContext = takesContext;
    }

    abstract void send(Channel<String> ch, Context ctx, String value) throws InterruptedException;
  }

  enum Receive {
    RECEIVE(false) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) throws InterruptedException {
        return new Received.Value<>(ch.receive());
      }
    },
    RECEIVE_WITH_CONTEXT(true) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) throws InterruptedException {
        return new Received.Value<>(ch.receive(ctx));
      }
    },
    RECEIVE_OR_CLOSED(false) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) throws InterruptedException {
        return ch.receiveOrClosed();
      }
    },
    RECEIVE_OR_CLOSED_WITH_CONTEXT(true) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) throws InterruptedException {
        return ch.receiveOrClosed(ctx);
      }
    },
    TIMED_TRY_RECEIVE(false) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) throws InterruptedException {
        return switch (ch.tryReceive(FOREVER)) {
          case Received<String> r -> r;
          case TryReceived.WouldBlock<String> w ->
              throw new AssertionError("a receive with a one-hour timeout timed out");
        };
      }
    },
    ITERATOR(false) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) {
        Iterator<String> it = ch.iterator();
        return it.hasNext() ? new Received.Value<>(it.next()) : Received.Closed.of(null);
      }
    },
    RANGE_WITH_CONTEXT(true) {
      @Override
      Received<String> receive(Channel<String> ch, Context ctx) {
        Iterator<String> it = ch.range(ctx).iterator();
        return it.hasNext() ? new Received.Value<>(it.next()) : Received.Closed.of(null);
      }
    };

    final boolean takesContext;

    Receive(boolean takesContext) {
      this.takesContext = takesContext;
    }

    abstract Received<String> receive(Channel<String> ch, Context ctx) throws InterruptedException;

    /** Whether this form is an iterator's hasNext and next. */
    boolean iterates() {
      return this == ITERATOR || this == RANGE_WITH_CONTEXT;
    }

    /** Whether this form reports the end of the stream by ChannelClosedException. */
    boolean endsByException(boolean closedWithError) {
      return this == RECEIVE || this == RECEIVE_WITH_CONTEXT || (iterates() && closedWithError);
    }

    /** Iterator.hasNext cannot throw InterruptedException; it throws the unchecked wrapper. */
    Class<? extends Exception> interruptedException() {
      return iterates() ? UncheckedInterruptedException.class : InterruptedException.class;
    }

    /**
     * Whether the thread is still interrupted after this form threw for an interrupt: the unchecked
     * wrapper sets the status again, so code further up still sees it.
     */
    boolean keepsInterruptStatus() {
      return iterates();
    }
  }

  // ------------------------------------------------------------------ sources

  static Stream<Arguments> allCasesAndSends() {
    return cross(ChannelCase.all(), Send.values());
  }

  static Stream<Arguments> boundedCasesAndSends() {
    return cross(ChannelCase.bounded(), Send.values());
  }

  static Stream<Arguments> allCasesAndReceives() {
    return cross(ChannelCase.all(), Receive.values());
  }

  static Stream<Arguments> allCasesAndContextReceives() {
    return cross(
        ChannelCase.all(),
        Arrays.stream(Receive.values()).filter(r -> r.takesContext).toArray(Receive[]::new));
  }

  private static Stream<Arguments> cross(Stream<ChannelCase> cases, Object[] ops) {
    return cases.flatMap(c -> Arrays.stream(ops).map(op -> Arguments.of(c, op)));
  }
}
