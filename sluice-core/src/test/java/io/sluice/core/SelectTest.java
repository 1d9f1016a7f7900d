package io.sluice.core;

import static io.sluice.core.ChannelTest.assertNoHooks;
import static io.sluice.core.ChannelTest.assertSound;
import static io.sluice.core.ChannelTest.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Go's select: clause kinds, exactly-one completion, fair choice, wake-ups, clean-up. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SelectTest {
  private static final RuntimeException BOOM = new RuntimeException("boom");
  private static final Duration FOREVER = ChannelOps.FOREVER;

  // ================================================================ each clause kind, ready

  @Test
  void aReceiveClauseOnAChannelWithAValueReceivesItAndRunsItsHandler() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.send("v");

    String r = Select.select(ch.onReceive(v -> "got " + v));

    assertEquals("got v", r);
    assertEquals(0, ch.len());
  }

  @Test
  void aSendClauseOnAChannelWithRoomSendsAndRunsItsHandler() throws Exception {
    Channel<String> ch = Channel.buffered(1);

    String r = Select.select(ch.onSend("v", () -> "sent"));

    assertEquals("sent", r);
    assertEquals(List.of("v"), drain(ch));
  }

  @Test
  void theDefaultClauseIsChosenWhenNothingElseIsReady() throws Exception {
    Channel<String> in = Channel.unbuffered();
    Channel<String> out = Channel.unbuffered();

    String r =
        Select.select(
            in.onReceive(v -> "received"),
            out.onSend("v", () -> "sent"),
            Select.onDefault(() -> "default"));

    assertEquals("default", r);
    assertSound(in);
    assertSound(out);
    assertFalse(out.trySend("x"), "the select left no receiver behind");
  }

  @Test
  void theDefaultClauseIsNotChosenWhenAnotherIsReady() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.send("v");

    for (int i = 0; i < 100; i++) {
      String r = Select.select(Select.onDefault(() -> "default"), ch.onReceive(v -> v));
      assertEquals("v", r);
      ch.send("v");
    }
  }

  @Test
  void aZeroTimeoutFiresAtOnceWhenNothingIsReady() throws Exception {
    Channel<String> ch = Channel.unbuffered();

    String r = Select.select(ch.onReceive(v -> v), Select.onTimeout(Duration.ZERO, () -> "late"));

    assertEquals("late", r);
    assertSound(ch);
  }

  @Test
  void aTimeoutFiresWhenNothingBecomesReady() throws Exception {
    Channel<String> ch = Channel.unbuffered();

    String r =
        Select.select(ch.onReceive(v -> v), Select.onTimeout(Duration.ofMillis(5), () -> "late"));

    assertEquals("late", r);
    assertSound(ch);
    assertFalse(ch.trySend("x"), "the timed-out select left no receiver behind");
  }

  @Test
  void theEarliestOfSeveralTimeoutsCounts() throws Exception {
    String r =
        Select.select(
            Select.onTimeout(FOREVER, () -> "forever"),
            Select.onTimeout(Duration.ofMillis(1), () -> "soon"),
            Select.onTimeout(FOREVER.multipliedBy(2), () -> "later"));

    assertEquals("soon", r);
  }

  @Test
  void aTimeoutIsNotChosenWhileAnotherClauseIsReady() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.send("v");

    String r = Select.select(Select.onTimeout(Duration.ZERO, () -> "late"), ch.onReceive(v -> v));

    assertEquals("v", r);
  }

  @Test
  void aDoneClauseOfACancelledContextIsReady() throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    String r =
        Select.select(ctx.onDone(() -> "done"), Channel.<String>unbuffered().onReceive(v -> v));

    assertEquals("done", r);
  }

  @Test
  void aDoneClauseOfALiveContextIsNotReady() throws Exception {
    CancelableContext ctx = Context.background().withCancel();

    String r =
        Select.select(
            ctx.onDone(() -> "done"),
            Context.background().onDone(() -> "background done"),
            Select.onDefault(() -> "default"));

    assertEquals("default", r);
    assertNoHooks(ctx);
  }

  @Test
  void neverDoesNotFire() throws Exception {
    String r = Select.select(Select.never(), Select.onDefault(() -> "default"));
    assertEquals("default", r);
  }

  @Test
  void aSelectOfOnlyNeverClausesIsRejectedBecauseItWouldBlockForEver() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> Select.select(Select.never(), Select.never()));
    assertTrue(e.getMessage().contains("never"), e.getMessage());
  }

  @Test
  void anEmptySelectIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> Select.select());
  }

  @Test
  void twoDefaultClausesAreRejected() {
    var e =
        assertThrows(
            IllegalArgumentException.class,
            () -> Select.select(Select.onDefault(() -> 1), Select.onDefault(() -> 2)));
    assertTrue(e.getMessage().contains("default"), e.getMessage());
  }

  @Test
  void aNullClauseIsRejected() {
    assertThrows(
        NullPointerException.class,
        () -> Select.select(Select.onDefault(() -> 1), (Clause<Integer>) null));
  }

  // ================================================================ closed channels

  @Test
  void onReceiveOrClosedOfAClosedChannelIsReadyAndReportsClosedWithTheError() throws Exception {
    Channel<String> ch = Channel.unbuffered();
    ch.close(BOOM);

    Received<String> r = Select.select(ch.onReceiveOrClosed(x -> x), Select.onDefault(() -> null));

    assertEquals(new Received.Closed<String>(Optional.of(BOOM)), r);
  }

  @Test
  void onReceiveOrClosedDrainsBufferedValuesBeforeReportingClosed() throws Exception {
    Channel<String> ch = Channel.buffered(2);
    ch.send("a");
    ch.close();

    assertEquals(new Received.Value<>("a"), Select.select(ch.onReceiveOrClosed(x -> x)));
    assertEquals(Received.Closed.of(null), Select.select(ch.onReceiveOrClosed(x -> x)));
  }

  @Test
  void onReceiveOfAClosedChannelMakesTheSelectThrowWithTheCause() {
    Channel<String> ch = Channel.unbuffered();
    ch.close(BOOM);

    var e =
        assertThrows(
            ChannelClosedException.class,
            () -> Select.select(ch.onReceive(v -> v), Select.onDefault(() -> "default")));

    assertSame(BOOM, e.getCause());
  }

  @Test
  void aSendClauseOnAClosedChannelMakesTheSelectThrow() {
    Channel<String> ch = Channel.buffered(1);
    ch.close(BOOM);

    var e =
        assertThrows(
            ChannelClosedException.class,
            () -> Select.select(ch.onSend("v", () -> "sent"), Select.onDefault(() -> "default")));

    assertSame(BOOM, e.getCause());
    assertEquals(0, ch.len());
  }

  // ================================================================ exactly one

  @Test
  void exactlyOneOfSeveralReadyReceiveClausesCompletes() throws Exception {
    // given three channels with one value each
    List<Channel<Integer>> chans =
        List.of(Channel.buffered(1), Channel.buffered(1), Channel.buffered(1));
    for (int i = 0; i < 3; i++) {
      chans.get(i).send(i);
    }

    // when
    int got =
        Select.select(
            chans.get(0).onReceive(v -> v),
            chans.get(1).onReceive(v -> v),
            chans.get(2).onReceive(v -> v));

    // then only the chosen channel lost its value
    for (int i = 0; i < 3; i++) {
      assertEquals(i == got ? 0 : 1, chans.get(i).len(), "channel " + i);
    }
  }

  @Test
  void exactlyOneOfSeveralReadySendClausesCompletes() throws Exception {
    List<Channel<String>> chans =
        List.of(Channel.buffered(1), Channel.buffered(1), Channel.unlimited());

    int chosen =
        Select.select(
            chans.get(0).onSend("v", () -> 0),
            chans.get(1).onSend("v", () -> 1),
            chans.get(2).onSend("v", () -> 2));

    for (int i = 0; i < 3; i++) {
      assertEquals(i == chosen ? 1 : 0, chans.get(i).len(), "channel " + i);
    }
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedSelectCompletesOnlyTheClauseItsCounterpartMatched(ThreadKind kind) throws Exception {
    // given a select blocked on two receives and a send to a full channel
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.buffered(2);
    Channel<String> full = Channel.buffered(1);
    full.send("filler");
    Spawned<String> select =
        Spawned.start(
                kind,
                () ->
                    Select.select(
                        a.onReceive(v -> "a:" + v),
                        b.onReceive(v -> "b:" + v),
                        full.onSend("sent", () -> "full")))
            .awaitBlocked();

    // when
    a.send("x");

    // then the other channels are as they were, with no node left in their queues
    assertEquals("a:x", select.join());
    assertEquals(List.of("filler"), drain(full));
    assertTrue(b.trySend("y"));
    assertEquals(List.of("y"), drain(b));
    assertFalse(a.trySend("z"), "no receiver remains on a");
    assertNoNodesQueued(a, b, full);
  }

  // ================================================================ fairness

  @Test
  void aReadyClauseIsChosenUniformlyAtRandom() throws Exception {
    // given three channels that always hold a value
    int n = 30_000;
    List<Channel<Integer>> chans =
        List.of(Channel.buffered(1), Channel.buffered(1), Channel.buffered(1));
    for (int i = 0; i < 3; i++) {
      chans.get(i).send(i);
    }
    int[] chosen = new int[3];

    // when
    for (int k = 0; k < n; k++) {
      int i =
          Select.select(
              chans.get(0).onReceive(v -> v),
              chans.get(1).onReceive(v -> v),
              chans.get(2).onReceive(v -> v));
      chosen[i]++;
      chans.get(i).send(i);
    }

    // then each share is near a third (the bound is ~20 standard deviations wide)
    for (int i = 0; i < 3; i++) {
      double share = chosen[i] / (double) n;
      assertTrue(share > 0.28 && share < 0.39, "clause " + i + ": " + Arrays.toString(chosen));
    }
  }

  @Test
  void theChoiceIsUniformAcrossClauseKindsAndIgnoresClausesThatAreNotReady() throws Exception {
    // given a ready receive, a ready send, a ready done clause, and two clauses never ready
    int n = 30_000;
    Channel<Integer> in = Channel.buffered(1);
    Channel<Integer> out = Channel.unlimited();
    Channel<Integer> empty = Channel.unbuffered();
    CancelableContext done = Context.background().withCancel();
    done.cancel();
    in.send(0);
    int[] chosen = new int[3];

    // when
    for (int k = 0; k < n; k++) {
      int i =
          Select.select(
              empty.onReceive(v -> 9),
              in.onReceive(v -> 0),
              out.onSend(1, () -> 1),
              Select.never(),
              done.onDone(() -> 2));
      chosen[i]++;
      if (i == 0) {
        in.send(0);
      }
    }

    // then
    for (int i = 0; i < 3; i++) {
      double share = chosen[i] / (double) n;
      assertTrue(share > 0.28 && share < 0.39, "clause " + i + ": " + Arrays.toString(chosen));
    }
    assertEquals(chosen[1], out.len());
  }

  @Test
  void successiveChoicesBetweenTwoReadyClausesAreIndependentCoinFlips() throws Exception {
    // given two channels that always hold a value
    int n = 60_000;
    Channel<Integer> a = Channel.buffered(1);
    Channel<Integer> b = Channel.buffered(1);
    a.send(0);
    b.send(1);
    int[] choices = new int[n];

    // when
    for (int k = 0; k < n; k++) {
      int i = Select.select(a.onReceive(v -> v), b.onReceive(v -> v));
      choices[k] = i;
      (i == 0 ? a : b).send(i);
    }

    // then not only are the shares even: no rotation or pattern shows (IndependentChoices)
    IndependentChoices.assertIndependentUniform(choices, 2);
  }

  @Test
  void successiveChoicesAmongThreeReadyClausesOfDifferentKindsAreIndependent() throws Exception {
    // given a ready receive, a ready send and a ready done clause
    int n = 60_000;
    Channel<Integer> in = Channel.buffered(1);
    Channel<Integer> out = Channel.buffered(1);
    CancelableContext done = Context.background().withCancel();
    done.cancel();
    in.send(0);
    int[] choices = new int[n];

    // when
    for (int k = 0; k < n; k++) {
      int i = Select.select(in.onReceive(v -> 0), out.onSend(1, () -> 1), done.onDone(() -> 2));
      choices[k] = i;
      if (i == 0) {
        in.send(0);
      } else if (i == 1) {
        assertEquals(1, out.receive());
      }
    }

    // then
    IndependentChoices.assertIndependentUniform(choices, 3);
  }

  // ================================================================ wake-ups while blocked

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedReceiveClauseIsWokenByASender(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.unbuffered();
    Spawned<String> s = blockedSelectOnReceives(kind, a, b);

    b.send("v");

    assertEquals("b:v", s.join());
    assertNoNodesQueued(a, b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedSendClauseIsWokenByAReceiver(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.buffered(1);
    b.send("filler");
    Spawned<String> s =
        Spawned.start(kind, () -> Select.select(a.onSend("x", () -> "a"), b.onSend("y", () -> "b")))
            .awaitBlocked();

    assertEquals("x", a.receive());

    assertEquals("a", s.join());
    assertEquals(List.of("filler"), drain(b));
    assertNoNodesQueued(a, b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedSendClauseOnABufferedChannelIsWokenWhenAReceiveMakesRoom(ThreadKind kind)
      throws Exception {
    Channel<String> b = Channel.buffered(1);
    b.send("filler");
    Spawned<String> s =
        Spawned.start(
                kind,
                () ->
                    Select.select(
                        b.onSend("y", () -> "sent"), Select.onTimeout(FOREVER, () -> "t")))
            .awaitBlocked();

    assertEquals("filler", b.receive());

    assertEquals("sent", s.join());
    assertEquals(List.of("y"), drain(b));
    assertNoNodesQueued(b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedSelectIsWokenByAnotherSelect(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.unbuffered();
    Spawned<String> s = blockedSelectOnReceives(kind, a, b);

    String r =
        Select.select(a.onSend("v", () -> "sent on a"), Select.onTimeout(FOREVER, () -> "t"));

    assertEquals("sent on a", r);
    assertEquals("a:v", s.join());
    assertNoNodesQueued(a, b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedReceiveOrClosedClauseIsWokenByClose(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.unbuffered();
    Spawned<Received<String>> s =
        Spawned.start(
                kind, () -> Select.select(a.onReceiveOrClosed(r -> r), b.onReceiveOrClosed(r -> r)))
            .awaitBlocked();

    b.close(BOOM);

    assertEquals(new Received.Closed<String>(Optional.of(BOOM)), s.join());
    assertNoNodesQueued(a, b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedOnReceiveClauseThrowsWhenItsChannelCloses(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.unbuffered();
    Spawned<String> s = blockedSelectOnReceives(kind, a, b);

    a.close(BOOM);

    assertSame(BOOM, s.joinThrowing(ChannelClosedException.class).getCause());
    assertNoNodesQueued(a, b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedSendClauseThrowsWhenItsChannelCloses(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(kind, () -> Select.select(a.onSend("x", () -> "a"), b.onReceive(v -> v)))
            .awaitBlocked();

    a.close(BOOM);

    assertSame(BOOM, s.joinThrowing(ChannelClosedException.class).getCause());
    assertNoNodesQueued(a, b);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedDoneClauseIsWokenByCancellation(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Spawned<String> s =
        Spawned.start(kind, () -> Select.select(a.onReceive(v -> v), ctx.onDone(() -> "done")))
            .awaitBlocked();

    ctx.cancel();

    assertEquals("done", s.join());
    assertNoNodesQueued(a);
    assertNoHooks(ctx);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aTimeoutTooLongToCountInNanosecondsWaitsAsIfForEver(ThreadKind kind) throws Exception {
    // given: about 292 years is the most a long of nanoseconds holds; this is far more
    Duration tooLong = ChronoUnit.FOREVER.getDuration();
    Channel<String> a = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
                kind,
                () -> Select.select(a.onReceive(v -> v), Select.onTimeout(tooLong, () -> "t")))
            .awaitBlocked();

    // when
    a.send("v");

    // then
    assertEquals("v", s.join());
    assertNoNodesQueued(a);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aBlockedSelectEndsByTimeout(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
            kind,
            () ->
                Select.select(
                    a.onReceive(v -> v), Select.onTimeout(Duration.ofMillis(2), () -> "t")));

    assertEquals("t", s.join());
    assertNoNodesQueued(a);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectWhoseDoneClauseContextIsNotTheSelectContextLeavesNoHooks(ThreadKind kind)
      throws Exception {
    Channel<String> a = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Spawned<String> s =
        Spawned.start(kind, () -> Select.select(a.onReceive(v -> v), ctx.onDone(() -> "done")))
            .awaitBlocked();

    a.send("v");

    assertEquals("v", s.join());
    assertNoHooks(ctx);
    assertFalse(ctx.isDone());
  }

  // ================================================================ one channel, two clauses

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void theSameChannelInTwoReceiveClausesYieldsOneValue(ThreadKind kind) throws Exception {
    Channel<String> a = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
                kind, () -> Select.select(a.onReceive(v -> "1:" + v), a.onReceive(v -> "2:" + v)))
            .awaitBlocked();

    a.send("v");

    assertTrue(List.of("1:v", "2:v").contains(s.join()));
    assertFalse(a.trySend("w"), "the second clause's node is gone");
    assertNoNodesQueued(a);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectSendingAndReceivingOnOneUnbufferedChannelDoesNotMatchItself(ThreadKind kind)
      throws Exception {
    // given one select waiting both to send to and to receive from the same channel
    Channel<String> a = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
                kind,
                () -> Select.select(a.onSend("mine", () -> "sent"), a.onReceive(v -> "got " + v)))
            .awaitBlocked();

    // when a receiver comes
    String got = a.receive();

    // then it takes the select's value
    assertEquals("mine", got);
    assertEquals("sent", s.join());
    assertNoNodesQueued(a);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectSendingAndReceivingOnOneChannelKeepsTheChannelSoundWhileItWaits(ThreadKind kind)
      throws Exception {
    Channel<String> a = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
                kind,
                () -> Select.select(a.onSend("mine", () -> "sent"), a.onReceive(v -> "got " + v)))
            .awaitBlocked();

    assertSound(a);

    a.send("theirs");
    assertEquals("got theirs", s.join());
  }

  // ================================================================ interruption and context

  @Test
  void aSelectByAnAlreadyInterruptedThreadThrowsAndCompletesNoClause() throws Exception {
    Channel<String> in = Channel.buffered(1);
    Channel<String> out = Channel.buffered(1);
    in.send("v");

    Thread.currentThread().interrupt();
    assertThrows(
        InterruptedException.class,
        () -> Select.select(in.onReceive(v -> v), out.onSend("w", () -> "sent")));

    assertFalse(Thread.interrupted());
    assertEquals(1, in.len());
    assertEquals(0, out.len());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectInterruptedWhileBlockedThrowsAndLeavesNothingQueued(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.buffered(1);
    Spawned<String> s =
        Spawned.start(
                kind,
                () ->
                    Select.select(
                        a.onReceive(v -> v), a.onSend("x", () -> "sent"), b.onReceive(v -> v)))
            .awaitBlocked();

    s.interrupt();

    s.joinThrowing(InterruptedException.class);
    assertFalse(s.interruptedAtEnd());
    assertFalse(a.trySend("y"));
    assertInstanceOfWouldBlock(a.tryReceive());
    assertNoNodesQueued(a, b);
  }

  @Test
  void aSelectWithAContextByAnAlreadyInterruptedThreadThrowsAndCompletesNoClause()
      throws Exception {
    Channel<String> in = Channel.buffered(1);
    Channel<String> out = Channel.buffered(1);
    in.send("v");
    CancelableContext ctx = Context.background().withCancel();

    Thread.currentThread().interrupt();
    assertThrows(
        InterruptedException.class,
        () -> Select.select(ctx, in.onReceive(v -> v), out.onSend("w", () -> "sent")));

    assertFalse(Thread.interrupted());
    assertEquals(1, in.len());
    assertEquals(0, out.len());
    assertNoHooks(ctx);
  }

  @Test
  void theListFormWithAContextByAnAlreadyInterruptedThreadThrowsAndCompletesNoClause()
      throws Exception {
    Channel<String> in = Channel.buffered(1);
    Channel<String> out = Channel.buffered(1);
    in.send("v");
    CancelableContext ctx = Context.background().withCancel();
    List<Clause<String>> clauses = List.of(in.onReceive(v -> v), out.onSend("w", () -> "sent"));

    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> Select.select(ctx, clauses));

    assertFalse(Thread.interrupted());
    assertEquals(1, in.len());
    assertEquals(0, out.len());
    assertNoHooks(ctx);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectWithAContextInterruptedWhileBlockedThrowsAndLeavesNothingQueued(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Spawned<String> s =
        Spawned.start(
                kind, () -> Select.select(ctx, a.onReceive(v -> v), a.onSend("x", () -> "sent")))
            .awaitBlocked();

    s.interrupt();

    s.joinThrowing(InterruptedException.class);
    assertFalse(s.interruptedAtEnd());
    assertFalse(ctx.isDone());
    assertNoNodesQueued(a);
    assertNoHooks(ctx);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void theListFormWithAContextInterruptedWhileBlockedThrowsAndLeavesNothingQueued(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.buffered(1);
    CancelableContext ctx = Context.background().withCancel();
    List<Clause<String>> clauses = List.of(a.onReceive(v -> v), b.onReceive(v -> v));
    Spawned<String> s = Spawned.start(kind, () -> Select.select(ctx, clauses)).awaitBlocked();

    s.interrupt();

    s.joinThrowing(InterruptedException.class);
    assertFalse(s.interruptedAtEnd());
    assertNoNodesQueued(a, b);
    assertNoHooks(ctx);
  }

  @Test
  void aSelectWithAnAlreadyCancelledContextThrowsEvenIfAClauseIsReady() throws Exception {
    Channel<String> in = Channel.buffered(1);
    in.send("v");
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel(BOOM);

    var e =
        assertThrows(
            ContextCancelledException.class,
            () -> Select.select(ctx, in.onReceive(v -> v), Select.onDefault(() -> "d")));

    assertSame(BOOM, e.getCause());
    assertEquals(1, in.len());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectBlockedWithAContextFailsWithTheCauseWhenItIsCancelled(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Spawned<String> s =
        Spawned.start(
                kind, () -> Select.select(ctx, a.onReceive(v -> v), a.onSend("x", () -> "sent")))
            .awaitBlocked();

    ctx.cancel(BOOM);

    assertSame(BOOM, s.joinThrowing(ContextCancelledException.class).getCause());
    assertNoNodesQueued(a);
    assertNoHooks(ctx);
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void aSelectOfOnlyNeverWithAContextWaitsForTheContext(ThreadKind kind) {
    CancelableContext ctx = Context.background().withCancel();
    Spawned<Object> s =
        Spawned.start(kind, () -> Select.select(ctx, Select.never())).awaitBlocked();

    ctx.cancel();

    s.joinThrowing(ContextCancelledException.class);
    assertNoHooks(ctx);
  }

  @Test
  void theListFormAcceptsClausesBuiltAtRunTimeAndANullContext() throws Exception {
    List<Channel<Integer>> chans = new ArrayList<>();
    List<Clause<Integer>> clauses = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      Channel<Integer> ch = Channel.buffered(1);
      chans.add(ch);
      clauses.add(ch.onReceive(v -> v));
    }
    chans.get(7).send(7);

    assertEquals(7, Select.select(null, clauses));
  }

  // ================================================================ handlers

  @Test
  void anExceptionFromAHandlerPropagatesAfterTheOperationCompleted() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.send("v");

    var e =
        assertThrows(
            IllegalStateException.class,
            () ->
                Select.select(
                    ch.onReceive(
                        v -> {
                          throw new IllegalStateException("handler failed on " + v);
                        })));

    assertEquals("handler failed on v", e.getMessage());
    assertEquals(0, ch.len(), "the value was received before the handler ran");
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void anExceptionFromTheHandlerOfAWokenSelectPropagatesAndLeavesNothingQueued(ThreadKind kind) {
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.unbuffered();
    Spawned<String> s =
        Spawned.start(
                kind,
                () ->
                    Select.select(
                        a.onReceive(
                            v -> {
                              throw new IllegalStateException(v);
                            }),
                        b.onReceive(v -> v)))
            .awaitBlocked();

    assertTrue(a.trySend("bad"));

    assertEquals("bad", s.joinThrowing(IllegalStateException.class).getMessage());
    assertNoNodesQueued(a, b);
  }

  @Test
  void theHandlerRunsOnTheSelectingThread() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.send("v");
    Thread[] ran = new Thread[1];

    Select.select(
        ch.onReceive(
            v -> {
              ran[0] = Thread.currentThread();
              return v;
            }));

    assertSame(Thread.currentThread(), ran[0]);
  }

  @Test
  void aClauseCanBeReusedAcrossSelects() throws Exception {
    Channel<Integer> ch = Channel.buffered(10);
    AtomicInteger sum = new AtomicInteger();
    Clause<Integer> clause = ch.onReceive(sum::addAndGet);
    for (int i = 1; i <= 10; i++) {
      ch.send(i);
    }

    for (int i = 0; i < 10; i++) {
      Select.select(clause);
    }

    assertEquals(55, sum.get());
  }

  // ================================================================ helpers

  private static Spawned<String> blockedSelectOnReceives(
      ThreadKind kind, Channel<String> a, Channel<String> b) {
    return Spawned.start(
            kind, () -> Select.select(a.onReceive(v -> "a:" + v), b.onReceive(v -> "b:" + v)))
        .awaitBlocked();
  }

  private static void assertInstanceOfWouldBlock(TryReceived<?> r) {
    assertEquals(TryReceived.WouldBlock.instance(), r);
  }

  /** Every channel is sound and holds no node in its wait queues, dead or alive. */
  static void assertNoNodesQueued(Channel<?>... chans) {
    for (Channel<?> ch : chans) {
      assertSound(ch);
      assertEquals(0, queuedNodes(ch), "nodes left queued on " + ch);
    }
  }

  /** The nodes linked in both wait queues, including dead ones a select left behind. */
  static int queuedNodes(Channel<?> ch) {
    ChannelImpl<?> impl = (ChannelImpl<?>) ch;
    impl.lock();
    try {
      int n = 0;
      for (String side : List.of("senders", "receivers")) {
        Field f = ChannelImpl.class.getDeclaredField(side);
        f.setAccessible(true);
        for (Node node = ((WaitQueue) f.get(impl)).first(); node != null; node = node.next) {
          n++;
        }
      }
      return n;
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    } finally {
      impl.unlock();
    }
  }
}
