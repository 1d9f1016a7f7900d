package io.sluice.core;

import io.sluice.core.internal.EndedThreads;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/*
 * Go's errgroup (a WaitGroup, a first-error slot, a cancel func and a token channel for SetLimit)
 * made structured: one lock guards the count of running tasks, the set of their threads, the
 * failures and the closed flag.
 *
 * Starting: the limit is a WeightedSemaphore of `limit` permits, acquired with the group's context
 * (so a blocked go() ends on interruption or cancellation, and waits in FIFO order) and released
 * when the task ends. The thread is made before taking the lock, then registered and started under
 * it: close() snapshots the set under the same lock, so it never sees a thread that is registered
 * but not yet started (interrupting or joining such a thread would be a no-op, and the thread
 * would then outlive the group).
 *
 * Ending: a task's thread catches every Throwable. The first failure is recorded and cancels the
 * context before the task counts as ended, so await() never returns before that cancellation (as in
 * Go, where the cancel runs before wg.Done()). Then, under the lock, the thread leaves the set,
 * decrements `running` and signals at zero.
 *
 * Ended threads: "ended" is not "terminated" — the thread still has to return and exit. So that
 * await() and close() return only when every task thread has terminated, each ending thread adds
 * itself to `ended` (core's EndedThreads, pruned of terminated threads as it goes), and await() and
 * close() join every thread in it once nothing runs. (It was a chain before, each ending thread
 * joining the one that ended before it: a park and an unpark per task whenever tasks end close
 * together, about 5% of a mapParallel stage's time.)
 *
 * Invariants (checkInvariants): running == live.size() >= 0; started >= running; no later failure
 * without a first; `ended` within its bound; a closed group with nothing running has no live
 * threads.
 */
final class TaskGroupImpl implements TaskGroup {
  private final CancelContext ctx;
  private final WeightedSemaphore slots; // null without a limit
  private final ThreadFactory factory;
  private final Options options;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private final Set<Thread> live = new HashSet<>(); // guarded by lock
  private int running; // guarded by lock
  private long started; // guarded by lock
  private Throwable firstFailure; // guarded by lock
  private final List<Throwable> laterFailures = new ArrayList<>(); // guarded by lock
  private boolean closed; // guarded by lock
  private final EndedThreads ended = new EndedThreads(); // guarded by lock

  TaskGroupImpl(BaseContext parent, Options options) {
    this.options = options;
    this.ctx = (CancelContext) parent.withCancel();
    this.slots = options.limit() == UNLIMITED ? null : new WeightedSemaphore(options.limit());
    this.factory =
        options.threadFactory() != null
            ? options.threadFactory()
            : Thread.ofVirtual().name(options.name() + "-", 0).factory();
  }

  @Override
  public Context context() {
    return ctx;
  }

  @Override
  public void go(Task task) throws InterruptedException {
    Objects.requireNonNull(task, "task");
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (slots != null) {
      checkCanStart(); // before waiting for a slot; start() checks again, under its lock
      slots.acquire(ctx, 1);
    }
    start(task);
  }

  @Override
  public boolean tryGo(Task task) {
    Objects.requireNonNull(task, "task");
    if (slots != null) {
      checkCanStart(); // a closed group throws even when no slot is free
      if (!slots.tryAcquire(1)) {
        return false;
      }
    }
    start(task);
    return true;
  }

  @Override
  public <T> Subtask<T> fork(ValueTask<T> task) throws InterruptedException {
    Objects.requireNonNull(task, "task");
    SubtaskImpl<T> subtask = new SubtaskImpl<>();
    go(
        c -> {
          try {
            subtask.succeeded(task.call(c));
          } catch (Throwable t) {
            subtask.failed(t);
            throw t;
          }
        });
    return subtask;
  }

  private void checkCanStart() {
    lock.lock();
    try {
      checkCanStartLocked();
    } finally {
      lock.unlock();
    }
  }

  private void checkCanStartLocked() {
    if (closed) {
      throw new IllegalStateException("task group " + options.name() + " is closed");
    }
    if (ctx.isDone()) {
      throw ctx.failure();
    }
  }

  /**
   * Starts {@code task} on a new thread; the caller holds a slot, which is given back on failure.
   */
  private void start(Task task) {
    boolean startedIt = false;
    try {
      Thread t = factory.newThread(() -> runTask(task));
      if (t == null) {
        throw new RejectedExecutionException("the thread factory made no thread");
      }
      lock.lock();
      try {
        checkCanStartLocked();
        t.start();
        live.add(t);
        running++;
        started++;
        startedIt = true;
      } finally {
        lock.unlock();
      }
    } finally {
      if (!startedIt && slots != null) {
        slots.release(1);
      }
    }
  }

  private void runTask(Task task) {
    Throwable failure = null;
    try {
      task.run(ctx);
    } catch (Throwable t) {
      failure = t;
    }
    if (failure != null) {
      recordFailure(failure);
    }
    Thread me = Thread.currentThread();
    lock.lock();
    try {
      live.remove(me);
      running--;
      ended.add(me);
      if (running == 0) {
        idle.signalAll();
      }
    } finally {
      lock.unlock();
    }
    if (slots != null) {
      slots.release(1);
    }
  }

