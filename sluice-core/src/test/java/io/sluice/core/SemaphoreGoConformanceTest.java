package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.awaitTrue;
import static io.sluice.core.SyncTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.ThreadKind;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The documentation of Go's {@code golang.org/x/sync/semaphore}, one test per sentence. Where
 * Sluice differs on purpose, the test says so and checks Sluice's documented behaviour.
 */
@Timeout(30)
class SemaphoreGoConformanceTest {

  private static Call<Void> blockedAcquire(Semaphore s, Context ctx, long n, int positionInLine) {
    Call<Void> c = run(ThreadKind.VIRTUAL, () -> s.acquire(ctx, n));
    awaitTrue(() -> s.queueLength() == positionInLine);
    awaitParked(c.thread());
    return c;
  }

  // "NewWeighted creates a new weighted semaphore with the given maximum combined weight for
  // concurrent access."
  @Test
  void givenNewWeighted_whenHoldingTheMaximumCombinedWeight_thenNoMoreCanBeAcquired()
      throws Exception {
    Semaphore s = Semaphore.weighted(5);
    s.acquire(2);
    s.acquire(3);

    assertFalse(s.tryAcquire(1));
    assertEquals(5, s.size());
  }

  // "Acquire acquires the semaphore with a weight of n, blocking until resources are available
  // [...]"
  @Test
  void givenTooFewResources_whenAcquire_thenBlocksUntilTheyAreAvailable() throws Exception {
    Semaphore s = Semaphore.weighted(3);
    s.acquire(Context.background(), 3);
    Call<Void> waiter = blockedAcquire(s, Context.background(), 2, 1);

    s.release(2);

    waiter.join();
    assertEquals(0, s.available());
  }

  // "[...] or ctx is done."
  @Test
  void givenTooFewResources_whenCtxIsDoneWhileBlocked_thenAcquireReturns() throws Exception {
    Semaphore s = Semaphore.weighted(3);
    s.acquire(3);
    CancelableContext ctx = Context.background().withCancel();
    Call<Void> waiter = blockedAcquire(s, ctx, 1, 1);

    ctx.cancel();

    assertInstanceOf(ContextCancelledException.class, waiter.joinFailure());
  }

  // "On success, returns nil."
  @Test
  void givenFreeResources_whenAcquire_thenReturnsNormally() throws Exception {
    Semaphore s = Semaphore.weighted(3);
    s.acquire(Context.background(), 3);
    assertEquals(0, s.available());
  }

  // "On failure, returns ctx.Err() and leaves the semaphore unchanged."
  @Test
  void givenAFailedAcquire_whenItReturns_thenItThrowsCtxErrAndLeavesTheSemaphoreUnchanged()
      throws Exception {
    Semaphore s = Semaphore.weighted(3);
    s.acquire(2);
    CancelableContext ctx = Context.background().withCancel();
    Call<Void> waiter = blockedAcquire(s, ctx, 3, 1);

    ctx.cancel();

    var e = assertInstanceOf(ContextCancelledException.class, waiter.joinFailure());
    assertEquals(ctx.err().orElseThrow().getMessage(), e.getMessage());
    assertEquals(1, s.available());
    assertEquals(0, s.queueLength());
  }

  // Go's current Acquire: "ctx becoming done has 'happened before' acquiring the semaphore [...]
  // We prefer to fail even if we could acquire the mutex without blocking."
  @Test
  void givenADoneCtxAndFreeResources_whenAcquire_thenItFails() {
    Semaphore s = Semaphore.weighted(3);
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    assertThrows(ContextCancelledException.class, () -> s.acquire(ctx, 1));
    assertEquals(3, s.available());
  }

  // Go blocks until ctx is done when n exceeds the size; Sluice reports the bug at once.
  @Test
  void givenAWeightAboveTheSize_whenAcquire_thenIllegalArgumentInsteadOfBlockingForever() {
    Semaphore s = Semaphore.weighted(3);
    assertThrows(IllegalArgumentException.class, () -> s.acquire(Context.background(), 4));
  }

