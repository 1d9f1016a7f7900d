package io.sluice.core;

import io.sluice.core.internal.Nanos;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/*
 * Go's x/sync/semaphore.Weighted: a count of held weight and a FIFO list of waiters, both guarded by
 * one lock.
 *
 * Acquire takes the fast path only when the weight fits and the list is empty; otherwise it appends
 * a Waiter and parks. Whoever frees weight (release, or a waiter leaving) runs notifyWaiters(),
 * which grants waiters from the head while the head fits and stops at the first that does not: a
 * large request at the head holds back the small ones behind it, so it cannot be starved (Go's
 * notifyWaiters, with the same reasoning). A grant happens under the lock: the granter adds the
 * weight to cur, unlinks the waiter, sets its volatile `granted` and unparks it, so the woken thread
 * needs no lock to learn it succeeded.
 *
 * A waiter that gives up (interrupt, context, timeout) takes the lock and looks at `granted`:
 *  - not granted: it unlinks itself; if it was the head, the new head may now fit, so it runs
 *    notifyWaiters (Go: "If we're at the front and there're extra tokens left, notify other
 *    waiters"). Unlike Go, it does so even with no weight free: a waiter for weight 0 fits then,
 *    and Go's "size > cur" test would leave it parked behind nobody until the next release.
 *  - granted in the same instant: for a timeout the call simply succeeds; for interruption or
 *    cancellation it hands the weight back and notifies, so that a call that throws holds nothing
 *    (Go: "Acquired the semaphore after we were canceled. Pretend we didn't").
 * A context wakes its waiters with a hook that only unparks; the waiter does the rest itself.
 *
 * Invariants (checkInvariants), true whenever the lock is free:
 *  - 0 <= cur <= size;
 *  - the list is well linked, its length is `waiters`, and no listed waiter is granted;
 *  - the head, if any, does not fit (size - cur < head.n): every path that frees weight or changes
 *    the head runs notifyWaiters, and acquire queues only behind a head or when it does not fit;
 *  - tickets increase from head to tail (arrival order), so grants go out in arrival order.
 */
final class WeightedSemaphore implements Semaphore {

  /** Test hook, called under the lock, so its calls are in the order the semaphore decided. */
  interface Probe {
    void enqueued(long ticket, long n);

    void granted(long ticket, long n);

    void abandoned(long ticket);
  }

  private static final class Waiter {
    final long n;
    final Thread thread;
    final long ticket;
    Waiter prev; // guarded by lock
    Waiter next; // guarded by lock
    volatile boolean granted;

    Waiter(long n, Thread thread, long ticket) {
      this.n = n;
      this.thread = thread;
      this.ticket = ticket;
    }

    void wake() {
      LockSupport.unpark(thread);
    }
  }

  private final long size;
  private final Probe probe;
  private final ReentrantLock lock = new ReentrantLock();
  private long cur; // guarded by lock
  private Waiter head; // guarded by lock
  private Waiter tail; // guarded by lock
  private int waiters; // guarded by lock
  private long nextTicket; // guarded by lock

  WeightedSemaphore(long size) {
    this(size, null);
  }

  WeightedSemaphore(long size, Probe probe) {
    this.size = size;
    this.probe = probe;
  }

  @Override
  public void acquire(long n) throws InterruptedException {
    doAcquire(null, n, false, 0);
  }

  @Override
  public void acquire(Context ctx, long n) throws InterruptedException {
    doAcquire((BaseContext) Objects.requireNonNull(ctx, "ctx"), n, false, 0);
  }

