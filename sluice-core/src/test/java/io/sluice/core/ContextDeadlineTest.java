package io.sluice.core;

import static io.sluice.core.ChannelTest.assertNoHooks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Deadlines and timeouts of contexts, driven by a {@link ManualClock}: no test waits for time. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ContextDeadlineTest {
  private static final RuntimeException SLOW = new RuntimeException("too slow");

  private final ManualClock clock = Clock.manual(Instant.EPOCH);
  private final Context root = Context.background(clock);

  @Test
  void aTimeoutContextIsLiveUntilTheClockReachesItsDeadline() {
    CancelableContext ctx = root.withTimeout(Duration.ofSeconds(5));
    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(5)), ctx.deadline());

    clock.advance(Duration.ofSeconds(4));
    assertFalse(ctx.isDone());

    clock.advance(Duration.ofSeconds(1));
    assertTrue(ctx.isDone());
    assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
    assertSame(ctx.err().orElseThrow(), ctx.cause().orElseThrow());
    assertNoHooks(ctx);
  }

  @Test
  void aTimeoutsDeadlineInstantIsTheSameWhenEverItIsAsked() throws Exception {
    CancelableContext ctx = root.withTimeout(Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(2)); // the instant is worked out on request, here

    Instant first = ctx.deadline().orElseThrow();
    assertEquals(Instant.EPOCH.plusSeconds(5), first);
    Instant[] fromAnotherThread = new Instant[1];
    Thread t = Thread.ofVirtual().start(() -> fromAnotherThread[0] = ctx.deadline().orElseThrow());
    t.join();
    assertSame(first, fromAnotherThread[0]);
    assertSame(first, ctx.deadline().orElseThrow());
  }

  @Test
  void aZeroOrNegativeTimeoutIsDoneAtOnceAndHoldsNothing() {
    for (Duration timeout : new Duration[] {Duration.ZERO, Duration.ofSeconds(-3)}) {
      CancelableContext ctx = root.withTimeout(timeout);

      assertTrue(ctx.isDone(), timeout.toString());
      assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
      assertEquals(Optional.of(Instant.EPOCH.plus(timeout)), ctx.deadline());
      assertNoHooks(ctx);
    }
  }

  @Test
  void aTimeoutOrDeadlineBeyondWhatNanosecondsHoldIsNeverReachedAndDoesNotFail() {
    CancelableContext longTimeout = root.withTimeout(Duration.ofSeconds(Long.MAX_VALUE));
    CancelableContext farDeadline = root.withDeadline(Instant.MAX);

    clock.advance(Duration.ofDays(365 * 200));
    assertFalse(longTimeout.isDone());
    assertFalse(farDeadline.isDone());
    assertEquals(Optional.of(Instant.MAX), farDeadline.deadline());
    assertTrue(longTimeout.deadline().orElseThrow().isAfter(clock.now()));
    CancelableContext underADeadline =
        root.withTimeout(Duration.ofSeconds(1)).withTimeout(Duration.ofSeconds(Long.MAX_VALUE));
    assertEquals(Optional.of(clock.now().plusSeconds(1)), underADeadline.deadline());
    longTimeout.cancel();
    farDeadline.cancel();
    underADeadline.cancel();
    assertNoHooks(longTimeout);
    assertNoHooks(farDeadline);
  }

  @Test
  void aTimeoutTooFarBackForNanosecondsIsDoneWithADeadlineInThePast() {
    for (Context parent : new Context[] {root, Context.background()}) {
      Instant before = parent.clock().now();

      CancelableContext ctx = parent.withTimeout(Duration.ofSeconds(Long.MIN_VALUE));

      assertTrue(ctx.isDone());
      assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
      Instant deadline = ctx.deadline().orElseThrow();
      assertTrue(deadline.isBefore(before), deadline + " should be before " + before);
    }
  }

  @Test
  void aContextAHundredThousandCancelablesBelowADeadlineInheritsItAndItsClock() {
    CancelableContext timed = root.withTimeout(Duration.ofSeconds(5));
    Context deep = timed;
    for (int i = 0; i < 100_000; i++) {
      deep = i % 3 == 0 ? deep.withValue(Context.Key.named("k"), i) : deep.withCancel();
    }

    CancelableContext longer = deep.withTimeout(Duration.ofSeconds(10));
    CancelableContext shorter = deep.withTimeout(Duration.ofSeconds(1));

    assertSame(clock, deep.clock());
    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(5)), deep.deadline());
    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(5)), longer.deadline());
    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(1)), shorter.deadline());
    clock.advance(Duration.ofSeconds(5));
    assertTrue(deep.isDone());
    assertTrue(longer.isDone());
    assertInstanceOf(DeadlineExceededException.class, longer.err().orElseThrow());
  }

  @Test
  void aTimeoutUnderAnEarlierDeadlineKeepsTheInheritedOne() {
    CancelableContext parent = root.withTimeout(Duration.ofSeconds(2));
    CancelableContext child = parent.withTimeout(Duration.ofSeconds(10));
    CancelableContext shorter = parent.withTimeout(Duration.ofSeconds(1));

    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(2)), child.deadline());
    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(1)), shorter.deadline());
    clock.advance(Duration.ofSeconds(1));
    assertTrue(shorter.isDone());
    assertFalse(child.isDone());
    clock.advance(Duration.ofSeconds(1));
    assertTrue(child.isDone());
    assertInstanceOf(DeadlineExceededException.class, child.err().orElseThrow());
  }

  @Test
  void theDeadlineCancelsEveryDescendantAndLeavesTheParent() {
    CancelableContext parent = root.withCancel();
    CancelableContext timed = parent.withTimeout(Duration.ofSeconds(1));
    Context grandchild = timed.withValue(Context.Key.named("k"), 1).withCancel();

    clock.advance(Duration.ofSeconds(1));

    assertTrue(grandchild.err().orElseThrow().isDeadlineExceeded());
    assertFalse(parent.isDone());
    assertNoHooks(parent);
  }

  @Test
  void aDeadlineCauseIsReportedWhenTheDeadlinePasses() {
    CancelableContext ctx = root.withDeadline(Instant.EPOCH.plusSeconds(1), SLOW);

    clock.advance(Duration.ofSeconds(1));

    assertTrue(ctx.err().orElseThrow().isDeadlineExceeded());
    assertSame(SLOW, ctx.cause().orElseThrow());
  }

  @Test
  void aDeadlineCauseUnderAnEarlierInheritedDeadlineIsNeverUsed() {
    CancelableContext parent = root.withTimeout(Duration.ofSeconds(1));
    CancelableContext ctx = parent.withDeadline(Instant.EPOCH.plusSeconds(5), SLOW);

    clock.advance(Duration.ofSeconds(1));

    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(1)), ctx.deadline());
    assertSame(parent.err().orElseThrow(), ctx.err().orElseThrow());
    assertSame(parent.err().orElseThrow(), ctx.cause().orElseThrow());
  }

  @Test
  @DisplayName(
      "Go: \"The returned CancelFunc does not set the cause.\" (WithDeadlineCause cancelled before"
          + " its deadline)")
  void cancellingADeadlineCauseContextEarlyDoesNotSetTheCause() {
    CancelableContext ctx = root.withDeadline(Instant.EPOCH.plusSeconds(1), SLOW);

    ctx.cancel();

    assertFalse(ctx.err().orElseThrow().isDeadlineExceeded());
    assertSame(ctx.err().orElseThrow(), ctx.cause().orElseThrow());
  }

  @Test
  @DisplayName(
      "Go: \"Calling the CancelFunc directly ... stops any associated timers.\" No timer is left"
          + " in the engine")
  void cancellingBeforeTheDeadlineStopsTheTimer() {
    CancelableContext ctx = root.withTimeout(Duration.ofHours(1));
    assertEquals(1, clock.pendingTimers());

    ctx.cancel();

    assertEquals(0, clock.pendingTimers());
    clock.advance(Duration.ofHours(2));
    assertFalse(ctx.err().orElseThrow().isDeadlineExceeded());
  }

  @Test
  void aParentCancelledBeforeTheChildsDeadlineStopsTheChildsTimer() {
    CancelableContext parent = root.withCancel();
    parent.withTimeout(Duration.ofHours(1));

    parent.cancel();

    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void aHundredThousandShortLivedTimeoutContextsLeaveNoTimerAndNoHook() {
    CancelableContext parent = root.withCancel();
    for (int i = 0; i < 100_000; i++) {
      try (CancelableContext ctx = parent.withTimeout(Duration.ofSeconds(30))) {
        ctx.throwIfDone();
      }
    }
    assertEquals(0, clock.pendingTimers());
    assertNoHooks(parent);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aReceiveBlockedWithATimeoutContextEndsWithDeadlineExceeded(ThreadKind kind) {
    Channel<String> ch = Channel.unbuffered();
    CancelableContext ctx = root.withDeadline(Instant.EPOCH.plusSeconds(1), SLOW);
    Spawned<String> r = Spawned.start(kind, () -> ch.receive(ctx)).awaitBlocked();

    clock.advance(Duration.ofSeconds(1));

    var e = r.joinThrowing(DeadlineExceededException.class);
    assertSame(SLOW, e.getCause());
    ChannelTest.assertSound(ch);
    assertFalse(ch.trySend("late"), "the receiver left no trace");
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSendBlockedWithATimeoutContextEndsWithDeadlineExceeded(ThreadKind kind) {
    Channel<String> ch = Channel.unbuffered();
    CancelableContext ctx = root.withTimeout(Duration.ofSeconds(1));
    Spawned<Void> s =
        Spawned.<Void>start(
                kind,
                () -> {
                  ch.send(ctx, "v");
                  return null;
                })
            .awaitBlocked();

    clock.advance(Duration.ofSeconds(1));

    s.joinThrowing(DeadlineExceededException.class);
    assertEquals(TryReceived.WouldBlock.instance(), ch.tryReceive());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectWithATimeoutContextEndsWithDeadlineExceededAndAnOnDoneClauseFires(ThreadKind kind)
      throws Exception {
    Channel<String> ch = Channel.unbuffered();
    CancelableContext a = root.withTimeout(Duration.ofSeconds(1));
    CancelableContext b = root.withTimeout(Duration.ofSeconds(2));
    Spawned<String> viaContext =
        Spawned.start(kind, () -> Select.select(a, ch.onReceive(v -> v))).awaitBlocked();
    Spawned<String> viaClause =
        Spawned.start(kind, () -> Select.select(ch.onReceive(v -> v), b.onDone(() -> "done")))
            .awaitBlocked();

    clock.advance(Duration.ofSeconds(1));
    viaContext.joinThrowing(DeadlineExceededException.class);
    assertTrue(viaClause.isStillBlocked());

    clock.advance(Duration.ofSeconds(1));
    assertEquals("done", viaClause.join());
  }

  @Test
  void afterFuncRunsWhenTheDeadlinePasses() throws Exception {
    CancelableContext ctx = root.withTimeout(Duration.ofSeconds(1));
    CountDownLatch ran = new CountDownLatch(1);
    ctx.afterFunc(ran::countDown);

    clock.advance(Duration.ofSeconds(1));

    ran.await();
  }

  @Test
  void theDoneChannelClosesWhenTheDeadlinePasses() {
    CancelableContext ctx = root.withTimeout(Duration.ofSeconds(1));
    ReceiveChannel<Void> done = ctx.done();

    clock.advance(Duration.ofSeconds(1));

    assertTrue(done.isClosed());
  }
}
