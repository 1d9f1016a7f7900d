package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The engine as the internal package offers it to other modules, and ManualClock.jump. */
@Timeout(30)
class TimerEngineAccessTest {
  private final ManualClock clock = Clock.manual(Instant.parse("2026-01-01T00:00:00Z"));

  /** An entry that is its own action, as another module's handle would be; a filter knows it. */
  private static final class Tagged extends TimerEntry {
    final String owner;
    final AtomicInteger runs;
    final AtomicInteger cancels = new AtomicInteger();

    Tagged(Clock clock, long deadline, String owner, AtomicInteger runs) {
      super(clock, deadline);
      this.owner = owner;
      this.runs = runs;
    }

    static Tagged schedule(Clock clock, long deadline, String owner, AtomicInteger runs) {
      Tagged t = new Tagged(clock, deadline, owner, runs);
      TimerEngine.schedule(t);
      return t;
    }

    @Override
    protected void fire() {
      runs.incrementAndGet();
    }

    @Override
    protected void onCancel() {
      cancels.incrementAndGet();
    }
  }

  @Test
  void givenAnEntry_whenItFiresOrIsCancelled_thenItsStateSaysSo() {
    AtomicInteger runs = new AtomicInteger();
    TimerEntry fired = TimerEngine.schedule(clock, 100, runs::incrementAndGet);
    TimerEntry cancelled = TimerEngine.schedule(clock, 100, runs::incrementAndGet);
    assertEquals(100, fired.deadlineNanos());
    assertTrue(fired.isPending());

    assertTrue(cancelled.cancel());
    clock.advance(Duration.ofNanos(100));

    assertEquals(1, runs.get());
    assertFalse(fired.isPending());
    assertFalse(fired.isCancelled());
    assertFalse(fired.cancel());
    assertTrue(cancelled.isCancelled());
  }

  @Test
  void givenASubclassEntry_whenDue_thenTheEngineFiresTheEntryItselfOnce() {
    AtomicInteger runs = new AtomicInteger();
    Tagged t = Tagged.schedule(clock, 100, "me", runs);
    assertTrue(t.isPending());
    assertEquals(100, t.deadlineNanos());

    clock.advance(Duration.ofNanos(99));
    assertEquals(0, runs.get());
    clock.advance(Duration.ofNanos(1));
    clock.advance(Duration.ofDays(1));

    assertEquals(1, runs.get());
    assertFalse(t.isPending());
    assertFalse(t.isCancelled());
    assertFalse(t.cancel());
    assertEquals(0, t.cancels.get());
  }

  @Test
  void givenASubclassEntry_whenCancelledTwice_thenItNeverFiresAndOnCancelRunsOnce() {
    AtomicInteger runs = new AtomicInteger();
    Tagged t = Tagged.schedule(clock, 100, "me", runs);

    assertTrue(t.cancel());
    assertFalse(t.cancel());
    clock.advance(Duration.ofNanos(100));

    assertEquals(0, runs.get());
    assertEquals(1, t.cancels.get());
    assertTrue(t.isCancelled());
    assertFalse(t.isPending());
    assertEquals(0, clock.pendingTimers());
    clock.checkInvariants();
  }

  @Test
  void givenAnEntryOfAnotherClock_whenScheduled_thenOnlyThatClockFiresIt() {
    ManualClock other = Clock.manual(Instant.EPOCH);
    AtomicInteger runs = new AtomicInteger();
    Tagged.schedule(other, 10, "me", runs);

    clock.advance(Duration.ofNanos(10));
    assertEquals(0, runs.get());
    other.advance(Duration.ofNanos(10));

    assertEquals(1, runs.get());
  }

  @Test
  void givenEntriesOfTwoOwners_whenOneOwnersAreCancelledByFilter_thenOnlyTheOthersFire()
      throws Exception {
    AtomicInteger mine = new AtomicInteger();
    AtomicInteger theirs = new AtomicInteger();
    for (int i = 0; i < 3000; i++) { // on the wheel at several levels, and on inbound
      Tagged.schedule(clock, 1 + (long) i * i * 1000, "me", mine);
      Tagged.schedule(clock, 1 + (long) i * i * 1000, "them", theirs);
      if (i == 1500) {
        clock.advance(Duration.ZERO); // drains inbound into the wheel
      }
    }

    int cancelled =
        TimerEngine.cancelMatching(clock, e -> e instanceof Tagged t && t.owner.equals("me"));
    clock.advance(Duration.ofDays(1));

    assertEquals(3000, cancelled);
    assertEquals(0, mine.get());
    assertEquals(3000, theirs.get());
    assertEquals(0, clock.pendingTimers());
    clock.checkInvariants();
  }

  @Test
  void givenTheSystemClock_whenCancellingByFilter_thenTheEngineThreadDoesItAndNothingFires()
      throws Exception {
    AtomicInteger runs = new AtomicInteger();
    List<TimerEntry> entries = new ArrayList<>();
    long inAnHour = System.nanoTime() + TimeUnit.HOURS.toNanos(1);
    for (int i = 0; i < 100; i++) {
      entries.add(Tagged.schedule(Clock.system(), inAnHour, "sys-test", runs));
    }

    int cancelled =
        TimerEngine.cancelMatching(
            Clock.system(), e -> e instanceof Tagged t && t.owner.equals("sys-test"));

    assertEquals(100, cancelled);
    assertTrue(entries.stream().allMatch(TimerEntry::isCancelled));
  }

  @Test
  void givenAnInterruptedThread_whenCancellingOnTheSystemClock_thenInterruptedException() {
    Thread.currentThread().interrupt();
    try {
      assertThrows(
          InterruptedException.class, () -> TimerEngine.cancelMatching(Clock.system(), a -> false));
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void givenTimersDueDuringAJump_whenJumping_thenTheyFireInOrderAllSeeingTheNewTime() {
    List<Long> seen = new ArrayList<>();
    clock.schedule(10, () -> seen.add(clock.nanoTime()));
    clock.schedule(20, () -> seen.add(clock.nanoTime()));
    clock.schedule(5000, () -> seen.add(-clock.nanoTime()));

    clock.jump(Duration.ofNanos(1000));

    assertEquals(List.of(1000L, 1000L), seen);
    assertEquals(1, clock.pendingTimers());
  }

  @Test
  void givenAJump_whenNegative_thenIllegalArgument() {
    assertThrows(IllegalArgumentException.class, () -> clock.jump(Duration.ofNanos(-1)));
  }

  @Test
  void givenAnActionThatJumps_whenFired_thenIllegalState() throws Exception {
    CountDownLatch ran = new CountDownLatch(1);
    clock.schedule(
        1,
        () -> {
          ran.countDown();
          clock.jump(Duration.ofNanos(1));
        });
    assertThrows(IllegalStateException.class, () -> clock.advance(Duration.ofNanos(1)));
    assertEquals(0, ran.getCount());
  }
}
