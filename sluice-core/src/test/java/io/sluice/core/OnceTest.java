package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.ThreadKind;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class OnceTest {
  private final Once once = Once.create();
  private final Once retrying = Once.retrying();
  private final AtomicInteger runs = new AtomicInteger();
  private final CountDownLatch actionStarted = new CountDownLatch(1);
  private final CountDownLatch finishAction = new CountDownLatch(1);

  @AfterEach
  void invariantsHold() {
    Thread.interrupted();
    ((OnceImpl) once).checkInvariants();
    ((OnceImpl) retrying).checkInvariants();
  }

  /** An action that counts its runs and holds until the test lets it finish. */
  private void heldAction() throws InterruptedException {
    runs.incrementAndGet();
    actionStarted.countDown();
    finishAction.await();
  }

  /** Starts {@code o}'s held action on its own thread and waits until it runs. */
  private Call<Void> runnerHoldingTheAction(Once o) throws InterruptedException {
    Call<Void> runner = run(ThreadKind.VIRTUAL, () -> o.run(this::heldAction));
    actionStarted.await();
    return runner;
  }

  // --- running once

  @Test
  void givenANewOnce_whenRun_thenTheActionRunsAndTheOnceIsDone() throws Exception {
    assertFalse(once.isDone());

    once.run(runs::incrementAndGet);

    assertEquals(1, runs.get());
    assertTrue(once.isDone());
  }

  @Test
  void givenADoneOnce_whenRunWithAnotherAction_thenThatActionDoesNotRun() throws Exception {
    once.run(runs::incrementAndGet);

    once.run(() -> runs.addAndGet(100));

    assertEquals(1, runs.get());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenARunningAction_whenAnotherThreadRuns_thenItWaitsUntilTheActionEnds(ThreadKind kind)
      throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    Call<Void> waiter = run(kind, () -> once.run(runs::incrementAndGet));
    awaitParked(waiter.thread());
    assertTrue(waiter.thread().isAlive());

    finishAction.countDown();

    waiter.join();
    runner.join();
    assertEquals(1, runs.get());
  }

  @Test
  void givenANullAction_whenRun_thenNullPointerException() {
    assertThrows(NullPointerException.class, () -> once.run(null));
  }

  // --- failure, Go's policy

  @Test
  void givenAnActionThatThrowsACheckedException_whenRun_thenOnceFailedWithTheOriginalAsCause() {
    IOException boom = new IOException("boom");

    var e = assertThrows(OnceFailedException.class, () -> once.run(() -> fail(boom)));

    assertSame(boom, e.getCause());
    assertTrue(once.isDone(), "a failed action counts as done");
  }

  @Test
  void givenAnActionThatThrowsAnError_whenRun_thenTheErrorIsTheCause() {
    StackOverflowError panic = new StackOverflowError();

    var e = assertThrows(OnceFailedException.class, () -> once.run(() -> fail(panic)));

    assertSame(panic, e.getCause());
  }

  @Test
  void givenAFailedOnce_whenRunAgain_thenTheActionDoesNotRunAndTheFailureIsReported() {
    IOException boom = new IOException("boom");
    assertThrows(OnceFailedException.class, () -> once.run(() -> fail(boom)));

    var e = assertThrows(OnceFailedException.class, () -> once.run(runs::incrementAndGet));

    assertSame(boom, e.getCause());
    assertEquals(0, runs.get());
  }

  @Test
  void givenWaitersOnAnActionThatFails_whenItFails_thenEveryWaiterLearnsOfTheFailure()
      throws Exception {
    IllegalStateException boom = new IllegalStateException("boom");
    CountDownLatch started = new CountDownLatch(1);
    Call<Void> runner =
        run(
            ThreadKind.VIRTUAL,
            () ->
                once.run(
                    () -> {
                      started.countDown();
                      finishAction.await();
                      throw boom;
                    }));
    started.await();
    Call<Void> waiter = run(ThreadKind.VIRTUAL, () -> once.run(runs::incrementAndGet));
    awaitParked(waiter.thread());

    finishAction.countDown();

    assertSame(boom, assertInstanceOf(OnceFailedException.class, runner.joinFailure()).getCause());
    assertSame(boom, assertInstanceOf(OnceFailedException.class, waiter.joinFailure()).getCause());
    assertEquals(0, runs.get());
  }

  // --- failure, retrying policy

  @Test
  void givenARetryingOnceWhoseActionFailed_whenRunAgain_thenTheActionRunsAgain() throws Exception {
    assertThrows(OnceFailedException.class, () -> retrying.run(() -> fail(new IOException())));
    assertFalse(retrying.isDone());

    retrying.run(runs::incrementAndGet);

    assertEquals(1, runs.get());
    assertTrue(retrying.isDone());
  }

  @Test
  void givenARetryingOnceThatSucceeded_whenRunAgain_thenNothingRuns() throws Exception {
    retrying.run(runs::incrementAndGet);

    retrying.run(runs::incrementAndGet);

    assertEquals(1, runs.get());
  }

  @Test
  void givenWaitersOnAFailingRetryingAttempt_whenItFails_thenTheyGetThatFailureWithoutRetrying()
      throws Exception {
    IOException boom = new IOException("boom");
    CountDownLatch started = new CountDownLatch(1);
    Call<Void> runner =
        run(
            ThreadKind.VIRTUAL,
            () ->
                retrying.run(
                    () -> {
                      started.countDown();
                      finishAction.await();
                      throw boom;
                    }));
    started.await();
    Call<Void> waiter = run(ThreadKind.VIRTUAL, () -> retrying.run(runs::incrementAndGet));
    awaitParked(waiter.thread());

    finishAction.countDown();

    assertSame(boom, assertInstanceOf(OnceFailedException.class, runner.joinFailure()).getCause());
    assertSame(boom, assertInstanceOf(OnceFailedException.class, waiter.joinFailure()).getCause());
    assertEquals(0, runs.get(), "the waiter did not start an attempt of its own");
  }

  // --- re-entry

  @Test
  void givenAnAction_whenItRunsItsOwnOnce_thenIllegalStateExceptionInsteadOfDeadlock()
      throws Exception {
    AtomicReference<Throwable> inner = new AtomicReference<>();

    once.run(
        () -> {
          try {
            once.run(runs::incrementAndGet);
          } catch (IllegalStateException e) {
            inner.set(e);
          }
        });

    assertInstanceOf(IllegalStateException.class, inner.get());
    assertTrue(inner.get().getMessage().contains("inside its own action"));
    assertEquals(0, runs.get());
  }

  @Test
  void givenAnActionThatLetsTheReentryFailurePropagate_whenRun_thenTheOnceFailsWithIt() {
    var e = assertThrows(OnceFailedException.class, () -> once.run(() -> once.run(() -> {})));
    assertInstanceOf(IllegalStateException.class, e.getCause());
  }

  // --- interruption

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenARunningActionAndAnInterruptedThread_whenRun_thenInterruptedExceptionAtOnce(
      ThreadKind kind) throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    Call<Void> waiter =
        run(
            kind,
            () -> {
              Thread.currentThread().interrupt();
              once.run(runs::incrementAndGet);
            });

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertFalse(once.isDone());
    finishAction.countDown();
    runner.join();
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaiter_whenInterrupted_thenItStopsWaitingAndTheActionGoesOn(ThreadKind kind)
      throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    Call<Void> waiter = run(kind, () -> once.run(runs::incrementAndGet));
    awaitParked(waiter.thread());

    waiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertFalse(once.isDone());
    finishAction.countDown();
    runner.join();
    assertTrue(once.isDone());
    assertEquals(1, runs.get());
  }

  @Test
  void givenAnInterruptedThreadAndNoActionYet_whenRun_thenTheActionRunsAndSeesTheStatus()
      throws Exception {
    AtomicReference<Boolean> sawInterrupt = new AtomicReference<>();
    Thread.currentThread().interrupt();

    once.run(() -> sawInterrupt.set(Thread.currentThread().isInterrupted()));

    assertTrue(sawInterrupt.get());
    assertTrue(Thread.interrupted());
  }

  @Test
  void givenAnInterruptedThreadAndADoneOnce_whenRun_thenItReturnsKeepingTheStatus()
      throws Exception {
    once.run(runs::incrementAndGet);
    Thread.currentThread().interrupt();

    once.run(runs::incrementAndGet);

    assertTrue(Thread.interrupted());
    assertEquals(1, runs.get());
  }

  // --- context

  @Test
  void givenADoneContextAndNoActionYet_whenRun_thenContextCancelledAndTheActionDoesNotRun() {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    assertThrows(ContextCancelledException.class, () -> once.run(ctx, runs::incrementAndGet));

    assertEquals(0, runs.get());
    assertFalse(once.isDone());
  }

  @Test
  void givenADoneContextAndADoneOnce_whenRun_thenItReturns() throws Exception {
    once.run(runs::incrementAndGet);
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    once.run(ctx, runs::incrementAndGet);

    assertEquals(1, runs.get());
  }

  @Test
  void givenARunningActionAndADoneContext_whenRun_thenContextCancelledAtOnce() throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    assertThrows(ContextCancelledException.class, () -> once.run(ctx, runs::incrementAndGet));

    finishAction.countDown();
    runner.join();
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaiterWithAContext_whenTheContextIsCancelled_thenItStopsWaitingAndTheActionGoesOn(
      ThreadKind kind) throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<Void> waiter = run(kind, () -> once.run(ctx, runs::incrementAndGet));
    awaitParked(waiter.thread());
    IOException why = new IOException("client went away");

    ctx.cancel(why);

    var e = assertInstanceOf(ContextCancelledException.class, waiter.joinFailure());
    assertSame(why, e.getCause());
    finishAction.countDown();
    runner.join();
    assertEquals(1, runs.get());
    assertEquals(0, ctx.pendingHooks());
  }

  @Test
  void givenARunningActionAndAnInterruptedThread_whenRunWithAContext_thenInterruptedAtOnce()
      throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> once.run(ctx, runs::incrementAndGet));

    assertFalse(Thread.interrupted(), "the status is consumed, as in j.u.c");
    assertEquals(0, ctx.pendingHooks());
    finishAction.countDown();
    runner.join();
    assertEquals(1, runs.get());
  }

  @Test
  void
      givenAnInterruptedThreadAndNoActionYet_whenRunWithAContext_thenTheActionRunsAndSeesTheStatus()
          throws Exception {
    AtomicReference<Boolean> sawInterrupt = new AtomicReference<>();
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Thread.currentThread().interrupt();

    once.run(ctx, () -> sawInterrupt.set(Thread.currentThread().isInterrupted()));

    assertTrue(sawInterrupt.get());
    assertTrue(Thread.interrupted());
    assertTrue(once.isDone());
    assertEquals(0, ctx.pendingHooks());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaiterWithAContext_whenInterrupted_thenInterruptedException(ThreadKind kind)
      throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<Void> waiter = run(kind, () -> once.run(ctx, runs::incrementAndGet));
    awaitParked(waiter.thread());

    waiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertEquals(0, ctx.pendingHooks());
    finishAction.countDown();
    runner.join();
  }

  @Test
  void givenAWaiterWithAContext_whenTheActionEnds_thenItReturnsAndItsHookIsRemoved()
      throws Exception {
    Call<Void> runner = runnerHoldingTheAction(once);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<Void> waiter = run(ThreadKind.VIRTUAL, () -> once.run(ctx, runs::incrementAndGet));
    awaitParked(waiter.thread());

    finishAction.countDown();

    waiter.join();
    runner.join();
    assertEquals(0, ctx.pendingHooks());
    ctx.checkInvariants();
  }

  @Test
  void givenOnces_whenPrinted_thenTheyShowTheirState() throws Exception {
    assertEquals("Once[not done]", once.toString());
    assertEquals("Once[not done, retrying]", retrying.toString());
    once.run(() -> {});
    assertEquals("Once[done]", once.toString());
  }

  private static void fail(Throwable t) throws Exception {
    switch (t) {
      case Exception e -> throw e;
      case Error e -> throw e;
      default -> throw new AssertionError(t);
    }
  }
}
