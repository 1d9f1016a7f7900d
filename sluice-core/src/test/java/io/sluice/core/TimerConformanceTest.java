package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * One test per sentence of Go 1.23's {@code time} package documentation for Timer, AfterFunc, Stop,
 * Reset, After and Ticker, quoted in each test's display name comment. Time is a {@link
 * ManualClock}, so nothing here waits for real time.
 */
@Timeout(30)
class TimerConformanceTest {
  private static final Instant START = Instant.parse("2024-08-13T00:00:00Z");
  private static final Duration SECOND = Duration.ofSeconds(1);

  private final ManualClock clock = Clock.manual(START);

  static Instant valueOf(ReceiveChannel<Instant> ch) {
    if (ch.tryReceive() instanceof Received.Value<Instant>(Instant value)) {
      return value;
    }
    throw new AssertionError("no value ready on " + ch);
  }

  static void assertNothingReady(ReceiveChannel<Instant> ch) {
    assertInstanceOf(TryReceived.WouldBlock.class, ch.tryReceive());
  }

  // ---- NewTimer ----

  // "NewTimer creates a new Timer that will send the current time on its channel after at least
  // duration d."
  @Test
  void givenANewTimer_whenItsDurationPasses_thenItsChannelOffersTheTimeItWasDue() {
    Timer t = clock.newTimer(Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    assertNothingReady(t.channel());

    clock.advance(Duration.ofSeconds(3));

    assertEquals(START.plusSeconds(5), valueOf(t.channel()));
    assertNothingReady(t.channel());
  }

  // "... after at least duration d": a receiver blocked on the channel is woken by the advance.
  @Test
  void givenAReceiverBlockedOnTheChannel_whenTheTimerFires_thenItReceivesTheValue()
      throws Exception {
    Timer t = clock.newTimer(Duration.ofSeconds(5));
    CompletableFuture<Instant> got = receiveInBackground(t.channel());
    awaitPending(1); // the receiver waits and has armed the timer

    clock.advance(Duration.ofSeconds(5));

    assertEquals(START.plusSeconds(5), got.get());
    assertEquals(0, clock.pendingTimers());
  }

  // "As of Go 1.23, the channel is synchronous (unbuffered, capacity 0), eliminating the
  // possibility of those stale values."
  @Test
  void givenATimerThatIsDue_whenItsChannelIsInspected_thenItIsUnbufferedAndHoldsNothing() {
    Timer t = clock.newTimer(SECOND);
    clock.advance(Duration.ofSeconds(2));

    assertEquals(0, t.channel().cap());
    assertEquals(0, t.channel().len());
  }

  // "As of Go 1.23, the garbage collector can recover unreferenced timers, even if they haven't
  // expired or been stopped." Here: nobody waits, so the engine holds nothing for it.
  @Test
  void givenATimerNobodyWaitsOn_whenCounted_thenTheEngineHoldsNoEntryForIt() {
    clock.newTimer(Duration.ofHours(1));
    clock.after(Duration.ofHours(1));
    clock.newTicker(SECOND);

    assertEquals(0, clock.pendingTimers());
  }

  // "A negative or zero duration fires the timer immediately."
  @Test
  void givenAZeroOrNegativeDuration_whenATimerIsMade_thenItsValueIsReadyAtOnce() {
    assertEquals(START, valueOf(clock.newTimer(Duration.ZERO).channel()));
    assertEquals(START.minusSeconds(1), valueOf(clock.newTimer(SECOND.negated()).channel()));
  }

  // Go clamps a negative duration to "now"; Sluice saturates one too long for nanoseconds, so its
  // value lies as far back as nanoseconds reach, never in the future.
  @Test
  void givenANegativeDurationTooLongForNanoseconds_whenATimerIsMade_thenItsValueLiesInThePast() {
    Timer manual = clock.newTimer(Duration.ofSeconds(Long.MIN_VALUE));
    Instant beforeSystem = Instant.now();
    Timer system = Clock.system().newTimer(Duration.ofSeconds(Long.MIN_VALUE));

    Instant manualValue = valueOf(manual.channel());
    Instant systemValue = valueOf(system.channel());

    assertTrue(manualValue.isBefore(START), manualValue + " should be before " + START);
    assertTrue(
        systemValue.isBefore(beforeSystem), systemValue + " should be before " + beforeSystem);
  }

  // ---- Stop ----

  // "Stop prevents the Timer from firing. It returns true if the call stops the timer, false if
  // the timer has already expired or been stopped."
  @Test
  void givenARunningTimer_whenStoppedTwice_thenTrueThenFalseAndNoValueEverArrives() {
    Timer t = clock.newTimer(SECOND);

    assertTrue(t.stop());
    assertFalse(t.stop());
    clock.advance(Duration.ofSeconds(10));

    assertNothingReady(t.channel());
  }

  @Test
  void givenATimerWhoseValueWasReceived_whenStopped_thenFalse() {
    Timer t = clock.newTimer(SECOND);
    clock.advance(SECOND);
    valueOf(t.channel());

    assertFalse(t.stop());
  }

  // "... any receive from t.C after Stop has returned is guaranteed to block rather than receive
  // a stale time value from before the Stop; if the program has not received from t.C already and
  // the timer is running, Stop is guaranteed to return true."
  @Test
  void givenATimerPastItsTimeButUnreceived_whenStopped_thenTrueAndTheStaleValueIsGone() {
    Timer t = clock.newTimer(SECOND);
    clock.advance(Duration.ofSeconds(2));

    assertTrue(t.stop());

    assertNothingReady(t.channel());
  }

  @Test
  void givenAReceiverBlockedOnTheChannel_whenTheTimerIsStopped_thenTheReceiverStaysBlocked()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    CompletableFuture<Instant> got = receiveInBackground(t.channel());
    awaitPending(1);

    assertTrue(t.stop());
    clock.advance(Duration.ofSeconds(10));

    assertFalse(got.isDone());
    assertEquals(0, clock.pendingTimers(), "stop took the timer out of the engine");
    t.reset(SECOND); // release the receiver
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(11), got.get());
  }

  // ---- Reset ----

  // "Reset changes the timer to expire after duration d. It returns true if the timer had been
  // active, false if the timer had expired or been stopped."
  @Test
  void givenTimersInEachState_whenReset_thenReturnsWhetherItWasActive() {
    Timer running = clock.newTimer(SECOND);
    Timer stopped = clock.newTimer(SECOND);
    stopped.stop();
    Timer received = clock.newTimer(Duration.ZERO);
    valueOf(received.channel());

    assertTrue(running.reset(SECOND));
    assertFalse(stopped.reset(SECOND));
    assertFalse(received.reset(SECOND));
  }

  @Test
  void givenAResetTimer_whenTheNewDurationPasses_thenItFiresThenAndNotAtTheOldTime() {
    Timer t = clock.newTimer(Duration.ofSeconds(2));
    clock.advance(SECOND);

    t.reset(Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    assertNothingReady(t.channel());
    clock.advance(SECOND);

    assertEquals(START.plusSeconds(6), valueOf(t.channel()));
  }

  // "... any receive from t.C after Reset has returned is guaranteed not to receive a time value
  // corresponding to the previous timer settings; if the program has not received from t.C
  // already and the timer is running, Reset is guaranteed to return true."
  @Test
  void givenATimerPastItsTimeButUnreceived_whenReset_thenTrueAndOnlyTheNewValueArrives() {
    Timer t = clock.newTimer(SECOND);
    clock.advance(Duration.ofSeconds(2));

    assertTrue(t.reset(Duration.ofSeconds(3)));
    assertNothingReady(t.channel());
    clock.advance(Duration.ofSeconds(3));

    assertEquals(START.plusSeconds(5), valueOf(t.channel()));
  }

  @Test
  void givenAStoppedTimer_whenReset_thenItRunsAgain() {
    Timer t = clock.newTimer(SECOND);
    t.stop();

    t.reset(SECOND);
    clock.advance(SECOND);

    assertEquals(START.plusSeconds(1), valueOf(t.channel()));
  }

  // The case pre-1.23 Go got wrong: a select that did not pick the timer must not lose its value.
  @Test
  void givenASelectThatChoseAnotherClause_whenTheTimerLaterFires_thenTheValueIsStillThere()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Channel<String> work = Channel.unbuffered();
    CompletableFuture<String> chosen =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return Select.select(work.onReceive(w -> w), t.channel().onReceive(i -> "timer"));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            },
            Thread::startVirtualThread);
    awaitPending(1);
    work.send("work");
    assertEquals("work", chosen.get());

    clock.advance(SECOND); // the armed entry fires and finds nobody waiting

    assertEquals(0, clock.pendingTimers());
    assertTrue(t.stop(), "not received, so still running");
    t.reset(Duration.ZERO);
    assertEquals(START.plusSeconds(1), valueOf(t.channel()));
  }

  @Test
  void givenASelectWaitingOnATimerAndAnIdleChannel_whenTheTimerFires_thenTheTimerClauseWins()
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Channel<String> work = Channel.unbuffered();
    CompletableFuture<String> chosen =
        CompletableFuture.supplyAsync(
            () -> {
              try {
                return Select.select(
                    work.onReceive(w -> w), t.channel().onReceive(i -> "timeout at " + i));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            },
            Thread::startVirtualThread);
    awaitPending(1);

    clock.advance(SECOND);

    assertEquals("timeout at " + START.plusSeconds(1), chosen.get());
    assertFalse(t.stop(), "the value was taken by the select");
  }

  // ---- After ----

  // "After waits for the duration to elapse and then sends the current time on the returned
  // channel. It is equivalent to NewTimer(d).C."
  @Test
  void givenAnAfterChannel_whenTheDurationElapses_thenItOffersTheTimeOnce() {
    ReceiveChannel<Instant> ch = clock.after(Duration.ofSeconds(3));
    clock.advance(Duration.ofSeconds(3));

    assertEquals(START.plusSeconds(3), valueOf(ch));
    assertNothingReady(ch);
    assertFalse(ch.isClosed());
  }

  // ---- AfterFunc ----

  // "AfterFunc waits for the duration to elapse and then calls f in its own goroutine."
  @Test
  void givenAnAfterFunc_whenItsTimeComes_thenFRunsOnItsOwnVirtualThread() throws Exception {
    CompletableFuture<Thread> ranOn = new CompletableFuture<>();
    clock.afterFunc(SECOND, () -> ranOn.complete(Thread.currentThread()));

    clock.advance(SECOND);

    Thread t = ranOn.get();
    assertTrue(t.isVirtual());
    assertNotSame(Thread.currentThread(), t);
  }

  @Test
  void givenAnAfterFuncThatBlocks_whenOtherTimersAreDue_thenTheyStillFire() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch blocked = new CountDownLatch(1);
    clock.afterFunc(
        SECOND,
        () -> {
          blocked.countDown();
          awaitUninterruptibly(release);
        });
    Timer later = clock.newTimer(Duration.ofSeconds(2));

    clock.advance(Duration.ofSeconds(2));
    blocked.await();

    assertEquals(START.plusSeconds(2), valueOf(later.channel()));
    release.countDown();
  }

  // "It returns a Timer that can be used to cancel the call using its Stop method."
  // "For a func-based timer created with AfterFunc(d, f), if t.Stop returns false, then the timer
  // has already expired and the function f has been started in its own goroutine."
  @Test
  void givenAnAfterFunc_whenStoppedBeforeItsTime_thenTrueAndFNeverStarts() throws Exception {
    AtomicInteger stoppedRuns = new AtomicInteger();
    Timer stopped = clock.afterFunc(SECOND, stoppedRuns::incrementAndGet);
    CountDownLatch witnessRan = new CountDownLatch(1);
    clock.afterFunc(SECOND, witnessRan::countDown);

    assertTrue(stopped.stop());
    clock.advance(SECOND);
    witnessRan.await();

    assertEquals(0, stoppedRuns.get());
    assertEquals(0, clock.pendingTimers());
    assertFalse(stopped.stop());
  }

  @Test
  void givenAnAfterFuncThatStarted_whenStopped_thenFalse() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    Timer t = clock.afterFunc(SECOND, ran::countDown);
    clock.advance(SECOND);

    assertFalse(t.stop());
    ran.await();
  }

  // "For a func-based timer created with AfterFunc(d, f), Reset either reschedules when f will
  // run, in which case Reset returns true, or schedules f to run again, in which case it returns
  // false."
  @Test
  void givenAPendingAfterFunc_whenReset_thenTrueAndFRunsOnceAtTheNewTime() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    CountDownLatch ran = new CountDownLatch(1);
    Timer t =
        clock.afterFunc(
            SECOND,
            () -> {
              runs.incrementAndGet();
              ran.countDown();
            });

    assertTrue(t.reset(Duration.ofSeconds(3)));
    clock.advance(Duration.ofSeconds(2));
    assertEquals(1, clock.pendingTimers());
    clock.advance(SECOND);
    ran.await();

    assertEquals(1, runs.get());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenAnAfterFuncThatRan_whenReset_thenFalseAndFRunsAgain() throws Exception {
    CountDownLatch twice = new CountDownLatch(2);
    Timer t = clock.afterFunc(SECOND, twice::countDown);
    clock.advance(SECOND);

    assertFalse(t.reset(SECOND));
    clock.advance(SECOND);

    twice.await();
  }

  // "The returned Timer's C field is not used and will be nil."
  @Test
  void givenAnAfterFuncTimer_whenAskedForItsChannel_thenItRefusesLoudly() {
    Timer t = clock.afterFunc(SECOND, () -> {});
    assertThrows(IllegalStateException.class, t::channel);
  }

  // ---- Ticker ----

  // "NewTicker returns a new Ticker containing a channel that will send the current time on the
  // channel after each tick. The period of the ticks is specified by the duration argument."
  @Test
  void givenATicker_whenEachPeriodPassesAndIsReceived_thenEachTickArrives() {
    Ticker t = clock.newTicker(SECOND);
    for (int i = 1; i <= 5; i++) {
      assertNothingReady(t.channel());
      clock.advance(SECOND);
      assertEquals(START.plusSeconds(i), valueOf(t.channel()));
    }
  }

  @Test
  void givenAReceiverLoopingOnATicker_whenTheClockAdvancesTickByTick_thenItGetsEveryTick()
      throws Exception {
    Ticker t = clock.newTicker(SECOND);
    int ticks = 5;
    CompletableFuture<Instant> last =
        CompletableFuture.supplyAsync(
            () -> {
              Instant i = null;
              for (int k = 0; k < ticks; k++) {
                i = receive(t.channel());
              }
              return i;
            },
            Thread::startVirtualThread);
    for (int k = 0; k < ticks; k++) {
      awaitPending(1);
      clock.advance(SECOND);
    }
    assertEquals(START.plusSeconds(ticks), last.get());
  }

  // "The ticker will adjust the time interval or drop ticks to make up for slow receivers."
  @Test
  void givenASlowReceiver_whenSeveralTicksWereMissed_thenItGetsTheOldestAndTheRestAreDropped() {
    Ticker t = clock.newTicker(SECOND);
    clock.advance(Duration.ofMillis(3500));

    assertEquals(START.plusSeconds(1), valueOf(t.channel()));
    assertNothingReady(t.channel());
    clock.advance(Duration.ofMillis(500));
    assertEquals(START.plusSeconds(4), valueOf(t.channel()));
  }

  // "The duration d must be greater than zero; if not, NewTicker will panic."
  @Test
  void givenANonPositivePeriod_whenATickerIsMade_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> clock.newTicker(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> clock.newTicker(SECOND.negated()));
  }

  // "Stop turns off a ticker. After Stop, no more ticks will be sent."
  @Test
  void givenATickerWithAnUnreceivedTick_whenStopped_thenNoTickIsEverDelivered() {
    Ticker t = clock.newTicker(SECOND);
    clock.advance(Duration.ofMillis(1500));

    t.stop();
    clock.advance(Duration.ofSeconds(10));

    assertNothingReady(t.channel());
  }

  // "Stop does not close the channel, to prevent a concurrent goroutine reading from the channel
  // from seeing an erroneous "tick"."
  @Test
  void givenAStoppedTicker_whenItsChannelIsInspected_thenItIsNotClosed() {
    Ticker t = clock.newTicker(SECOND);
    t.stop();
    assertFalse(t.channel().isClosed());
  }

  // "Reset stops a ticker and resets its period to the specified duration. The next tick will
  // arrive after the new period elapses."
  @Test
  void givenATicker_whenReset_thenTheNextTickComesOneNewPeriodLaterAndNoStaleTickSurvives() {
    Ticker t = clock.newTicker(SECOND);
    clock.advance(Duration.ofMillis(1500)); // a tick is due, unreceived

    t.reset(Duration.ofSeconds(2));
    assertNothingReady(t.channel());
    clock.advance(Duration.ofMillis(1999));
    assertNothingReady(t.channel());
    clock.advance(Duration.ofMillis(1));

    assertEquals(START.plusMillis(3500), valueOf(t.channel()));
    clock.advance(Duration.ofSeconds(2));
    assertEquals(START.plusMillis(5500), valueOf(t.channel()));
  }

  @Test
  void givenAStoppedTicker_whenReset_thenItTicksAgain() {
    Ticker t = clock.newTicker(SECOND);
    t.stop();
    t.reset(SECOND);
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), valueOf(t.channel()));
  }

  // "The duration d must be greater than zero; if not, Reset will panic."
  @Test
  void givenATicker_whenResetToANonPositivePeriod_thenIllegalArgument() {
    Ticker t = clock.newTicker(SECOND);
    assertThrows(IllegalArgumentException.class, () -> t.reset(Duration.ZERO));
  }

  // ---- helpers ----

  private void awaitPending(int n) {
    while (clock.pendingTimers() != n) {
      Thread.onSpinWait();
    }
  }

  static Instant receive(ReceiveChannel<Instant> ch) {
    try {
      return ch.receive();
    } catch (InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  static CompletableFuture<Instant> receiveInBackground(ReceiveChannel<Instant> ch) {
    return CompletableFuture.supplyAsync(() -> receive(ch), Thread::startVirtualThread);
  }

  static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
