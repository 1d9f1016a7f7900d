package io.sluice.core.internal;

import java.util.ArrayDeque;
import java.util.List;

/**
 * <strong>Not API.</strong> Threads whose work has ended but which may not have terminated yet:
 * what an owner that promises "no thread outlives me" (a task group, a scheduler) joins before it
 * returns from its wait or close. "Ended" is not "terminated": a thread that has reported its end
 * still has to return and exit, so an owner that only counted ends could return while the thread is
 * still alive.
 *
 * <p>So that the list does not keep every thread ever started (nor what their work captured),
 * terminated threads leave it from its head whenever a thread is added (in a steady stream the
 * oldest have terminated), from all of it whenever it has doubled since the last full pass
 * (amortised O(1) per thread), and whenever a snapshot is taken. A thread is past its work when it
 * is added, so only the last few are ever still alive.
 *
 * <p>Not thread-safe: the owner guards it with its own lock. See {@link TimerEngine} for who may
 * use this package.
 */
public final class EndedThreads {
  private static final int MIN_PRUNE = 64;

  private final ArrayDeque<Thread> threads = new ArrayDeque<>();
  private int pruneAt = MIN_PRUNE;

  /** An empty list. */
  public EndedThreads() {}

  /**
   * Adds {@code thread}, whose work has ended.
   *
   * @param thread the thread, usually the calling one
   */
  public void add(Thread thread) {
    prune();
    threads.addLast(thread);
  }

  /**
   * The threads added that may still be alive, to join outside the owner's lock.
   *
   * @return a copy
   */
  public List<Thread> snapshot() {
    prune();
    return List.copyOf(threads);
  }

  /** Drops terminated threads: from the head, and from everywhere once the list has doubled. */
  private void prune() {
    while (!threads.isEmpty() && !threads.peekFirst().isAlive()) {
      threads.pollFirst();
    }
    if (threads.size() >= pruneAt) {
      threads.removeIf(t -> !t.isAlive());
      pruneAt = Math.max(MIN_PRUNE, 2 * threads.size());
    }
  }

  /**
   * Checks that the list is within its pruning bound.
   *
   * @throws AssertionError if it is not
   */
  public void checkInvariants() {
    if (threads.size() > pruneAt) {
      throw new AssertionError(threads.size() + " ended threads kept, past " + pruneAt);
    }
  }
}
