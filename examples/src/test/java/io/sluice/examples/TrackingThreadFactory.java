package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;

/**
 * Makes virtual threads and keeps every one, with every exception that reached a thread's uncaught
 * exception handler, so a test can check that no thread is left running and no failure was lost.
 * (The same helper as sluice-pipeline's and sluice-core's leak tests.)
 */
final class TrackingThreadFactory implements ThreadFactory {
  private final ThreadFactory base;
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final List<Throwable> uncaught = new CopyOnWriteArrayList<>();

  TrackingThreadFactory(String prefix) {
    base = Thread.ofVirtual().name(prefix, 0).factory();
  }

  @Override
  public Thread newThread(Runnable r) {
    Thread t = base.newThread(r);
    t.setUncaughtExceptionHandler((thread, e) -> uncaught.add(e));
    threads.add(t);
    return t;
  }

  /** Every thread made so far. */
  List<Thread> threads() {
    return List.copyOf(threads);
  }

  /** The threads made that have not terminated; empty when nothing leaked. */
  List<Thread> alive() {
    return threads.stream().filter(Thread::isAlive).toList();
  }

  /** Exceptions that escaped a thread: a failure nobody was told about. */
  List<Throwable> uncaught() {
    return List.copyOf(uncaught);
  }

  /** At least one thread was made, every one has terminated, and none died of an exception. */
  void assertAllEndedCleanly() {
    assertFalse(threads.isEmpty(), "no thread was made through the factory");
    assertEquals(List.of(), alive().stream().map(t -> t + " " + t.getState()).toList());
    assertEquals(List.of(), uncaught());
  }
}
