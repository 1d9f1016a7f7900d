package io.sluice.core;

import static io.sluice.core.TimerConformanceTest.valueOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every blocking call on timers: {@link Clock#sleep} and a receive on a timer or ticker channel,
 * each ended by time, by interruption (before and while blocked) and by context cancellation, on
 * platform and virtual threads.
 */
@Timeout(30)
class TimerBlockingTest {
  private static final Instant START = Instant.parse("2024-01-01T00:00:00Z");
  private static final Duration SECOND = Duration.ofSeconds(1);

  private final ManualClock clock = Clock.manual(START);

  /**
   * Runs {@code body} on a new platform or virtual thread; the future completes with what it threw
   * (not exceptionally: ContextCancelledException is a CancellationException, which a
   * CompletableFuture would take for its own cancellation), or with {@link #RETURNED}.
   */
  private static CompletableFuture<Throwable> onThread(boolean virtual, ThrowingRunnable body) {
    CompletableFuture<Throwable> result = new CompletableFuture<>();
    Runnable r =
        () -> {
          try {
            body.run();
            result.complete(RETURNED);
          } catch (Throwable t) {
            result.complete(t);
          }
        };
    (virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(r);
    return result;
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  private static final Throwable RETURNED = new Throwable("returned normally");

  private static Throwable failureOf(CompletableFuture<Throwable> f) throws Exception {
    Throwable t = f.get();
    if (t == RETURNED) {
      throw new AssertionError("completed normally");
    }
    return t;
  }

  private void awaitPending(int n) {
    while (clock.pendingTimers() != n) {
      Thread.onSpinWait();
    }
  }

  private record Blocked(Thread thread, CompletableFuture<Throwable> done) {}

  /** Starts body on a thread and returns once it waits with one timer pending. */
  private Blocked startBlocked(boolean virtual, ThrowingRunnable body) {
    CompletableFuture<Thread> thread = new CompletableFuture<>();
    CompletableFuture<Throwable> done =
        onThread(
            virtual,
            () -> {
              thread.complete(Thread.currentThread());
              body.run();
            });
    awaitPending(1);
    return new Blocked(thread.join(), done);
  }

  /**
   * Starts body on a thread and returns once it is parked inside a sleep: for the system clock,
   * whose engine entries a test cannot count.
   */
  private static Blocked startSleeping(boolean virtual, ThrowingRunnable body) {
    CompletableFuture<Thread> thread = new CompletableFuture<>();
    CompletableFuture<Throwable> done =
        onThread(
            virtual,
            () -> {
              thread.complete(Thread.currentThread());
              body.run();
            });
    Thread t = thread.join();
    while (!(isWaiting(t) && inSleeper(t) && isWaiting(t))) {
      assertFalse(done.isDone(), "the sleep ended instead of blocking");
      Thread.onSpinWait();
    }
    return new Blocked(t, done);
  }

  private static boolean isWaiting(Thread t) {
    return t.getState() == Thread.State.WAITING;
  }

  private static boolean inSleeper(Thread t) {
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getClassName().equals(Sleeper.class.getName()) && e.getMethodName().equals("await")) {
        return true;
      }
    }
    return false;
  }

  // ---- sleepUntil ----

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenASleeperUntilAnInstant_whenTheClockReachesIt_thenItReturnsAndNotBefore(boolean virtual)
      throws Exception {
    Context ctx = Context.background(clock);
    Blocked b = startBlocked(virtual, () -> clock.sleepUntil(ctx, START.plusSeconds(5)));

    clock.advance(Duration.ofSeconds(5).minusNanos(1));
    assertFalse(b.done().isDone());
    clock.advance(Duration.ofNanos(1));

    assertSame(RETURNED, b.done().get());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenAnInstantNowOrPast_whenSleepingUntilIt_thenItReturnsAtOnceButADoneContextStillFails()
      throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    clock.sleepUntil(ctx, START);
    clock.sleepUntil(ctx, Instant.MIN);
    assertEquals(0, clock.pendingTimers());

    ctx.cancel();
    assertThrows(ContextCancelledException.class, () -> clock.sleepUntil(ctx, START));
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenASleeperUntilAnInstant_whenCancelledOrInterrupted_thenItThrowsAndLeavesNoTimer(
      boolean virtual) throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    Blocked cancelled = startBlocked(virtual, () -> clock.sleepUntil(ctx, Instant.MAX));
    ctx.cancel();
    assertInstanceOf(ContextCancelledException.class, failureOf(cancelled.done()));

    Context background = Context.background(clock);
    Blocked interrupted =
        startBlocked(virtual, () -> clock.sleepUntil(background, START.plusSeconds(60)));
    interrupted.thread().interrupt();
    assertInstanceOf(InterruptedException.class, failureOf(interrupted.done()));
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void
      givenAnInterruptedThread_whenItSleepsUntilAnInstant_thenInterruptedAtOnceAndTheStatusIsCleared() {
    CancelableContext ctx = Context.background(clock).withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> clock.sleepUntil(ctx, START.plusSeconds(60)));

    assertFalse(Thread.interrupted());
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, ((CancelContext) ctx).pendingHooks());
  }

  /** The three sleeps of a clock, each for an hour, with {@code ctx} where they take one. */
  enum ClockSleep {
    SLEEP,
    SLEEP_WITH_CONTEXT,
    SLEEP_UNTIL;

    void sleep(Clock clock, Context ctx) throws InterruptedException {
      switch (this) {
        case SLEEP -> clock.sleep(Duration.ofHours(1));
        case SLEEP_WITH_CONTEXT -> clock.sleep(ctx, Duration.ofHours(1));
        case SLEEP_UNTIL -> clock.sleepUntil(ctx, clock.now().plus(Duration.ofHours(1)));
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(ClockSleep.class)
  void givenASleeperInAnyForm_whenInterrupted_thenItThrowsClearsTheStatusAndLeavesNoTimer(
      ClockSleep form) throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    AtomicBoolean interruptedAtEnd = new AtomicBoolean(true);
    Blocked b =
        startBlocked(
            true,
            () -> {
              try {
                form.sleep(clock, ctx);
              } finally {
                interruptedAtEnd.set(Thread.currentThread().isInterrupted());
              }
            });

    b.thread().interrupt();

    assertInstanceOf(InterruptedException.class, failureOf(b.done()));
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, ((CancelContext) ctx).pendingHooks());
    assertFalse(ctx.isDone());
  }

  // ---- sleep ----

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenASleeper_whenTheClockPassesItsWakeUp_thenItReturns(boolean virtual) throws Exception {
    Blocked b = startBlocked(virtual, () -> clock.sleep(Duration.ofSeconds(5)));

    clock.advance(Duration.ofSeconds(4));
    assertFalse(b.done().isDone());
    clock.advance(SECOND);

    assertSame(RETURNED, b.done().get());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenAZeroOrNegativeDuration_whenSleeping_thenItReturnsAtOnce() throws Exception {
    clock.sleep(Duration.ZERO);
    clock.sleep(SECOND.negated());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenAnInterruptedThread_whenItSleeps_thenInterruptedAtOnceAndTheStatusIsCleared() {
    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> clock.sleep(SECOND));
    assertFalse(Thread.interrupted());
    assertEquals(0, clock.pendingTimers());
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenASleeper_whenInterrupted_thenItThrowsAndItsTimerLeavesTheEngine(boolean virtual)
      throws Exception {
    Blocked b = startBlocked(virtual, () -> clock.sleep(Duration.ofHours(1)));

    b.thread().interrupt();

    assertInstanceOf(InterruptedException.class, failureOf(b.done()));
    assertEquals(0, clock.pendingTimers());
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenASleeperWithAContext_whenTheContextIsCancelled_thenContextCancelledWithTheCause(
      boolean virtual) throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    Blocked b = startBlocked(virtual, () -> clock.sleep(ctx, Duration.ofHours(1)));

    IllegalStateException why = new IllegalStateException("shutting down");
    ctx.cancel(why);

    Throwable failure = failureOf(b.done());
    assertInstanceOf(ContextCancelledException.class, failure);
    assertEquals(why, failure.getCause());
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, ((CancelContext) ctx).pendingHooks(), "the sleeper unregistered its hook");
  }

  @Test
  void givenASleeperWithADeadlineShorterThanTheSleep_whenTheDeadlinePasses_thenDeadlineExceeded()
      throws Exception {
    CancelableContext ctx = Context.background(clock).withTimeout(SECOND);
    CompletableFuture<Throwable> done = onThread(true, () -> clock.sleep(ctx, Duration.ofHours(1)));
    awaitPending(2); // the context's deadline and the sleep

    clock.advance(SECOND);

    assertInstanceOf(DeadlineExceededException.class, failureOf(done));
  }

  @Test
  void givenADoneContext_whenSleeping_thenContextCancelledAtOnce() {
    CancelableContext ctx = Context.background(clock).withCancel();
    ctx.cancel();
    assertThrows(ContextCancelledException.class, () -> clock.sleep(ctx, Duration.ZERO));
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void
      givenAnInterruptedThread_whenItSleepsWithAContext_thenInterruptedAtOnceAndTheStatusIsCleared() {
    CancelableContext ctx = Context.background(clock).withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> clock.sleep(ctx, SECOND));

    assertFalse(Thread.interrupted());
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, ((CancelContext) ctx).pendingHooks());
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenASleeperWithAContext_whenInterrupted_thenItThrowsAndLeavesNoTimerAndNoHook(
      boolean virtual) throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    Blocked b = startBlocked(virtual, () -> clock.sleep(ctx, Duration.ofHours(1)));

    b.thread().interrupt();

    assertInstanceOf(InterruptedException.class, failureOf(b.done()));
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, ((CancelContext) ctx).pendingHooks(), "the sleeper unregistered its hook");
    assertFalse(ctx.isDone());
  }

  @Test
  void
      givenAnInterruptedThread_whenTimeSleepsWithAContext_thenInterruptedAtOnceAndTheStatusIsCleared() {
    CancelableContext ctx = Context.background().withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> Time.sleep(ctx, Duration.ofHours(1)));

    assertFalse(Thread.interrupted());
    assertEquals(0, ((CancelContext) ctx).pendingHooks());
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenATimeSleeperWithAContext_whenInterrupted_thenItThrowsAndLeavesNoHook(boolean virtual)
      throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    Blocked b = startSleeping(virtual, () -> Time.sleep(ctx, Duration.ofHours(1)));

    b.thread().interrupt();

    assertInstanceOf(InterruptedException.class, failureOf(b.done()));
    assertEquals(0, ((CancelContext) ctx).pendingHooks(), "the sleeper unregistered its hook");
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenATimeSleeperWithAContext_whenTheContextIsCancelled_thenContextCancelledWithTheCause(
      boolean virtual) throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    Blocked b = startSleeping(virtual, () -> Time.sleep(ctx, Duration.ofHours(1)));
    IllegalStateException why = new IllegalStateException("shutting down");

    ctx.cancel(why);

    Throwable failure = failureOf(b.done());
    assertInstanceOf(ContextCancelledException.class, failure);
    assertSame(why, failure.getCause());
    assertEquals(0, ((CancelContext) ctx).pendingHooks(), "the sleeper unregistered its hook");
  }

  @Test
  void
      givenAnInterruptedThread_whenTimeSleepsInAnyForm_thenInterruptedAtOnceAndTheStatusIsCleared() {
    CancelableContext ctx = Context.background().withCancel();
    List<ThrowingRunnable> sleeps =
        List.of(
            () -> Time.sleep(Duration.ofHours(1)),
            () -> Time.sleepUntil(ctx, Instant.now().plus(Duration.ofHours(1))));
    for (ThrowingRunnable sleep : sleeps) {
      Thread.currentThread().interrupt();

      assertThrows(InterruptedException.class, sleep::run);

      assertFalse(Thread.interrupted());
    }
    assertEquals(0, ((CancelContext) ctx).pendingHooks());
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenATimeSleeperWithoutAContext_whenInterrupted_thenItThrowsAndClearsTheStatus(
      boolean virtual) throws Exception {
    AtomicBoolean interruptedAtEnd = new AtomicBoolean(true);
    Blocked b =
        startSleeping(
            virtual,
            () -> {
              try {
                Time.sleep(Duration.ofHours(1));
              } finally {
                interruptedAtEnd.set(Thread.currentThread().isInterrupted());
              }
            });

    b.thread().interrupt();

    assertInstanceOf(InterruptedException.class, failureOf(b.done()));
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenATimeSleeperUntilAnInstant_whenCancelledOrInterrupted_thenItThrowsAndLeavesNoHook(
      boolean virtual) throws Exception {
    Instant inAnHour = Instant.now().plus(Duration.ofHours(1));
    CancelableContext cancelled = Context.background().withCancel();
    Blocked c = startSleeping(virtual, () -> Time.sleepUntil(cancelled, inAnHour));
    IllegalStateException why = new IllegalStateException("shutting down");

    cancelled.cancel(why);

    Throwable failure = failureOf(c.done());
    assertInstanceOf(ContextCancelledException.class, failure);
    assertSame(why, failure.getCause());
    assertEquals(0, ((CancelContext) cancelled).pendingHooks());

    CancelableContext live = Context.background().withCancel();
    Blocked i = startSleeping(virtual, () -> Time.sleepUntil(live, inAnHour));

    i.thread().interrupt();

    assertInstanceOf(InterruptedException.class, failureOf(i.done()));
    assertEquals(0, ((CancelContext) live).pendingHooks());
    assertFalse(live.isDone());
  }

  @Test
  void givenTheSystemClock_whenSleeping_thenAtLeastTheDurationPasses() throws Exception {
    Duration d = Duration.ofMillis(20);
    long start = System.nanoTime();
    Time.sleep(d);
    assertTrue(System.nanoTime() - start >= d.toNanos(), "never early");
  }

  // ---- receiving from a timer or ticker channel ----

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenAReceiverOnATimer_whenInterrupted_thenItThrowsAndTheValueIsNotLost(boolean virtual)
      throws Exception {
    Timer t = clock.newTimer(SECOND);
    Blocked b = startBlocked(virtual, () -> t.channel().receive());

    b.thread().interrupt();
    assertInstanceOf(InterruptedException.class, failureOf(b.done()));
    clock.advance(SECOND); // the entry armed for the receiver fires and finds nobody

    assertEquals(0, clock.pendingTimers());
    assertEquals(START.plusSeconds(1), valueOf(t.channel()));
  }

  @Test
  void givenAnInterruptedThread_whenItReceivesFromADueTimer_thenInterruptedAndTheValueStays() {
    Timer t = clock.newTimer(Duration.ZERO);
    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> t.channel().receive());
    assertTrue(t.stop(), "the value was not taken");
  }

  @ParameterizedTest(name = "virtual={0}")
  @ValueSource(booleans = {false, true})
  void givenAReceiverOnATickerWithAContext_whenTheContextIsCancelled_thenContextCancelled(
      boolean virtual) throws Exception {
    Ticker t = clock.newTicker(SECOND);
    CancelableContext ctx = Context.background().withCancel();
    Blocked b = startBlocked(virtual, () -> t.channel().receive(ctx));

    ctx.cancel();

    assertInstanceOf(ContextCancelledException.class, failureOf(b.done()));
    clock.advance(SECOND);
    assertEquals(START.plusSeconds(1), valueOf(t.channel()), "the tick was not lost");
  }

  @Test
  void givenAReceiverWithATimeoutShorterThanTheTimer_whenItTimesOut_thenWouldBlock()
      throws Exception {
    Timer t = Time.newTimer(Duration.ofHours(1));
    assertInstanceOf(TryReceived.WouldBlock.class, t.channel().tryReceive(Duration.ofMillis(5)));
    assertTrue(t.stop());
  }

  @Test
  void givenASystemTimer_whenReceived_thenTheValueComesNoEarlierThanItsDelay() throws Exception {
    long start = System.nanoTime();
    Instant before = Instant.now();
    Instant value = Time.after(Duration.ofMillis(10)).receive();
    assertTrue(System.nanoTime() - start >= Duration.ofMillis(10).toNanos(), "never early");
    assertFalse(value.isBefore(before.plusMillis(9)), "the value is about when it was due");
  }

  @Test
  void aSelectThatChoseAnotherClauseLeavesNoEngineEntryBehind() throws Exception {
    ReceiveChannel<Instant> timeout = clock.after(Duration.ofSeconds(30));
    Channel<String> work = Channel.unbuffered();
    CompletableFuture<String> chosen = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                chosen.complete(
                    Select.select(work.onReceive(w -> w), timeout.onReceive(t -> "timeout")));
              } catch (Throwable e) {
                chosen.completeExceptionally(e);
              }
            });
    while (clock.pendingTimers() == 0) {
      Thread.yield(); // the select has queued itself on the timer channel
    }

    work.send("job");

    assertEquals("job", chosen.get());
    assertEquals(0, clock.pendingTimers(), "the timer's engine entry outlived its last waiter");
  }
}
