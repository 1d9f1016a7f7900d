package io.sluice.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Carries cancellation, a deadline and request-scoped values across API boundaries and threads:
 * Go's {@code context.Context}.
 *
 * <pre>{@code
 * try (CancelableContext ctx = Context.background().withTimeout(Duration.ofSeconds(5))) {
 *   String v = ch.receive(ctx);        // ends with DeadlineExceededException after 5 s
 * }                                    // close() cancels: Go's defer cancel()
 * }</pre>
 *
 * <p>Contexts form a tree. Cancelling one cancels all its descendants before {@code cancel} returns
 * — not its parent. A context costs no thread: waiting threads and children register callbacks that
 * the cancelling thread runs; a deadline is one entry in the shared timer engine of the context's
 * {@link #clock()}.
 *
 * <p>A context is done when it was cancelled, its deadline passed, or its parent is done. Then
 * {@link #err()} says why (Go's {@code ctx.Err()}: {@link ContextCancelledException} or {@link
 * DeadlineExceededException}) and {@link #cause()} gives the cause passed to {@link
 * CancelableContext#cancel(Throwable)}, or the err if none was (Go's {@code context.Cause}).
 *
 * <p>Every blocking Sluice call that takes a context ends with {@link ContextCancelledException}
 * when the context is done; {@link #onDone} makes a {@link Select} case of it.
 *
 * <p>Memory consistency effects: actions before cancelling a context happen-before any thread
 * observes it done ({@link #isDone()}, {@link #err()}, {@link #done()}, hooks and waiters).
 */
public sealed interface Context permits BaseContext, CancelableContext {

  /**
   * The root context: never done, no deadline, no values, the {@linkplain Clock#system() system
   * clock}. Go's {@code context.Background()}.
   *
   * @return the shared background context
   */
  static Context background() {
    return BackgroundContext.SYSTEM;
  }

  /**
   * A root context whose deadlines are measured by {@code clock}; its descendants inherit the
   * clock. Tests pass a {@link ManualClock} to exercise timeouts without waiting.
   *
   * @param clock the time source for deadlines
   * @return a new root context
   */
  static Context background(Clock clock) {
    return new BackgroundContext(Objects.requireNonNull(clock, "clock"));
  }

  /**
   * A child that is done when cancelled or when this context is done. Go's {@code WithCancel}.
   *
   * @return the child; cancel or close it when its work is done, or it stays registered with this
   *     context until this one is done
   */
  CancelableContext withCancel();

  /**
   * A child that is also done {@code timeout} from now. Go's {@code WithTimeout}.
   *
   * @param timeout how long until the deadline
   * @return the child, with a deadline no later than this context's
   */
  CancelableContext withTimeout(Duration timeout);

  /**
   * A child that is also done at {@code deadline}. Go's {@code WithDeadline}. If this context's
   * deadline is earlier, the child keeps that one.
   *
   * @param deadline when the child becomes done with {@link DeadlineExceededException}
   * @return the child
   */
  CancelableContext withDeadline(Instant deadline);

  /**
   * Like {@link #withDeadline(Instant)}, with {@code cause} as the cause when the deadline passes.
   * Go's {@code WithDeadlineCause}. If this context's deadline is earlier, the child keeps that one
   * and {@code cause} is never used, as in Go.
   *
   * @param deadline when the child becomes done
   * @param cause reported by {@link #cause()} when the deadline ends the child
   * @return the child
   */
  CancelableContext withDeadline(Instant deadline, Throwable cause);

  /**
   * A child carrying {@code value} under {@code key}, sharing this context's cancellation. Go's
   * {@code WithValue}.
   *
   * @param key the key; compared by identity
   * @param value the value, not {@code null}
   * @param <V> the value type
   * @return the child
   */
  <V> Context withValue(Key<V> key, V value);

  /**
   * A child with this context's values and clock but none of its cancellation or deadline. Go's
   * {@code WithoutCancel}: for work that must finish even when the request that started it ends.
   *
   * @return the child, never done unless cancelled through its own descendants
   */
  Context withoutCancel();

  /**
   * The instant this context becomes done by itself, if it has one.
   *
   * @return the deadline
   */
  Optional<Instant> deadline();

  /**
   * Whether this context is done. Never blocks.
   *
   * @return {@code true} once cancelled or past its deadline
   */
  boolean isDone();

  /**
   * A channel that is closed when this context is done and never carries a value. Go's {@code
   * ctx.Done()}. Created on first call; prefer {@link #onDone} in a select, which needs no channel.
   *
   * @return the done channel
   */
  ReceiveChannel<Void> done();

  /**
   * Blocks until this context is done: Go's {@code <-ctx.Done()} as a statement. Returns at once if
   * it already is; a context that can never be done (background, {@link #withoutCancel()}) blocks
   * until the thread is interrupted. ({@code done().receive()} would instead throw {@link
   * ChannelClosedException}, since the done channel only ever closes.)
   *
   * @throws InterruptedException if the thread is interrupted before the context is done; the
   *     interrupt status is cleared (a context done already returns at once, leaving it set)
   */
  void awaitDone() throws InterruptedException;

  /**
   * A {@link Select} case that fires when this context is done, as {@code case <-ctx.Done():}.
   *
   * @param handler gives the select's result
   * @param <R> the result type
   * @return the clause
   */
  <R> Clause<R> onDone(Supplier<? extends R> handler);

  /**
   * Why this context is done. Go's {@code ctx.Err()}.
   *
   * @return empty while not done; then a {@link ContextCancelledException} or {@link
   *     DeadlineExceededException}
   */
  Optional<ContextCancelledException> err();

  /**
   * The cause this context was cancelled with. Go's {@code context.Cause(ctx)}.
   *
   * @return empty while not done; the cause given to cancel, else {@link #err()}'s exception
   */
  Optional<Throwable> cause();

  /**
   * Throws if this context is done; for loops that check for cancellation between steps.
   *
   * @throws ContextCancelledException if done, with the cause as its cause
   */
  void throwIfDone();

  /**
   * The value stored under {@code key} by this context or the nearest ancestor that has one.
   *
   * @param key the key
   * @param <V> the value type
   * @return the value, or empty
   */
  <V> Optional<V> value(Key<V> key);

  /**
   * Arranges for {@code action} to run on a new virtual thread once this context is done (at once
   * if it already is). Go's {@code context.AfterFunc}.
   *
   * @param action what to run
   * @return a handle whose {@link AfterFunc#stop()} cancels the arrangement
   */
  AfterFunc afterFunc(Runnable action);

  /**
   * The clock this context measures deadlines with.
   *
   * @return the clock, inherited from the root
   */
  Clock clock();

  /**
   * A typed key for {@link #withValue}. Keys compare by identity, so two keys with the same name do
   * not clash: keep a key in a {@code static final} field.
   *
   * @param <V> the type of value stored under it
   */
  final class Key<V> {
    private final String name;

    private Key(String name) {
      this.name = Objects.requireNonNull(name, "name");
    }

    /**
     * Creates a key.
     *
     * @param name shown by {@link #toString()}; not used for lookups
     * @param <V> the value type
     * @return a new key, distinct from every other
     */
    public static <V> Key<V> named(String name) {
      return new Key<>(name);
    }

    @Override
    public String toString() {
      return "Key[" + name + "]";
    }
  }

  /** The registration made by {@link #afterFunc(Runnable)}. */
  sealed interface AfterFunc permits ContextHooks.AfterFuncImpl {
    /**
     * Stops the action from being started. Go's {@code stop()}.
     *
     * @return {@code true} if this call stopped it; {@code false} if it had already been started or
     *     stopped
     */
    boolean stop();
  }
}
