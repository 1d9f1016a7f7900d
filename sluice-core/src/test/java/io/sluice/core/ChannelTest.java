package io.sluice.core;

import static io.sluice.core.ChannelOps.FOREVER;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.ChannelOps.Receive;
import io.sluice.core.ChannelOps.Send;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Channels, one behaviour per test, on every capacity and on platform and virtual threads.
 *
 * <p>Blocking is observed, never assumed: {@link Spawned#awaitBlocked()} waits until the thread is
 * parked inside the channel's wait. No test sleeps or measures time.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ChannelTest {
  private static final String SEND_OPS = "io.sluice.core.ChannelOps#allCasesAndSends";
  private static final String BLOCKING_SEND_OPS = "io.sluice.core.ChannelOps#boundedCasesAndSends";
  private static final String RECEIVE_OPS = "io.sluice.core.ChannelOps#allCasesAndReceives";
  private static final String CONTEXT_RECEIVE_OPS =
      "io.sluice.core.ChannelOps#allCasesAndContextReceives";

  private static final Context BACKGROUND = Context.background();
  private static final RuntimeException BOOM = new RuntimeException("producer failed");

  // ================================================================ len, cap, factories

  @TestWithCapacities
  void capReportsTheCapacityAndLenCountsBufferedValues(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    int room = Math.min(c.capacity(), 3);

    // when
    for (int i = 0; i < room; i++) {
      assertTrue(ch.trySend("v" + i));
    }

    // then
    assertEquals(c.capacity(), ch.cap());
    assertEquals(room, ch.len());
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#unbuffered")
  void anUnbufferedChannelHasLenZeroEvenWhileASenderWaits(ChannelCase c) throws Exception {
    // given
    Channel<String> ch = c.newChannel();

    // when
    Spawned<Void> sender = sendInBackground(c, ch, Send.SEND, "v").awaitBlocked();

    // then
    assertEquals(0, ch.len());
    assertEquals(0, ch.cap());
    assertEquals("v", ch.receive());
    sender.join();
  }

  @Test
  void aNegativeCapacityIsRejected() {
    var e = assertThrows(IllegalArgumentException.class, () -> Channel.buffered(-1));
    assertTrue(e.getMessage().contains("-1"), e.getMessage());
  }

  @Test
  void bufferedZeroIsAnUnbufferedChannel() {
    Channel<String> ch = Channel.buffered(0);
    assertEquals(0, ch.cap());
    assertFalse(ch.trySend("no receiver waits"));
  }

  // ================================================================ order

  @TestWithCapacities
  void valuesArriveInTheOrderTheyWereSent(ChannelCase c) throws Exception {
    // given
    Channel<Integer> ch = c.newChannel();
    int n = 3_000;

    // when
    Spawned<Void> producer =
        c.spawn(
            () -> {
              for (int i = 0; i < n; i++) {
                ch.send(i);
              }
              return null;
            });

    // then
    for (int i = 0; i < n; i++) {
      assertEquals(i, ch.receive());
    }
    producer.join();
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#bounded")
  void waitingSendersAreServedFirstComeFirstServed(ChannelCase c) throws Exception {
    // given a full channel and three senders that blocked one after the other
    Channel<String> ch = c.newChannel();
    List<String> expected = new ArrayList<>(c.fill(ch));
    List<Spawned<Void>> senders = new ArrayList<>();
    for (String v : List.of("first", "second", "third")) {
      senders.add(sendInBackground(c, ch, Send.SEND, v).awaitBlocked());
      expected.add(v);
    }

    // when
    List<String> got = new ArrayList<>();
    for (int i = 0; i < expected.size(); i++) {
      got.add(ch.receive());
    }

    // then
    assertEquals(expected, got);
    for (Spawned<Void> s : senders) {
      s.join();
    }
    assertSound(ch);
  }

  @TestWithCapacities
  void waitingReceiversAreServedFirstComeFirstServed(ChannelCase c) throws Exception {
    // given three receivers that blocked one after the other on an empty channel
    Channel<String> ch = c.newChannel();
    List<Spawned<Received<String>>> receivers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      receivers.add(receiveInBackground(c, ch, Receive.RECEIVE_OR_CLOSED).awaitBlocked());
    }

    // when
    for (String v : List.of("first", "second", "third")) {
      assertTrue(ch.trySend(v), "a receiver waits, so trySend succeeds");
    }

    // then
    assertEquals(new Received.Value<>("first"), receivers.get(0).join());
    assertEquals(new Received.Value<>("second"), receivers.get(1).join());
    assertEquals(new Received.Value<>("third"), receivers.get(2).join());
    assertSound(ch);
  }

  // ================================================================ blocking hand-off

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#unbuffered")
  void anUnbufferedSendIsARendezvousThatWaitsForAReceiver(ChannelCase c) throws Exception {
    // given a sender on a channel nobody receives from
    Channel<String> ch = c.newChannel();
    Spawned<Void> sender = sendInBackground(c, ch, Send.SEND, "hello").awaitBlocked();

    // then it stays blocked: the value sits in no buffer
    assertTrue(sender.isStillBlocked());
    assertEquals(0, ch.len());

    // when a receiver arrives
    String got = ch.receive();

    // then both complete
    assertEquals("hello", got);
    sender.join();
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#unbuffered")
  void anUnbufferedReceiveWaitsForASender(ChannelCase c) throws Exception {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver =
        receiveInBackground(c, ch, Receive.RECEIVE_OR_CLOSED).awaitBlocked();
    assertTrue(receiver.isStillBlocked());

    // when
    ch.send("hello");

    // then
    assertEquals(new Received.Value<>("hello"), receiver.join());
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#buffered")
  void aSendCompletesWithoutAReceiverWhileTheBufferHasRoom(ChannelCase c) throws Exception {
    // given
    Channel<Integer> ch = c.newChannel();
    int n = c.isBounded() ? c.capacity() : 10_000;

    // when
    for (int i = 0; i < n; i++) {
      ch.send(i);
    }

    // then
    assertEquals(n, ch.len());
    for (int i = 0; i < n; i++) {
      assertEquals(new Received.Value<>(i), ch.tryReceive());
    }
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(BLOCKING_SEND_OPS)
  void aSendOnAFullChannelWaitsUntilAReceiveMakesRoom(ChannelCase c, Send op) throws Exception {
    // given a full channel and a sender blocked on it
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    Spawned<Void> sender = sendInBackground(c, ch, op, "late").awaitBlocked();

    // when
    List<String> got = new ArrayList<>();
    for (int i = 0; i <= fillers.size(); i++) {
      got.add(ch.receive());
    }

    // then
    List<String> expected = new ArrayList<>(fillers);
    expected.add("late");
    assertEquals(expected, got);
    sender.join();
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(RECEIVE_OPS)
  void aReceiveOnAnEmptyChannelWaitsUntilAValueIsSent(ChannelCase c, Receive op) throws Exception {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver = receiveInBackground(c, ch, op).awaitBlocked();

    // when
    ch.send("v");

    // then
    assertEquals(new Received.Value<>("v"), receiver.join());
    assertEquals(0, ch.len());
    assertSound(ch);
  }

  // ================================================================ try: never blocks

  @TestWithCapacities
  void trySendSucceedsOnlyWhileThereIsRoom(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();

    // when / then
    if (c.isBounded()) {
      c.fill(ch); // asserts that trySend succeeds capacity times and then fails
      assertEquals(c.capacity(), ch.len());
    } else {
      for (int i = 0; i < 10_000; i++) {
        assertTrue(ch.trySend("v" + i));
      }
      assertEquals(10_000, ch.len());
    }
    assertSound(ch);
  }

  @TestWithCapacities
  void trySendHandsTheValueToAWaitingReceiver(ChannelCase c) throws Exception {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver =
        receiveInBackground(c, ch, Receive.RECEIVE_OR_CLOSED).awaitBlocked();

    // when
    boolean sent = ch.trySend("v");

    // then
    assertTrue(sent);
    assertEquals(new Received.Value<>("v"), receiver.join());
    assertSound(ch);
  }

  @TestWithCapacities
  void tryReceiveReportsWouldBlockOnAnEmptyOpenChannel(ChannelCase c) {
    Channel<String> ch = c.newChannel();
    assertInstanceOf(TryReceived.WouldBlock.class, ch.tryReceive());
    assertFalse(ch.tryReceive().ok());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#bounded")
  void tryReceiveTakesTheHeadAndLetsTheFirstWaitingSenderIn(ChannelCase c) throws Exception {
    // given a full channel and a blocked sender
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    Spawned<Void> sender = sendInBackground(c, ch, Send.SEND, "waiting").awaitBlocked();

    // when
    TryReceived<String> first = ch.tryReceive();

    // then the sender completed, and its value queues behind the fillers
    sender.join();
    List<String> expected = new ArrayList<>(fillers);
    expected.add("waiting");
    assertEquals(new Received.Value<>(expected.getFirst()), first);
    assertEquals(expected.subList(1, expected.size()), drain(ch));
    assertSound(ch);
  }

  // ================================================================ timed

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#bounded")
  void aTimedSendGivesUpWhenNoRoomAppearsAndSendsNothing(ChannelCase c)
      throws InterruptedException {
    // given
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);

    // when
    boolean sent = ch.trySend("late", Duration.ofMillis(5));

    // then
    assertFalse(sent);
    assertEquals(fillers, drain(ch));
    assertSound(ch);
  }

  @TestWithCapacities
  void aTimedReceiveReportsWouldBlockWhenNothingArrives(ChannelCase c) throws InterruptedException {
    // given
    Channel<String> ch = c.newChannel();

    // when
    TryReceived<String> r = ch.tryReceive(Duration.ofMillis(5));

    // then
    assertInstanceOf(TryReceived.WouldBlock.class, r);
    assertEquals(c.capacity() > 0, ch.trySend("after"), "no receiver was left behind");
    assertSound(ch);
  }

  @TestWithCapacities
  void timedCallsWithAZeroOrNegativeTimeoutDoNotWait(ChannelCase c) throws InterruptedException {
    Channel<String> ch = c.newChannel();
    for (Duration d : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
      assertInstanceOf(TryReceived.WouldBlock.class, ch.tryReceive(d));
      if (c.capacity() == 0) {
        assertFalse(ch.trySend("v", d));
      }
    }
    assertSound(ch);
  }

  @TestWithCapacities
  void timedCallsWithATimeoutTooLongToCountInNanosecondsWaitAsIfForEver(ChannelCase c)
      throws Exception {
    // given: about 292 years is the most a long of nanoseconds holds; this is far more
    Duration tooLong = ChronoUnit.FOREVER.getDuration();
    Channel<String> ch = c.newChannel();
    Spawned<TryReceived<String>> receiver = c.spawn(() -> ch.tryReceive(tooLong)).awaitBlocked();

    // when
    boolean sent = ch.trySend("v", tooLong);

    // then
    assertTrue(sent);
    assertEquals(new Received.Value<>("v"), receiver.join());
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#bounded")
  void aTimedSendWithATimeoutTooLongToCountInNanosecondsWaitsForRoom(ChannelCase c)
      throws Exception {
    // given
    Duration tooLong = ChronoUnit.FOREVER.getDuration();
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    Spawned<Boolean> sender = c.spawn(() -> ch.trySend("late", tooLong)).awaitBlocked();

    // when
    List<String> received = new ArrayList<>();
    received.add(ch.receive());

    // then
    assertTrue(sender.join());
    received.addAll(drain(ch));
    List<String> expected = new ArrayList<>(fillers);
    expected.add("late");
    assertEquals(expected, received);
    assertSound(ch);
  }

  // ================================================================ close

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(RECEIVE_OPS)
  void receiversDrainBufferedValuesAfterCloseThenSeeTheEnd(ChannelCase c, Receive op)
      throws Exception {
    // given buffered values (none for an unbuffered channel), then close
    Channel<String> ch = c.newChannel();
    List<String> sent = new ArrayList<>();
    for (int i = 0; i < Math.min(c.capacity(), 3); i++) {
      ch.send("v" + i);
      sent.add("v" + i);
    }
    assertTrue(ch.close());

    // when / then
    for (String v : sent) {
      assertEquals(new Received.Value<>(v), op.receive(ch, BACKGROUND));
    }
    assertEnd(op, ch, null);
    assertEnd(op, ch, null); // and it stays ended
    assertSound(ch);
  }

  @TestWithCapacities
  void theEndOfTheStreamIsReportedForEverAndNeverAsWouldBlock(ChannelCase c)
      throws InterruptedException {
    // given
    Channel<String> ch = c.newChannel();
    ch.close();

    // then
    for (int i = 0; i < 3; i++) {
      assertEquals(Received.Closed.of(null), ch.receiveOrClosed());
      assertEquals(Received.Closed.of(null), ch.tryReceive());
      assertEquals(Received.Closed.of(null), ch.tryReceive(Duration.ofMillis(1)));
      assertFalse(ch.tryReceive().ok());
    }
  }

  @TestWithCapacities
  void receiveOrClosedGivesTypedValuesThenTheCloseError(ChannelCase c) throws Exception {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Void> producer =
        c.spawn(
            () -> {
              ch.send("a");
              ch.send("b");
              ch.close(BOOM);
              return null;
            });

    // when
    List<Received<String>> got = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      got.add(ch.receiveOrClosed());
    }

    // then
    assertEquals(
        List.of(
            new Received.Value<>("a"),
            new Received.Value<>("b"),
            new Received.Closed<String>(Optional.of(BOOM))),
        got);
    assertTrue(got.get(0).ok());
    assertFalse(got.get(2).ok());
    producer.join();
  }

  @TestWithCapacities
  void receiveOnAClosedDrainedChannelThrowsChannelClosedExceptionWithTheCause(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    ch.close(BOOM);

    // when
    var e = assertThrows(ChannelClosedException.class, ch::receive);

    // then
    assertSame(BOOM, e.getCause());
    assertEquals(Optional.of(BOOM), e.error());
    assertTrue(e.getMessage().contains("receive from closed channel"), e.getMessage());
  }

  @TestWithCapacities
  void iterationYieldsEveryValueAndEndsAtClose(ChannelCase c) throws Exception {
    // given
    Channel<Integer> ch = c.newChannel();
    Spawned<Void> producer = produce(c, ch, 100, null);

    // when
    List<Integer> got = new ArrayList<>();
    for (int v : ch) {
      got.add(v);
    }

    // then
    assertEquals(IntStream.range(0, 100).boxed().toList(), got);
    producer.join();
    assertSound(ch);
  }

  @TestWithCapacities
  void iterationThrowsChannelClosedExceptionWithTheErrorTheProducerClosedWith(ChannelCase c)
      throws Exception {
    // given
    Channel<Integer> ch = c.newChannel();
    Spawned<Void> producer = produce(c, ch, 100, BOOM);
    List<Integer> got = new ArrayList<>();

    // when
    var e =
        assertThrows(
            ChannelClosedException.class,
            () -> {
              for (int v : ch) {
                got.add(v);
              }
            });

    // then every value came first, then the error
    assertEquals(IntStream.range(0, 100).boxed().toList(), got);
    assertSame(BOOM, e.getCause());
    producer.join();
  }

  @TestWithCapacities
  void anExhaustedIteratorSaysSoAndNextThrowsNoSuchElement(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    ch.close();
    Iterator<String> it = ch.iterator();

    // then
    assertFalse(it.hasNext());
    assertFalse(it.hasNext());
    assertThrows(NoSuchElementException.class, it::next);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(SEND_OPS)
  void aSendOnAClosedChannelThrowsChannelClosedExceptionWithTheCloseError(ChannelCase c, Send op) {
    // given
    Channel<String> ch = c.newChannel();
    ch.close(BOOM);

    // when
    var e = assertThrows(ChannelClosedException.class, () -> op.send(ch, BACKGROUND, "v"));

    // then
    assertSame(BOOM, e.getCause());
    assertEquals(Optional.of(BOOM), e.error());
    assertTrue(e.getMessage().contains("send on closed channel"), e.getMessage());
    assertEquals(0, ch.len());
  }

  @TestWithCapacities
  void trySendOnAClosedChannelThrowsRatherThanReportingFalse(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    ch.close();

    // when
    var e = assertThrows(ChannelClosedException.class, () -> ch.trySend("v"));

    // then
    assertEquals(Optional.empty(), e.error());
    assertThrows(ChannelClosedException.class, () -> ch.trySend("v", Duration.ZERO));
  }

  @TestWithCapacities
  void closingTwiceReturnsFalseAndKeepsTheFirstError(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    RuntimeException second = new RuntimeException("second");

    // when
    boolean first = ch.close(BOOM);
    boolean again = ch.close(second);
    boolean plain = ch.close();

    // then
    assertTrue(first);
    assertFalse(again);
    assertFalse(plain);
    assertTrue(ch.isClosed());
    assertEquals(new Received.Closed<String>(Optional.of(BOOM)), ch.tryReceive());
  }

  @TestWithCapacities
  void isClosedTurnsTrueAtCloseWhileValuesMayRemain(ChannelCase c) {
    Channel<String> ch = c.newChannel();
    boolean buffered = c.capacity() > 0 && ch.trySend("v");
    assertFalse(ch.isClosed());
    ch.close();
    assertTrue(ch.isClosed());
    assertEquals(buffered ? 1 : 0, ch.len());
  }

  @Test
  void closeRejectsANullError() {
    Channel<String> ch = Channel.buffered(1);
    assertThrows(NullPointerException.class, () -> ch.close(null));
    assertFalse(ch.isClosed());
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(BLOCKING_SEND_OPS)
  void aWaitingSenderFailsWhenTheChannelClosesAndItsValueIsNeverReceived(ChannelCase c, Send op)
      throws Exception {
    // given a full channel and a sender blocked on it
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    Spawned<Void> sender = sendInBackground(c, ch, op, "never").awaitBlocked();

    // when
    ch.close(BOOM);

    // then
    var e = sender.joinThrowing(ChannelClosedException.class);
    assertSame(BOOM, e.getCause());
    assertEquals(fillers, drainUntilClosed(ch));
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(RECEIVE_OPS)
  void aWaitingReceiverSeesTheEndWhenTheChannelCloses(ChannelCase c, Receive op) {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver = receiveInBackground(c, ch, op).awaitBlocked();

    // when
    ch.close();

    // then
    assertEndOf(op, receiver, null);
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(RECEIVE_OPS)
  void aWaitingReceiverLearnsTheCloseError(ChannelCase c, Receive op) {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver = receiveInBackground(c, ch, op).awaitBlocked();

    // when
    ch.close(BOOM);

    // then
    assertEndOf(op, receiver, BOOM);
    assertSound(ch);
  }

  @TestWithCapacities
  void closeReleasesEveryWaiterAtOnce(ChannelCase c) {
    // given many receivers blocked on one channel
    Channel<String> ch = c.newChannel();
    List<Spawned<Received<String>>> receivers = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      receivers.add(receiveInBackground(c, ch, Receive.RECEIVE_OR_CLOSED));
    }
    receivers.forEach(Spawned::awaitBlocked);

    // when
    ch.close();

    // then
    for (Spawned<Received<String>> r : receivers) {
      assertEndOf(Receive.RECEIVE_OR_CLOSED, r, null);
    }
    assertSound(ch);
  }

  // ================================================================ nulls

  @TestWithCapacities
  void nullValuesAreRejectedWithAClearMessageByEverySendForm(ChannelCase c) {
    Channel<String> ch = c.newChannel();
    List<Executable> sends =
        List.of(
            () -> ch.send(null),
            () -> ch.send(BACKGROUND, null),
            () -> ch.trySend(null),
            () -> ch.trySend(null, FOREVER),
            () -> ch.trySend(null, Duration.ZERO),
            () -> ch.onSend(null, () -> "sent"));
    for (Executable send : sends) {
      var e = assertThrows(NullPointerException.class, send::run);
      assertEquals("a channel cannot carry null", e.getMessage());
    }
    assertEquals(0, ch.len());
    assertSound(ch);
  }

  @TestWithCapacities
  void aNullContextIsRejected(ChannelCase c) {
    Channel<String> ch = c.newChannel();
    assertThrows(NullPointerException.class, () -> ch.send(null, "v"));
    assertThrows(NullPointerException.class, () -> ch.receive(null));
    assertThrows(NullPointerException.class, () -> ch.receiveOrClosed(null));
    assertEquals(0, ch.len());
  }

  // ================================================================ interruption

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(SEND_OPS)
  void aSendByAnAlreadyInterruptedThreadThrowsAndSendsNothingEvenIfItCouldProceed(
      ChannelCase c, Send op) throws Exception {
    // given a channel the send could complete on: room, or (unbuffered) a waiting receiver
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver =
        c.capacity() == 0
            ? receiveInBackground(c, ch, Receive.RECEIVE_OR_CLOSED).awaitBlocked()
            : null;

    // when
    Spawned<Void> sender =
        c.spawn(
            () -> {
              Thread.currentThread().interrupt();
              op.send(ch, BACKGROUND, "interrupted");
              return null;
            });

    // then
    sender.joinThrowing(InterruptedException.class);
    assertFalse(sender.interruptedAtEnd(), "throwing InterruptedException clears the status");
    if (receiver != null) {
      assertTrue(receiver.isStillBlocked());
      assertTrue(ch.trySend("real"));
      assertEquals(new Received.Value<>("real"), receiver.join());
    } else {
      assertEquals(List.of(), drain(ch));
    }
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#buffered")
  void timedCallsWithAZeroOrNegativeTimeoutByAnInterruptedThreadThrowsEvenIfTheyCouldProceed(
      ChannelCase c) throws Exception {
    for (Duration d : List.of(Duration.ZERO, Duration.ofSeconds(-1))) {
      // given a value ready to receive, and room to send (capacity 1 makes room by receiving)
      Channel<String> ch = c.newChannel();
      assertTrue(ch.trySend("ready"));
      try {
        // when, then: the timed forms throw as they do with a positive timeout
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> ch.tryReceive(d));
        assertFalse(Thread.currentThread().isInterrupted(), "the status is consumed");
        assertEquals(List.of("ready"), drain(ch), "no value was taken");
        Thread.currentThread().interrupt();
        assertThrows(InterruptedException.class, () -> ch.trySend("more", d));
        assertFalse(Thread.currentThread().isInterrupted(), "the status is consumed");
        assertEquals(List.of(), drain(ch), "no value was sent");
      } finally {
        Thread.interrupted();
      }
      assertSound(ch);
    }
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(BLOCKING_SEND_OPS)
  void aSendInterruptedWhileBlockedThrowsAndSendsNothing(ChannelCase c, Send op) {
    // given a full channel and a sender blocked on it
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    Spawned<Void> sender = sendInBackground(c, ch, op, "interrupted").awaitBlocked();

    // when
    sender.interrupt();

    // then
    sender.joinThrowing(InterruptedException.class);
    assertFalse(sender.interruptedAtEnd());
    assertSound(ch);
    assertEquals(fillers, drain(ch));
    assertFalse(ch.trySend("x") && c.capacity() == 0, "no receiver and no sender remains");
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(RECEIVE_OPS)
  void aReceiveByAnAlreadyInterruptedThreadThrowsAndTakesNothingEvenIfAValueIsReady(
      ChannelCase c, Receive op) throws Exception {
    // given a ready value: buffered, or (unbuffered) offered by a waiting sender
    Channel<String> ch = c.newChannel();
    Spawned<Void> sender =
        c.capacity() == 0 ? sendInBackground(c, ch, Send.SEND, "ready").awaitBlocked() : null;
    if (sender == null) {
      ch.send("ready");
    }

    // when
    Spawned<Received<String>> receiver =
        c.spawn(
            () -> {
              Thread.currentThread().interrupt();
              return op.receive(ch, BACKGROUND);
            });

    // then
    receiver.joinThrowing(op.interruptedException());
    assertEquals(op.keepsInterruptStatus(), receiver.interruptedAtEnd());
    assertEquals(new Received.Value<>("ready"), ch.tryReceive());
    if (sender != null) {
      sender.join();
    }
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(RECEIVE_OPS)
  void aReceiveInterruptedWhileBlockedThrowsAndTakesNothing(ChannelCase c, Receive op) {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Received<String>> receiver = receiveInBackground(c, ch, op).awaitBlocked();

    // when
    receiver.interrupt();

    // then
    receiver.joinThrowing(op.interruptedException());
    assertEquals(op.keepsInterruptStatus(), receiver.interruptedAtEnd());
    assertSound(ch);
    // the receiver left no trace: an unbuffered send finds nobody, a buffered one stays buffered
    assertEquals(c.capacity() > 0, ch.trySend("after"));
    assertEquals(c.capacity() > 0 ? 1 : 0, ch.len());
    assertSound(ch);
  }

  @TestWithCapacities
  void anIteratorInterruptedWhileWaitingThrowsUncheckedAndKeepsTheInterruptStatus(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Boolean> receiver = c.spawn(() -> ch.iterator().hasNext()).awaitBlocked();

    // when
    receiver.interrupt();

    // then
    var e = receiver.joinThrowing(UncheckedInterruptedException.class);
    assertInstanceOf(InterruptedException.class, e.getCause());
    assertTrue(receiver.interruptedAtEnd());
  }

  @TestWithCapacities
  void rangeWithAContextYieldsEveryValueAndEndsAtClose(ChannelCase c) throws Exception {
    // given
    Channel<Integer> ch = c.newChannel();
    Spawned<Void> producer = produce(c, ch, 100, null);

    // when
    List<Integer> got = new ArrayList<>();
    for (int v : ch.range(BACKGROUND)) {
      got.add(v);
    }

    // then
    assertEquals(IntStream.range(0, 100).boxed().toList(), got);
    producer.join();
    assertSound(ch);
  }

  /** A receiver ranging over {@code ch} with {@code ctx}, which took "first" and waits for more. */
  private static Spawned<Void> rangingAfterOneValue(
      ChannelCase c, Channel<String> ch, Context ctx, List<String> got) throws Exception {
    Spawned<Void> receiver =
        c.spawn(
            () -> {
              for (String v : ch.range(ctx)) {
                got.add(v);
              }
              return null;
            });
    ch.send("first");
    receiver.awaitBlocked();
    return receiver;
  }

  @TestWithCapacities
  void rangeEndsWithTheContextsCauseWhenItIsCancelledWhileWaitingAndLosesNoValue(ChannelCase c)
      throws Exception {
    // given: a ranging receiver that took one value and waits for the next
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    Spawned<Void> receiver = rangingAfterOneValue(c, ch, ctx, got);

    // when
    ctx.cancel(BOOM);

    // then it stops with the cause, and a later value stays in the channel for someone else
    var e = receiver.joinThrowing(ContextCancelledException.class);
    assertSame(BOOM, e.getCause());
    assertEquals(List.of("first"), got);
    assertEquals(c.capacity() > 0, ch.trySend("later"));
    if (c.capacity() > 0) {
      assertEquals(new Received.Value<>("later"), ch.tryReceive());
    }
    assertSound(ch);
  }

  @TestWithCapacities
  void rangeInterruptedWhileWaitingThrowsUncheckedKeepsTheStatusAndLosesNoValue(ChannelCase c)
      throws Exception {
    // given: a ranging receiver with a live context that took one value and waits for the next
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    List<String> got = new java.util.concurrent.CopyOnWriteArrayList<>();
    Spawned<Void> receiver = rangingAfterOneValue(c, ch, ctx, got);

    // when
    receiver.interrupt();

    // then it stops as iterator() does, leaves nothing behind, and a later value stays
    var e = receiver.joinThrowing(UncheckedInterruptedException.class);
    assertInstanceOf(InterruptedException.class, e.getCause());
    assertTrue(receiver.interruptedAtEnd());
    assertEquals(List.of("first"), got);
    assertNoHooks(ctx);
    assertFalse(ctx.isDone());
    assertEquals(c.capacity() > 0, ch.trySend("later"));
    if (c.capacity() > 0) {
      assertEquals(new Received.Value<>("later"), ch.tryReceive());
    }
    assertSound(ch);
  }

  @TestWithCapacities
  void rangeNextInterruptedWhileWaitingThrowsUncheckedAndKeepsTheInterruptStatus(ChannelCase c) {
    // given: next() called without hasNext(), waiting
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    Spawned<String> receiver = c.spawn(() -> ch.range(ctx).iterator().next()).awaitBlocked();

    // when
    receiver.interrupt();

    // then
    var e = receiver.joinThrowing(UncheckedInterruptedException.class);
    assertInstanceOf(InterruptedException.class, e.getCause());
    assertTrue(receiver.interruptedAtEnd());
    assertNoHooks(ctx);
    assertEquals(c.capacity() > 0, ch.trySend("after"), "the receiver left no trace");
    assertSound(ch);
  }

  @TestWithCapacities
  void rangeNextWaitingWhenTheContextIsCancelledThrowsTheCauseAndTakesNothing(ChannelCase c) {
    // given: next() called without hasNext(), waiting
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    Spawned<String> receiver = c.spawn(() -> ch.range(ctx).iterator().next()).awaitBlocked();

    // when
    ctx.cancel(BOOM);

    // then
    var e = receiver.joinThrowing(ContextCancelledException.class);
    assertSame(BOOM, e.getCause());
    assertFalse(receiver.interruptedAtEnd());
    assertNoHooks(ctx);
    assertEquals(c.capacity() > 0, ch.trySend("after"), "the receiver left no trace");
    assertSound(ch);
  }

  @TestWithCapacities
  void rangeWithAnExpiredDeadlineThrowsDeadlineExceeded(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withTimeout(Duration.ZERO);

    // when / then
    assertThrows(DeadlineExceededException.class, () -> ch.range(ctx).iterator().hasNext());
    ctx.cancel();
  }

  // ================================================================ context

  @TestWithCapacities
  void aSendWithAnAlreadyCancelledContextThrowsEvenIfItCouldProceed(ChannelCase c) {
    // given a channel with room (unbuffered: none, which the send must not wait for either)
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    ctx.cancel(BOOM);

    // when
    var e = assertThrows(ContextCancelledException.class, () -> ch.send(ctx, "v"));

    // then
    assertSame(BOOM, e.getCause());
    assertEquals(0, ch.len());
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#bounded")
  void aSendBlockedWithAContextFailsWithTheCauseWhenItIsCancelled(ChannelCase c) {
    // given
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    CancelableContext ctx = BACKGROUND.withCancel();
    Spawned<Void> sender = sendInBackground(c, ch, Send.SEND_WITH_CONTEXT, "v", ctx);
    sender.awaitBlocked();

    // when
    ctx.cancel(BOOM);

    // then
    var e = sender.joinThrowing(ContextCancelledException.class);
    assertSame(BOOM, e.getCause());
    assertFalse(e.isDeadlineExceeded());
    assertEquals(fillers, drain(ch));
    assertSound(ch);
    assertNoHooks(ctx);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("io.sluice.core.ChannelCase#bounded")
  void aSendBlockedWithADescendantContextFailsWhenAnAncestorIsCancelled(ChannelCase c) {
    // given a send waiting with a grandchild (through a value context) of the cancelled one
    Channel<String> ch = c.newChannel();
    List<String> fillers = c.fill(ch);
    CancelableContext root = BACKGROUND.withCancel();
    Context grandchild = root.withValue(Context.Key.named("k"), "v").withCancel();
    Spawned<Void> sender = sendInBackground(c, ch, Send.SEND_WITH_CONTEXT, "v", grandchild);
    sender.awaitBlocked();

    // when
    root.cancel(BOOM);

    // then
    var e = sender.joinThrowing(ContextCancelledException.class);
    assertSame(BOOM, e.getCause());
    assertEquals(fillers, drain(ch));
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(CONTEXT_RECEIVE_OPS)
  void aReceiveWithAnAlreadyCancelledContextThrowsEvenIfAValueIsReady(ChannelCase c, Receive op)
      throws Exception {
    // given
    Channel<String> ch = c.newChannel();
    Spawned<Void> sender =
        c.capacity() == 0 ? sendInBackground(c, ch, Send.SEND, "ready").awaitBlocked() : null;
    if (sender == null) {
      ch.send("ready");
    }
    CancelableContext ctx = BACKGROUND.withCancel();
    ctx.cancel(BOOM);

    // when
    var e = assertThrows(ContextCancelledException.class, () -> op.receive(ch, ctx));

    // then
    assertSame(BOOM, e.getCause());
    assertEquals(new Received.Value<>("ready"), ch.tryReceive());
    if (sender != null) {
      sender.join();
    }
    assertSound(ch);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(CONTEXT_RECEIVE_OPS)
  void aReceiveBlockedWithAContextFailsWithTheCauseWhenItIsCancelled(ChannelCase c, Receive op) {
    // given
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    Spawned<Received<String>> receiver = c.spawn(() -> op.receive(ch, ctx)).awaitBlocked();

    // when
    ctx.cancel(BOOM);

    // then
    var e = receiver.joinThrowing(ContextCancelledException.class);
    assertSame(BOOM, e.getCause());
    assertSound(ch);
    assertEquals(c.capacity() > 0, ch.trySend("after"), "the receiver left no trace");
    assertNoHooks(ctx);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(CONTEXT_RECEIVE_OPS)
  void aPlainCancelReportsTheContextErrorAsTheCause(ChannelCase c, Receive op) {
    // given
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    Spawned<Received<String>> receiver = c.spawn(() -> op.receive(ch, ctx)).awaitBlocked();

    // when
    ctx.cancel();

    // then: Go's context.Cause(ctx) == ctx.Err() when no cause was given
    var e = receiver.joinThrowing(ContextCancelledException.class);
    assertSame(ctx.err().orElseThrow(), e.getCause());
    assertSame(ctx.cause().orElseThrow(), ctx.err().orElseThrow());
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(CONTEXT_RECEIVE_OPS)
  void aReceiveWithAContextThatCompletesLeavesNoHookOnTheContext(ChannelCase c, Receive op)
      throws Exception {
    // given a receive blocked with a live context
    Channel<String> ch = c.newChannel();
    CancelableContext ctx = BACKGROUND.withCancel();
    Spawned<Received<String>> receiver = c.spawn(() -> op.receive(ch, ctx)).awaitBlocked();

    // when
    ch.send("v");

    // then
    assertEquals(new Received.Value<>("v"), receiver.join());
    assertNoHooks(ctx);
    assertFalse(ctx.isDone());
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource(CONTEXT_RECEIVE_OPS)
  void aContextThatCannotBeCancelledDoesNotStopTheWait(ChannelCase c, Receive op) throws Exception {
    // given a value context over background, and withoutCancel of a cancelled context
    Channel<String> ch = c.newChannel();
    CancelableContext cancelled = BACKGROUND.withCancel();
    cancelled.cancel();
    for (Context ctx :
        List.of(BACKGROUND.withValue(Context.Key.named("k"), 1), cancelled.withoutCancel())) {
      Spawned<Received<String>> receiver = c.spawn(() -> op.receive(ch, ctx)).awaitBlocked();

      // when
      ch.send("v");

      // then
      assertEquals(new Received.Value<>("v"), receiver.join());
    }
  }

  // ================================================================ helpers

  @FunctionalInterface
  interface Executable {
    void run() throws Exception;
  }

  private static Spawned<Void> sendInBackground(
      ChannelCase c, Channel<String> ch, Send op, String value) {
    return sendInBackground(c, ch, op, value, BACKGROUND);
  }

  private static Spawned<Void> sendInBackground(
      ChannelCase c, Channel<String> ch, Send op, String value, Context ctx) {
    return c.spawn(
        () -> {
          op.send(ch, ctx, value);
          return null;
        });
  }

  private static Spawned<Received<String>> receiveInBackground(
      ChannelCase c, Channel<String> ch, Receive op) {
    return c.spawn(() -> op.receive(ch, BACKGROUND));
  }

  private static Spawned<Void> produce(
      ChannelCase c, Channel<Integer> ch, int n, Throwable closeWith) {
    return c.spawn(
        () -> {
          for (int i = 0; i < n; i++) {
            ch.send(i);
          }
          if (closeWith == null) {
            ch.close();
          } else {
            ch.close(closeWith);
          }
          return null;
        });
  }

  /** Takes every value available now; the channel must be open. */
  static <T> List<T> drain(Channel<T> ch) {
    List<T> values = new ArrayList<>();
    while (true) {
      switch (ch.tryReceive()) {
        case Received.Value<T>(T v) -> values.add(v);
        case Received.Closed<T> closed -> throw new AssertionError("unexpectedly closed");
        case TryReceived.WouldBlock<T> w -> {
          return values;
        }
      }
    }
  }

  /** Takes every value left in a closed channel. */
  static <T> List<T> drainUntilClosed(Channel<T> ch) {
    List<T> values = new ArrayList<>();
    while (true) {
      switch (ch.tryReceive()) {
        case Received.Value<T>(T v) -> values.add(v);
        case Received.Closed<T> closed -> {
          return values;
        }
        case TryReceived.WouldBlock<T> w -> throw new AssertionError("not closed");
      }
    }
  }

  private static void assertEnd(Receive op, Channel<String> ch, Throwable error)
      throws InterruptedException {
    if (op.endsByException(error != null)) {
      var e = assertThrows(ChannelClosedException.class, () -> op.receive(ch, BACKGROUND));
      assertSame(error, e.getCause());
    } else {
      assertEquals(Received.Closed.of(error), op.receive(ch, BACKGROUND));
    }
  }

  private static void assertEndOf(Receive op, Spawned<Received<String>> receiver, Throwable error) {
    if (op.endsByException(error != null)) {
      var e = receiver.joinThrowing(ChannelClosedException.class);
      assertSame(error, e.getCause());
    } else {
      try {
        assertEquals(Received.Closed.of(error), receiver.join());
      } catch (Exception e) {
        throw new AssertionError(op + " threw instead of reporting the end", e);
      }
    }
  }

  static void assertSound(Channel<?> ch) {
    ((ChannelImpl<?>) ch).checkInvariants();
  }

  static void assertNoHooks(Context ctx) {
    CancelContext cc = (CancelContext) ctx;
    cc.checkInvariants();
    assertEquals(0, cc.pendingHooks(), "hooks left on " + ctx);
  }
}