  /** Joins {@code threads}, then lets go of those that have terminated. */
  private void joinEnded(List<Thread> threads, boolean interruptibly) throws InterruptedException {
    for (Thread t : threads) {
      if (interruptibly) {
        t.join();
      } else {
        joinUninterruptibly(t);
      }
    }
    lock.lock();
    try {
      ended.snapshot(); // prunes
    } finally {
      lock.unlock();
    }
  }

  private void recordFailure(Throwable failure) {
    boolean first;
    lock.lock();
    try {
      first = firstFailure == null;
      if (first) {
        firstFailure = failure;
      } else {
        laterFailures.add(failure);
      }
    } finally {
      lock.unlock();
    }
    if (first) {
      ctx.cancel(failure);
    }
  }

  @Override
  public void await() throws InterruptedException {
    try {
      awaitIdle();
      // Go: the context is cancelled when Wait returns. Cancelled now, no task can start any more,
      // so a task that another thread started just after the wait ended is waited for as well.
      ctx.cancel();
      joinEnded(awaitIdle(), true); // ended threads: see the design comment
    } catch (InterruptedException e) {
      ctx.cancel(new CancellationException("the thread awaiting the task group was interrupted"));
      throw e;
    }
    throwFirstFailure();
  }

  /** Waits until no task runs; returns the threads that ended and may not have terminated. */
  private List<Thread> awaitIdle() throws InterruptedException {
    lock.lock();
    try {
      checkNotOwnTaskLocked("await");
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      while (running > 0) {
        idle.await();
      }
      return ended.snapshot();
    } finally {
      lock.unlock();
    }
  }

  private void throwFirstFailure() {
    lock.lock();
    try {
      if (firstFailure != null) {
        TaskFailedException e = new TaskFailedException(firstFailure);
        for (Throwable later : laterFailures) {
          e.addSuppressed(later);
        }
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    List<Thread> toInterrupt;
    lock.lock();
    try {
      checkNotOwnTaskLocked("close");
      closed = true;
      toInterrupt = new ArrayList<>(live);
    } finally {
      lock.unlock();
    }
    ctx.cancel(new CancellationException("task group " + options.name() + " closed"));
    for (Thread t : toInterrupt) {
      t.interrupt();
    }
    List<Thread> toJoin;
    lock.lock();
    try {
      while (running > 0) {
        idle.awaitUninterruptibly(); // keeps the interrupt status for the caller
      }
      toJoin = ended.snapshot();
    } finally {
      lock.unlock();
    }
    try {
      joinEnded(toJoin, false);
    } catch (InterruptedException e) {
      throw new AssertionError("an uninterruptible join was interrupted", e);
    }
  }

  private void checkNotOwnTaskLocked(String what) {
    if (live.contains(Thread.currentThread())) {
      throw new IllegalStateException(
          "a task cannot " + what + " its own group: it would wait for itself");
    }
  }

  /** Joins {@code t} whatever interrupts arrive, then sets the interrupt status if any did. */
  private static void joinUninterruptibly(Thread t) {
    boolean interrupted = false;
    while (true) {
      try {
        t.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public int running() {
    lock.lock();
    try {
      return running;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public long started() {
    lock.lock();
    try {
      return started;
    } finally {
      lock.unlock();
    }
  }

  void checkInvariants() {
    lock.lock();
    try {
      if (running < 0 || running != live.size()) {
        throw new AssertionError("running " + running + " but " + live.size() + " live threads");
      }
      if (started < running) {
        throw new AssertionError("started " + started + " < running " + running);
      }
      if (firstFailure == null && !laterFailures.isEmpty()) {
        throw new AssertionError("later failures without a first");
      }
      ended.checkInvariants();
    } finally {
      lock.unlock();
    }
    if (slots != null) {
      slots.checkInvariants();
    }
    ctx.checkInvariants();
  }

  @Override
  public String toString() {
    lock.lock();
    try {
      return "TaskGroup["
          + options.name()
          + ", running="
          + running
          + ", started="
          + started
          + (closed ? ", closed" : "")
          + (firstFailure != null ? ", failed: " + firstFailure : "")
          + "]";
    } finally {
      lock.unlock();
    }
  }

  /** The handle {@link #fork} returns; written once by the task's thread. */
  static final class SubtaskImpl<T> implements Subtask<T> {
    private volatile State state = State.RUNNING;
    private T value; // published by the volatile write of state
    private Throwable failure; // likewise

    void succeeded(T v) {
      value = v;
      state = State.SUCCEEDED;
    }

    void failed(Throwable t) {
      failure = t;
      state = State.FAILED;
    }

    @Override
    public State state() {
      return state;
    }

    @Override
    public T get() {
      return switch (state) {
        case SUCCEEDED -> value;
        case FAILED -> throw new IllegalStateException("the subtask failed", failure);
        case RUNNING -> throw new IllegalStateException("the subtask has not ended");
      };
    }

    @Override
    public String toString() {
      return "Subtask[" + state + "]";
    }
  }
}
