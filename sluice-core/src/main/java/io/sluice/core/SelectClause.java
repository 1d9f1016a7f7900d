package io.sluice.core;

import java.time.Duration;
import java.util.function.Supplier;

/** The clause kinds a {@link Select} understands. */
abstract sealed class SelectClause<R> implements Clause<R> {

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
  }

  /** {@link Context#onDone}. */
  static final class Done<R> extends SelectClause<R> {
    final BaseContext context;
    final Supplier<? extends R> handler;

    Done(BaseContext context, Supplier<? extends R> handler) {
      this.context = context;
      this.handler = handler;
    }
  }

  /** {@link Select#never()}. */
  static final class Never<R> extends SelectClause<R> {
    private static final Never<?> INSTANCE = new Never<>();

    @SuppressWarnings("unchecked")
    static <R> Never<R> instance() {
      return (Never<R>) INSTANCE;
    }
  }
}
