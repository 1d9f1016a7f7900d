package io.sluice.core;

import static io.sluice.core.ChannelTest.assertNoHooks;
import static io.sluice.core.ChannelTest.drain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One test per sentence of the Go specification (channel types, send statements, the receive
 * operator, close, len and cap, for range, select), the Go memory model (channel communication) and
 * the documentation of package context, quoted in the display name. Where Sluice deliberately
 * differs, or a sentence has no Java counterpart, the test says so and checks what Sluice does
 * instead.
 */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class GoConformanceTest {
  private static final RuntimeException BOOM = new RuntimeException("boom");

  @Nested
  @DisplayName("Go spec: channel types")
  class ChannelTypes {
    @Test
    @DisplayName(
        "\"If the capacity is zero or absent, the channel is unbuffered and communication succeeds"
            + " only when both a sender and receiver are ready.\"")
    void unbufferedCommunicationNeedsBothSides() throws Exception {
      Channel<String> ch = Channel.unbuffered();
      assertFalse(ch.trySend("v"), "no receiver is ready");
      Spawned<Received<String>> r =
          Spawned.start(ThreadKind.VIRTUAL, ch::receiveOrClosed).awaitBlocked();
      assertTrue(ch.trySend("v"), "a receiver is ready");
      assertEquals(new Received.Value<>("v"), r.join());
    }

    @Test
    @DisplayName(
        "\"Otherwise, the channel is buffered and communication succeeds without blocking if the"
            + " buffer is not full (sends) or not empty (receives).\"")
    void bufferedCommunicationSucceedsWithoutBlocking() throws Exception {
      Channel<String> ch = Channel.buffered(2);
      assertTrue(ch.trySend("a"));
      assertTrue(ch.trySend("b"));
      assertFalse(ch.trySend("c"), "full");
      assertEquals(new Received.Value<>("a"), ch.tryReceive());
      assertEquals(new Received.Value<>("b"), ch.tryReceive());
      assertInstanceOf(TryReceived.WouldBlock.class, ch.tryReceive(), "empty");
    }

    @Test
    @DisplayName(
        "\"A nil channel is never ready for communication.\" Sluice has no nil channel; its"
            + " equivalent is the clause Select.never()")
    void neverIsNeverReady() throws Exception {
      assertEquals("default", Select.select(Select.never(), Select.onDefault(() -> "default")));
    }

    @Test
    @DisplayName("\"A channel may be closed with the built-in function close.\"")
    void aChannelMayBeClosed() {
      Channel<String> ch = Channel.buffered(1);
      assertTrue(ch.close());
      assertTrue(ch.isClosed());
    }

    @Test
    @DisplayName(
        "\"The multi-valued assignment form of the receive operator reports whether a received"
            + " value was sent before the channel was closed.\"")
    void receiveOrClosedReportsWhetherTheValueWasSent() throws Exception {
      Channel<String> ch = Channel.buffered(1);
      ch.send("v");
      ch.close();
      assertTrue(ch.receiveOrClosed().ok());
      assertFalse(ch.receiveOrClosed().ok());
    }

    @Test
    @DisplayName(
        "\"A single channel may be used in send statements, receive operations, and calls to the"
            + " built-in functions cap and len by any number of goroutines without further"
            + " synchronization.\"")
    void aChannelIsSharedWithoutFurtherSynchronisation() throws Exception {
      Channel<Integer> ch = Channel.buffered(4);
      int producers = 8;
      int each = 2_000;
      AtomicInteger sum = new AtomicInteger();
      List<Spawned<Void>> threads = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        threads.add(
            Spawned.start(
                ThreadKind.VIRTUAL,
                () -> {
                  for (int i = 1; i <= each; i++) {
                    ch.send(i);
                    if (ch.len() > ch.cap()) {
                      throw new AssertionError("len beyond cap");
                    }
                  }
                  return null;
                }));
        threads.add(
            Spawned.start(
                ThreadKind.VIRTUAL,
                () -> {
                  for (int i = 0; i < each; i++) {
                    sum.addAndGet(ch.receive());
                  }
                  return null;
                }));
      }
      for (Spawned<Void> t : threads) {
        t.join();
      }
      assertEquals(producers * each * (each + 1) / 2, sum.get());
      ChannelTest.assertSound(ch);
    }

    @Test
    @DisplayName(
        "\"Channels act as first-in-first-out queues. For example, if one goroutine sends values"
            + " on a channel and a second goroutine receives them, the values are received in the"
            + " order sent.\"")
    void channelsAreFifo() throws Exception {
      Channel<Integer> ch = Channel.buffered(3);
      Spawned<Void> producer =
          Spawned.start(
              ThreadKind.VIRTUAL,
              () -> {
                for (int i = 0; i < 1_000; i++) {
                  ch.send(i);
                }
                return null;
              });
      for (int i = 0; i < 1_000; i++) {
        assertEquals(i, ch.receive());
      }
      producer.join();
    }
  }

  @Nested
  @DisplayName("Go spec: send statements")
  class SendStatements {
    @Test
    @DisplayName("\"Communication blocks until the send can proceed.\"")
    void aSendBlocksUntilItCanProceed() throws Exception {
      Channel<String> ch = Channel.buffered(1);
      ch.send("first");
      Spawned<Void> s =
          Spawned.<Void>start(
                  ThreadKind.VIRTUAL,
                  () -> {
                    ch.send("second");
                    return null;
                  })
              .awaitBlocked();
      assertTrue(s.isStillBlocked());
      assertEquals("first", ch.receive());
      s.join();
      assertEquals("second", ch.receive());
    }

    @Test
    @DisplayName("\"A send on an unbuffered channel can proceed if a receiver is ready.\"")
    void anUnbufferedSendProceedsWithAReadyReceiver() throws Exception {
      Channel<String> ch = Channel.unbuffered();
      Spawned<String> r = Spawned.start(ThreadKind.VIRTUAL, ch::receive).awaitBlocked();
      ch.send("v");
      assertEquals("v", r.join());
    }

    @Test
    @DisplayName("\"A send on a buffered channel can proceed if there is room in the buffer.\"")
    void aBufferedSendProceedsWithRoom() throws Exception {
      Channel<String> ch = Channel.buffered(1);
      ch.send("v"); // would block for ever if it needed a receiver
      assertEquals(1, ch.len());
    }

    @Test
    @DisplayName(
        "\"A send on a closed channel proceeds by causing a run-time panic.\" Sluice: it throws"
            + " ChannelClosedException")
    void aSendOnAClosedChannelThrows() {
      Channel<String> ch = Channel.buffered(1);
      ch.close();
      assertThrows(ChannelClosedException.class, () -> ch.send("v"));
      assertThrows(ChannelClosedException.class, () -> ch.trySend("v"));
    }

    @Test
    @DisplayName(
        "\"A send on a nil channel blocks forever.\" n/a: Sluice has no nil channel, and null is"
            + " never a value; a disabled send is a Select.never() clause")
    void aNilSendHasNoCounterpart() throws Exception {
      assertThrows(NullPointerException.class, () -> Channel.<String>buffered(1).send(null));
      assertEquals("default", Select.select(Select.never(), Select.onDefault(() -> "default")));
    }
  }

  @Nested
  @DisplayName("Go spec: receive operator")
  class ReceiveOperator {
    @Test
    @DisplayName("\"The expression blocks until a value is available.\"")
    void aReceiveBlocksUntilAValueIsAvailable() throws Exception {
      Channel<String> ch = Channel.buffered(1);
      Spawned<String> r = Spawned.start(ThreadKind.VIRTUAL, ch::receive).awaitBlocked();
      assertTrue(r.isStillBlocked());
      ch.send("v");
      assertEquals("v", r.join());
    }

    @Test
    @DisplayName(
        "\"Receiving from a nil channel blocks forever.\" Sluice: a select of only never()"
            + " clauses would, so it is rejected at once instead of deadlocking")
    void aNilReceiveIsDiagnosed() {
      assertThrows(IllegalArgumentException.class, () -> Select.select(Select.never()));
    }

    @Test
    @DisplayName(
        "\"A receive operation on a closed channel can always proceed immediately, yielding the"
            + " element type's zero value after any previously sent values have been received.\""
            + " Sluice: it proceeds immediately and yields Closed, never a zero value")
    void aReceiveOnAClosedChannelProceedsWithClosedAfterTheValues() throws Exception {
      Channel<Integer> ch = Channel.buffered(2);
      ch.send(1);
      ch.send(2);
      ch.close();
      assertEquals(new Received.Value<>(1), ch.receiveOrClosed());
      assertEquals(new Received.Value<>(2), ch.receiveOrClosed());
      for (int i = 0; i < 3; i++) {
        assertEquals(Received.Closed.of(null), ch.receiveOrClosed());
        assertEquals(Received.Closed.of(null), ch.tryReceive());
      }
      assertThrows(ChannelClosedException.class, ch::receive, "no zero value is invented");
    }

    @Test
    @DisplayName(
        "\"The value of ok is true if the value received was delivered by a successful send"
            + " operation to the channel, or false if it is a zero value generated because the"
            + " channel is closed and empty.\"")
    void okTellsASentValueFromTheEnd() throws Exception {
      Channel<Integer> ch = Channel.buffered(1);
      ch.send(0); // a real zero is still a value
      ch.close();
      Received<Integer> first = ch.receiveOrClosed();
      Received<Integer> second = ch.receiveOrClosed();
      assertTrue(first.ok());
      assertEquals(new Received.Value<>(0), first);
      assertFalse(second.ok());
      assertInstanceOf(Received.Closed.class, second);
    }
  }

  @Nested
  @DisplayName("Go spec: close")
  class Close {
    @Test
    @DisplayName(
        "\"For a channel ch, the built-in function close(ch) records that no more values will be"
            + " sent on the channel.\"")
    void closeRecordsNoMoreSends() {
      Channel<String> ch = Channel.unlimited();
      ch.close();
      assertThrows(ChannelClosedException.class, () -> ch.trySend("v"));
    }

    @Test
    @DisplayName(
        "\"It is an error if ch is a receive-only channel.\" Sluice: ReceiveChannel has no close"
            + " method, so it is a compile-time error as in Go")
    void aReceiveOnlyChannelCannotBeClosed() {
      List<String> methods =
          Arrays.stream(ReceiveChannel.class.getMethods()).map(Method::getName).toList();
      assertFalse(methods.contains("close"), methods.toString());
      assertFalse(methods.contains("send"), methods.toString());
    }

    @Test
    @DisplayName(
        "\"Sending to or closing a closed channel causes a run-time panic.\" Sluice: sending"
            + " throws; closing again is a documented no-op returning false, so finally-close is"
            + " safe")
    void sendingToOrClosingAClosedChannel() {
      Channel<String> ch = Channel.buffered(1);
      assertTrue(ch.close(BOOM));
      assertFalse(ch.close());
      assertSame(BOOM, assertThrows(ChannelClosedException.class, () -> ch.send("v")).getCause());
    }

    @Test
    @DisplayName(
        "\"Closing the nil channel also causes a run-time panic.\" n/a: Sluice has no nil channel;"
            + " its stand-in Select.never() is a clause, which has nothing to close")
    void thereIsNoNilChannelToClose() {
      Clause<Object> never = Select.never();
      assertFalse(SendChannel.class.isAssignableFrom(never.getClass()));
      assertEquals(0, Clause.class.getMethods().length, "a clause exposes no operations");
    }

    @Test
    @DisplayName(
        "\"After calling close, and after any previously sent values have been received, receive"
            + " operations will return the zero value for the channel's type without blocking.\""
            + " Sluice: they return Closed without blocking")
    void afterCloseReceivesReturnClosedWithoutBlocking() throws Exception {
      Channel<String> ch = Channel.unbuffered();
      ch.close();
      assertEquals(Received.Closed.of(null), ch.receiveOrClosed());
      assertEquals(Received.Closed.of(null), ch.receiveOrClosed(Context.background().withCancel()));
    }
  }

  @Nested
  @DisplayName("Go spec: len, cap and for range")
  class LenCapRange {
    @Test
    @DisplayName("\"len(s) chan T: number of elements queued in channel buffer\"")
    void lenCountsQueuedElements() throws Exception {
      Channel<String> ch = Channel.buffered(5);
      ch.send("a");
      ch.send("b");
      assertEquals(2, ch.len());
    }

    @Test
    @DisplayName("\"cap(s) chan T: channel buffer capacity\"")
    void capIsTheBufferCapacity() {
      assertEquals(5, Channel.buffered(5).cap());
      assertEquals(0, Channel.unbuffered().cap());
      assertEquals(Channel.UNLIMITED, Channel.unlimited().cap());
    }

    @Test
    @DisplayName(
        "\"For channels, the iteration values produced are the successive values sent on the"
            + " channel until the channel is closed.\"")
    void rangeYieldsValuesUntilClose() throws Exception {
      Channel<Integer> ch = Channel.unbuffered();
      Spawned<Void> producer =
          Spawned.start(
              ThreadKind.VIRTUAL,
              () -> {
                for (int i = 0; i < 5; i++) {
                  ch.send(i);
                }
                ch.close();
                return null;
              });
      List<Integer> got = new ArrayList<>();
      for (int v : ch) {
        got.add(v);
      }
      assertEquals(List.of(0, 1, 2, 3, 4), got);
      producer.join();
    }

    @Test
    @DisplayName(
        "\"If the channel is nil, the range expression blocks forever.\" n/a: there is no nil"
            + " channel to iterate over")
    void thereIsNoNilChannelToRangeOver() {
      assertFalse(Iterable.class.isAssignableFrom(Clause.class));
    }
  }

  @Nested
  @DisplayName("Go spec: select statements")
  class SelectStatements {
    @Test
    @DisplayName(
        "\"the channel operands of receive operations and the channel and right-hand-side"
            + " expressions of send statements are evaluated exactly once, in source order, upon"
            + " entering the select statement\" Sluice: Java evaluates them once, when the"
            + " clauses are built")
    void clauseExpressionsAreEvaluatedOnceInSourceOrder() throws Exception {
      List<String> evaluated = new ArrayList<>();
      Channel<String> a = Channel.buffered(1);
      Channel<String> b = Channel.buffered(1);
      String r =
          Select.select(
              record(evaluated, "a", a).onSend(record(evaluated, "value", "v"), () -> "sent a"),
              record(evaluated, "b", b).onReceive(v -> "got b"));
      assertEquals("sent a", r);
      assertEquals(List.of("a", "value", "b"), evaluated);
    }

    @Test
    @DisplayName(
        "\"If one or more of the communications can proceed, a single one that can proceed is"
            + " chosen via a uniform pseudo-random selection.\"")
    void aReadyCommunicationIsChosenUniformly() throws Exception {
      Channel<Integer> a = Channel.unlimited();
      Channel<Integer> b = Channel.unlimited();
      int[] counts = new int[2];
      for (int i = 0; i < 20_000; i++) {
        counts[Select.select(a.onSend(0, () -> 0), b.onSend(1, () -> 1))]++;
      }
      assertEquals(20_000, a.len() + b.len(), "a single one proceeds each time");
      for (int c : counts) {
        assertTrue(c > 9_000 && c < 11_000, Arrays.toString(counts));
      }
    }

    @Test
    @DisplayName("\"Otherwise, if there is a default case, that case is chosen.\"")
    void otherwiseDefault() throws Exception {
      Channel<String> ch = Channel.unbuffered();
      assertEquals(
          "default", Select.select(ch.onReceive(v -> v), Select.onDefault(() -> "default")));
    }

    @Test
    @DisplayName(
        "\"If there is no default case, the select statement blocks until at least one of the"
            + " communications can proceed.\"")
    void withoutDefaultItBlocks() throws Exception {
      Channel<String> a = Channel.unbuffered();
      Channel<String> b = Channel.unbuffered();
      Spawned<String> s =
          Spawned.start(
                  ThreadKind.VIRTUAL, () -> Select.select(a.onReceive(v -> v), b.onReceive(v -> v)))
              .awaitBlocked();
      assertTrue(s.isStillBlocked());
      b.send("v");
      assertEquals("v", s.join());
    }

    @Test
    @DisplayName(
        "\"Unless the selected case is the default case, the respective communication operation"
            + " is executed.\"")
    void theSelectedCommunicationIsExecuted() throws Exception {
      Channel<String> ch = Channel.buffered(1);
      Select.select(ch.onSend("v", () -> null));
      assertEquals(List.of("v"), drain(ch));
    }

    @Test
    @DisplayName(
        "\"If the selected case is a RecvStmt with a short variable declaration or an assignment,"
            + " the left-hand side expressions are evaluated and the received value (or values)"
            + " are assigned.\" Sluice: the handler receives them")
    void theReceivedValuesAreGivenToTheCase() throws Exception {
      Channel<String> ch = Channel.buffered(1);
      ch.send("v");
      ch.close();
      assertEquals(new Received.Value<>("v"), Select.select(ch.onReceiveOrClosed(r -> r)));
      Boolean ok = Select.select(ch.onReceiveOrClosed(Received::ok));
      assertFalse(ok);
    }

    @Test
    @DisplayName("\"The statement list of the selected case is executed.\"")
    void theSelectedStatementListRuns() throws Exception {
      AtomicInteger ran = new AtomicInteger();
      Select.select(
          Select.onDefault(
              () -> {
                ran.incrementAndGet();
                return null;
              }));
      assertEquals(1, ran.get());
    }

    @Test
    @DisplayName(
        "\"Since communication on nil channels can never proceed, a select with only nil channels"
            + " and no default case blocks forever.\" Sluice: rejected with"
            + " IllegalArgumentException instead of a silent deadlock")
    void onlyNilChannelsIsRejected() {
      assertThrows(
          IllegalArgumentException.class, () -> Select.select(Select.never(), Select.never()));
    }

    private static <T> T record(List<String> log, String name, T value) {
      log.add(name);
      return value;
    }
  }

  @Nested
  @DisplayName("Go memory model: channel communication")
  class MemoryModel {
    private int plain; // deliberately not volatile

    @Test
    @DisplayName(
        "\"A send on a channel is synchronized before the completion of the corresponding receive"
            + " from that channel.\"")
    void aSendHappensBeforeItsReceive() throws Exception {
      for (int round = 0; round < 1_000; round++) {
        Channel<Integer> ch = Channel.buffered(1);
        int expected = round;
        Spawned<Void> writer =
            Spawned.start(
                ThreadKind.VIRTUAL,
                () -> {
                  plain = expected;
                  ch.send(0);
                  return null;
                });
        ch.receive();
        assertEquals(expected, plain);
        writer.join();
      }
    }

    @Test
    @DisplayName(
        "\"The closing of a channel is synchronized before a receive that returns because the"
            + " channel is closed.\"")
    void aCloseHappensBeforeTheReceiveThatSeesIt() throws Exception {
      for (int round = 0; round < 1_000; round++) {
        Channel<Integer> ch = Channel.unbuffered();
        int expected = round;
        Spawned.start(
            ThreadKind.VIRTUAL,
            () -> {
              plain = expected;
              return ch.close();
            });
        assertFalse(ch.receiveOrClosed().ok());
        assertEquals(expected, plain);
      }
    }

    @Test
    @DisplayName(
        "\"A receive from an unbuffered channel is synchronized before the completion of the"
            + " corresponding send on that channel.\"")
    void anUnbufferedReceiveHappensBeforeTheSendCompletes() throws Exception {
      for (int round = 0; round < 1_000; round++) {
        Channel<Integer> ch = Channel.unbuffered();
        int expected = round;
        Spawned<Void> reader =
            Spawned.start(
                ThreadKind.VIRTUAL,
                () -> {
                  plain = expected;
                  ch.receive();
                  return null;
                });
        ch.send(0);
        assertEquals(expected, plain);
        reader.join();
      }
    }

    @Test
    @DisplayName(
        "\"The kth receive on a channel with capacity C is synchronized before the completion of"
            + " the k+Cth send from that channel completes.\" (a buffered channel as a counting"
            + " semaphore)")
    void aBufferedChannelLimitsConcurrency() throws Exception {
      Channel<Boolean> limit = Channel.buffered(3);
      AtomicInteger running = new AtomicInteger();
      AtomicInteger most = new AtomicInteger();
      List<Spawned<Void>> workers = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        workers.add(
            Spawned.start(
                ThreadKind.VIRTUAL,
                () -> {
                  for (int k = 0; k < 100; k++) {
                    limit.send(true);
                    most.accumulateAndGet(running.incrementAndGet(), Math::max);
                    Thread.yield();
                    running.decrementAndGet();
                    limit.receive();
                  }
                  return null;
                }));
      }
      for (Spawned<Void> w : workers) {
        w.join();
      }
      assertTrue(most.get() <= 3, "at most C hold the semaphore: " + most.get());
    }
  }

  @Nested
  @DisplayName("Go package context")
  class PackageContext {
    @Test
    @DisplayName(
        "\"Background returns a non-nil, empty Context. It is never canceled, has no values, and"
            + " has no deadline.\"")
    void background() {
      Context bg = Context.background();
      assertFalse(bg.isDone());
      assertEquals(Optional.empty(), bg.value(Context.Key.named("k")));
      assertEquals(Optional.empty(), bg.deadline());
    }

    @Test
    @DisplayName(
        "\"The returned context's Done channel is closed when the returned cancel function is"
            + " called or when the parent context's Done channel is closed, whichever happens"
            + " first.\"")
    void withCancelDoneClosesOnCancelOrParent() {
      CancelableContext parent = Context.background().withCancel();
      CancelableContext a = parent.withCancel();
      CancelableContext b = parent.withCancel();
      a.cancel();
      assertTrue(a.done().isClosed());
      assertFalse(b.done().isClosed());
      parent.cancel();
      assertTrue(b.done().isClosed());
    }

    @Test
    @DisplayName(
        "\"Canceling this context releases resources associated with it, so code should call"
            + " cancel as soon as the operations running in this Context complete.\"")
    void cancelReleasesResources() {
      CancelableContext parent = Context.background().withCancel();
      CancelableContext child = parent.withCancel();
      child.afterFunc(() -> {});
      assertEquals(1, ((CancelContext) parent).pendingHooks());
      child.cancel();
      assertNoHooks(parent);
      assertNoHooks(child);
    }

    @Test
    @DisplayName(
        "\"Done returns a channel that's closed when work done on behalf of this context should"
            + " be canceled. Done may return nil if this context can never be canceled.\" Sluice:"
            + " never null; a channel that never closes")
    void doneIsNeverNull() {
      assertInstanceOf(TryReceived.WouldBlock.class, Context.background().done().tryReceive());
      assertInstanceOf(
          TryReceived.WouldBlock.class,
          Context.background().withCancel().withoutCancel().done().tryReceive());
    }

    @Test
    @DisplayName("\"Successive calls to Done return the same value.\"")
    void doneIsStable() {
      CancelableContext ctx = Context.background().withCancel();
      assertSame(ctx.done(), ctx.done());
      assertSame(Context.background().done(), Context.background().done());
    }

    @Test
    @DisplayName(
        "\"The close of the Done channel may happen asynchronously, after the cancel function"
            + " returns.\" Sluice is stronger: it is closed before cancel returns")
    void doneIsClosedBeforeCancelReturns() {
      CancelableContext ctx = Context.background().withCancel();
      ReceiveChannel<Void> done = ctx.withCancel().done();
      ctx.cancel();
      assertTrue(done.isClosed());
    }

    @Test
    @DisplayName(
        "\"If Done is not yet closed, Err returns nil. If Done is closed, Err returns a non-nil"
            + " error explaining why: DeadlineExceeded if the context's deadline passed, or"
            + " Canceled if the context was canceled for some other reason.\"")
    void errExplainsWhy() {
      CancelableContext ctx = Context.background().withCancel();
      assertEquals(Optional.empty(), ctx.err());
      ctx.cancel();
      assertFalse(ctx.err().orElseThrow().isDeadlineExceeded());

      CancelableContext expired =
          Context.background(Clock.manual(Instant.EPOCH)).withTimeout(Duration.ofSeconds(-1));
      assertInstanceOf(DeadlineExceededException.class, expired.err().orElseThrow());
      assertTrue(expired.err().orElseThrow().isDeadlineExceeded());
    }

    @Test
    @DisplayName(
        "\"After Err returns a non-nil error, successive calls to Err return the same error.\"")
    void errIsStable() {
      CancelableContext ctx = Context.background().withCancel();
      ctx.cancel();
      assertSame(ctx.err().orElseThrow(), ctx.err().orElseThrow());
    }

    @Test
    @DisplayName(
        "\"Value returns the value associated with this context for key, or nil if no value is"
            + " associated with key. Successive calls to Value with the same key returns the same"
            + " result.\" Sluice: Optional.empty() for none")
    void valueLookup() {
      Context.Key<Object> key = Context.Key.named("k");
      Object v = new Object();
      Context ctx = Context.background().withValue(key, v);
      assertSame(v, ctx.value(key).orElseThrow());
      assertSame(ctx.value(key).orElseThrow(), ctx.value(key).orElseThrow());
      assertEquals(Optional.empty(), ctx.value(Context.Key.named("k")));
    }

    @Test
    @DisplayName(
        "\"The provided key must be comparable and should not be of type string or any other"
            + " built-in type to avoid collisions between packages using context.\" Sluice: keys"
            + " are objects compared by identity, so equal names never collide")
    void keysDoNotCollide() {
      Context.Key<String> mine = Context.Key.named("user");
      Context.Key<String> theirs = Context.Key.named("user");
      Context ctx = Context.background().withValue(mine, "a").withValue(theirs, "b");
      assertEquals(Optional.of("a"), ctx.value(mine));
      assertEquals(Optional.of("b"), ctx.value(theirs));
    }

    @Test
    @DisplayName("\"When a Context is canceled, all Contexts derived from it are also canceled.\"")
    void derivedContextsAreCancelled() {
      CancelableContext root = Context.background().withCancel();
      Context derived = root.withValue(Context.Key.named("k"), 1).withCancel().withCancel();
      root.cancel();
      assertTrue(derived.isDone());
    }

    @Test
    @DisplayName(
        "\"Calling the CancelFunc directly cancels the child and its children, removes the"
            + " parent's reference to the child, and stops any associated timers.\"")
    void cancelFuncCancelsChildrenAndUnlinks() {
      CancelableContext parent = Context.background().withCancel();
      CancelableContext child = parent.withCancel();
      Context grandchild = child.withCancel();
      child.cancel();
      assertTrue(grandchild.isDone());
      assertFalse(parent.isDone());
      assertNoHooks(parent);
    }

    @Test
    @DisplayName("\"After the first call, subsequent calls to a CancelFunc do nothing.\"")
    void laterCancelsDoNothing() {
      CancelableContext ctx = Context.background().withCancel();
      ctx.cancel(BOOM);
      ContextCancelledException err = ctx.err().orElseThrow();
      ctx.cancel(new RuntimeException("ignored"));
      assertSame(err, ctx.err().orElseThrow());
      assertSame(BOOM, ctx.cause().orElseThrow());
    }

    @Test
    @DisplayName(
        "\"Calling cancel with a non-nil error (the \"cause\") records that error in ctx; it can"
            + " then be retrieved using Cause(ctx).\"")
    void cancelWithCause() {
      CancelableContext ctx = Context.background().withCancel();
      ctx.cancel(BOOM);
      assertSame(BOOM, ctx.cause().orElseThrow());
    }

    @Test
    @DisplayName(
        "\"Calling the CancelCauseFunc with nil sets the cause to Canceled.\" Sluice: cancel(null)"
            + " is rejected; cancel() is the call without a cause")
    void cancelWithNullCause() {
      CancelableContext ctx = Context.background().withCancel();
      assertThrows(NullPointerException.class, () -> ctx.cancel(null));
      ctx.cancel();
      assertSame(ctx.err().orElseThrow(), ctx.cause().orElseThrow());
    }

    @Test
    @DisplayName(
        "\"The first cancellation of c or one of its parents sets the cause. If that cancellation"
            + " happened via a call to CancelCauseFunc(err), then Cause returns err. Otherwise"
            + " Cause(c) returns the same value as c.Err(). Cause returns nil if c has not been"
            + " canceled yet.\"")
    void causeSemantics() {
      CancelableContext parent = Context.background().withCancel();
      CancelableContext child = parent.withCancel();
      CancelableContext other = Context.background().withCancel();
      assertEquals(Optional.empty(), child.cause());
      parent.cancel(BOOM);
      child.cancel(new RuntimeException("too late"));
      assertSame(BOOM, child.cause().orElseThrow());
      other.cancel();
      assertSame(other.err().orElseThrow(), other.cause().orElseThrow());
    }

    @Test
    @DisplayName(
        "\"WithoutCancel returns a derived context that points to the parent context and is not"
            + " canceled when parent is canceled. The returned context returns no Deadline or Err,"
            + " and its Done channel is nil. Calling Cause on the returned context returns nil.\"")
    void withoutCancel() {
      CancelableContext parent =
          Context.background(Clock.manual(Instant.EPOCH)).withDeadline(Instant.EPOCH);
      Context detached = parent.withoutCancel();
      parent.cancel();
      assertFalse(detached.isDone());
      assertEquals(Optional.empty(), detached.deadline());
      assertEquals(Optional.empty(), detached.err());
      assertEquals(Optional.empty(), detached.cause());
      assertInstanceOf(TryReceived.WouldBlock.class, detached.done().tryReceive());
    }

    @Test
    @DisplayName(
        "\"AfterFunc arranges to call f in its own goroutine after ctx is canceled. If ctx is"
            + " already canceled, AfterFunc calls f immediately in its own goroutine.\"")
    void afterFunc() throws Exception {
      CancelableContext ctx = Context.background().withCancel();
      CountDownLatch ran = new CountDownLatch(2);
      Thread me = Thread.currentThread();
      Runnable f =
          () -> {
            if (Thread.currentThread() != me) {
              ran.countDown();
            }
          };
      ctx.afterFunc(f);
      ctx.cancel();
      ctx.afterFunc(f);
      ran.await();
    }

    @Test
    @DisplayName(
        "\"Multiple calls to AfterFunc on a context operate independently; one does not replace"
            + " another.\"")
    void afterFuncsAreIndependent() throws Exception {
      CancelableContext ctx = Context.background().withCancel();
      CountDownLatch ran = new CountDownLatch(2);
      ctx.afterFunc(ran::countDown);
      Context.AfterFunc stopped = ctx.afterFunc(() -> {});
      ctx.afterFunc(ran::countDown);
      assertTrue(stopped.stop());
      ctx.cancel();
      ran.await();
    }

    @Test
    @DisplayName(
        "\"It returns true if the call stopped f from being run. If stop returns false, either"
            + " the context is canceled and f has been started in its own goroutine; or f was"
            + " already stopped. The stop function does not wait for f to complete before"
            + " returning.\"")
    void afterFuncStop() throws Exception {
      CancelableContext ctx = Context.background().withCancel();
      CountDownLatch release = new CountDownLatch(1);
      CountDownLatch started = new CountDownLatch(1);
      Context.AfterFunc f =
          ctx.afterFunc(
              () -> {
                started.countDown();
                try {
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      ctx.cancel();
      started.await();
      assertFalse(f.stop(), "started: stop returns false without waiting for f");
      release.countDown();

      Context.AfterFunc g = Context.background().withCancel().afterFunc(() -> {});
      assertTrue(g.stop());
      assertFalse(g.stop(), "already stopped");
    }

    @Test
    @DisplayName(
        "\"WithValue returns a derived context that points to the parent Context. In the derived"
            + " context, the value associated with key is val.\"")
    void withValue() {
      Context.Key<String> k = Context.Key.named("k");
      CancelableContext parent = Context.background().withCancel();
      Context derived = parent.withValue(k, "val");
      assertEquals(Optional.of("val"), derived.value(k));
      parent.cancel();
      assertTrue(derived.isDone(), "it points to the parent");
    }

    @Test
    @DisplayName(
        "\"Deadline returns the time when work done on behalf of this context should be canceled."
            + " Deadline returns ok==false when no deadline is set.\"")
    void deadline() {
      Context bg = Context.background(Clock.manual(Instant.EPOCH));
      assertEquals(Optional.empty(), bg.withCancel().deadline());
      Instant d = Instant.EPOCH.minusSeconds(1);
      assertEquals(Optional.of(d), bg.withDeadline(d).deadline());
    }

    @Test
    @DisplayName(
        "\"If the parent's deadline is already earlier than d, WithDeadline(parent, d) is"
            + " semantically equivalent to parent.\"")
    void anEarlierParentDeadlineWins() {
      Context bg = Context.background(Clock.manual(Instant.EPOCH));
      Instant early = Instant.EPOCH.minusSeconds(10);
      CancelableContext parent = bg.withDeadline(early);
      CancelableContext child = parent.withDeadline(Instant.EPOCH.minusSeconds(5));
      assertEquals(Optional.of(early), child.deadline());
      assertTrue(child.err().orElseThrow().isDeadlineExceeded());
    }

    @Test
    @DisplayName(
        "\"WithDeadlineCause behaves like WithDeadline but also sets the cause of the returned"
            + " Context when the deadline is exceeded.\"")
    void withDeadlineCause() {
      Context bg = Context.background(Clock.manual(Instant.EPOCH));
      CancelableContext ctx = bg.withDeadline(Instant.EPOCH, BOOM);
      assertTrue(ctx.err().orElseThrow().isDeadlineExceeded());
      assertSame(BOOM, ctx.cause().orElseThrow());
    }
  }
}
