package io.sluice.core;

import java.time.Duration;

/**
 * A counting semaphore whose acquisitions have weights, served strictly first come, first served:
 * Go's {@code golang.org/x/sync/semaphore.Weighted}.
 *
 * <pre>{@code
 * Semaphore memory = Semaphore.weighted(64 << 20);   // 64 MiB of buffers in flight
 * memory.acquire(ctx, size);                         // waits until size bytes are free
 * try {
 *   process(size);
 * } finally {
 *   memory.release(size);
 * }
 * }</pre>
 *
 * <table class="striped">
 *   <caption>Acquiring</caption>
 *   <thead><tr><th>blocks</th><th>never blocks</th><th>times out</th></tr></thead>
 *   <tbody><tr>
 *     <td>{@link #acquire(long)}, {@link #acquire(Context, long)}</td>
 *     <td>{@link #tryAcquire(long)}</td>
 *     <td>{@link #tryAcquire(long, Duration)}</td>
 *   </tr></tbody>
 * </table>
 *
 * <p>Fairness: waiters are granted in arrival order. When the first waiter asks for more than is
 * free, the waiters behind it wait too, even those that would fit: otherwise a stream of small
 * requests could starve a large one. {@link #tryAcquire(long)} does not jump the queue either: it
 * fails while anyone waits.
 *
 * <p>Every blocking form ends early with {@link InterruptedException} when the thread is
 * interrupted (before or while waiting), and the context form with {@link
 * ContextCancelledException} when the context is done. A call that throws holds nothing: if the
 * permits were granted in the same instant as the interruption or cancellation, they are handed
 * back to the next waiters, as Go does.
 *
 * <p>Asking for more than {@link #size()} at once can never succeed; where Go would block until the
 * context ends, every acquiring method throws {@link IllegalArgumentException} instead. A weight of
 * zero is allowed and, as in Go, waits behind anyone already waiting.
 *
 * <p>Permits are not owned by threads: any thread may release what another acquired. Releasing more
 * than is held is a bug and throws {@link IllegalStateException} (Go panics).
 *
 * <p>Memory consistency effects: actions in a thread before a {@link #release(long)} happen-before
 * actions after an acquire in another thread that obtains any of the released permits.
 */
public sealed interface Semaphore permits WeightedSemaphore {

  /**
   * A semaphore with {@code size} permits, all free. Go's {@code semaphore.NewWeighted(size)}.
   *
   * @param size the maximum combined weight held at once
   * @return a new semaphore
   * @throws IllegalArgumentException if {@code size} is negative
   */
  static Semaphore weighted(long size) {
    if (size < 0) {
      throw new IllegalArgumentException("size must be >= 0, was " + size);
    }
    return new WeightedSemaphore(size);
  }

  /**
   * Acquires {@code n} permits, waiting until they are free and every earlier waiter is served.
   *
   * @param n the weight, from 0 to {@link #size()}
   * @throws InterruptedException if the thread is interrupted before or while waiting; nothing is
   *     then held
   * @throws IllegalArgumentException if {@code n} is negative or larger than {@link #size()}
   */
  void acquire(long n) throws InterruptedException;

  /**
   * Acquires {@code n} permits like {@link #acquire(long)}, giving up when {@code ctx} is done.
   * Go's {@code Acquire(ctx, n)}. A context that is already done fails the call even if the permits
   * are free.
   *
   * @param ctx ends the wait when it is done
   * @param n the weight, from 0 to {@link #size()}
   * @throws InterruptedException if the thread is interrupted before or while waiting
   * @throws ContextCancelledException if {@code ctx} is done before the permits are granted, with
   *     the context's cause; nothing is then held
   * @throws IllegalArgumentException if {@code n} is negative or larger than {@link #size()}
   */
  void acquire(Context ctx, long n) throws InterruptedException;

  /**
   * Acquires {@code n} permits only if they are free and nobody is waiting. Go's {@code
   * TryAcquire}. Ignores the interrupt status.
   *
   * @param n the weight, from 0 to {@link #size()}
   * @return whether the permits were acquired; {@code false} leaves the semaphore unchanged
   * @throws IllegalArgumentException if {@code n} is negative or larger than {@link #size()}
   */
  boolean tryAcquire(long n);

  /**
   * Acquires {@code n} permits, waiting in line at most {@code timeout}.
   *
   * @param n the weight, from 0 to {@link #size()}
   * @param timeout the longest wait; zero or negative means do not wait, like {@link
   *     #tryAcquire(long)}
   * @return whether the permits were acquired; {@code false} means the timeout passed and nothing
   *     is held
   * @throws InterruptedException if the thread is interrupted before or while waiting
   * @throws IllegalArgumentException if {@code n} is negative or larger than {@link #size()}
   */
  boolean tryAcquire(long n, Duration timeout) throws InterruptedException;

  /**
   * Returns {@code n} permits and grants waiters, in order, as far as the free permits reach. Go's
   * {@code Release(n)}. Never blocks.
   *
   * @param n the weight to give back
   * @throws IllegalStateException if more than the currently held weight is released (Go panics);
   *     the semaphore is then unchanged
   * @throws IllegalArgumentException if {@code n} is negative
   */
  void release(long n);

  /**
   * The maximum combined weight, as given to {@link #weighted(long)}.
   *
   * @return the size
   */
  long size();

  /**
   * The weight currently free. A snapshot for monitoring: it may change before the caller acts.
   *
   * @return {@link #size()} minus the weight held
   */
  long available();

  /**
   * The number of threads waiting in line. A snapshot for monitoring and tests.
   *
   * @return the number of waiters
   */
  int queueLength();
}
