package io.sluice.core;

import java.util.concurrent.Callable;

/**
 * A value computed once, on first use, however many threads ask at the same time: Go's {@code
 * sync.OnceValue}.
 *
 * <pre>{@code
 * private final OnceValue<Index> index = OnceValue.of(() -> Index.build(files));
 *
 * Index index() throws InterruptedException {
 *   return index.get();   // the first caller builds it; the others wait; later calls read it
 * }
 * }</pre>
 *
 * <p>The semantics are those of {@link Once} with {@code get} in place of {@code run}: {@link
 * #of(Callable)} remembers a failure for good (Go: "If f panics, the returned function will panic
 * with the same value on every call"), {@link #retrying(Callable)} computes again after one;
 * waiting ends with {@link InterruptedException} or, given a context, {@link
 * ContextCancelledException}; a {@code get} from inside the computation throws {@link
 * IllegalStateException}. A computed {@code null} is a value like any other.
 *
 * <p>Memory consistency effects: the end of the computation happens-before every {@code get} that
 * returns its value or throws {@link OnceFailedException} on its account.
 *
 * @param <T> the value type
 */
public sealed interface OnceValue<T> permits OnceValueImpl {

  /**
   * A lazy value with Go's policy: a failed computation is remembered, and every {@link #get()}
   * throws {@link OnceFailedException}.
   *
   * @param compute computes the value on first use
   * @param <T> the value type
   * @return a new lazy value, not yet computed
   */
  static <T> OnceValue<T> of(Callable<? extends T> compute) {
    return new OnceValueImpl<>(new OnceCell(false), compute);
  }

  /**
   * A lazy value that is computed again after a failure, on the next call.
   *
   * @param compute computes the value on first use
   * @param <T> the value type
   * @return a new lazy value, not yet computed
   */
  static <T> OnceValue<T> retrying(Callable<? extends T> compute) {
    return new OnceValueImpl<>(new OnceCell(true), compute);
  }

  /**
   * The value: computed by this call if nobody has yet, else waited for, else read.
   *
   * @return the computed value
   * @throws InterruptedException if the thread is interrupted while waiting for another caller's
   *     computation; that computation goes on
   * @throws OnceFailedException if the computation failed
   * @throws IllegalStateException if called from inside the computation
   */
  T get() throws InterruptedException;

  /**
   * Like {@link #get()}, giving up the wait when {@code ctx} is done. A context that is done before
   * the computation started also keeps this call from starting it.
   *
   * @param ctx ends the wait when done
   * @return the computed value
   * @throws InterruptedException if the thread is interrupted while waiting
   * @throws ContextCancelledException if {@code ctx} is done before the computation ended
   * @throws OnceFailedException if the computation failed
   * @throws IllegalStateException if called from inside the computation
   */
  T get(Context ctx) throws InterruptedException;

  /**
   * Whether the value is settled: computed, or (Go's policy) failed for good. Never blocks.
   *
   * @return {@code true} once {@link #get()} no longer computes or waits
   */
  boolean isDone();
}
