package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.awaitTrue;
import static io.sluice.core.SyncTestSupport.call;
import static io.sluice.core.SyncTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.CountingFactory;
import io.sluice.core.SyncTestSupport.ThreadKind;
import io.sluice.core.TaskGroup.Options;
import io.sluice.core.TaskGroup.Subtask;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class TaskGroupTest {
  private final CountingFactory threads = new CountingFactory(ThreadKind.VIRTUAL);
  private final CountDownLatch release = new CountDownLatch(1);
  private final AtomicInteger ran = new AtomicInteger();
  private TaskGroupImpl group;

  @AfterEach
  void noThreadOutlivesTheGroup() {
    Thread.interrupted();
    if (group != null) {
      group.close();
      group.checkInvariants();
    }
    assertEquals(List.of(), threads.alive());
    assertEquals(List.of(), threads.uncaught());
  }

  private TaskGroupImpl open(Context parent, Options options) {
    group = (TaskGroupImpl) TaskGroup.open(parent, options);
    return group;
  }

  private TaskGroupImpl open(Options options) {
    return open(Context.background(), options);
  }

  private TaskGroupImpl open() {
    return open(Options.defaults().withThreadFactory(threads));
  }

  private TaskGroupImpl openWithLimit(int limit) {
    return open(Options.defaults().withThreadFactory(threads).withLimit(limit));
  }

  /** Blocks until {@code ctx} is done, then throws its ContextCancelledException. */
  private static void blockUntilDone(Context ctx) throws InterruptedException {
    Semaphore never = Semaphore.weighted(1);
    never.acquire(1);
    never.acquire(ctx, 1);
  }

  /** A task that blocks, ignoring its context, until the test counts down {@link #release}. */
  private void held(Context ignored) throws InterruptedException {
    ran.incrementAndGet();
    release.await();
  }

  // --- running and awaiting

  @Test
  void givenTasks_whenAwait_thenItReturnsAfterAllHaveEnded() throws Exception {
    TaskGroup g = open();
    for (int i = 0; i < 10; i++) {
      g.go(c -> ran.incrementAndGet());
    }

    g.await();

    assertEquals(10, ran.get());
    assertEquals(0, g.running());
    assertEquals(10, g.started());
  }

  @Test
  void givenNoTasks_whenAwait_thenItReturnsAtOnce() throws Exception {
    open().await();
    assertEquals(0, group.started());
  }

  @Test
  void givenARunningTask_whenAwait_thenItWaitsForIt() throws Exception {
    TaskGroup g = open();
    g.go(this::held);
    Call<Void> awaiter = run(ThreadKind.VIRTUAL, g::await);
    awaitParked(awaiter.thread());
    assertEquals(1, g.running());

    release.countDown();

    awaiter.join();
    assertEquals(0, g.running());
  }

  @Test
  void givenTheDefaultOptions_whenATaskRuns_thenItIsOnANamedVirtualThread() throws Exception {
    AtomicReference<Thread> where = new AtomicReference<>();
    group = (TaskGroupImpl) TaskGroup.open(Context.background());

    group.go(c -> where.set(Thread.currentThread()));
    group.await();

    assertTrue(where.get().isVirtual());
    assertTrue(where.get().getName().startsWith("sluice-task-"), where.get().getName());
    assertNotSame(Thread.currentThread(), where.get());
  }

  @Test
  void givenATask_whenItRuns_thenItReceivesTheGroupsContext() throws Exception {
    AtomicReference<Context> seen = new AtomicReference<>();
    TaskGroup g = open();

    g.go(seen::set);
    g.await();

    assertSame(g.context(), seen.get());
  }

  @Test
  void givenATaskThatStartsAnother_whenAwait_thenItWaitsForBoth() throws Exception {
    TaskGroup g = open();
    g.go(
        c ->
            g.go(
                inner -> {
                  held(inner);
                  ran.incrementAndGet();
                }));
    Call<Void> awaiter = run(ThreadKind.VIRTUAL, g::await);
    awaitTrue(() -> g.started() == 2);
    awaitParked(awaiter.thread());

    release.countDown();

    awaiter.join();
    assertEquals(2, ran.get());
  }

  @Test
  void givenAPlainWriteInATask_whenAwaitReturns_thenTheWriteIsVisible() throws Exception {
    int[] plain = new int[1];
    TaskGroup g = open();

    g.go(c -> plain[0] = 42);
    g.await();

    assertEquals(42, plain[0]);
  }

  // --- failures

  @Test
  void givenAFailingTask_whenAwait_thenTaskFailedExceptionWithTheOriginalAsCause()
      throws Exception {
    IOException boom = new IOException("boom");
    TaskGroup g = open();
    g.go(
        c -> {
          throw boom;
        });

    var e = assertThrows(TaskFailedException.class, g::await);

    assertSame(boom, e.getCause());
    assertEquals(0, e.getSuppressed().length);
  }

  @Test
  void givenAFailingTask_whenAwait_thenTheFailuresStackShowsWhereTheTaskThrewIt() throws Exception {
    TaskGroup g = open();
    g.go(c -> failDeepInTheTask());

    var e = assertThrows(TaskFailedException.class, g::await);

    assertTrue(
        Arrays.stream(e.getCause().getStackTrace())
            .anyMatch(f -> f.getMethodName().equals("failDeepInTheTask")),
        "the original stack is kept");
  }

  private static void failDeepInTheTask() {
    throw new IllegalStateException("deep");
  }

  @Test
  void givenATaskThrowingAnError_whenAwait_thenItIsReportedAndNotUncaught() throws Exception {
    StackOverflowError panic = new StackOverflowError("panic");
    TaskGroup g = open();
    g.go(
        c -> {
          throw panic;
        });

    var e = assertThrows(TaskFailedException.class, g::await);

    assertSame(panic, e.getCause());
    assertEquals(List.of(), threads.uncaught());
  }

  @Test
  void givenAFailingTask_whenItFails_thenTheGroupsContextIsCancelledWithTheFailureAsCause()
      throws Exception {
    IOException boom = new IOException("boom");
    TaskGroup g = open();
    g.go(
        c -> {
          try {
            blockUntilDone(c);
          } finally {
            ran.incrementAndGet();
          }
        });

    g.go(
        c -> {
          throw boom;
        });

    assertThrows(TaskFailedException.class, g::await);
    assertEquals(1, ran.get(), "the blocked task was woken by the cancellation");
    assertSame(boom, g.context().cause().orElseThrow());
  }

  @Test
  void givenSeveralFailures_whenAwait_thenTheFirstIsTheCauseAndTheLaterOnesAreSuppressed()
      throws Exception {
    IOException first = new IOException("first");
    TaskGroup g = open();
    for (int i = 0; i < 3; i++) {
      int n = i;
      g.go(
          c -> {
            try {
              blockUntilDone(c);
            } catch (ContextCancelledException e) {
              throw new IllegalStateException("later " + n);
            }
          });
    }
    awaitTrue(() -> g.running() == 3);

    g.go(
        c -> {
          throw first;
        });

    var e = assertThrows(TaskFailedException.class, g::await);
    assertSame(first, e.getCause());
    assertEquals(3, e.getSuppressed().length);
    for (Throwable later : e.getSuppressed()) {
      assertTrue(later.getMessage().startsWith("later "), later.toString());
    }
  }

  @Test
  void givenAFailedGroup_whenAwaitIsCalledTwice_thenBothReportTheSameCause() throws Exception {
    IOException boom = new IOException("boom");
    TaskGroup g = open();
    g.go(
        c -> {
          throw boom;
        });

    var e1 = assertThrows(TaskFailedException.class, g::await);
    var e2 = assertThrows(TaskFailedException.class, g::await);

    assertSame(boom, e1.getCause());
    assertSame(boom, e2.getCause());
  }

  // --- the context

  @Test
  void givenAGroupWithoutFailures_whenAwaitReturns_thenItsContextIsCancelled() throws Exception {
    TaskGroup g = open();
    g.go(c -> ran.incrementAndGet());
    assertFalse(g.context().isDone());

    g.await();

    assertTrue(g.context().isDone());
  }

  @Test
  void givenAParentContext_whenItIsCancelled_thenTheGroupsTasksSeeTheirContextDone()
      throws Exception {
    CancelableContext parent = Context.background().withCancel();
    TaskGroup g = open(parent, Options.defaults().withThreadFactory(threads));
    g.go(TaskGroupTest::blockUntilDone);
    awaitTrue(() -> g.running() == 1);
    IOException why = new IOException("shutdown");

    parent.cancel(why);

    var e = assertThrows(TaskFailedException.class, g::await);
    assertInstanceOf(ContextCancelledException.class, e.getCause());
    assertSame(why, e.getCause().getCause());
  }

  @Test
  void givenAParentContextWithAValue_whenATaskReadsIt_thenItSeesIt() throws Exception {
    Context.Key<String> user = Context.Key.named("user");
    TaskGroup g = open(Context.background().withValue(user, "ada"), Options.defaults());
    AtomicReference<String> seen = new AtomicReference<>();

    g.go(c -> seen.set(c.value(user).orElseThrow()));
    g.await();

    assertEquals("ada", seen.get());
  }

  @Test
  void givenACancelledParent_whenAwait_thenItStillWaitsForTheTasks() throws Exception {
    CancelableContext parent = Context.background().withCancel();
    TaskGroup g = open(parent, Options.defaults().withThreadFactory(threads));
    g.go(this::held);
    parent.cancel();
    Call<Void> awaiter = run(ThreadKind.VIRTUAL, g::await);
    awaitParked(awaiter.thread());

    release.countDown();

    awaiter.join();
    assertEquals(1, ran.get());
  }

  @Test
  void givenAParentThatOutlivesTheGroup_whenTheGroupEnds_thenTheParentHoldsNoHookForIt()
      throws Exception {
    CancelContext parent = (CancelContext) Context.background().withCancel();
    TaskGroup g = open(parent, Options.defaults().withThreadFactory(threads));
    assertEquals(1, parent.pendingHooks());
    g.go(c -> ran.incrementAndGet());

    g.await();

    assertEquals(0, parent.pendingHooks());
  }

  // --- starting tasks in a finished group

  @Test
  void givenAFailedGroup_whenStartingATask_thenContextCancelledAndItDoesNotRun() throws Exception {
    IOException boom = new IOException("boom");
    TaskGroup g = open();
    g.go(
        c -> {
          throw boom;
        });
    awaitTrue(() -> g.context().isDone());

    var e = assertThrows(ContextCancelledException.class, () -> g.go(c -> ran.incrementAndGet()));
    assertThrows(ContextCancelledException.class, () -> g.tryGo(c -> ran.incrementAndGet()));
    assertThrows(ContextCancelledException.class, () -> g.fork(c -> ran.incrementAndGet()));

    assertSame(boom, e.getCause());
    assertEquals(0, ran.get());
    assertEquals(1, g.started());
  }

  @Test
  void givenAnAwaitedGroup_whenStartingATask_thenContextCancelled() throws Exception {
    TaskGroup g = open();
    g.await();

    assertThrows(ContextCancelledException.class, () -> g.go(c -> ran.incrementAndGet()));
    assertEquals(0, ran.get());
  }

  @Test
  void givenAClosedGroup_whenStartingATask_thenIllegalState() {
    TaskGroup g = open();
    g.close();

    assertThrows(IllegalStateException.class, () -> g.go(c -> ran.incrementAndGet()));
    assertThrows(IllegalStateException.class, () -> g.tryGo(c -> ran.incrementAndGet()));
    assertEquals(0, ran.get());
  }

  // --- the limit

  @Test
  void givenALimit_whenThatManyTasksRun_thenTryGoFailsAndStartsNothing() throws Exception {
    TaskGroup g = openWithLimit(2);
    assertTrue(g.tryGo(this::held));
    assertTrue(g.tryGo(this::held));

    assertFalse(g.tryGo(this::held));

    assertEquals(2, g.started());
    release.countDown();
    g.await();
    assertEquals(2, ran.get());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenALimitReached_whenGo_thenItWaitsUntilATaskEnds(ThreadKind kind) throws Exception {
    TaskGroup g = openWithLimit(1);
    g.go(this::held);
    Call<Void> feeder = run(kind, () -> g.go(c -> ran.incrementAndGet()));
    awaitParked(feeder.thread());
    assertEquals(1, g.started());

    release.countDown();

    feeder.join();
    g.await();
    assertEquals(2, ran.get());
  }

  @Test
  void givenALimit_whenTasksEnd_thenTryGoSucceedsAgain() throws Exception {
    TaskGroup g = openWithLimit(1);
    g.go(c -> ran.incrementAndGet());
    awaitTrue(() -> g.running() == 0);

    awaitTrue(() -> g.tryGo(c -> ran.incrementAndGet()));

    g.await();
    assertEquals(2, ran.get());
  }

  @Test
  void givenAnInterruptedThread_whenGo_thenInterruptedExceptionAndNothingStarts() {
    TaskGroup g = open();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> g.go(c -> ran.incrementAndGet()));

    assertEquals(0, g.started());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenGoWaitingAtTheLimit_whenInterrupted_thenInterruptedExceptionAndNothingStarts(
      ThreadKind kind) throws Exception {
    TaskGroup g = openWithLimit(1);
    g.go(this::held);
    Call<Void> feeder = run(kind, () -> g.go(c -> ran.incrementAndGet()));
    awaitParked(feeder.thread());

    feeder.thread().interrupt();

    assertInstanceOf(InterruptedException.class, feeder.joinFailure());
    release.countDown();
    g.await();
    assertEquals(1, g.started());
    assertEquals(1, ran.get());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenGoWaitingAtTheLimit_whenTheGroupsContextIsCancelled_thenContextCancelled(
      ThreadKind kind) throws Exception {
    CancelableContext parent = Context.background().withCancel();
    TaskGroup g = open(parent, Options.defaults().withThreadFactory(threads).withLimit(1));
    g.go(this::held);
    Call<Void> feeder = run(kind, () -> g.go(c -> ran.incrementAndGet()));
    awaitParked(feeder.thread());
    IOException why = new IOException("shutdown");

    parent.cancel(why);

    var e = assertInstanceOf(ContextCancelledException.class, feeder.joinFailure());
    assertSame(why, e.getCause());
    release.countDown();
    g.await();
    assertEquals(1, g.started());
  }

  @Test
  void givenALimitBelowOne_whenCreatingOptions_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> Options.defaults().withLimit(0));
    assertThrows(IllegalArgumentException.class, () -> Options.defaults().withLimit(-1));
  }

  @Test
  void givenAThreadFactoryThatMakesNoThread_whenGo_thenRejectedAndTheSlotIsGivenBack()
      throws Exception {
    AtomicInteger calls = new AtomicInteger();
    TaskGroup g =
        open(
            Options.defaults()
                .withLimit(1)
                .withThreadFactory(
                    r -> calls.getAndIncrement() == 0 ? null : threads.newThread(r)));

    assertThrows(RejectedExecutionException.class, () -> g.go(c -> ran.incrementAndGet()));

    assertTrue(g.tryGo(c -> ran.incrementAndGet()), "the slot was given back");
    g.await();
    assertEquals(1, ran.get());
  }

  @Test
  void givenGoBetweenMakingAndStartingItsThread_whenTheGroupIsClosed_thenTheTaskNeverRuns()
      throws Exception {
    CountDownLatch inFactory = new CountDownLatch(1);
    CountDownLatch leaveFactory = new CountDownLatch(1);
    TaskGroup g =
        open(
            Options.defaults()
                .withThreadFactory(
                    r -> {
                      inFactory.countDown();
                      try {
                        leaveFactory.await();
                      } catch (InterruptedException e) {
                        throw new AssertionError(e);
                      }
                      return threads.newThread(r);
                    }));
    Call<Void> feeder = run(ThreadKind.VIRTUAL, () -> g.go(c -> ran.incrementAndGet()));
    inFactory.await();

    g.close();
    leaveFactory.countDown();

    assertInstanceOf(IllegalStateException.class, feeder.joinFailure());
    assertEquals(0, g.started());
    assertEquals(0, ran.get());
  }

  // --- await and interruption

  @Test
  void givenAnInterruptedThread_whenAwait_thenInterruptedExceptionAndTheGroupIsCancelled()
      throws Exception {
    TaskGroup g = open();
    g.go(TaskGroupTest::blockUntilDone);
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, g::await);

    assertTrue(g.context().isDone());
    g.close();
    assertEquals(List.of(), threads.alive());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaitingAwait_whenInterrupted_thenInterruptedExceptionAtOnceAndTheGroupIsCancelled(
      ThreadKind kind) throws Exception {
    TaskGroup g = open();
    g.go(this::held); // ignores cancellation: await must not wait for it once interrupted
    Call<Void> awaiter = run(kind, g::await);
    awaitParked(awaiter.thread());

    awaiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, awaiter.joinFailure());
    assertTrue(g.context().isDone());
    assertEquals(1, g.running());
    release.countDown();
  }

  @Test
  void givenATask_whenItAwaitsItsOwnGroup_thenIllegalStateInsteadOfDeadlock() throws Exception {
    TaskGroup g = open();
    g.go(g2 -> group.await());

    var e = assertThrows(TaskFailedException.class, g::await);

    assertInstanceOf(IllegalStateException.class, e.getCause());
  }

  @Test
  void givenATask_whenItClosesItsOwnGroup_thenIllegalStateInsteadOfDeadlock() throws Exception {
    TaskGroup g = open();
    g.go(c -> group.close());

    var e = assertThrows(TaskFailedException.class, g::await);

    assertInstanceOf(IllegalStateException.class, e.getCause());
  }

  // --- close

  @Test
  void givenRunningTasks_whenClosed_thenTheyAreCancelledAndAllThreadsHaveEnded() throws Exception {
    TaskGroup g = open();
    g.go(TaskGroupTest::blockUntilDone);
    g.go(this::held); // ignores the context; only the interrupt ends it
    awaitTrue(() -> g.running() == 2);

    g.close();

    assertEquals(0, g.running());
    assertTrue(g.context().isDone());
    assertEquals(2, threads.made().size());
    assertEquals(List.of(), threads.alive());
  }

  @Test
  void givenATaskThatIgnoresCancellationAndInterrupts_whenClosed_thenCloseWaitsForIt()
      throws Exception {
    TaskGroup g = open();
    g.go(
        c -> {
          while (true) {
            try {
              release.await();
              return;
            } catch (InterruptedException stubborn) {
              ran.incrementAndGet();
            }
          }
        });
    awaitTrue(() -> g.running() == 1);
    Call<Void> closer = run(ThreadKind.VIRTUAL, g::close);
    awaitTrue(() -> ran.get() == 1);
    awaitParked(closer.thread());

    release.countDown();

    closer.join();
    assertEquals(List.of(), threads.alive());
  }

  @Test
  void givenAClosingThread_whenInterrupted_thenCloseStillWaitsAndKeepsTheStatus() throws Exception {
    TaskGroup g = open();
    g.go(
        c -> {
          while (true) {
            try {
              release.await();
              return;
            } catch (InterruptedException stubborn) {
              // keeps waiting
            }
          }
        });
    awaitTrue(() -> g.running() == 1);
    AtomicReference<Boolean> statusAfterClose = new AtomicReference<>();
    Call<Void> closer =
        run(
            ThreadKind.VIRTUAL,
            () -> {
              g.close();
              statusAfterClose.set(Thread.currentThread().isInterrupted());
            });
    awaitParked(closer.thread());

    closer.thread().interrupt();
    awaitParked(closer.thread());
    assertTrue(closer.thread().isAlive());
    release.countDown();

    closer.join();
    assertTrue(statusAfterClose.get());
  }

  @Test
  void givenAClosedGroup_whenClosedAgainOrAwaited_thenNothingHappens() throws Exception {
    TaskGroup g = open();
    g.go(c -> ran.incrementAndGet());
    g.close();

    g.close();
    g.await();

    assertEquals(1, ran.get());
  }

  // --- fork

  @Test
  void givenAForkedTask_whenTheGroupIsAwaited_thenItsResultIsAvailable() throws Exception {
    TaskGroup g = open();

    Subtask<String> s = g.fork(c -> "result");
    g.await();

    assertEquals(Subtask.State.SUCCEEDED, s.state());
    assertEquals("result", s.get());
  }

  @Test
  void givenARunningForkedTask_whenGet_thenIllegalState() throws Exception {
    TaskGroup g = open();

    Subtask<Integer> s =
        g.fork(
            c -> {
              held(c);
              return 1;
            });

    assertEquals(Subtask.State.RUNNING, s.state());
    assertThrows(IllegalStateException.class, s::get);
    release.countDown();
    g.await();
    assertEquals(1, s.get());
  }

  @Test
  void givenAFailedForkedTask_whenGet_thenIllegalStateWithTheFailureAsCause() throws Exception {
    IOException boom = new IOException("boom");
    TaskGroup g = open();

    Subtask<String> s =
        g.fork(
            c -> {
              throw boom;
            });

    var awaited = assertThrows(TaskFailedException.class, g::await);
    assertSame(boom, awaited.getCause());
    assertEquals(Subtask.State.FAILED, s.state());
    assertSame(boom, assertThrows(IllegalStateException.class, s::get).getCause());
  }

  @Test
  void givenAnInterruptedThread_whenFork_thenInterruptedExceptionAndNothingStarts() {
    TaskGroup g = openWithLimit(1);
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> g.fork(c -> ran.incrementAndGet()));

    assertFalse(Thread.currentThread().isInterrupted(), "the status is consumed, as in j.u.c");
    assertEquals(0, g.started());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenForkWaitingAtTheLimit_whenInterrupted_thenInterruptedExceptionAndNothingStarts(
      ThreadKind kind) throws Exception {
    TaskGroup g = openWithLimit(1);
    g.go(this::held);
    Call<Subtask<Integer>> feeder = call(kind, () -> g.fork(c -> ran.get()));
    awaitParked(feeder.thread());

    feeder.thread().interrupt();

    assertInstanceOf(InterruptedException.class, feeder.joinFailure());
    release.countDown();
    g.await();
    assertEquals(1, g.started());
    assertEquals(1, ran.get());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenForkWaitingAtTheLimit_whenTheGroupsContextIsCancelled_thenContextCancelled(
      ThreadKind kind) throws Exception {
    CancelableContext parent = Context.background().withCancel();
    TaskGroup g = open(parent, Options.defaults().withThreadFactory(threads).withLimit(1));
    g.go(this::held);
    Call<Subtask<Integer>> feeder = call(kind, () -> g.fork(c -> ran.get()));
    awaitParked(feeder.thread());
    IOException why = new IOException("shutdown");

    parent.cancel(why);

    var e = assertInstanceOf(ContextCancelledException.class, feeder.joinFailure());
    assertSame(why, e.getCause());
    release.countDown();
    g.await();
    assertEquals(1, g.started());
  }

  // --- no thread outlives the group

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenSuccessfulTasks_whenAwaitReturns_thenEveryTaskThreadHasTerminated(ThreadKind kind)
      throws Exception {
    CountingFactory factory = new CountingFactory(kind);
    TaskGroup g = open(Options.defaults().withThreadFactory(factory));
    for (int i = 0; i < 50; i++) {
      g.go(c -> ran.incrementAndGet());
    }

    g.await();

    assertEquals(50, factory.made().size());
    assertEquals(List.of(), factory.alive());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenThousandsOfShortTasks_whenAwaitReturns_thenEveryTaskThreadHasTerminated(ThreadKind kind)
      throws Exception {
    CountingFactory factory = new CountingFactory(kind);
    TaskGroup g = open(Options.defaults().withThreadFactory(factory).withLimit(32));
    for (int i = 0; i < 5_000; i++) { // far more than the ended threads the group keeps at once
      g.go(c -> ran.incrementAndGet());
    }

    g.await();

    assertEquals(5_000, ran.get());
    assertEquals(5_000, factory.made().size());
    assertEquals(List.of(), factory.alive());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAFailure_whenAwaitReturns_thenEveryTaskThreadHasTerminated(ThreadKind kind)
      throws Exception {
    CountingFactory factory = new CountingFactory(kind);
    TaskGroup g = open(Options.defaults().withThreadFactory(factory));
    for (int i = 0; i < 20; i++) {
      g.go(TaskGroupTest::blockUntilDone);
    }
    g.go(
        c -> {
          throw new IOException("boom");
        });

    assertThrows(TaskFailedException.class, g::await);

    assertEquals(21, factory.made().size());
    assertEquals(List.of(), factory.alive());
    assertEquals(List.of(), factory.uncaught());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAParentCancellation_whenAwaitReturns_thenEveryTaskThreadHasTerminated(ThreadKind kind)
      throws Exception {
    CountingFactory factory = new CountingFactory(kind);
    CancelableContext parent = Context.background().withCancel();
    TaskGroup g = open(parent, Options.defaults().withThreadFactory(factory).withLimit(4));
    for (int i = 0; i < 4; i++) {
      g.go(TaskGroupTest::blockUntilDone);
    }

    parent.cancel();

    assertThrows(TaskFailedException.class, g::await);
    assertEquals(List.of(), factory.alive());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenTasksNeverAwaited_whenClosed_thenEveryTaskThreadHasTerminated(ThreadKind kind)
      throws Exception {
    CountingFactory factory = new CountingFactory(kind);
    try (TaskGroup g = open(Options.defaults().withThreadFactory(factory))) {
      for (int i = 0; i < 20; i++) {
        g.go(i % 2 == 0 ? TaskGroupTest::blockUntilDone : this::held);
      }
    }

    assertEquals(20, factory.made().size());
    assertEquals(List.of(), factory.alive());
  }

  @Test
  void givenAGroup_whenPrinted_thenItShowsNameAndCounts() throws Exception {
    TaskGroup g = open(Options.defaults().withName("fetch").withThreadFactory(threads));
    g.go(c -> ran.incrementAndGet());
    g.await();
    assertEquals("TaskGroup[fetch, running=0, started=1]", g.toString());
  }
}
