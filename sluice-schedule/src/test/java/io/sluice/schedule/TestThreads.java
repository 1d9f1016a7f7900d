package io.sluice.schedule;

import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/** A thread factory that remembers its threads, and waits that never sleep for a fixed time. */
final class TestThreads implements ThreadFactory {
  final Queue<Thread> threads = new ConcurrentLinkedQueue<>();
  private final AtomicInteger made = new AtomicInteger();
  final List<Throwable> uncaught = new CopyOnWriteArrayList<>();

  @Override
  public Thread newThread(Runnable r) {
    Thread t =
        Thread.ofVirtual()
            .name("test-schedule-" + made.getAndIncrement())
            .uncaughtExceptionHandler((thread, e) -> uncaught.add(e))
            .unstarted(r);
    threads.add(t);
    return t;
  }

  int count() {
    return made.get();
  }

  /** Waits until every thread made so far has ended; fails after 10 s (a hang, not a timing). */
  void awaitAllEnded() throws InterruptedException {
    for (Thread t : threads) {
      t.join(Duration.ofSeconds(10));
      assertFalse(t.isAlive(), t + " still runs");
    }
  }

  /** Asserts that no thread made so far is alive. */
  void assertNoneAlive() {
    for (Thread t : threads) {
      assertFalse(t.isAlive(), t + " outlived the scheduler");
    }
  }

  /** Waits until {@code condition} holds, failing after 10 s. */
  static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting for " + what);
      }
      Thread.yield();
    }
  }

  /** Waits until {@code t} is blocked (waiting or parked). */
  static void untilBlocked(Thread t) {
    until(
        () -> t.getState() == Thread.State.WAITING || t.getState() == Thread.State.TIMED_WAITING,
        t + " to block");
  }
}
