package io.sluice.core;

import java.util.concurrent.Callable;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/*
 * The state machine behind Once and OnceValue: Go's sync.Once, double-checked, plus the waiting
 * rules Java needs (interruption, contexts, re-entry) and an optional retry policy.
 *
 * Fast path: one volatile read of `outcome`. It is null until the action has ended for good, then
 * holds the value (NULL for null) or a Failure. That read is all a caller pays once done, which is
 * why Go's Once keeps Do small enough to inline and moves the rest to doSlow.
 *
 * Slow path, under `lock`: read `outcome` again (the double check: another thread may have
 * finished between the first read and taking the lock), then either start an Attempt or wait for
 * the running one. The action runs outside the lock, so waiters can give up, and a re-entrant call
 * is recognised by the attempt's runner being the calling thread (Go deadlocks on its mutex here).
 *
 * Store after the action. `outcome` is written only after the action has returned or thrown, and
 * the write is volatile. The seed's notes on Go's Once explain both halves:
 *  - Setting the flag first (a CAS from "not done" to "done" before calling f, the tempting
 *    lock-free Once) lets a second caller see "done" and return while f is still running, using
 *    what f has not finished initialising. Go's comment on Do says exactly this; so the flag is
 *    stored only when the action is over, and concurrent callers wait on the lock meanwhile.
 *  - The store must be a release (Go's atomic.StoreUint32, here a volatile write) and the fast-path
 *    read an acquire (atomic.LoadUint32, here a volatile read): with plain fields the writes the
 *    action made could become visible after the flag, and a fast-path reader would see "done" and
 *    stale data (the seed's setup()/done example). Go's `defer` around the store makes a panicking
 *    f count as done; here the store follows a catch of Throwable.
 *
 * Waiting: on a Condition of the lock. A context wakes its waiters through a hook that takes the
 * lock only to signal (never held during the action), so the cancelling thread does not wait long.
 *
 * Retry policy: a failed attempt is reported to its runner and to the callers that waited for it,
 * but `outcome` stays null, so the next call starts a new attempt. Waiters of the failed attempt do
 * not each retry in turn: one failure is one answer for everyone who asked at that time.
 *
 * Invariants (checkInvariants): once `outcome` is set it never changes and no attempt runs; a
 * running attempt has not ended; with the retry policy `outcome` is never a Failure.
 */
final class OnceCell {
  private static final Object NULL = new Object();

  private record Failure(Throwable error) {}

  private static final class Attempt {
    final Thread runner;
    boolean ended; // guarded by lock
    Throwable failure; // guarded by lock

    Attempt(Thread runner) {
      this.runner = runner;
    }
  }

  private final boolean retrying;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition ended = lock.newCondition();
  private volatile Object outcome;
  private Attempt running; // guarded by lock

  OnceCell(boolean retrying) {
    this.retrying = retrying;
  }

  boolean isDone() {
    return outcome != null;
  }

  /**
   * The fast path alone, for callers that want no value: whether the outcome is settled, throwing
   * {@link OnceFailedException} if it is a failure. One volatile read; allocates nothing.
   */
  boolean settled() {
    Object o = outcome;
    if (o instanceof Failure f) {
      throw new OnceFailedException(f.error());
    }
    return o != null;
  }

  /** Returns the outcome, running {@code action} or waiting for it as needed; ctx may be null. */
  Object get(BaseContext ctx, Callable<?> action) throws InterruptedException {
    Object o = outcome;
    if (o != null) {
      return unwrap(o);
    }
    return getSlow(ctx, action);
  }

  private Object getSlow(BaseContext ctx, Callable<?> action) throws InterruptedException {
    Attempt mine;
    lock.lock();
    try {
      Object o = outcome;
      if (o != null) {
        return unwrap(o);
      }
      Attempt other = running;
      if (other != null) {
        if (other.runner == Thread.currentThread()) {
          throw new IllegalStateException(
              "once called again from inside its own action; in Go this would deadlock");
        }
        return awaitLocked(other, ctx);
      }
      if (ctx != null && ctx.isDone()) {
        throw ctx.failure();
      }
      mine = new Attempt(Thread.currentThread());
      running = mine;
    } finally {
      lock.unlock();
    }
    return runAttempt(mine, action);
  }

  private Object runAttempt(Attempt mine, Callable<?> action) {
    Object value = null;
    Throwable failure = null;
    try {
      value = action.call();
    } catch (Throwable t) {
      failure = t;
    }
    lock.lock();
    try {
      mine.ended = true;
      mine.failure = failure;
      running = null;
      if (failure == null) {
        outcome = value == null ? NULL : value; // the store after the action: see the design
      } else if (!retrying) {
        outcome = new Failure(failure);
      }
      ended.signalAll();
    } finally {
      lock.unlock();
    }
    if (failure != null) {
      throw new OnceFailedException(failure);
    }
    return value;
  }

  /** Waits, holding the lock between waits, for {@code attempt} to end. */
  private Object awaitLocked(Attempt attempt, BaseContext ctx) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    ContextHooks.Hook hook = ctx != null && ctx.cancellable() ? ctx.register(this::wakeAll) : null;
    try {
      while (!attempt.ended) {
        // Checked under the lock before each wait: a cancellation after this check runs wakeAll,
        // which needs the lock, so its signal cannot fall between the check and the wait.
        if (ctx != null && ctx.isDone()) {
          throw ctx.failure();
        }
        ended.await();
      }
    } finally {
      if (hook != null) {
        ctx.unregister(hook);
      }
    }
    Object o = outcome;
    if (o != null) {
      return unwrap(o);
    }
    throw new OnceFailedException(attempt.failure); // retrying: this attempt failed
  }

  /** A context hook: wakes the waiters so those whose context is done can leave. */
  private void wakeAll() {
    lock.lock();
    try {
      ended.signalAll();
    } finally {
      lock.unlock();
    }
  }

  private static Object unwrap(Object o) {
    if (o == NULL) {
      return null;
    }
    if (o instanceof Failure f) {
      throw new OnceFailedException(f.error());
    }
    return o;
  }

  void checkInvariants() {
    lock.lock();
    try {
      Object o = outcome;
      if (o != null && running != null) {
        throw new AssertionError("an attempt runs although the once is done");
      }
      if (running != null && running.ended) {
        throw new AssertionError("an ended attempt is still marked running");
      }
      if (retrying && o instanceof Failure) {
        throw new AssertionError("a retrying once remembered a failure");
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    Object o = outcome;
    if (o instanceof Failure f) {
      return "failed: " + f.error();
    }
    return o != null ? "done" : retrying ? "not done, retrying" : "not done";
  }
}