  @Override
  public boolean tryAcquire(long n) {
    checkWeight(n);
    lock.lock();
    try {
      return acquireNowLocked(n);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean tryAcquire(long n, Duration timeout) throws InterruptedException {
    long nanos = Nanos.of(Objects.requireNonNull(timeout, "timeout"));
    return doAcquire(null, n, true, nanos);
  }

  /** The one acquire path; {@code ctx} may be null, {@code nanos} counts only when timed. */
  private boolean doAcquire(BaseContext ctx, long n, boolean timed, long nanos)
      throws InterruptedException {
    checkWeight(n);
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (ctx != null && ctx.isDone()) {
      throw ctx.failure();
    }
    Waiter w;
    lock.lock();
    try {
      if (acquireNowLocked(n)) {
        return true;
      }
      if (timed && nanos <= 0) {
        return false;
      }
      w = enqueueLocked(n);
    } finally {
      lock.unlock();
    }
    return awaitGrant(w, ctx, timed, nanos);
  }

  private boolean awaitGrant(Waiter w, BaseContext ctx, boolean timed, long nanos)
      throws InterruptedException {
    ContextHooks.Hook hook = ctx != null && ctx.cancellable() ? ctx.register(w::wake) : null;
    try {
      long deadline = timed ? System.nanoTime() + nanos : 0;
      while (!w.granted) {
        if (timed) {
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0) {
            return leave(w, false);
          }
          LockSupport.parkNanos(this, remaining);
        } else {
          LockSupport.park(this);
        }
        if (w.granted) {
          break;
        }
        if (Thread.interrupted()) {
          leave(w, true);
          throw new InterruptedException();
        }
        if (ctx != null && ctx.isDone()) {
          leave(w, true);
          throw ctx.failure();
        }
      }
      return true;
    } finally {
      if (hook != null) {
        ctx.unregister(hook);
      }
    }
  }

  /**
   * Takes {@code w} out of line after it gave up; returns whether it holds the weight afterwards.
   * If it was granted meanwhile it keeps the weight, unless {@code giveBack}.
   */
  private boolean leave(Waiter w, boolean giveBack) {
    lock.lock();
    try {
      if (w.granted) {
        if (!giveBack) {
          return true;
        }
        cur -= w.n;
        notifyWaitersLocked();
        return false;
      }
      boolean wasHead = head == w;
      unlinkLocked(w);
      if (probe != null) {
        probe.abandoned(w.ticket);
      }
      if (wasHead) {
        notifyWaitersLocked(); // the new head may fit, even with nothing free if it asks for 0
      }
      return false;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void release(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("weight must be >= 0, was " + n);
    }
    lock.lock();
    try {
      if (n > cur) {
        throw new IllegalStateException(
            "semaphore: released more than held (releasing " + n + ", holding " + cur + ")");
      }
      cur -= n;
      notifyWaitersLocked();
    } finally {
      lock.unlock();
    }
  }

  private boolean acquireNowLocked(long n) {
    if (head == null && size - cur >= n) {
      cur += n;
      return true;
    }
    return false;
  }

  private Waiter enqueueLocked(long n) {
    Waiter w = new Waiter(n, Thread.currentThread(), nextTicket++);
    w.prev = tail;
    if (tail == null) {
      head = w;
    } else {
      tail.next = w;
    }
    tail = w;
    waiters++;
    if (probe != null) {
      probe.enqueued(w.ticket, n);
    }
    return w;
  }

  private void unlinkLocked(Waiter w) {
    if (w.prev == null) {
      head = w.next;
    } else {
      w.prev.next = w.next;
    }
    if (w.next == null) {
      tail = w.prev;
    } else {
      w.next.prev = w.prev;
    }
    w.prev = w.next = null;
    waiters--;
  }

  /** Grants from the head while the head fits; stops at the first that does not. */
  private void notifyWaitersLocked() {
    for (Waiter w = head; w != null && size - cur >= w.n; w = head) {
      cur += w.n;
      unlinkLocked(w);
      if (probe != null) {
        probe.granted(w.ticket, w.n);
      }
      w.granted = true;
      w.wake();
    }
  }

  private void checkWeight(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("weight must be >= 0, was " + n);
    }
    if (n > size) {
      throw new IllegalArgumentException(
          "weight " + n + " exceeds the semaphore's size " + size + " and could never be acquired");
    }
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public long available() {
    lock.lock();
    try {
      return size - cur;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int queueLength() {
    lock.lock();
    try {
      return waiters;
    } finally {
      lock.unlock();
    }
  }

  void checkInvariants() {
    lock.lock();
    try {
      if (cur < 0 || cur > size) {
        throw new AssertionError("held weight " + cur + " outside [0, " + size + "]");
      }
      int count = 0;
      Waiter prev = null;
      for (Waiter w = head; w != null; prev = w, w = w.next) {
        if (w.prev != prev) {
          throw new AssertionError("broken waiter list at position " + count);
        }
        if (w.granted) {
          throw new AssertionError("granted waiter " + w.ticket + " still queued");
        }
        if (prev != null && prev.ticket >= w.ticket) {
          throw new AssertionError("waiters out of arrival order at position " + count);
        }
        count++;
      }
      if (prev != tail || count != waiters) {
        throw new AssertionError("waiter count " + waiters + " but walked " + count);
      }
      if (head != null && size - cur >= head.n) {
        throw new AssertionError(
            "head waiter wants " + head.n + " and " + (size - cur) + " is free, yet it waits");
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public String toString() {
    lock.lock();
    try {
      return "Semaphore[size=" + size + ", held=" + cur + ", waiters=" + waiters + "]";
    } finally {
      lock.unlock();
    }
  }
}
