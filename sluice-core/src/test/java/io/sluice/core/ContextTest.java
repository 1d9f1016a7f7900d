package io.sluice.core;

import static io.sluice.core.ChannelTest.assertNoHooks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Go's context package: cancellation, causes, the tree, values, afterFunc, done. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ContextTest {
  private static final RuntimeException BOOM = new RuntimeException("boom");
  private static final Context.Key<String> USER = Context.Key.named("user");
  private static final Context.Key<String> TRACE = Context.Key.named("trace");

  // ================================================================ background

  @Test
  void aClosedContextsErrorIsItsOwnAndTheSameOnEveryCallFromEveryThread() throws Exception {
    CancelableContext a = Context.background().withCancel();
    CancelableContext b = Context.background().withCancel();
    a.close();
    b.close();

    ContextCancelledException[] seen = new ContextCancelledException[8];
    Thread[] readers = new Thread[seen.length];
    for (int i = 0; i < readers.length; i++) {
      int slot = i;
      readers[i] = Thread.ofVirtual().start(() -> seen[slot] = a.err().orElseThrow());
    }
    for (Thread t : readers) {
      t.join();
    }
    for (ContextCancelledException e : seen) {
      assertSame(seen[0], e);
    }
    assertSame(seen[0], a.err().orElseThrow());
    assertSame(seen[0], a.cause().orElseThrow());
    assertNotSame(seen[0], b.err().orElseThrow(), "each context has its own error");
    assertEquals("context cancelled", seen[0].getMessage());
    assertFalse(seen[0].isDeadlineExceeded());
  }

  @Test
  void backgroundIsNeverDoneAndHasNoDeadlineValuesOrError() {
    Context bg = Context.background();

    assertFalse(bg.isDone());
    assertEquals(Optional.empty(), bg.err());
    assertEquals(Optional.empty(), bg.cause());
    assertEquals(Optional.empty(), bg.deadline());
    assertEquals(Optional.empty(), bg.value(USER));
    assertSame(Clock.system(), bg.clock());
    bg.throwIfDone();
    assertInstanceOf(TryReceived.WouldBlock.class, bg.done().tryReceive());
  }

  @Test
  void backgroundIsOneSharedInstance() {
    assertSame(Context.background(), Context.background());
  }

  @Test
  void aBackgroundWithAClockUsesThatClockAndItsChildrenInheritIt() {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    Context bg = Context.background(clock);

    assertSame(clock, bg.clock());
    assertSame(clock, bg.withCancel().clock());
    assertSame(clock, bg.withValue(USER, "u").withoutCancel().clock());
    assertThrows(NullPointerException.class, () -> Context.background(null));
  }

  // ================================================================ cancel, err, cause

  @Test
  void aNewCancelableContextIsLive() {
    CancelableContext ctx = Context.background().withCancel();

    assertFalse(ctx.isDone());
    assertEquals(Optional.empty(), ctx.err());
    assertEquals(Optional.empty(), ctx.cause());
    ctx.throwIfDone();
  }

  @Test
  void cancelMakesTheContextDoneWithAnErrAndTheErrAsCause() {
    CancelableContext ctx = Context.background().withCancel();

    ctx.cancel();

    assertTrue(ctx.isDone());
    ContextCancelledException err = ctx.err().orElseThrow();
    assertFalse(err.isDeadlineExceeded());
    assertFalse(err instanceof DeadlineExceededException);
    assertSame(err, ctx.cause().orElseThrow(), "Go: Cause(ctx) == Err() without a cause");
  }

  @Test
  void cancelWithACauseReportsTheCauseSeparatelyFromErr() {
    CancelableContext ctx = Context.background().withCancel();

    ctx.cancel(BOOM);

    assertInstanceOf(ContextCancelledException.class, ctx.err().orElseThrow());
    assertSame(BOOM, ctx.cause().orElseThrow());
  }

  @Test
  void onlyTheFirstCancellationCounts() {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel(BOOM);
    ContextCancelledException err = ctx.err().orElseThrow();

    ctx.cancel(new RuntimeException("later"));
    ctx.cancel();
    ctx.close();

    assertSame(err, ctx.err().orElseThrow());
    assertSame(BOOM, ctx.cause().orElseThrow());
  }

  @Test
  void closeCancelsSoTryWithResourcesIsDeferCancel() {
    CancelableContext outer;
    try (CancelableContext ctx = Context.background().withCancel()) {
      outer = ctx;
      assertFalse(ctx.isDone());
    }
    assertTrue(outer.isDone());
    assertNoHooks(outer);
  }

  @Test
  void cancelRejectsANullCause() {
    CancelableContext ctx = Context.background().withCancel();
    assertThrows(NullPointerException.class, () -> ctx.cancel(null));
    assertFalse(ctx.isDone());
  }

  @Test
  void throwIfDoneThrowsAFreshExceptionCarryingTheCause() {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel(BOOM);

    var first = assertThrows(ContextCancelledException.class, ctx::throwIfDone);
    var second = assertThrows(ContextCancelledException.class, ctx::throwIfDone);

    assertSame(BOOM, first.getCause());
    assertNotSame(first, second, "each throw has the caller's own stack");
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void concurrentCancelsAgreeOnOneCause(ThreadKind kind) throws Exception {
    // given
    CancelableContext ctx = Context.background().withCancel();
    CountDownLatch go = new CountDownLatch(1);
    List<Spawned<Void>> cancellers = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      RuntimeException cause = new RuntimeException("cause " + i);
      cancellers.add(
          Spawned.start(
              kind,
              () -> {
                go.await();
                ctx.cancel(cause);
                // every canceller sees the context done when its cancel returns
                if (!ctx.isDone()) {
                  throw new AssertionError("not done after cancel returned");
                }
                return null;
              }));
    }

    // when
    go.countDown();
    for (Spawned<Void> c : cancellers) {
      c.join();
    }

    // then
    Throwable cause = ctx.cause().orElseThrow();
    assertTrue(cause.getMessage().startsWith("cause "));
    assertSame(cause, ctx.cause().orElseThrow());
    assertNoHooks(ctx);
  }

  // ================================================================ the tree

  @Test
  void cancellingAParentCancelsEveryDescendantBeforeCancelReturns() {
    // given a tree three levels deep, through value contexts too
    CancelableContext root = Context.background().withCancel();
    List<Context> descendants = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      CancelableContext child = root.withCancel();
      descendants.add(child);
      Context valued = child.withValue(USER, "u" + i);
      descendants.add(valued);
      for (int j = 0; j < 5; j++) {
        CancelableContext grandchild = valued.withCancel();
        descendants.add(grandchild);
        descendants.add(grandchild.withCancel());
      }
    }

    // when
    root.cancel(BOOM);

    // then, with no waiting at all
    for (Context d : descendants) {
      assertTrue(d.isDone(), d.toString());
      assertSame(root.err().orElseThrow(), d.err().orElseThrow());
      assertSame(BOOM, d.cause().orElseThrow());
      if (d instanceof CancelContext cc) {
        assertNoHooks(cc);
      }
    }
  }

  @Test
  void aChildOfAPlainlyCancelledParentReportsTheParentsErrAsCause() {
    CancelableContext root = Context.background().withCancel();
    CancelableContext child = root.withCancel();

    root.cancel();

    assertSame(root.err().orElseThrow(), child.err().orElseThrow());
    assertSame(root.err().orElseThrow(), child.cause().orElseThrow());
  }

  @Test
  void cancellingAChildDoesNotCancelItsParentOrSiblings() {
    CancelableContext parent = Context.background().withCancel();
    CancelableContext child = parent.withCancel();
    CancelableContext sibling = parent.withCancel();

    child.cancel(BOOM);

    assertFalse(parent.isDone());
    assertFalse(sibling.isDone());
    assertEquals(Optional.empty(), parent.cause());
  }

  @Test
  void aCancelledChildLeavesItsParent() {
    CancelableContext parent = Context.background().withCancel();
    CancelableContext child = parent.withCancel();
    assertEquals(1, ((CancelContext) parent).pendingHooks());

    child.cancel();

    assertNoHooks(parent);
  }

  @Test
  void aHundredThousandShortLivedChildrenLeaveNothingBehindInTheParent() {
    shortLivedChildrenLeaveNothingBehind(100_000);
  }

  /** About 3.5 µs per child on a 2-core machine, nearly all of it the cancel error's stack. */
  @Test
  @Tag("stress-long")
  void aMillionShortLivedChildrenLeaveNothingBehindInTheParent() {
    shortLivedChildrenLeaveNothingBehind(1_000_000);
  }

  private static void shortLivedChildrenLeaveNothingBehind(int n) {
    // given a long-lived parent
    CancelableContext parent = Context.background().withCancel();
    Context valued = parent.withValue(USER, "u");

    // when
    for (int i = 0; i < n; i++) {
      try (CancelableContext child = (i % 2 == 0 ? parent : valued).withCancel()) {
        if (child.isDone()) {
          throw new AssertionError("born done");
        }
      }
    }

    // then
    assertNoHooks(parent);
  }

  @Test
  void cancellingTheRootOfAChainFarDeeperThanAStackCancelsEveryContextInIt() {
    // given a chain of contexts, each the child of the one before, with a sibling at every level
    CancelableContext root = Context.background().withCancel();
    List<CancelableContext> chain = new ArrayList<>();
    Context parent = root;
    for (int i = 0; i < 100_000; i++) {
      CancelableContext child = parent.withCancel();
      chain.add(child);
      chain.add(parent.withCancel());
      parent = i % 2 == 0 ? child : child.withValue(USER, "level " + i);
    }

    // when
    root.cancel(BOOM);

    // then every one of them is done, with the root's cause, and holds nothing
    for (CancelableContext c : chain) {
      assertTrue(c.isDone());
      assertSame(BOOM, c.cause().orElseThrow());
      ((CancelContext) c).checkInvariants();
      assertEquals(0, ((CancelContext) c).pendingHooks());
    }
  }

  @Test
  void aChildBelowAHundredThousandValuesFindsThemAllAndEndsWithItsAncestor() {
    // given a hundred thousand values between a cancelable context and a child of it
    CancelableContext ancestor = Context.background().withCancel();
    Context.Key<Integer> first = Context.Key.named("first");
    Context valued = ancestor.withValue(first, 0);
    for (int i = 1; i < 100_000; i++) {
      valued = valued.withValue(USER, "level " + i);
    }
    CancelableContext child = valued.withCancel();
    Context.Key<String> missing = Context.Key.named("missing");

    // when the ancestor is cancelled
    ancestor.cancel(BOOM);

    // then the child below the values is done with its cause, and finds the values
    assertTrue(valued.isDone());
    assertTrue(child.isDone());
    assertSame(BOOM, child.cause().orElseThrow());
    assertEquals(Optional.of(0), child.value(first));
    assertEquals(Optional.of("level 99999"), child.value(USER));
    assertEquals(Optional.empty(), child.value(missing));
    assertEquals(0, ((CancelContext) ancestor).pendingHooks());
  }

  @Test
  void aChildOfADoneParentIsBornDoneWithTheParentsCauseAndLeavesNoHook() {
    CancelableContext parent = Context.background().withCancel();
    parent.cancel(BOOM);

    CancelableContext child = parent.withCancel();

    assertTrue(child.isDone());
    assertSame(BOOM, child.cause().orElseThrow());
    assertNoHooks(parent);
    assertNoHooks(child);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void everyChildCreatedWhileTheParentIsBeingCancelledEndsDone(ThreadKind kind) throws Exception {
    // given threads that keep creating children while the parent is cancelled
    CancelableContext parent = Context.background().withCancel();
    ConcurrentLinkedQueue<CancelableContext> children = new ConcurrentLinkedQueue<>();
    CountDownLatch someCreated = new CountDownLatch(1_000);
    List<Spawned<Void>> creators = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      creators.add(
          Spawned.start(
              kind,
              () -> {
                for (int i = 0; i < 100_000 && !parent.isDone(); i++) {
                  children.add(parent.withCancel());
                  someCreated.countDown();
                }
                children.add(parent.withCancel()); // one certainly after the cancel
                return null;
              }));
    }
    someCreated.await();

    // when
    parent.cancel(BOOM);
    for (Spawned<Void> c : creators) {
      c.join();
    }

    // then
    for (CancelableContext c : children) {
      assertTrue(c.isDone());
      assertSame(BOOM, c.cause().orElseThrow());
    }
    assertNoHooks(parent);
  }

  // ================================================================ values

  @Test
  void aValueIsFoundInTheContextAndItsDescendants() {
    Context ctx = Context.background().withValue(USER, "ann");

    assertEquals(Optional.of("ann"), ctx.value(USER));
    assertEquals(Optional.of("ann"), ctx.withCancel().value(USER));
    assertEquals(Optional.of("ann"), ctx.withoutCancel().value(USER));
    assertEquals(Optional.of("ann"), ctx.withValue(TRACE, "t1").value(USER));
    assertEquals(Optional.empty(), ctx.value(TRACE));
  }

  @Test
  void theNearestValueShadowsAnAncestorsAndTheAncestorKeepsItsOwn() {
    Context outer = Context.background().withValue(USER, "ann");
    Context inner = outer.withCancel().withValue(USER, "bob");

    assertEquals(Optional.of("bob"), inner.value(USER));
    assertEquals(Optional.of("ann"), outer.value(USER));
  }

  @Test
  void keysCompareByIdentityNotName() {
    Context.Key<String> twin = Context.Key.named("user");
    Context ctx = Context.background().withValue(USER, "ann");

    assertEquals(Optional.empty(), ctx.value(twin));
    assertEquals("Key[user]", twin.toString());
  }

  @Test
  void withValueRejectsNulls() {
    Context bg = Context.background();
    assertThrows(NullPointerException.class, () -> bg.withValue(null, "v"));
    assertThrows(NullPointerException.class, () -> bg.withValue(USER, null));
  }

  @Test
  void aValueContextSharesItsParentsCancellation() {
    CancelableContext parent = Context.background().withCancel();
    Context valued = parent.withValue(USER, "ann");

    parent.cancel(BOOM);

    assertTrue(valued.isDone());
    assertSame(parent.err().orElseThrow(), valued.err().orElseThrow());
    assertSame(BOOM, valued.cause().orElseThrow());
    assertSame(BOOM, assertThrows(ContextCancelledException.class, valued::throwIfDone).getCause());
  }

  // ================================================================ withoutCancel

  @Test
  void withoutCancelKeepsValuesButNotCancellation() {
    CancelableContext parent = Context.background().withCancel();
    Context detached = parent.withValue(USER, "ann").withoutCancel();

    parent.cancel(BOOM);

    assertFalse(detached.isDone());
    assertEquals(Optional.empty(), detached.err());
    assertEquals(Optional.empty(), detached.cause());
    assertEquals(Optional.of("ann"), detached.value(USER));
    assertInstanceOf(TryReceived.WouldBlock.class, detached.done().tryReceive());
    detached.throwIfDone();
  }

  @Test
  void withoutCancelRegistersNothingWithItsParent() {
    CancelableContext parent = Context.background().withCancel();

    Context detached = parent.withoutCancel();
    CancelableContext child = detached.withCancel();

    assertNoHooks(parent);
    child.cancel();
    assertFalse(parent.isDone());
    assertFalse(detached.isDone());
  }

  // ================================================================ afterFunc

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void afterFuncRunsOnceOnANewVirtualThreadWhenTheContextIsCancelled(ThreadKind kind)
      throws Exception {
    // given
    CancelableContext ctx = Context.background().withCancel();
    AtomicInteger runs = new AtomicInteger();
    AtomicReference<Thread> ranOn = new AtomicReference<>();
    CountDownLatch ran = new CountDownLatch(1);
    Context.AfterFunc f =
        ctx.afterFunc(
            () -> {
              runs.incrementAndGet();
              ranOn.set(Thread.currentThread());
              ran.countDown();
            });
    assertEquals(1, ((CancelContext) ctx).pendingHooks());

    // when cancelled from a thread of the given kind, twice
    Spawned<Thread> canceller =
        Spawned.start(
            kind,
            () -> {
              ctx.cancel();
              ctx.cancel();
              return Thread.currentThread();
            });
    Thread cancellingThread = canceller.join();
    ran.await();

    // then
    assertEquals(1, runs.get());
    assertNotSame(cancellingThread, ranOn.get());
    assertTrue(ranOn.get().isVirtual());
    assertFalse(f.stop(), "stop after the start reports false");
    assertNoHooks(ctx);
  }

  @Test
  void afterFuncOnADoneContextRunsAtOnce() throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();
    CountDownLatch ran = new CountDownLatch(1);

    Context.AfterFunc f = ctx.afterFunc(ran::countDown);

    ran.await();
    assertFalse(f.stop());
  }

  @Test
  void stopBeforeCancellationPreventsTheRunAndReportsTrueOnce() throws Exception {
    // given
    CancelableContext ctx = Context.background().withCancel();
    AtomicInteger runs = new AtomicInteger();
    Context.AfterFunc f = ctx.afterFunc(runs::incrementAndGet);

    // when
    boolean first = f.stop();
    boolean second = f.stop();

    // then
    assertTrue(first);
    assertFalse(second, "stopping again reports false");
    assertNoHooks(ctx);

    // and a later cancellation starts nothing: a second afterFunc registered after the first is
    // started by the same cancel, and once it ran the first would have been started already
    CountDownLatch witness = new CountDownLatch(1);
    ctx.afterFunc(witness::countDown);
    ctx.cancel();
    witness.await();
    assertEquals(0, runs.get());
    assertFalse(f.stop());
  }

  @Test
  void afterFuncOnAContextThatCanNeverBeDoneNeverRunsAndCanBeStopped() {
    AtomicInteger runs = new AtomicInteger();
    Context.AfterFunc f = Context.background().afterFunc(runs::incrementAndGet);

    assertTrue(f.stop());
    assertFalse(f.stop());
    assertEquals(0, runs.get());
  }

  @Test
  void afterFuncOnAChildRunsWhenTheParentIsCancelled() throws Exception {
    CancelableContext parent = Context.background().withCancel();
    Context child = parent.withValue(USER, "ann").withCancel();
    CountDownLatch ran = new CountDownLatch(1);
    child.afterFunc(ran::countDown);

    parent.cancel();

    ran.await();
    assertNoHooks(parent);
  }

  // ================================================================ done() and onDone

  @Test
  void theDoneChannelIsOpenWhileLiveAndClosedOnceCancelled() {
    CancelableContext ctx = Context.background().withCancel();
    ReceiveChannel<Void> done = ctx.done();
    assertInstanceOf(TryReceived.WouldBlock.class, done.tryReceive());
    assertSame(done, ctx.done(), "one channel per context");

    ctx.cancel();

    assertTrue(done.isClosed());
    assertEquals(Received.Closed.of(null), done.tryReceive());
  }

  @Test
  void theDoneChannelOfAnAlreadyCancelledContextIsClosed() {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    assertTrue(ctx.done().isClosed());
    assertFalse(ctx.done().tryReceive().ok());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aReceiverBlockedOnDoneIsWokenByCancellation(ThreadKind kind) throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    Spawned<Received<Void>> waiter =
        Spawned.start(kind, () -> ctx.done().receiveOrClosed()).awaitBlocked();

    ctx.cancel();

    assertFalse(waiter.join().ok());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void theDoneChannelWorksInASelect(ThreadKind kind) throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    Channel<String> work = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
                kind,
                () ->
                    Select.select(
                        work.onReceive(v -> v), ctx.done().onReceiveOrClosed(r -> "cancelled")))
            .awaitBlocked();

    ctx.cancel();

    assertEquals("cancelled", s.join());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void theDoneChannelOfAChildClosesWhenTheParentIsCancelled(ThreadKind kind) throws Exception {
    CancelableContext parent = Context.background().withCancel();
    Context child = parent.withValue(USER, "u").withCancel();
    Spawned<Received<Void>> waiter =
        Spawned.start(kind, () -> child.done().receiveOrClosed()).awaitBlocked();

    parent.cancel();

    assertFalse(waiter.join().ok());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void anOnDoneClauseFiresWhenTheContextIsCancelledAndLeavesNoHook(ThreadKind kind)
      throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    Context valued = ctx.withValue(USER, "u");
    Spawned<String> s =
        Spawned.start(kind, () -> Select.select(valued.onDone(() -> "done"))).awaitBlocked();
    assertEquals(1, ((CancelContext) ctx).pendingHooks());

    ctx.cancel();

    assertEquals("done", s.join());
    assertNoHooks(ctx);
  }

  @Test
  void awaitDoneReturnsAtOnceForAContextAlreadyDone() throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    ctx.awaitDone();

    assertTrue(ctx.isDone());
  }

  @Test
  void awaitDoneReturnsWhenAnotherThreadCancels() throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    ctx.withValue(USER, "u").awaitDone();
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
    while (waiter.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }

    ctx.cancel();
    waiter.join();

    assertEquals(null, failure.get());
  }

  @Test
  void awaitDoneOnABackgroundContextEndsOnlyByInterruption() throws Exception {
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Context.background().awaitDone();
                  } catch (Throwable t) {
                    failure.set(t);
                  }
                });
    while (waiter.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }

    waiter.interrupt();
    waiter.join();

    assertInstanceOf(InterruptedException.class, failure.get());
  }

  @Test
  void awaitDoneOnAnInterruptedThreadThrowsWithoutWaiting() {
    CancelableContext ctx = Context.background().withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, ctx::awaitDone);
    assertFalse(Thread.interrupted(), "the interrupt is consumed by the exception");
  }

  @Test
  void awaitDoneOnAnInterruptedThreadReturnsForAContextDoneAlreadyAndKeepsTheStatus()
      throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();
    Thread.currentThread().interrupt();

    ctx.awaitDone();

    assertTrue(Thread.interrupted(), "the interrupt status is left for the caller");
  }

  // ================================================================ toString

  @Test
  void toStringSpellsOutAShortChainFromTheRoot() {
    CancelableContext cancelled = Context.background().withCancel();
    Context ctx = cancelled.withValue(USER, "ann").withoutCancel();
    cancelled.cancel();

    assertEquals(
        "context.Background.WithCancel[context cancelled].WithValue(Key[user], ann).WithoutCancel",
        ctx.toString());
  }

  @Test
  void toStringOfAChainFarDeeperThanAStackNamesTheRootAndTheNearestLevelsOnly() {
    // given a hundred thousand contexts of every kind, each derived from the one before
    Context ctx = Context.background();
    for (int i = 0; i < 100_000; i++) {
      ctx =
          switch (i % 3) {
            case 0 -> ctx.withCancel();
            case 1 -> ctx.withValue(USER, "level " + i);
            default -> ctx.withoutCancel();
          };
    }
    Context deepest = ctx.withValue(TRACE, "t1");

    // when
    String s = deepest.toString();

    // then it names the root, sums up the levels it leaves out, and ends at the context itself
    int shown = BaseContext.TO_STRING_LEVELS;
    assertTrue(s.startsWith("context.Background.(... " + (100_001 - shown) + " more)"), s);
    assertTrue(s.endsWith(".WithoutCancel.WithCancel[live].WithValue(Key[trace], t1)"), s);
    assertTrue(s.contains(".WithValue(Key[user], level 99997)"), s);
    assertFalse(s.contains("level 99982"), s);
    assertTrue(s.length() < 1_000, "bounded, but " + s.length() + " characters");
  }

  // ================================================================ hooks that throw

  @Test
  void aHookThatThrowsARuntimeExceptionDoesNotStopTheOthersAndIsThrownAfterThem() throws Exception {
    aHookThatThrowsDoesNotStopTheOthers(new IllegalStateException("hook failed"));
  }

  @Test
  void aHookThatThrowsAnErrorDoesNotStopTheOthersAndIsThrownAfterThem() throws Exception {
    aHookThatThrowsDoesNotStopTheOthers(new InternalError("a broken hook"));
  }

  private static void aHookThatThrowsDoesNotStopTheOthers(Throwable thrown) throws Exception {
    // given a context whose first hook throws, then a thread blocked on a grandchild, a hook, and a
    // child whose own first hook throws too
    CancelableContext root = Context.background().withCancel();
    ((BaseContext) root).register(() -> sneakyThrow(thrown));
    CancelableContext grandchild = root.withCancel().withValue(USER, "u").withCancel();
    Channel<String> never = Channel.unbuffered();
    Spawned<String> receiver = Spawned.start(ThreadKind.VIRTUAL, () -> never.receive(grandchild));
    AtomicInteger ran = new AtomicInteger();
    ((BaseContext) root).register(ran::incrementAndGet);
    CancelableContext child = root.withCancel();
    IllegalArgumentException childsFailure = new IllegalArgumentException("child's hook failed");
    ((BaseContext) child).register(() -> sneakyThrow(childsFailure));
    ((BaseContext) child).register(ran::incrementAndGet);
    receiver.awaitBlocked();

    try {
      // when
      Throwable e = assertThrows(Throwable.class, root::cancel);

      // then every hook ran, every descendant is done and holds nothing, and the first failure is
      // thrown with the later one suppressed
      assertSame(thrown, e);
      assertEquals(List.of(childsFailure), List.of(e.getSuppressed()));
      assertEquals(2, ran.get());
      receiver.joinThrowing(ContextCancelledException.class);
      for (Context c : List.of(root, child, grandchild)) {
        assertTrue(c.isDone(), c.toString());
        assertNoHooks(c);
      }
    } finally {
      receiver.interrupt(); // only if the test failed with the receiver still blocked
    }
  }

  @Test
  void anErrorFromALaterHookIsThrownBeforeAnEarlierRuntimeException() {
    CancelableContext ctx = Context.background().withCancel();
    IllegalStateException first = new IllegalStateException("first");
    StackOverflowError second = new StackOverflowError("second");
    ((BaseContext) ctx).register(() -> sneakyThrow(first));
    ((BaseContext) ctx).register(() -> sneakyThrow(second));

    Throwable e = assertThrows(Throwable.class, ctx::cancel);

    assertSame(second, e);
    assertEquals(List.of(first), List.of(e.getSuppressed()));
  }

  @SuppressWarnings("unchecked")
  private static <X extends Throwable> void sneakyThrow(Throwable t) throws X {
    throw (X) t;
  }
}
