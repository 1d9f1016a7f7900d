package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ManualClockTest {
  private static final Instant START = Instant.parse("2024-01-01T00:00:00Z");

  private final ManualClock clock = Clock.manual(START);

  @Test
  void givenANewClock_whenRead_thenItShowsItsStartAndZeroNanos() {
    assertEquals(START, clock.now());
    assertEquals(0, clock.nanoTime());
  }

  @Test
  void givenAClock_whenAdvanced_thenNowAndNanoTimeMoveByExactlyTheDuration() {
    clock.advance(Duration.ofMillis(1500));
    clock.advance(Duration.ofNanos(7));

    assertEquals(START.plusMillis(1500).plusNanos(7), clock.now());
    assertEquals(1_500_000_007L, clock.nanoTime());
  }

  @Test
  void givenAClock_whenAdvancedByANegativeDuration_thenIllegalArgumentAndTimeStandsStill() {
    assertThrows(IllegalArgumentException.class, () -> clock.advance(Duration.ofNanos(-1)));
    assertEquals(0, clock.nanoTime());
  }

  @Test
  void
      givenADeadlineTooFarForNanoseconds_whenMovedAsFarAsADurationGoes_thenRefusedAndNeverReached() {
    CancelableContext never = Context.background(clock).withTimeout(Duration.ofDays(365 * 300));
    Timer neverTimer = clock.afterFunc(Duration.ofSeconds(Long.MAX_VALUE), () -> {});

    for (Duration far :
        new Duration[] {Duration.ofSeconds(Long.MAX_VALUE), Duration.ofDays(365 * 300)}) {
      assertThrows(IllegalArgumentException.class, () -> clock.advance(far));
      assertThrows(IllegalArgumentException.class, () -> clock.jump(far));
    }
    clock.advance(Duration.ofSeconds(1));
    assertThrows(
        IllegalArgumentException.class, () -> clock.advance(Duration.ofSeconds(Long.MAX_VALUE)));

    assertEquals(1_000_000_000L, clock.nanoTime());
    assertFalse(never.isDone());
    assertTrue(neverTimer.stop(), "a timer that can never fire is still pending");
  }

  @Test
  void givenAClockAdvancedByAnotherThread_whenReadingsBecomeInstants_thenEachIsExact()
      throws Exception {
    AtomicBoolean done = new AtomicBoolean();
    Thread advancer =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (!done.get()) {
                    clock.advance(Duration.ofNanos(1));
                  }
                });
    try {
      List<String> wrong = new ArrayList<>();
      for (long n = 0; n < 200_000 && wrong.size() < 10; n++) {
        Instant instant = clock.instantAt(n);
        if (!instant.equals(START.plusNanos(n))) {
          wrong.add(n + " ns became " + instant);
        }
      }
      assertEquals(List.of(), wrong);
    } finally {
      done.set(true);
      advancer.join();
    }
  }

  @Test
  void
      givenTimersScheduledOutOfOrder_whenAdvanced_thenTheyFireInDeadlineOrderReadingTheirDeadline() {
    List<String> fired = new ArrayList<>();
    for (int s : new int[] {3, 1, 2}) {
      clock.schedule(
          Duration.ofSeconds(s).toNanos(), () -> fired.add(s + "s at " + clock.nanoTime()));
    }

    clock.advance(Duration.ofSeconds(5));

    assertEquals(List.of("1s at 1000000000", "2s at 2000000000", "3s at 3000000000"), fired);
    assertEquals(5_000_000_000L, clock.nanoTime());
  }

  @Test
  void givenTimersWithEqualDeadlines_whenAdvanced_thenTheyFireInTheOrderScheduled() {
    List<Integer> fired = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      int id = i;
      clock.schedule(1000, () -> fired.add(id));
    }
    clock.advance(Duration.ofNanos(1000));
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), fired);
  }

  @Test
  void givenATimerWhoseActionSchedulesAnother_whenAdvancedPastBoth_thenBothFire() {
    List<Long> fired = new ArrayList<>();
    clock.schedule(
        10,
        () -> {
          fired.add(clock.nanoTime());
          clock.schedule(clock.nanoTime() + 10, () -> fired.add(clock.nanoTime()));
        });
    clock.advance(Duration.ofNanos(100));
    assertEquals(List.of(10L, 20L), fired);
  }

  @Test
  void givenADueTimerWhoseActionSchedulesAnother_whenAdvanced_thenTheSecondFiresAtItsDeadline() {
    // The first is due when drained from the inbound stack, so it fires while draining; what it
    // schedules lands on that stack after the drain and must still fire within the advance.
    List<Long> fired = new ArrayList<>();
    clock.schedule(
        0,
        () -> {
          fired.add(clock.nanoTime());
          clock.schedule(clock.nanoTime() + 10, () -> fired.add(clock.nanoTime()));
        });
    clock.advance(Duration.ofNanos(100));
    assertEquals(List.of(0L, 10L), fired);
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenScheduledAndCancelledTimers_whenCounted_thenOnlyThosePendingCount() {
    TimerEntry a = clock.schedule(100, () -> {});
    clock.schedule(200, () -> {});
    clock.schedule(300, () -> {});
    assertEquals(3, clock.pendingTimers());

    assertTrue(a.cancel());
    assertEquals(2, clock.pendingTimers());
    clock.advance(Duration.ofNanos(200));
    assertEquals(1, clock.pendingTimers());
    clock.checkInvariants();
  }

  @Test
  void givenATimerAlreadyDue_whenAdvancedByZero_thenItFires() {
    AtomicInteger ran = new AtomicInteger();
    clock.schedule(0, ran::incrementAndGet);
    clock.advance(Duration.ZERO);
    assertEquals(1, ran.get());
  }

  @Test
  void givenAFailingAction_whenAdvanced_thenTheOthersStillFireAndAdvanceRethrows() {
    AtomicInteger ran = new AtomicInteger();
    IllegalStateException boom = new IllegalStateException("boom");
    clock.schedule(
        1,
        () -> {
          throw boom;
        });
    clock.schedule(2, ran::incrementAndGet);

    assertSame(
        boom, assertThrows(IllegalStateException.class, () -> clock.advance(Duration.ofNanos(5))));
    assertEquals(1, ran.get());
    assertEquals(5, clock.nanoTime());
  }

  @Test
  void givenAnActionThatAdvancesTheClock_whenFired_thenIllegalState() {
    clock.schedule(1, () -> clock.advance(Duration.ofNanos(1)));
    assertThrows(IllegalStateException.class, () -> clock.advance(Duration.ofNanos(1)));
  }

  @Test
  void
      givenAContextWithATimeoutOnTheClock_whenTheClockPassesIt_thenTheContextIsDoneWithDeadlineExceeded() {
    CancelableContext ctx = Context.background(clock).withTimeout(Duration.ofSeconds(5));
    clock.advance(Duration.ofSeconds(4));
    assertFalse(ctx.isDone());

    clock.advance(Duration.ofSeconds(1));

    assertTrue(ctx.isDone());
    assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
  }

  @Test
  void givenAContextWithATimeout_whenCancelledFirst_thenItsTimerLeavesTheEngine() {
    CancelableContext ctx = Context.background(clock).withTimeout(Duration.ofSeconds(5));
    assertEquals(1, clock.pendingTimers());

    ctx.cancel();

    assertEquals(0, clock.pendingTimers());
  }
}
