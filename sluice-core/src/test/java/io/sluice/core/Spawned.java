package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * A test body running on its own thread, with its outcome (result or exception) and its interrupt
 * status when it ended, and a way to wait until it is parked inside a Sluice blocking call.
 */
final class Spawned<R> {
  private static final Duration JOIN_LIMIT = Duration.ofSeconds(30);

  private final Thread thread;
  private volatile R result;
  private volatile Throwable failure;
  private volatile boolean interruptedAtEnd;

  private Spawned(ThreadKind kind, Callable<R> body) {
    this.thread =
        kind.start(
            () -> {
              try {
                result = body.call();
              } catch (Throwable t) {
                failure = t;
              } finally {
                interruptedAtEnd = Thread.currentThread().isInterrupted();
              }
            });
  }

  static <R> Spawned<R> start(ThreadKind kind, Callable<R> body) {
    return new Spawned<>(kind, body);
  }

  Thread thread() {
    return thread;
  }

  void interrupt() {
    thread.interrupt();
  }

  /**
   * Waits until the thread is parked (WAITING or TIMED_WAITING) inside {@link Waiter#await}, that
   * is, queued on a channel or context and blocked. Fails if the thread ends instead.
   */
  Spawned<R> awaitBlocked() {
    awaitBlocked(thread);
    return this;
  }

  static void awaitBlocked(Thread t) {
    while (true) {
      Thread.State before = t.getState();
      if (before == Thread.State.TERMINATED) {
        fail("the thread ended instead of blocking");
      }
      if (isParked(before) && inWaiterAwait(t) && isParked(t.getState())) {
        return;
      }
      Thread.yield();
    }
  }

  private static boolean isParked(Thread.State s) {
    return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
  }

  private static boolean inWaiterAwait(Thread t) {
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getClassName().equals(Waiter.class.getName()) && e.getMethodName().equals("await")) {
        return true;
      }
    }
    return false;
  }

  /** Whether the thread is still blocked in a Sluice call (not ended, not running elsewhere). */
  boolean isStillBlocked() {
    return thread.isAlive() && inWaiterAwait(thread);
  }

  /** Waits for the thread to end and returns its result, rethrowing what it threw. */
  R join() throws Exception {
    awaitEnd();
    Throwable t = failure;
    if (t instanceof Exception e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return result;
  }

  /** Waits for the thread to end and asserts it threw {@code type}. */
  <X extends Throwable> X joinThrowing(Class<X> type) {
    awaitEnd();
    if (failure == null) {
      fail("expected " + type.getSimpleName() + " but the call returned " + result);
    }
    return assertInstanceOf(type, failure, () -> "unexpected exception: " + failure);
  }

  /** The thread's interrupt status when its body ended; call after {@link #join()}. */
  boolean interruptedAtEnd() {
    return interruptedAtEnd;
  }

  private void awaitEnd() {
    try {
      if (!thread.join(JOIN_LIMIT)) {
        fail("the thread is still running: " + thread + " state " + thread.getState());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
