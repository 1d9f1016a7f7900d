package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.awaitTrue;
import static io.sluice.core.SyncTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.ThreadKind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class SemaphoreTest {
  private final WeightedSemaphore sem = new WeightedSemaphore(10);

  @AfterEach
  void invariantsHold() {
    Thread.interrupted(); // a test that interrupts itself must not leak the status
    sem.checkInvariants();
  }

  /** Starts an acquire of {@code n} on its own thread and waits until it is parked in line. */
  private Call<Void> blockedAcquire(ThreadKind kind, long n, int positionInLine) {
    Call<Void> c = run(kind, () -> sem.acquire(n));
    awaitTrue(() -> sem.queueLength() == positionInLine);
    awaitParked(c.thread());
    return c;
  }

  // --- creation and argument checks

  @Test
  void givenASize_whenCreated_thenAllPermitsAreFree() {
    Semaphore s = Semaphore.weighted(7);
    assertEquals(7, s.size());
    assertEquals(7, s.available());
    assertEquals(0, s.queueLength());
  }

  @Test
  void givenANegativeSize_whenCreated_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> Semaphore.weighted(-1));
  }

  @Test
  void givenAWeightAboveTheSize_whenAcquiringInAnyForm_thenIllegalArgumentWithoutWaiting() {
    Context ctx = Context.background();
    assertThrows(IllegalArgumentException.class, () -> sem.acquire(11));
    assertThrows(IllegalArgumentException.class, () -> sem.acquire(ctx, 11));
    assertThrows(IllegalArgumentException.class, () -> sem.tryAcquire(11));
    assertThrows(IllegalArgumentException.class, () -> sem.tryAcquire(11, Duration.ofDays(1)));
    assertEquals(10, sem.available());
  }

  @Test
  void givenANegativeWeight_whenAcquiringOrReleasing_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> sem.acquire(-1));
    assertThrows(IllegalArgumentException.class, () -> sem.tryAcquire(-1));
    assertThrows(IllegalArgumentException.class, () -> sem.release(-1));
  }

  // --- acquire and release

  @Test
  void givenFreePermits_whenAcquiring_thenReturnsAtOnceHoldingThem() throws Exception {
    sem.acquire(4);
    assertEquals(6, sem.available());
  }

  @Test
  void givenAllPermitsFree_whenAcquiringTheWholeSize_thenSucceeds() throws Exception {
    sem.acquire(10);
    assertEquals(0, sem.available());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenTooFewFreePermits_whenAcquiring_thenWaitsUntilEnoughAreReleased(ThreadKind kind)
      throws Exception {
    sem.acquire(8);
    Call<Void> waiter = blockedAcquire(kind, 5, 1);

    sem.release(2);
    assertEquals(1, sem.queueLength(), "4 free is not enough for 5");
    sem.release(1);

    waiter.join();
    assertEquals(0, sem.available());
  }

  @Test
  void givenPermitsHeld_whenAnotherThreadReleasesThem_thenTheyAreFree() throws Exception {
    sem.acquire(10);
    run(ThreadKind.VIRTUAL, () -> sem.release(10)).join();
    assertEquals(10, sem.available());
  }

  @Test
  void givenFewerHeldThanReleased_whenReleasing_thenIllegalStateAndUnchanged() throws Exception {
    sem.acquire(3);
    var e = assertThrows(IllegalStateException.class, () -> sem.release(4));
    assertTrue(e.getMessage().contains("released more than held"), e.getMessage());
    assertEquals(7, sem.available());
  }

  @Test
  void givenAZeroWeightAndNobodyWaiting_whenAcquiring_thenSucceedsEvenWithNothingFree()
      throws Exception {
    sem.acquire(10);
    sem.acquire(0);
    assertEquals(0, sem.available());
  }

  @Test
  void givenAWaiter_whenAcquiringZero_thenItWaitsBehindIt() throws Exception {
    sem.acquire(10);
    Call<Void> first = blockedAcquire(ThreadKind.VIRTUAL, 1, 1);
    Call<Void> zero = blockedAcquire(ThreadKind.VIRTUAL, 0, 2);

    sem.release(1);

    first.join();
    zero.join();
    assertEquals(0, sem.queueLength());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAZeroWeightBehindTheHeadOfAFullSemaphore_whenTheHeadGivesUp_thenTheZeroWeightIsGranted(
      ThreadKind kind) throws Exception {
    sem.acquire(10);
    Call<Void> head = blockedAcquire(kind, 1, 1);
    Call<Void> zero = blockedAcquire(kind, 0, 2);

    head.thread().interrupt();

    assertInstanceOf(InterruptedException.class, head.joinFailure());
    assertEquals(0, sem.queueLength(), "nobody is ahead of the zero weight any more, and 0 fits");
    zero.join();
    assertEquals(0, sem.available());
  }

  // --- fairness

  @Test
  void givenALargeWaiterAtTheHead_whenASmallRequestWouldFit_thenTheSmallOneWaitsToo()
      throws Exception {
    sem.acquire(6);
    Call<Void> large = blockedAcquire(ThreadKind.VIRTUAL, 10, 1);
    Call<Void> small = blockedAcquire(ThreadKind.VIRTUAL, 1, 2);

    sem.release(1);

    assertEquals(5, sem.available(), "the small request must not take the free permits");
    assertEquals(2, sem.queueLength());
    sem.release(5);
    large.join();
    assertEquals(1, sem.queueLength(), "the small one waits for the large one's release");
    sem.release(10);
    small.join();
  }

  @Test
  void givenALargeWaiterAtTheHead_whenTryAcquiringSmall_thenFailsEvenThoughItFits()
      throws Exception {
    sem.acquire(5);
    blockedAcquire(ThreadKind.VIRTUAL, 10, 1);

    assertFalse(sem.tryAcquire(1));

    sem.release(5);
    awaitTrue(() -> sem.queueLength() == 0);
    sem.release(10);
  }

  @Test
  void givenSeveralWaiters_whenPermitsAreReleasedOneByOne_thenTheyAreGrantedInArrivalOrder()
      throws Exception {
    sem.acquire(10);
    int n = 5;
    List<Call<Void>> waiters = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      waiters.add(blockedAcquire(ThreadKind.VIRTUAL, 1, i + 1));
    }

    for (int i = 0; i < n; i++) {
      sem.release(1);
      waiters.get(i).join();
      assertEquals(n - i - 1, sem.queueLength());
    }
  }

  @Test
  void givenALargeHeadWaiter_whenItIsInterrupted_thenTheSmallWaitersBehindItThatFitAreGranted()
      throws Exception {
    sem.acquire(5);
    Call<Void> large = blockedAcquire(ThreadKind.VIRTUAL, 10, 1);
    Call<Void> small1 = blockedAcquire(ThreadKind.VIRTUAL, 2, 2);
    Call<Void> small2 = blockedAcquire(ThreadKind.VIRTUAL, 3, 3);

    large.thread().interrupt();

    assertInstanceOf(InterruptedException.class, large.joinFailure());
    small1.join();
    small2.join();
    assertEquals(0, sem.available());
  }

  @Test
  void givenASmallWaiterBehindALargeOne_whenTheSmallOneGivesUp_thenTheLargeOneStillWaits()
      throws Exception {
    sem.acquire(5);
    Call<Void> large = blockedAcquire(ThreadKind.VIRTUAL, 10, 1);
    Call<Void> small = blockedAcquire(ThreadKind.VIRTUAL, 1, 2);

    small.thread().interrupt();

    assertInstanceOf(InterruptedException.class, small.joinFailure());
    assertEquals(1, sem.queueLength());
    sem.release(5);
    large.join();
  }

  // --- interruption

  @Test
  void givenAnInterruptedThread_whenAcquiring_thenInterruptedExceptionEvenWithFreePermits() {
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> sem.acquire(1));

    assertFalse(Thread.currentThread().isInterrupted(), "the status is consumed, as in j.u.c");
    assertEquals(10, sem.available());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenABlockedAcquire_whenInterrupted_thenInterruptedExceptionHoldingNothing(ThreadKind kind)
      throws Exception {
    sem.acquire(10);
    Call<Void> waiter = blockedAcquire(kind, 3, 1);

    waiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertEquals(0, sem.queueLength());
    sem.release(10);
    assertEquals(10, sem.available());
  }

  @Test
  void givenAnInterruptedThread_whenTryAcquiringWithoutTimeout_thenItIgnoresTheStatus() {
    Thread.currentThread().interrupt();

    assertTrue(sem.tryAcquire(1));

    assertTrue(Thread.currentThread().isInterrupted());
  }

  // --- context

  @Test
  void givenADoneContext_whenAcquiring_thenContextCancelledEvenWithFreePermits() {
    CancelableContext ctx = Context.background().withCancel();
    IllegalStateException why = new IllegalStateException("shutting down");
    ctx.cancel(why);

    var e = assertThrows(ContextCancelledException.class, () -> sem.acquire(ctx, 1));

    assertSame(why, e.getCause());
    assertEquals(10, sem.available());
  }

  @Test
  void
      givenAnInterruptedThread_whenAcquiringWithAContext_thenInterruptedExceptionEvenWithFreePermits() {
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> sem.acquire(ctx, 1));

    assertFalse(Thread.currentThread().isInterrupted(), "the status is consumed, as in j.u.c");
    assertEquals(10, sem.available());
    assertEquals(0, sem.queueLength());
    assertEquals(0, ctx.pendingHooks());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenABlockedAcquireWithAContext_whenTheContextIsCancelled_thenContextCancelledWithCause(
      ThreadKind kind) throws Exception {
    sem.acquire(10);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<Void> waiter = run(kind, () -> sem.acquire(ctx, 1));
    awaitTrue(() -> sem.queueLength() == 1);
    awaitParked(waiter.thread());
    IllegalStateException why = new IllegalStateException("shutting down");

    ctx.cancel(why);

    var e = assertInstanceOf(ContextCancelledException.class, waiter.joinFailure());
    assertSame(why, e.getCause());
    assertEquals(0, sem.queueLength());
    assertEquals(0, sem.available());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenABlockedAcquireWithAContext_whenInterrupted_thenInterruptedException(ThreadKind kind)
      throws Exception {
    sem.acquire(10);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<Void> waiter = run(kind, () -> sem.acquire(ctx, 1));
    awaitTrue(() -> sem.queueLength() == 1);
    awaitParked(waiter.thread());

    waiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertEquals(0, ctx.pendingHooks(), "the waiter's hook is removed");
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenABlockedAcquireWithADeadline_whenTheDeadlinePasses_thenDeadlineExceededHoldingNothing(
      ThreadKind kind) throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    sem.acquire(8);
    CancelContext ctx =
        (CancelContext) Context.background(clock).withTimeout(Duration.ofSeconds(5));
    Call<Void> waiter = run(kind, () -> sem.acquire(ctx, 3));
    awaitTrue(() -> sem.queueLength() == 1);
    awaitParked(waiter.thread());

    clock.advance(Duration.ofSeconds(5));

    assertInstanceOf(DeadlineExceededException.class, waiter.joinFailure());
    assertEquals(0, sem.queueLength());
    assertEquals(2, sem.available());
    assertEquals(0, ctx.pendingHooks());
  }

  /** The blocking forms of acquire, each for {@code n} with a live context where it takes one. */
  enum Acquire {
    ACQUIRE,
    ACQUIRE_WITH_CONTEXT,
    TIMED_TRY_ACQUIRE;

    void acquire(Semaphore s, Context ctx, long n) throws InterruptedException {
      switch (this) {
        case ACQUIRE -> s.acquire(n);
        case ACQUIRE_WITH_CONTEXT -> s.acquire(ctx, n);
        case TIMED_TRY_ACQUIRE -> assertTrue(s.tryAcquire(n, Duration.ofDays(1)));
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Acquire.class)
  void givenABlockedAcquireInAnyForm_whenInterrupted_thenItClearsTheStatusAndHoldsNothing(
      Acquire form) throws Exception {
    sem.acquire(10);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    AtomicBoolean interruptedAtEnd = new AtomicBoolean(true);
    Call<Void> waiter =
        run(
            ThreadKind.VIRTUAL,
            () -> {
              try {
                form.acquire(sem, ctx, 3);
              } finally {
                interruptedAtEnd.set(Thread.currentThread().isInterrupted());
              }
            });
    awaitTrue(() -> sem.queueLength() == 1);
    awaitParked(waiter.thread());

    waiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
    assertEquals(0, sem.queueLength());
    sem.release(10);
    assertEquals(10, sem.available());
    assertEquals(0, ctx.pendingHooks());
  }

  @Test
  void givenAnAcquireThatWaited_whenGranted_thenItsContextHookIsRemoved() throws Exception {
    sem.acquire(10);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<Void> waiter = run(ThreadKind.VIRTUAL, () -> sem.acquire(ctx, 1));
    awaitTrue(() -> sem.queueLength() == 1);
    awaitTrue(() -> ctx.pendingHooks() == 1);

    sem.release(1);

    waiter.join();
    assertEquals(0, ctx.pendingHooks());
    ctx.checkInvariants();
  }

  // --- tryAcquire, timed

  @Test
  void givenTooFewFreePermits_whenTryAcquiring_thenFalseAndUnchanged() throws Exception {
    sem.acquire(8);

    assertFalse(sem.tryAcquire(3));

    assertEquals(2, sem.available());
    assertEquals(0, sem.queueLength());
  }

  @Test
  void givenEnoughFreePermits_whenTryAcquiring_thenTrueAndHeld() {
    assertTrue(sem.tryAcquire(3));
    assertEquals(7, sem.available());
  }

  @Test
  void givenTooFewFreePermits_whenTheTimeoutPasses_thenFalseAndOutOfLine() throws Exception {
    sem.acquire(10);

    assertFalse(sem.tryAcquire(1, Duration.ofMillis(20)));

    assertEquals(0, sem.queueLength());
    assertEquals(0, sem.available());
  }

  @Test
  void givenAZeroTimeout_whenPermitsAreFree_thenTrueWithoutWaiting() throws Exception {
    assertTrue(sem.tryAcquire(10, Duration.ZERO));
    assertFalse(sem.tryAcquire(1, Duration.ofSeconds(-1)));
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenATimedWaiter_whenPermitsAreReleasedInTime_thenTrue(ThreadKind kind) throws Exception {
    sem.acquire(10);
    var waiter = SyncTestSupport.call(kind, () -> sem.tryAcquire(4, Duration.ofDays(1)));
    awaitTrue(() -> sem.queueLength() == 1);

    sem.release(4);

    assertTrue(waiter.join());
    assertEquals(0, sem.available());
  }

  @Test
  void givenAnInterruptedThread_whenTryAcquiringWithTimeout_thenInterruptedException() {
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> sem.tryAcquire(1, Duration.ofDays(1)));

    assertEquals(10, sem.available());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenABlockedTimedAcquire_whenInterrupted_thenInterruptedException(ThreadKind kind)
      throws Exception {
    sem.acquire(10);
    var waiter = SyncTestSupport.call(kind, () -> sem.tryAcquire(1, Duration.ofDays(1)));
    awaitTrue(() -> sem.queueLength() == 1);
    awaitParked(waiter.thread());

    waiter.thread().interrupt();

    assertInstanceOf(InterruptedException.class, waiter.joinFailure());
    assertEquals(0, sem.queueLength());
  }

  @Test
  void givenASemaphore_whenPrinted_thenShowsSizeHeldAndWaiters() throws Exception {
    sem.acquire(3);
    assertEquals("Semaphore[size=10, held=3, waiters=0]", sem.toString());
  }
}
