package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.awaitTrue;
import static io.sluice.core.SyncTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.ThreadKind;
import io.sluice.core.TaskGroup.Options;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The documentation of Go's {@code golang.org/x/sync/errgroup}, one test per sentence that states
 * behaviour. Where Sluice differs on purpose, the test says so and checks Sluice's documented
 * behaviour.
 */
@Timeout(30)
class TaskGroupGoConformanceTest {
  private final AtomicInteger ran = new AtomicInteger();
  private final CountDownLatch release = new CountDownLatch(1);

  private void held(Context ignored) throws InterruptedException {
    ran.incrementAndGet();
    release.await();
  }

  private static void blockUntilDone(Context ctx) throws InterruptedException {
    Semaphore never = Semaphore.weighted(1);
    never.acquire(1);
    never.acquire(ctx, 1);
  }

  // "Package errgroup provides synchronization, error propagation, and Context cancelation for
  // groups of goroutines working on subtasks of a common task."
  @Test
  void givenSubtasksOfOneTask_whenOneFails_thenTheGroupSynchronisesPropagatesAndCancels()
      throws Exception {
    IOException boom = new IOException("boom");
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      g.go(TaskGroupGoConformanceTest::blockUntilDone);
      g.go(
          c -> {
            throw boom;
          });

      var e = assertThrows(TaskFailedException.class, g::await); // synchronisation
      assertSame(boom, e.getCause()); // error propagation
      assertTrue(g.context().isDone()); // cancellation
      assertEquals(0, g.running());
    }
  }

  // "A zero Group is valid, has no limit on the number of active goroutines, and does not cancel
  // on error." Sluice: the default group has no limit; it always has a context, which a failure
  // cancels.
  @Test
  void givenTheDefaultOptions_whenManyTasksBlock_thenGoNeverWaitsForRoom() throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      for (int i = 0; i < 1_000; i++) {
        g.go(this::held);
      }
      assertEquals(1_000, g.started());
      release.countDown();
      g.await();
    }
    assertEquals(TaskGroup.UNLIMITED, Options.defaults().limit());
  }

  // "WithContext returns a new Group and an associated Context derived from ctx."
  @Test
  void givenAParent_whenOpened_thenTheGroupsContextIsDerivedFromIt() throws Exception {
    Context.Key<String> key = Context.Key.named("k");
    CancelableContext parent = Context.background().withCancel();
    try (TaskGroup g = TaskGroup.open(parent.withValue(key, "v"))) {
      assertEquals("v", g.context().value(key).orElseThrow());
      parent.cancel();
      assertTrue(g.context().isDone());
    }
  }

  // "The derived Context is canceled the first time a function passed to Go returns a non-nil
  // error [...]"
  @Test
  void givenAFunctionReturningAnError_whenItReturns_thenTheDerivedContextIsCancelled()
      throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      g.go(
          c -> {
            throw new IOException("boom");
          });
      awaitTrue(() -> g.context().isDone());
      assertEquals("boom", g.context().cause().orElseThrow().getMessage());
    }
  }

  // "[...] or the first time Wait returns, whichever occurs first."
  @Test
  void givenNoErrors_whenWaitReturns_thenTheDerivedContextIsCancelled() throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      g.go(c -> ran.incrementAndGet());
      g.await();
      assertTrue(g.context().isDone());
    }
  }

  // "Go calls the given function in a new goroutine."
  @Test
  void givenAFunction_whenGo_thenItRunsOnANewVirtualThread() throws Exception {
    AtomicReference<Thread> where = new AtomicReference<>();
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      g.go(c -> where.set(Thread.currentThread()));
      g.await();
    }
    assertNotSame(Thread.currentThread(), where.get());
    assertTrue(where.get().isVirtual());
  }

  // "The first call to Go must happen before a Wait." Sluice: after await the group's context is
  // cancelled, so a late go fails loudly instead of racing with Wait.
  @Test
  void givenWaitHasReturned_whenGoIsCalled_thenItFailsInsteadOfRacing() throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      g.await();
      assertThrows(ContextCancelledException.class, () -> g.go(c -> ran.incrementAndGet()));
    }
    assertEquals(0, ran.get());
  }

  // "It blocks until the new goroutine can be added without the number of goroutines in the
  // group exceeding the configured limit."
  @Test
  void givenTheLimitReached_whenGo_thenItBlocksUntilAGoroutineCanBeAdded() throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background(), Options.defaults().withLimit(2))) {
      g.go(this::held);
      g.go(this::held);
      Call<Void> third = run(ThreadKind.VIRTUAL, () -> g.go(c -> ran.incrementAndGet()));
      awaitParked(third.thread());
      assertEquals(2, g.running());

      release.countDown();

      third.join();
      g.await();
    }
    assertEquals(3, ran.get());
  }

  // "The first goroutine in the group that returns a non-nil error will cancel the associated
  // Context, if any. The error will be returned by Wait."
  @Test
  void givenTwoErrors_whenWait_thenTheFirstIsReturnedAndWasTheCancellationCause() throws Exception {
    IOException first = new IOException("first");
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      g.go(
          c -> {
            blockUntilDone(c);
          });
      g.go(
          c -> {
            throw first;
          });

      var e = assertThrows(TaskFailedException.class, g::await);
      assertSame(first, e.getCause());
      assertSame(first, g.context().cause().orElseThrow());
      assertEquals(1, e.getSuppressed().length, "the second error is kept as suppressed");
    }
  }

  // "SetLimit limits the number of active goroutines in this group to at most n."
  @Test
  void givenALimit_whenManyTasksAreStarted_thenAtMostThatManyAreActiveAtOnce() throws Exception {
    AtomicInteger active = new AtomicInteger();
    AtomicInteger maxActive = new AtomicInteger();
    try (TaskGroup g = TaskGroup.open(Context.background(), Options.defaults().withLimit(3))) {
      for (int i = 0; i < 100; i++) {
        g.go(
            c -> {
              maxActive.accumulateAndGet(active.incrementAndGet(), Math::max);
              Thread.yield();
              active.decrementAndGet();
            });
      }
      g.await();
    }
    assertTrue(maxActive.get() <= 3, "max active " + maxActive.get());
  }

  // "A negative value indicates no limit." / "A limit of zero will prevent any new goroutines from
  // being added." Sluice: UNLIMITED means no limit; zero and negative limits are rejected, since a
  // group that can never start a task is a bug.
  @Test
  void givenAZeroOrNegativeLimit_whenCreatingOptions_thenRejected() {
    assertThrows(IllegalArgumentException.class, () -> Options.defaults().withLimit(0));
    assertThrows(IllegalArgumentException.class, () -> Options.defaults().withLimit(-1));
  }

  // "Any subsequent call to the Go method will block until it can add an active goroutine
  // without exceeding the configured limit."
  @Test
  void givenALimitOfOne_whenGoIsCalledRepeatedly_thenEachCallWaitsForThePreviousTask()
      throws Exception {
    AtomicInteger active = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    try (TaskGroup g = TaskGroup.open(Context.background(), Options.defaults().withLimit(1))) {
      for (int i = 0; i < 50; i++) {
        g.go(
            c -> {
              if (active.incrementAndGet() > 1) {
                overlaps.incrementAndGet();
              }
              Thread.yield();
              active.decrementAndGet();
            });
      }
      g.await();
    }
    assertEquals(0, overlaps.get());
  }

  // "TryGo calls the given function in a new goroutine only if the number of active goroutines in
  // the group is currently below the configured limit."
  @Test
  void givenTheLimitReached_whenTryGo_thenTheFunctionIsNotCalled() throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background(), Options.defaults().withLimit(1))) {
      g.go(this::held);
      g.tryGo(c -> ran.addAndGet(100));
      release.countDown();
      g.await();
    }
    assertEquals(1, ran.get());
  }

  // "The return value reports whether the goroutine was started."
  @Test
  void givenRoomOrNoRoom_whenTryGo_thenTheReturnValueSaysWhetherItStarted() throws Exception {
    try (TaskGroup g = TaskGroup.open(Context.background(), Options.defaults().withLimit(1))) {
      assertTrue(g.tryGo(this::held));
      assertFalse(g.tryGo(this::held));
      release.countDown();
      g.await();
    }
    assertEquals(1, ran.get());
  }

  // "Wait blocks until all function calls from the Go method have returned, then returns the
  // first non-nil error (if any) from them."
  @Test
  void givenRunningFunctions_whenWait_thenItReturnsOnlyAfterAllHaveReturned() throws Exception {
    AtomicInteger returned = new AtomicInteger();
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      for (int i = 0; i < 3; i++) {
        g.go(
            c -> {
              held(c);
              returned.incrementAndGet();
            });
      }
      Call<Void> waiter = run(ThreadKind.VIRTUAL, g::await);
      awaitParked(waiter.thread());
      assertEquals(0, returned.get());

      release.countDown();

      waiter.join();
      assertEquals(3, returned.get());
    }
  }
}
