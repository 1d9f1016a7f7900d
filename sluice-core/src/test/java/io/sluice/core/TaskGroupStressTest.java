package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitTrue;
import static io.sluice.core.SyncTestSupport.scaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.CountingFactory;
import io.sluice.core.SyncTestSupport.ThreadKind;
import io.sluice.core.TaskGroup.Options;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rounds of groups with a random limit, fed by several threads at once with tasks that succeed,
 * throw exceptions or errors, block until cancelled, or start more tasks; each round ends by await,
 * by close, or by cancelling the parent. Then: no thread left alive, nothing uncaught, the limit
 * never exceeded, the started count exact, and every failure reported exactly once.
 */
class TaskGroupStressTest {

  private enum Ending {
    AWAIT,
    CLOSE,
    CANCEL_PARENT
  }

  private enum Kind {
    SUCCEED,
    THROW_EXCEPTION,
    THROW_ERROR,
    BLOCK_UNTIL_CANCELLED,
    START_ANOTHER
  }

  @Test
  @Timeout(180)
  void givenRandomGroupsAndTasks_whenEachRoundEnds_thenNoThreadIsLeftAndFailuresAreReported()
      throws Exception {
    for (int round = 0; round < scaled(500, 5_000); round++) {
      oneRound(round % 16 == 0 ? ThreadKind.PLATFORM : ThreadKind.VIRTUAL);
    }
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void givenManyMoreRounds_whenEachRoundEnds_thenTheSameInvariantsHold() throws Exception {
    for (int round = 0; round < 20_000; round++) {
      oneRound(round % 16 == 0 ? ThreadKind.PLATFORM : ThreadKind.VIRTUAL);
    }
  }

  private static void blockUntilDone(Context ctx) throws InterruptedException {
    Semaphore never = Semaphore.weighted(1);
    never.acquire(1);
    never.acquire(ctx, 1);
  }

  private void oneRound(ThreadKind kind) throws Exception {
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    int limit = rnd.nextInt(3) == 0 ? TaskGroup.UNLIMITED : 1 + rnd.nextInt(8);
    Ending ending = Ending.values()[rnd.nextInt(Ending.values().length)];
    int tasks = kind == ThreadKind.PLATFORM ? 1 + rnd.nextInt(20) : 1 + rnd.nextInt(150);
    int feeders = 1 + rnd.nextInt(3);
    List<Kind> plan = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      plan.add(Kind.values()[rnd.nextInt(Kind.values().length)]);
    }
    if (ending == Ending.AWAIT && plan.contains(Kind.BLOCK_UNTIL_CANCELLED)) {
      plan.set(0, Kind.THROW_EXCEPTION); // something must cancel the blocked tasks
      feeders = 1; // and it must be started before any of them
    }

    CountingFactory factory = new CountingFactory(kind);
    CancelableContext parent = Context.background().withCancel();
    TaskGroupImpl g =
        (TaskGroupImpl)
            TaskGroup.open(parent, Options.defaults().withLimit(limit).withThreadFactory(factory));
    AtomicInteger active = new AtomicInteger();
    AtomicInteger maxActive = new AtomicInteger();
    AtomicInteger startedByUs = new AtomicInteger();
    List<Throwable> thrown = new CopyOnWriteArrayList<>();
    AtomicReference<Throwable> unexpected = new AtomicReference<>();
    AtomicBoolean groupEnded = new AtomicBoolean(); // set when await or close has returned
    AtomicInteger ranAfterTheEnd = new AtomicInteger();

    List<Thread> feederThreads = new ArrayList<>();
    AtomicInteger next = new AtomicInteger();
    for (int f = 0; f < feeders; f++) {
      feederThreads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i; (i = next.getAndIncrement()) < plan.size(); ) {
                        TaskGroup.Task task =
                            tracked(
                                plan.get(i),
                                i,
                                g,
                                active,
                                maxActive,
                                startedByUs,
                                thrown,
                                groupEnded,
                                ranAfterTheEnd);
                        switch (i == 0 ? 0 : ThreadLocalRandom.current().nextInt(3)) {
                          case 0 -> g.go(task);
                          case 1 -> {
                            if (!g.tryGo(task)) {
                              continue;
                            }
                          }
                          default ->
                              g.fork(
                                  c -> {
                                    task.run(c);
                                    return task;
                                  });
                        }
                        startedByUs.incrementAndGet();
                      }
                    } catch (IllegalStateException stopped) {
                      // ContextCancelledException (failed, cancelled) or closed: stop feeding
                    } catch (Throwable t) {
                      unexpected.compareAndSet(null, t);
                    }
                  }));
    }

    TaskFailedException reported = null;
    switch (ending) {
      case AWAIT -> {
        joinAll(feederThreads);
        reported = awaitCatching(g);
        groupEnded.set(true);
      }
      case CLOSE -> {
        int at = rnd.nextInt(tasks + 1);
        awaitTrue(() -> g.started() >= at || feedersStuckOrDone(feederThreads));
        g.close();
        groupEnded.set(true);
        joinAll(feederThreads);
      }
      case CANCEL_PARENT -> {
        int at = rnd.nextInt(tasks + 1);
        awaitTrue(() -> g.started() >= at || feedersStuckOrDone(feederThreads));
        parent.cancel();
        joinAll(feederThreads);
        reported = awaitCatching(g);
        groupEnded.set(true);
      }
    }
    String round = "round " + ending + " limit=" + limit + " tasks=" + tasks + " " + kind;
    List<Thread> aliveAfterTheEnding = factory.alive(); // before any other close could join them
    g.close();

    assertNull(unexpected.get(), round);
    assertEquals(List.of(), aliveAfterTheEnding, round + ": threads left running");
    assertEquals(List.of(), factory.uncaught(), round);
    assertEquals(0, g.running(), round);
    assertEquals(0, ranAfterTheEnd.get(), round + ": tasks started after the group ended");
    assertTrue(maxActive.get() <= limit, round + ": " + maxActive.get() + " active");
    assertEquals(startedByUs.get(), g.started(), round);
    assertTrue(factory.made().size() >= g.started(), round);
    if (ending != Ending.CLOSE) {
      if (thrown.isEmpty()) {
        assertNull(reported, round);
      } else {
        assertNotNull(reported, round);
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        seen.add(reported.getCause());
        seen.addAll(List.of(reported.getSuppressed()));
        Set<Throwable> expected = Collections.newSetFromMap(new IdentityHashMap<>());
        expected.addAll(thrown);
        assertEquals(expected, seen, round + ": every failure reported once");
        assertEquals(thrown.size(), 1 + reported.getSuppressed().length, round);
      }
    }
    g.checkInvariants();
    parent.cancel();
  }

  /** Wraps a task of the given kind so the test sees its concurrency and what it threw. */
  private static TaskGroup.Task tracked(
      Kind kind,
      int id,
      TaskGroup g,
      AtomicInteger active,
      AtomicInteger maxActive,
      AtomicInteger startedByUs,
      List<Throwable> thrown,
      AtomicBoolean groupEnded,
      AtomicInteger ranAfterTheEnd) {
    return c -> {
      if (groupEnded.get()) {
        ranAfterTheEnd.incrementAndGet();
      }
      maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
      try {
        switch (kind) {
          case SUCCEED -> Thread.yield();
          case THROW_EXCEPTION -> throw new IOException("task " + id);
          case THROW_ERROR -> throw new AssertionError("task " + id);
          case BLOCK_UNTIL_CANCELLED -> blockUntilDone(c);
          case START_ANOTHER -> {
            if (g.tryGo(
                inner -> {
                  if (groupEnded.get()) {
                    ranAfterTheEnd.incrementAndGet();
                  }
                })) {
              startedByUs.incrementAndGet();
            }
          }
        }
      } catch (Throwable t) {
        thrown.add(t);
        throw t;
      } finally {
        active.decrementAndGet();
      }
    };
  }

  /** Feeders can be stuck at the limit behind tasks that wait for the cancellation. */
  private static boolean feedersStuckOrDone(List<Thread> feeders) {
    return feeders.stream().allMatch(t -> !t.isAlive() || t.getState() == Thread.State.WAITING);
  }

  private static TaskFailedException awaitCatching(TaskGroup g) throws InterruptedException {
    try {
      g.await();
      return null;
    } catch (TaskFailedException e) {
      return e;
    }
  }

  private static void joinAll(List<Thread> threads) throws InterruptedException {
    for (Thread t : threads) {
      t.join();
    }
  }
}
