package io.sluice.core;

import static io.sluice.core.TimerConformanceTest.valueOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The seed's stopped-timer hangs are reported: {@code stop()} leaving a thread in a plain receive
 * on the timer's channel, a plain receive starting where only a reset can complete it (the {@code
 * if (!t.stop()) <-t.C} drain idiom), and a one-shot value going to one of several plain receivers
 * each log one warning; receives that can end some other way log nothing; and the warning changes
 * nothing else. Time is a {@link ManualClock}, but where the system clock's own path is tested.
 */
@Isolated
@Timeout(30)
class TimerStopWarningTest {
  private static final Instant START = Instant.parse("2024-01-01T00:00:00Z");
  private static final Duration SECOND = Duration.ofSeconds(1);

  private final ManualClock clock = Clock.manual(START);
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final List<String> loggingThreads = new CopyOnWriteArrayList<>();
  private final CountDownLatch warned = new CountDownLatch(1);
  private final Handler capture =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          records.add(r);
          loggingThreads.add(Thread.currentThread().getName());
          warned.countDown();
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };
  private final Logger logger = Logger.getLogger("io.sluice.core");

  @BeforeEach
  void captureWarnings() {
    Diagnostics.timerWarnings().reset(); // earlier tests in this JVM may have used the budget
    logger.addHandler(capture);
  }

  @AfterEach
  void stopCapturing() {
    logger.removeHandler(capture);
  }

  /** A thread running a body, and what the body returned or threw. */
  private record Running(Thread thread, CompletableFuture<Object> outcome) {
    Object await() throws Exception {
      return outcome.get(20, TimeUnit.SECONDS);
    }
  }

  interface Body {
    Object run() throws Exception;
  }

  private static Running start(ThreadKind kind, String name, Body body) {
    CompletableFuture<Object> outcome = new CompletableFuture<>();
    Runnable r =
        () -> {
          try {
            outcome.complete(body.run());
          } catch (Throwable t) {
            outcome.complete(t);
          }
        };
    Thread t =
        kind == ThreadKind.VIRTUAL
            ? Thread.ofVirtual().name(name).start(r)
            : Thread.ofPlatform().daemon().name(name).start(r);
    return new Running(t, outcome);
  }

  private void awaitPending(int n) {
    while (clock.pendingTimers() != n) {
      Thread.onSpinWait();
    }
  }

  /**
   * Returns once {@code r}'s thread is parked in a channel wait: any report is made before that, on
   * the waiting thread, so after this a missing report will not come.
   */
  private static void awaitParked(Running r) {
    while (!(isParked(r.thread()) && inChannelWait(r.thread()) && isParked(r.thread()))) {
      assertFalse(r.outcome().isDone(), () -> "the wait ended: " + r.outcome().join());
      Thread.onSpinWait();
    }
  }

  private static boolean isParked(Thread t) {
    Thread.State s = t.getState();
    return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
  }

  private static boolean inChannelWait(Thread t) {
    return Arrays.stream(t.getStackTrace())
        .anyMatch(
            e ->
                e.getClassName().equals(Waiter.class.getName())
                    && e.getMethodName().equals("await"));
  }

  private static boolean stackHas(LogRecord r, Class<?> type, String method) {
    return Arrays.stream(r.getThrown().getStackTrace())
        .anyMatch(e -> e.getClassName().equals(type.getName()) && e.getMethodName().equals(method));
  }

  private void assertNothingLogged() {
    assertTrue(records.isEmpty(), () -> "unexpected warning: " + records.getFirst().getMessage());
  }

  // ---- stop() with a receiver blocked: the seed's first program ----

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAPlainReceiverBlockedOnATimer_whenAnotherThreadStopsIt_thenOneWarningNamesTheReceiver(
      ThreadKind kind) throws Exception {
    Timer t = clock.newTimer(Duration.ofSeconds(2));
    Running receiver = start(kind, "timer-receiver", () -> t.channel().receive());
    awaitPending(1);

    Running stopper = start(kind, "timer-stopper", t::stop);
    assertEquals(true, stopper.await());
    t.stop(); // a second stop, and time passing, add nothing
    clock.advance(Duration.ofSeconds(10));

    assertEquals(1, records.size(), () -> "warnings: " + records);
    LogRecord r = records.getFirst();
    assertEquals(Level.WARNING, r.getLevel());
    assertEquals("io.sluice.core.Timer", r.getLoggerName());
    String message = r.getMessage();
    assertTrue(message.contains("thread #" + receiver.thread().threadId()), message);
    assertTrue(message.contains("'timer-receiver'"), message);
    assertTrue(message.contains("stop() does not close the channel"), message);
    assertTrue(message.contains("wait until the timer is reset"), message);
    assertTrue(message.contains("Context"), message);
    assertTrue(stackHas(r, ChannelTimer.class, "stop"), "the stack is the stopping thread's");
    assertFalse(receiver.outcome().isDone(), "the warning changes nothing: it still waits");
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(11), receiver.await());
  }

  @Test
  void givenTwoPlainReceiversAndASelect_whenTheTimerIsStopped_thenTheWarningNamesThePlainOnes()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Channel<String> other = Channel.unbuffered();
    Running a = start(ThreadKind.VIRTUAL, "plain-a", () -> t.channel().receive());
    awaitPending(1);
    Running b = start(ThreadKind.VIRTUAL, "plain-b", () -> t.channel().receiveOrClosed());
    Running s =
        start(
            ThreadKind.VIRTUAL,
            "selecting",
            () -> Select.select(t.channel().onReceive(v -> "timer"), other.onReceive(v -> v)));
    awaitParked(b);
    awaitParked(s);

    t.stop();

    assertEquals(1, records.size(), () -> "warnings: " + records);
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("2 thread(s)"), message);
    assertTrue(message.contains("'plain-a'") && message.contains("'plain-b'"), message);
    assertFalse(message.contains("'selecting'"), message);
    other.send("other");
    assertEquals("other", s.await());
    a.thread().interrupt();
    b.thread().interrupt();
    assertInstanceOf(InterruptedException.class, a.await());
    assertInstanceOf(InterruptedException.class, b.await());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAPlainReceiverLeftWaitingByStop_whenInterrupted_thenItThrowsAsAlways(ThreadKind kind)
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Running receiver = start(kind, "interrupted-receiver", () -> t.channel().receive());
    awaitPending(1);
    t.stop();
    assertEquals(1, records.size());

    receiver.thread().interrupt();

    assertInstanceOf(InterruptedException.class, receiver.await());
    assertEquals(1, records.size());
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), valueOf(t.channel()), "the new value waits for a receiver");
  }

  @Test
  void givenASelectWhoseOnlyClauseIsTheTimer_whenStopped_thenItIsReportedLikeAPlainReceive()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Running receiver =
        start(
            ThreadKind.VIRTUAL, "lone-select", () -> Select.select(t.channel().onReceive(v -> v)));
    awaitPending(1);

    t.stop();

    assertEquals(1, records.size());
    assertTrue(records.getFirst().getMessage().contains("'lone-select'"));
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), receiver.await());
  }

  @Test
  void givenAPlainReceiverBlockedOnATicker_whenStopped_thenOneWarningAndAResetWakesIt()
      throws Exception {
    Ticker t = clock.newTicker(SECOND);
    Running receiver = start(ThreadKind.VIRTUAL, "tick-receiver", () -> t.channel().receive());
    awaitPending(1);

    t.stop();

    assertEquals(1, records.size());
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("'tick-receiver'"), message);
    assertTrue(message.contains("until the ticker is reset"), message);
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), receiver.await());
  }

  // ---- stop() with receivers that end some other way ----

  @Test
  void givenASelectOnTheTimerAndAnotherChannel_whenTheTimerIsStopped_thenNothingIsLogged()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Channel<String> done = Channel.unbuffered();
    Running s =
        start(
            ThreadKind.VIRTUAL,
            "select",
            () -> Select.select(t.channel().onReceive(v -> "timer"), done.onReceive(v -> v)));
    awaitPending(1);

    assertTrue(t.stop());

    assertNothingLogged();
    done.send("done");
    assertEquals("done", s.await());
  }

  @Test
  void givenAReceiveWithATimeout_whenTheTimerIsStopped_thenNothingIsLogged() throws Exception {
    Timer t = clock.newTimer(SECOND);
    Running r =
        start(ThreadKind.VIRTUAL, "timed", () -> t.channel().tryReceive(Duration.ofHours(1)));
    awaitPending(1);

    assertTrue(t.stop());

    assertNothingLogged();
    r.thread().interrupt();
    assertInstanceOf(InterruptedException.class, r.await());
  }

  @Test
  void givenAReceiveWithAContext_whenTheTimerIsStoppedAndTheContextCancelled_thenItEndsQuietly()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    CancelableContext ctx = Context.background().withCancel();
    Running r = start(ThreadKind.VIRTUAL, "with-context", () -> t.channel().receive(ctx));
    awaitPending(1);

    assertTrue(t.stop());
    ctx.cancel();

    assertInstanceOf(ContextCancelledException.class, r.await());
    assertNothingLogged();
  }

  @Test
  void givenATimerWhoseWaitingReceiverGotTheValue_whenStopped_thenNothingIsLogged()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Running r = start(ThreadKind.VIRTUAL, "served", () -> t.channel().receive());
    awaitPending(1);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), r.await());

    assertFalse(t.stop());

    assertNothingLogged();
  }

  // ---- a plain receive that only a reset can complete: the drain idiom ----

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenATimerWhoseValueWasReceived_whenTheDrainIdiomReceives_thenItWarnsWithTheReceiversStack(
      ThreadKind kind) throws Exception {
    Timer t = clock.newTimer(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), valueOf(t.channel()));

    Running drainer =
        start(
            kind,
            "drainer",
            () -> {
              if (!t.stop()) {
                t.channel().receive(); // Go's `if !t.Stop() { <-t.C }`
              }
              return "drained";
            });

    assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
    awaitParked(drainer);
    assertEquals(1, records.size());
    LogRecord r = records.getFirst();
    assertEquals("io.sluice.core.Timer", r.getLoggerName());
    String message = r.getMessage();
    assertTrue(message.contains("'drainer'"), message);
    assertTrue(message.contains("it waits until another thread resets the timer"), message);
    assertTrue(message.contains("never need draining after stop() or reset()"), message);
    assertTrue(stackHas(r, ChannelImpl.class, "receive"), "the stack is the receiver's");
    drainer.thread().interrupt();
    assertInstanceOf(InterruptedException.class, drainer.await());
  }

  @Test
  void givenAReceiverReportedByTheDrainIdiom_whenTheTimerIsReset_thenItGetsTheNewValue()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    assertTrue(t.stop());
    Running r = start(ThreadKind.VIRTUAL, "after-stop", () -> t.channel().receive());
    assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
    awaitParked(r);

    t.reset(SECOND);
    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), r.await());
    t.stop();
    assertEquals(1, records.size(), "one report per timer");
  }

  @Test
  void givenAStoppedTimer_whenReceivingWithATimeoutOrAContext_thenNothingIsLogged()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    assertTrue(t.stop());

    TryReceived<Instant> timed = t.channel().tryReceive(Duration.ofMillis(1));
    try (CancelableContext ctx = Context.background().withCancel()) {
      Running r = start(ThreadKind.VIRTUAL, "ctx", () -> t.channel().receive(ctx));
      awaitParked(r);
      ctx.cancel();
      assertInstanceOf(ContextCancelledException.class, r.await());
    }

    assertInstanceOf(TryReceived.WouldBlock.class, timed);
    assertNothingLogged();
  }

  @Test
  void givenAStoppedTimer_whenASelectAlsoWaitsOnAnotherChannel_thenNothingIsLogged()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    assertTrue(t.stop());
    Channel<String> other = Channel.unbuffered();

    Running s =
        start(
            ThreadKind.VIRTUAL,
            "select",
            () -> Select.select(t.channel().onReceive(v -> "timer"), other.onReceive(v -> v)));
    awaitParked(s);

    assertNothingLogged();
    other.send("other");
    assertEquals("other", s.await());
  }

  @Test
  void givenAnAfterChannelWhoseValueWasReceived_whenReceivedAgain_thenItWarnsItWaitsForEver()
      throws Exception {
    ReceiveChannel<Instant> after = clock.after(Duration.ZERO);
    assertEquals(START, valueOf(after));

    Running r = start(ThreadKind.VIRTUAL, "second-receive", after::receive);

    assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("'second-receive'"), message);
    assertTrue(message.contains("waits for ever"), message);
    r.thread().interrupt();
    assertInstanceOf(InterruptedException.class, r.await());
  }

  // ---- a one-shot value served one of several plain receivers ----

  /** Starts a plain receive on {@code ch} and returns once it is parked, i.e. queued. */
  private static Running parkedReceiver(ThreadKind kind, String name, ReceiveChannel<Instant> ch) {
    Running r = start(kind, name, ch::receive);
    awaitParked(r);
    return r;
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenTwoPlainReceiversOnATimer_whenItFires_thenOneWarningNamesTheOneLeftAndAResetWakesIt(
      ThreadKind kind) throws Exception {
    Timer t = clock.newTimer(SECOND);
    Running first = parkedReceiver(kind, "served", t.channel());
    Running second = parkedReceiver(kind, "left-waiting", t.channel());

    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), first.await());
    assertEquals(1, records.size(), () -> "warnings: " + records);
    LogRecord r = records.getFirst();
    assertEquals(Level.WARNING, r.getLevel());
    assertEquals("io.sluice.core.Timer", r.getLoggerName());
    String message = r.getMessage();
    assertTrue(message.contains("1 other thread(s)"), message);
    assertTrue(message.contains("thread #" + second.thread().threadId()), message);
    assertTrue(message.contains("'left-waiting'"), message);
    assertFalse(message.contains("'served'"), message);
    assertTrue(message.contains("each value to one receiver only"), message);
    assertTrue(message.contains("until the timer is reset"), message);
    assertTrue(message.contains("Context") && message.contains("done channel"), message);
    assertTrue(stackHas(r, Waiter.class, "await"), "the stack is the stranded receiver's");
    assertFalse(second.outcome().isDone(), "the warning changes nothing: it still waits");
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(2), second.await());
    assertEquals(1, records.size());
  }

  @Test
  void givenThreePlainReceiversOnATimer_whenItFires_thenOneWarningNamesTheTwoLeftAndResetsWakeThem()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Running first = parkedReceiver(ThreadKind.VIRTUAL, "first", t.channel());
    Running second = parkedReceiver(ThreadKind.VIRTUAL, "second", t.channel());
    Running third = parkedReceiver(ThreadKind.VIRTUAL, "third", t.channel());

    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), first.await());
    assertEquals(1, records.size(), () -> "warnings: " + records);
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("2 other thread(s)"), message);
    assertTrue(message.contains("'second'") && message.contains("'third'"), message);
    assertFalse(message.contains("'first'"), message);
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(2), second.await());
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(3), third.await());
    assertEquals(1, records.size(), "the second fire strands 'third' again: no second report");
  }

  @Test
  void givenAReportedTimer_whenAResetFiresWithPlainReceiversLeftAgain_thenNothingMoreIsLogged()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    parkedReceiver(ThreadKind.VIRTUAL, "a", t.channel());
    Running b = parkedReceiver(ThreadKind.VIRTUAL, "b", t.channel());
    clock.advance(SECOND);
    assertEquals(1, records.size());
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(2), b.await());

    Running c = parkedReceiver(ThreadKind.VIRTUAL, "c", t.channel());
    Running d = parkedReceiver(ThreadKind.VIRTUAL, "d", t.channel());
    t.reset(SECOND);
    clock.advance(SECOND);

    assertEquals(START.plusSeconds(3), c.await());
    assertEquals(1, records.size(), () -> "warnings: " + records);
    d.thread().interrupt();
    assertInstanceOf(InterruptedException.class, d.await());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenTwoPlainReceiversOnAnAfterChannel_whenItFires_thenOneWarningSaysTheOtherWaitsForEver(
      ThreadKind kind) throws Exception {
    ReceiveChannel<Instant> after = clock.after(SECOND);
    Running first = parkedReceiver(kind, "served", after);
    Running second = parkedReceiver(kind, "for-ever", after);
    Running third = parkedReceiver(kind, "also-for-ever", after);

    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), first.await());
    assertEquals(1, records.size(), () -> "warnings: " + records);
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("2 other thread(s)"), message);
    assertTrue(message.contains("'for-ever'") && message.contains("'also-for-ever'"), message);
    assertFalse(message.contains("'served'"), message);
    assertTrue(message.contains("wait for ever"), message);
    assertTrue(message.contains("its own after(d)"), message);
    second.thread().interrupt();
    third.thread().interrupt();
    assertInstanceOf(InterruptedException.class, second.await());
    assertInstanceOf(InterruptedException.class, third.await());
    assertEquals(1, records.size());
  }

  @Test
  void
      givenAReceiverLeftWaitingByAFire_whenInterrupted_thenItThrowsAndTheNextValueWaitsForAReceiver()
          throws Exception {
    Timer t = clock.newTimer(SECOND);
    parkedReceiver(ThreadKind.VIRTUAL, "served", t.channel());
    Running left = parkedReceiver(ThreadKind.PLATFORM, "interrupted", t.channel());
    clock.advance(SECOND);
    assertEquals(1, records.size());

    left.thread().interrupt();

    assertInstanceOf(InterruptedException.class, left.await());
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(2), valueOf(t.channel()), "the new value waits for a receiver");
    assertEquals(1, records.size());
  }

  @Test
  void givenAnUnnamedReceiverLeftWaitingByAFire_thenTheWarningCallsItUnnamed() throws Exception {
    ReceiveChannel<Instant> after = clock.after(SECOND);
    parkedReceiver(ThreadKind.VIRTUAL, "served", after);
    Running unnamed = parkedReceiver(ThreadKind.VIRTUAL, "", after);

    clock.advance(SECOND);

    assertEquals(1, records.size());
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("thread #" + unnamed.thread().threadId() + " (unnamed)"), message);
    unnamed.thread().interrupt();
    assertInstanceOf(InterruptedException.class, unnamed.await());
  }

  @Test
  void givenOnePlainReceiverOnATimerAndOneOnAnAfterChannel_whenTheyFire_thenNothingIsLogged()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    ReceiveChannel<Instant> after = clock.after(SECOND);
    Running onTimer = parkedReceiver(ThreadKind.VIRTUAL, "on-timer", t.channel());
    Running onAfter = parkedReceiver(ThreadKind.VIRTUAL, "on-after", after);

    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), onTimer.await());
    assertEquals(START.plusSeconds(1), onAfter.await());
    assertNothingLogged();
  }

  @Test
  void
      givenPlainReceiversParkedOnATimerDueNow_whenAnotherThreadTakesTheValue_thenOneWarningNamesThem()
          throws Exception {
    Timer t = clock.newTimer(Duration.ofHours(1));
    Running a = parkedReceiver(ThreadKind.VIRTUAL, "parked-a", t.channel());
    Running b = parkedReceiver(ThreadKind.PLATFORM, "parked-b", t.channel());
    t.reset(Duration.ZERO); // due now: the manual clock fires it at its next advance

    assertEquals(START, valueOf(t.channel()), "the value goes to the receiver that looks first");
    clock.advance(Duration.ZERO); // runs the report, an engine action due now

    assertEquals(1, records.size(), () -> "warnings: " + records);
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("2 other thread(s)"), message);
    assertTrue(message.contains("'parked-a'") && message.contains("'parked-b'"), message);
    assertTrue(stackHas(records.getFirst(), Waiter.class, "await"), "a parked receiver's stack");
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), a.await());
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(2), b.await());
    assertEquals(1, records.size());
  }

  @Test
  void
      givenAContextReceiverParkedOnATimerDueNow_whenAnotherThreadTakesTheValue_thenNothingIsLogged()
          throws Exception {
    Timer t = clock.newTimer(Duration.ofHours(1));
    CancelableContext ctx = Context.background().withCancel();
    Running r = start(ThreadKind.VIRTUAL, "with-context", () -> t.channel().receive(ctx));
    awaitParked(r);
    t.reset(Duration.ZERO);

    assertEquals(START, valueOf(t.channel()));
    clock.advance(Duration.ZERO);

    assertNothingLogged();
    ctx.cancel();
    assertInstanceOf(ContextCancelledException.class, r.await());
  }

  @ParameterizedTest
  @EnumSource(OneShot.class)
  void givenReceiversThatCanEndOtherwiseLeftBehindByAFire_thenNothingIsLogged(OneShot oneShot)
      throws Exception {
    ReceiveChannel<Instant> ch = oneShot.make(clock);
    Channel<String> other = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Running served = parkedReceiver(ThreadKind.VIRTUAL, "served", ch);
    Running withContext = start(ThreadKind.VIRTUAL, "with-context", () -> ch.receive(ctx));
    awaitParked(withContext);
    Running selecting =
        start(
            ThreadKind.VIRTUAL,
            "selecting",
            () -> Select.select(ch.onReceive(v -> "timer"), other.onReceive(v -> v)));
    awaitParked(selecting);
    Running timed = start(ThreadKind.VIRTUAL, "timed", () -> ch.tryReceive(Duration.ofHours(1)));
    awaitParked(timed);

    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), served.await());
    assertNothingLogged();
    ctx.cancel();
    other.send("other");
    timed.thread().interrupt();
    assertInstanceOf(ContextCancelledException.class, withContext.await());
    assertEquals("other", selecting.await());
    assertInstanceOf(InterruptedException.class, timed.await());
    assertNothingLogged();
  }

  @Test
  void givenAStopRacingTheFireThatStrandsAReceiver_thenExactlyOneOfThemReports() throws Exception {
    for (int round = 0; round < 200; round++) {
      Diagnostics.timerWarnings().reset();
      records.clear();
      Timer t = clock.newTimer(SECOND);
      Running a = parkedReceiver(ThreadKind.VIRTUAL, "a", t.channel());
      Running b = parkedReceiver(ThreadKind.VIRTUAL, "b", t.channel());
      CountDownLatch go = new CountDownLatch(1);
      Running stopper =
          start(
              ThreadKind.PLATFORM,
              "stopper",
              () -> {
                go.await();
                return t.stop();
              });

      go.countDown();
      clock.advance(SECOND); // the fire, unless the stop came first

      stopper.await();
      assertEquals(1, records.size(), "round " + round + ": " + records);
      ((TimerImpl) t).core().checkInvariants();
      a.thread().interrupt();
      b.thread().interrupt();
      a.await();
      b.await();
    }
  }

  /** The two one-shot channels: a {@link Timer}'s and {@link Clock#after}'s. */
  enum OneShot {
    TIMER {
      @Override
      ReceiveChannel<Instant> make(Clock clock) {
        return clock.newTimer(SECOND).channel();
      }
    },
    AFTER {
      @Override
      ReceiveChannel<Instant> make(Clock clock) {
        return clock.after(SECOND);
      }
    };

    abstract ReceiveChannel<Instant> make(Clock clock);
  }

  @Test
  void givenTwoPlainReceiversOnASystemClockTimer_whenItFires_thenTheWarningIsLoggedOffTheEngine()
      throws Exception {
    Timer t = Clock.system().newTimer(Duration.ofHours(1));
    Running first = parkedReceiver(ThreadKind.VIRTUAL, "served", t.channel());
    Running second = parkedReceiver(ThreadKind.VIRTUAL, "left-waiting", t.channel());

    t.reset(Duration.ZERO); // the engine's thread fires it at once

    assertInstanceOf(Instant.class, first.await());
    assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("'left-waiting'") && !message.contains("'served'"), message);
    assertEquals(List.of("sluice-timer-warning"), loggingThreads);
    second.thread().interrupt();
    assertInstanceOf(InterruptedException.class, second.await());
  }

  // ---- the process-wide cap ----

  @Test
  void theCapLeavesOutWarningsOverItsLimitInAWindowAndCountsThemInTheNextOne() {
    long minute = Duration.ofMinutes(1).toNanos();
    Diagnostics.Budget budget = new Diagnostics.Budget(2, minute);

    assertEquals(0, budget.take(0));
    assertEquals(0, budget.take(1));
    assertEquals(-1, budget.take(2));
    assertEquals(-1, budget.take(minute - 1));
    assertEquals(2, budget.take(minute), "a new window: logged, telling of the two left out");
    assertEquals(0, budget.take(minute + 1));
    assertEquals(-1, budget.take(minute + 2));
  }

  @Test
  void manyTimersLeftWaitingLogNoMoreThanTheCap() throws Exception {
    int timers = Diagnostics.TIMER_WARNINGS_PER_MINUTE + 3;
    for (int i = 0; i < timers; i++) {
      Timer t = clock.newTimer(Duration.ZERO);
      assertTrue(t.stop());
      Running r = start(ThreadKind.VIRTUAL, "stranded-" + i, () -> t.channel().receive());
      awaitParked(r);
      r.thread().interrupt();
      assertInstanceOf(InterruptedException.class, r.await());
    }

    assertEquals(Diagnostics.TIMER_WARNINGS_PER_MINUTE, records.size());
  }
}
