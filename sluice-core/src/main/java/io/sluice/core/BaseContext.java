package io.sluice.core;

import io.sluice.core.internal.Nanos;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/*
 * What every context shares: the derived-context factories, and the internal contract that blocking
 * operations use to be woken by cancellation without a thread per context.
 *
 * register(action) returns a Hook that runs action once when the context becomes done; it returns
 * null for a context that can never become done, and runs the action at once (returning a dead hook)
 * for one that already is. Actions run on the cancelling thread and must not block.
 */
abstract sealed class BaseContext implements Context
    permits NeverDoneContext, CancelContext, ValueContext {

  /** How many contexts nearest to it {@link #toString()} names; the rest it only counts. */
  static final int TO_STRING_LEVELS = 16;

  /** Registers a non-blocking action to run when this context is done; see the class comment. */
  abstract ContextHooks.Hook register(Runnable action);

  /** Removes a hook returned by {@link #register}; returns whether it was still pending. */
  abstract boolean unregister(ContextHooks.Hook hook);

  /** Whether this context can ever become done; lets hot paths skip registration. */
  abstract boolean cancellable();

  /** A fresh exception for a blocked caller, carrying the cause; call only when done. */
  final ContextCancelledException failure() {
    ContextCancelledException err = err().orElseThrow();
    Throwable cause = cause().orElse(err);
    return err.isDeadlineExceeded()
        ? new DeadlineExceededException(err.getMessage(), cause)
        : new ContextCancelledException(err.getMessage(), cause);
  }

  @Override
  public final CancelableContext withCancel() {
    return CancelContext.create(this, null, null);
  }

  @Override
  public final CancelableContext withTimeout(Duration timeout) {
    Objects.requireNonNull(timeout, "timeout");
    if (deadline().isPresent()) { // compare with the inherited deadline as instants
      Instant deadline;
      try {
        deadline = clock().now().plus(timeout);
      } catch (DateTimeException | ArithmeticException e) {
        deadline = timeout.isNegative() ? Instant.MIN : Instant.MAX;
      }
      return withDeadline(deadline, null);
    }
    return CancelContext.createTimeout(this, Nanos.of(timeout));
  }

  @Override
  public final CancelableContext withDeadline(Instant deadline) {
    return withDeadline(deadline, null);
  }

  @Override
  public final CancelableContext withDeadline(Instant deadline, Throwable cause) {
    Objects.requireNonNull(deadline, "deadline");
    Optional<Instant> inherited = deadline();
    if (inherited.isPresent() && !inherited.get().isAfter(deadline)) {
      return CancelContext.create(this, null, null); // the earlier deadline already governs
    }
    return CancelContext.create(this, deadline, cause);
  }

  @Override
  public final <V> Context withValue(Key<V> key, V value) {
    return new ValueContext(
        this, Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
  }

  @Override
  public final Context withoutCancel() {
    return new WithoutCancelContext(this);
  }

  @Override
  public final <R> Clause<R> onDone(Supplier<? extends R> handler) {
    return new SelectClause.Done<>(this, Objects.requireNonNull(handler, "handler"));
  }

  @Override
  public final void awaitDone() throws InterruptedException {
    if (!isDone()) {
      done().receiveOrClosed(); // the done channel carries no value: this returns at its close
    }
  }

  @Override
  public final void throwIfDone() {
    if (isDone()) {
      throw failure();
    }
  }

  @Override
  public final AfterFunc afterFunc(Runnable action) {
    var f = new ContextHooks.AfterFuncImpl(this, Objects.requireNonNull(action, "action"));
    f.register();
    return f;
  }

  /**
   * A loop up the parents, not a call per link, so a context derived any number of times finds its
   * values (Go's value() loops too).
   */
  @Override
  @SuppressWarnings("unchecked")
  public final <V> Optional<V> value(Key<V> key) {
    for (BaseContext c = this; c != null; c = c.parent()) {
      Object v = c.ownValue(key);
      if (v != null) {
        return Optional.of((V) v);
      }
    }
    return Optional.empty();
  }

  /**
   * The nearest own deadline up the parents, stopping at a context that cuts cancellation off; a
   * loop, as for values, so a long chain of contexts does not overflow the stack.
   */
  @Override
  public final Optional<Instant> deadline() {
    for (BaseContext c = this; ; c = c.parent()) {
      switch (c) {
        case CancelContext cc when cc.hasOwnDeadline() -> {
          return Optional.of(cc.ownDeadline());
        }
        case NeverDoneContext _ -> {
          return Optional.empty();
        }
        default -> {}
      }
    }
  }

  /** The root's clock, found by a loop up the parents. */
  @Override
  public final Clock clock() {
    BaseContext c = this;
    while (!(c instanceof BackgroundContext root)) {
      c = c.parent();
    }
    return root.clock;
  }

  /**
   * The chain from the root down to this context, Go's way ({@code
   * context.Background.WithCancel.WithValue(...)}), naming the root and the {@value
   * #TO_STRING_LEVELS} contexts nearest to this one and counting those between. A loop up the
   * parents, as for values: a call per link overflowed the stack a few thousand levels down, and a
   * chain that deep spelt out in full was too long to read or log.
   */
  @Override
  public final String toString() {
    ArrayDeque<BaseContext> nearest = new ArrayDeque<>();
    long between = 0;
    BaseContext c = this;
    for (; c.parent() != null; c = c.parent()) {
      if (nearest.size() < TO_STRING_LEVELS) {
        nearest.addFirst(c);
      } else {
        between++;
      }
    }
    StringBuilder b = new StringBuilder(c.label());
    if (between > 0) {
      b.append(".(... ").append(between).append(" more)");
    }
    for (BaseContext n : nearest) {
      b.append(n.label());
    }
    return b.toString();
  }

  /**
   * This context's own part of {@link #toString()}: a root's name, or what a derived context adds
   * to its parent's, starting with a dot.
   */
  abstract String label();

  /** The context this one was derived from; null for a root. */
  abstract BaseContext parent();

  /**
   * The value this context itself holds under {@code key}, or null; only a value context has one.
   */
  Object ownValue(Key<?> key) {
    return null;
  }
}
