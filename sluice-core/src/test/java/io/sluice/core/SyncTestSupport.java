package io.sluice.core;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;

/** Helpers for the TaskGroup, Semaphore and Once tests: thread kinds, state waits, scaling. */
final class SyncTestSupport {
  private SyncTestSupport() {}

  /** The two kinds of thread every blocking call is tested on. */
  enum ThreadKind {
    PLATFORM,
    VIRTUAL;

    ThreadFactory factory() {
      return this == PLATFORM ? Thread.ofPlatform().factory() : Thread.ofVirtual().factory();
    }

    Thread start(Runnable body) {
      Thread t = factory().newThread(body);
      t.start();
      return t;
    }
  }

  /** A call running on its own thread, whose outcome the test collects with {@link #join()}. */
  static final class Call<T> {
    private final Thread thread;
    private volatile T value;
    private volatile Throwable failure;

    private Call(ThreadKind kind, Callable<T> body) {
      thread =
          kind.start(
              () -> {
                try {
                  value = body.call();
                } catch (Throwable t) {
                  failure = t;
                }
              });
    }

    Thread thread() {
      return thread;
    }

    /** Waits for the call to end and returns what it threw, or {@code null} if it returned. */
    Throwable joinFailure() throws InterruptedException {
      thread.join();
      return failure;
    }

    /** Waits for the call to end and returns its value; fails the test if it threw. */
    T join() throws InterruptedException {
      thread.join();
      if (failure != null) {
        throw new AssertionError("call failed", failure);
      }
      return value;
    }
  }

  static <T> Call<T> call(ThreadKind kind, Callable<T> body) {
    return new Call<>(kind, body);
  }

  static Call<Void> run(ThreadKind kind, ThrowingRunnable body) {
    return new Call<>(
        kind,
        () -> {
          body.run();
          return null;
        });
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  /** A thread factory that remembers every thread it made and every uncaught exception. */
  static final class CountingFactory implements ThreadFactory {
    private final ThreadFactory delegate;
    private final List<Thread> made = new CopyOnWriteArrayList<>();
    private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();

    CountingFactory(ThreadKind kind) {
      this.delegate = kind.factory();
    }

    @Override
    public Thread newThread(Runnable r) {
      Thread t = delegate.newThread(r);
      t.setUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
      made.add(t);
      return t;
    }

    List<Thread> made() {
      return made;
    }

    List<Throwable> uncaught() {
      return uncaught;
    }

    /** The threads made that have not terminated; empty when nothing leaked. */
    List<Thread> alive() {
      return made.stream().filter(Thread::isAlive).toList();
    }
  }

  /**
   * Spins (yielding) until {@code condition} holds. The test's {@code @Timeout} bounds it: its
   * interrupt ends the spin with an {@link AssertionError}.
   */
  static void awaitTrue(BooleanSupplier condition) {
    while (!condition.getAsBoolean()) {
      if (Thread.interrupted()) {
        throw new AssertionError("interrupted (timed out?) while waiting for a condition");
      }
      Thread.yield();
    }
  }

  /** Spins until {@code t} is parked: {@code WAITING} or {@code TIMED_WAITING}. */
  static void awaitParked(Thread t) {
    awaitTrue(
        () -> {
          Thread.State s = t.getState();
          return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
        });
  }

  /** Whether the larger stress sizes apply: the {@code CI} environment variable is set. */
  static boolean ci() {
    String ci = System.getenv("CI");
    return ci != null && !ci.isBlank() && !ci.startsWith("${") && !ci.equalsIgnoreCase("false");
  }

  static int scaled(int local, int onCi) {
    return ci() ? onCi : local;
  }
}