  // "Release releases the semaphore with a weight of n."
  @Test
  void givenHeldWeight_whenRelease_thenThatWeightIsFreeAgain() throws Exception {
    Semaphore s = Semaphore.weighted(3);
    s.acquire(3);

    s.release(2);

    assertEquals(2, s.available());
  }

  // Release: panic("semaphore: released more than held")
  @Test
  void givenLessHeldThanReleased_whenRelease_thenItFailsLoudly() {
    Semaphore s = Semaphore.weighted(3);
    var e = assertThrows(IllegalStateException.class, () -> s.release(1));
    assertTrue(e.getMessage().startsWith("semaphore: released more than held"));
  }

  // "TryAcquire acquires the semaphore with a weight of n without blocking. On success, returns
  // true."
  @Test
  void givenFreeResources_whenTryAcquire_thenTrueAndHeld() {
    Semaphore s = Semaphore.weighted(3);
    assertTrue(s.tryAcquire(2));
    assertEquals(1, s.available());
  }

  // "On failure, returns false and leaves the semaphore unchanged."
  @Test
  void givenTooFewResources_whenTryAcquire_thenFalseAndUnchanged() {
    Semaphore s = Semaphore.weighted(3);
    assertTrue(s.tryAcquire(2));

    assertFalse(s.tryAcquire(2));

    assertEquals(1, s.available());
  }

  // TryAcquire: "success := s.size-s.cur >= n && s.waiters.Len() == 0"
  @Test
  void givenWaiters_whenTryAcquireWouldFit_thenFalse() throws Exception {
    Semaphore s = Semaphore.weighted(3);
    s.acquire(2);
    blockedAcquire(s, Context.background(), 3, 1);

    assertFalse(s.tryAcquire(1));

    s.release(2);
    awaitTrue(() -> s.available() == 0);
  }

  // notifyWaiters: "We could keep going (to try to find a waiter with a smaller request), but
  // under load that could cause starvation for large requests; instead, we leave all remaining
  // waiters blocked."
  @Test
  void givenALargeHeadWaiter_whenWeightIsReleased_thenSmallerWaitersBehindItStayBlocked()
      throws Exception {
    Semaphore s = Semaphore.weighted(4);
    s.acquire(3);
    Call<Void> large = blockedAcquire(s, Context.background(), 4, 1);
    Call<Void> small = blockedAcquire(s, Context.background(), 1, 2);

    s.release(2);

    assertEquals(2, s.queueLength());
    assertEquals(3, s.available());
    s.release(1);
    large.join();
    s.release(4);
    small.join();
  }

  // Acquire: "If we're at the front and there're extra tokens left, notify other waiters."
  @Test
  void givenACancelledHeadWaiter_whenTokensAreLeft_thenTheWaitersBehindItAreNotified()
      throws Exception {
    Semaphore s = Semaphore.weighted(4);
    s.acquire(3);
    CancelableContext ctx = Context.background().withCancel();
    Call<Void> large = blockedAcquire(s, ctx, 4, 1);
    Call<Void> small = blockedAcquire(s, Context.background(), 1, 2);

    ctx.cancel();

    assertInstanceOf(ContextCancelledException.class, large.joinFailure());
    small.join();
  }

  // The package example, as in the seed's pipeline: acquire 1 per worker, then the whole size to
  // wait for all of them.
  @Test
  void givenWorkersBoundedBySemaphore_whenAcquiringTheWholeSize_thenAllWorkersHaveFinished()
      throws Exception {
    int maxWorkers = 4;
    Semaphore s = Semaphore.weighted(maxWorkers);
    AtomicInteger running = new AtomicInteger();
    AtomicInteger maxSeen = new AtomicInteger();
    AtomicInteger finished = new AtomicInteger();
    Context ctx = Context.background();

    for (int i = 0; i < 32; i++) {
      s.acquire(ctx, 1);
      Thread.startVirtualThread(
          () -> {
            try {
              maxSeen.accumulateAndGet(running.incrementAndGet(), Math::max);
              running.decrementAndGet();
              finished.incrementAndGet();
            } finally {
              s.release(1);
            }
          });
    }
    s.acquire(ctx, maxWorkers);

    assertEquals(32, finished.get());
    assertTrue(maxSeen.get() <= maxWorkers, "at most " + maxWorkers + " ran at once");
  }
}
