package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.bench.ShardedHeapTimers.CancelPolicy;
import io.sluice.bench.ShardedHeapTimers.Entry;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The sharded-heap prototype fires, cancels, and reports cancel-versus-fire consistently, so the
 * figures measured with it come from a working engine. Bodies run on the firing thread ({@code
 * Runnable::run}) unless a test says otherwise, so the order of firing is the order of the bodies.
 */
@Timeout(60)
class ShardedHeapTimersTest {
  private static final long HOUR = TimeUnit.HOURS.toNanos(1);

  @ParameterizedTest
  @EnumSource(CancelPolicy.class)
  void aTimerDueBeforeTheOneTheThreadSleepsUntilWakesItAndFires(CancelPolicy policy)
      throws InterruptedException {
    try (ShardedHeapTimers timers = new ShardedHeapTimers(2, policy, Runnable::run)) {
      // given: the firing thread parks until a timer an hour away
      Entry later = timers.schedule(System.nanoTime() + HOUR, () -> {});
      CountDownLatch fired = new CountDownLatch(1);

      // when: a timer due now is scheduled
      timers.schedule(System.nanoTime(), fired::countDown);

      // then: it fires, and the hour-long one is still pending
      assertTrue(fired.await(30, TimeUnit.SECONDS), "the due timer never fired");
      assertTrue(later.cancel());
      timers.checkInvariants();
    }
  }

  @ParameterizedTest
  @EnumSource(CancelPolicy.class)
  void aBodyRunsOnAVirtualThreadOfItsOwnWithTheDefaultExecutor(CancelPolicy policy)
      throws InterruptedException {
    try (ShardedHeapTimers timers = ShardedHeapTimers.withVirtualThreadBodies(policy)) {
      CountDownLatch fired = new CountDownLatch(1);
      boolean[] virtual = new boolean[1];

      timers.schedule(
          System.nanoTime(),
          () -> {
            virtual[0] = Thread.currentThread().isVirtual();
            fired.countDown();
          });

      assertTrue(fired.await(30, TimeUnit.SECONDS), "the timer never fired");
      assertTrue(virtual[0]);
    }
  }

  @ParameterizedTest
  @EnumSource(CancelPolicy.class)
  void aCancelledTimerNeverFiresEvenWhenALaterOneDoes(CancelPolicy policy)
      throws InterruptedException {
    try (ShardedHeapTimers timers = new ShardedHeapTimers(1, policy, Runnable::run)) {
      // given: a timer 500 ms away (time enough to cancel it however loaded the host), cancelled,
      // and one 600 ms away on the same (only) shard
      boolean[] ran = new boolean[1];
      long now = System.nanoTime();
      Entry cancelled = timers.schedule(now + 500_000_000, () -> ran[0] = true);
      CountDownLatch laterFired = new CountDownLatch(1);
      timers.schedule(now + 600_000_000, laterFired::countDown);

      // when
      boolean stopped = cancelled.cancel();

      // then: the firing thread passed the cancelled one's deadline without running it
      assertTrue(stopped);
      assertTrue(laterFired.await(30, TimeUnit.SECONDS), "the later timer never fired");
      assertFalse(ran[0]);
      assertFalse(cancelled.cancel(), "a second cancel reports that it prevented nothing");
      assertEquals(0, timers.held());
      timers.checkInvariants();
    }
  }

  @ParameterizedTest
  @EnumSource(CancelPolicy.class)
  void cancellingAFiredTimerReportsThatItFired(CancelPolicy policy) throws InterruptedException {
    try (ShardedHeapTimers timers = new ShardedHeapTimers(1, policy, Runnable::run)) {
      CountDownLatch fired = new CountDownLatch(1);
      Entry e = timers.schedule(System.nanoTime(), fired::countDown);

      assertTrue(fired.await(30, TimeUnit.SECONDS), "the timer never fired");

      assertFalse(e.cancel());
    }
  }

  @ParameterizedTest
  @EnumSource(CancelPolicy.class)
  void cancelsRacingFiresReportExactlyWhatHappenedToEachTimer(CancelPolicy policy)
      throws InterruptedException {
    int n = 50_000;
    long spread =
        1_000_000_000; // deadlines within 1 s (wide enough for a loaded CI host to schedule
    // them all first); the cancels start half-way
    AtomicIntegerArray runs = new AtomicIntegerArray(n);
    try (ShardedHeapTimers timers = new ShardedHeapTimers(2, policy, Runnable::run)) {
      // given: timers due at random within the spread, scheduled from two threads, each of which
      // then schedules a sentinel due after all of them on its own shard
      Entry[] entries = new Entry[n];
      long start = System.nanoTime();
      long[] deadlines = new SplittableRandom(1).longs(n, start, start + spread).toArray();
      CountDownLatch sentinels = new CountDownLatch(2);
      List<Thread> schedulers = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        int first = t;
        schedulers.add(
            Thread.ofPlatform()
                .start(
                    () -> {
                      for (int i = first; i < n; i += 2) {
                        int index = i;
                        entries[i] =
                            timers.schedule(deadlines[i], () -> runs.incrementAndGet(index));
                      }
                      timers.schedule(start + spread, sentinels::countDown);
                    }));
      }
      for (Thread t : schedulers) {
        t.join();
      }
      while (System.nanoTime() - start < spread / 2) {
        Thread.onSpinWait(); // half the timers come due
      }

      // when: every timer is cancelled, in random deadline order, while the rest come due
      boolean[] stopped = new boolean[n];
      int stops = 0;
      for (int i = 0; i < n; i++) {
        stopped[i] = entries[i].cancel();
        stops += stopped[i] ? 1 : 0;
      }

      // then: once each shard's sentinel has run, every entry has left its heap; a timer whose
      // cancel failed ran exactly once, and a stopped one never ran
      assertTrue(sentinels.await(30, TimeUnit.SECONDS), "the sentinels never fired");
      for (int i = 0; i < n; i++) {
        assertEquals(stopped[i] ? 0 : 1, runs.get(i), "timer " + i + ", stopped: " + stopped[i]);
      }
      assertTrue(stops > 0 && stops < n, "the race went one way only: " + stops + " stops");
      assertEquals(0, timers.held());
      timers.checkInvariants();
    }
  }

  @ParameterizedTest
  @EnumSource(CancelPolicy.class)
  void aMillionRandomSchedulesAndCancelsKeepTheHeapsValid(CancelPolicy policy) {
    try (ShardedHeapTimers timers = new ShardedHeapTimers(1, policy, Runnable::run)) {
      SplittableRandom random = new SplittableRandom(2);
      List<Entry> live = new ArrayList<>();
      int cancelled = 0;
      for (int i = 0; i < 1_000_000; i++) {
        if (live.isEmpty() || random.nextInt(3) > 0) {
          live.add(timers.schedule(System.nanoTime() + HOUR + random.nextLong(HOUR), () -> {}));
        } else {
          int k = random.nextInt(live.size());
          Entry e = live.get(k);
          live.set(k, live.get(live.size() - 1));
          live.remove(live.size() - 1);
          assertTrue(e.cancel());
          cancelled++;
        }
      }

      timers.checkInvariants();
      int held = timers.held();
      if (policy == CancelPolicy.INDEXED) {
        assertEquals(live.size(), held);
      } else {
        assertTrue(held >= live.size() && held <= live.size() + cancelled, "held " + held);
      }
    }
  }
}
