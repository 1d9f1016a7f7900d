package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.internal.TimerEntry;
import io.sluice.core.internal.TimerWheel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random schedule / cancel / stop / reset / receive across many virtual threads on real time, then
 * the invariants: every timer fires at most once, never after a cancel or stop that reported
 * success, never before its deadline, and always if nothing stopped it; the engine ends empty and
 * consistent. Short by default; five times longer when {@code CI} is set; a hundred times under the
 * {@code stress-long} tag ({@code ./mvnw verify -Pstress}).
 */
class TimerStressTest {
  private static final int THREADS = 64;
  private static final long MAX_DELAY = TimeUnit.MILLISECONDS.toNanos(3);

  private static int scale() {
    return System.getenv("CI") == null || System.getenv("CI").isBlank() ? 1 : 5;
  }

  @Test
  @Timeout(120)
  void
      givenRandomSchedulesAndCancels_whenAllIsDue_thenEachEntryRanOnceUnlessCancelledAndNeverEarly()
          throws Exception {
    engineScheduleCancel(300 * scale());
  }

  @Test
  @Timeout(120)
  void givenReceiversRacingStopAndReset_whenTheyMeet_thenExactlyOneSideWinsEachValue()
      throws Exception {
    stopAndResetRacingReceivers(2_000 * scale());
  }

  @Test
  @Timeout(120)
  void givenAfterFuncsRandomlyStoppedAndReset_whenAllIsDue_thenRunsMatchWhatStopAndResetReported()
      throws Exception {
    afterFuncStopReset(2_000 * scale());
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void longRun() throws Exception {
    engineScheduleCancel(30_000);
    stopAndResetRacingReceivers(200_000);
    afterFuncStopReset(200_000);
  }

  // ---- the engine: schedule and cancel ----

  private static final class Probe implements Runnable {
    final long deadline;
    final AtomicInteger runs = new AtomicInteger();
    volatile long ranAt;
    volatile boolean cancelled;
    final Semaphore done;

    Probe(long deadline, Semaphore done) {
      this.deadline = deadline;
      this.done = done;
    }

    @Override
    public void run() {
      ranAt = System.nanoTime();
      runs.incrementAndGet();
      done.release();
    }
  }

  private static void engineScheduleCancel(int perThread) throws Exception {
    TimerWheel wheel =
        TimerWheel.startThread("sluice-timer-stress", TimerWheel.SYSTEM_TICK_SHIFT, null);
    try {
      Semaphore ran = new Semaphore(0);
      ConcurrentLinkedQueue<Probe> all = new ConcurrentLinkedQueue<>();
      AtomicLong expectedRuns = new AtomicLong();
      runOnVirtualThreads(
          () -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            List<Probe> mine = new ArrayList<>();
            List<TimerEntry> handles = new ArrayList<>();
            for (int i = 0; i < perThread; i++) {
              long far = random.nextInt(10) == 0 ? TimeUnit.HOURS.toNanos(1) : 0;
              Probe p = new Probe(System.nanoTime() + far + random.nextLong(MAX_DELAY), ran);
              mine.add(p);
              handles.add(wheel.schedule(p.deadline, p));
              if (random.nextBoolean()) {
                Thread.yield();
              }
              int victim = random.nextInt(handles.size());
              if (random.nextBoolean() && handles.get(victim).cancel()) {
                mine.get(victim).cancelled = true;
              }
            }
            for (int i = 0; i < mine.size(); i++) {
              if (mine.get(i).deadline - System.nanoTime() > MAX_DELAY * 2) {
                // far timers are cancelled, so the run ends; repeated cancels must report false
                boolean first = handles.get(i).cancel();
                assertFalse(handles.get(i).cancel());
                mine.get(i).cancelled |= first;
              }
              if (!mine.get(i).cancelled) {
                expectedRuns.incrementAndGet();
              }
            }
            all.addAll(mine);
          });

      ran.acquire((int) expectedRuns.get()); // every entry not cancelled runs
      for (Probe p : all) {
        if (p.cancelled) {
          assertEquals(0, p.runs.get(), "ran after a successful cancel");
        } else {
          assertEquals(1, p.runs.get(), "ran exactly once");
          assertTrue(p.ranAt >= p.deadline, "ran before its deadline");
        }
      }
      TimerWheelTest.awaitSwept(wheel); // the cancelled far entries are swept, not held an hour
    } finally {
      wheel.shutdown();
    }
  }

  // ---- channel timers: stop and reset racing a receiver ----

  private static void stopAndResetRacingReceivers(int rounds) throws Exception {
    AtomicInteger valuesWithStopTrue = new AtomicInteger();
    AtomicInteger early = new AtomicInteger();
    AtomicInteger lost = new AtomicInteger();
    runOnVirtualThreads(
        () -> {
          ThreadLocalRandom random = ThreadLocalRandom.current();
          for (int i = 0; i < rounds / THREADS; i++) {
            long delay = random.nextLong(MAX_DELAY);
            long created = System.nanoTime();
            Timer t = Time.newTimer(Duration.ofNanos(delay));
            AtomicLong receivedAt = new AtomicLong(-1);
            Thread receiver =
                Thread.startVirtualThread(
                    () -> {
                      try {
                        t.channel().receive();
                        receivedAt.set(System.nanoTime());
                      } catch (InterruptedException e) {
                        // stopped: expected when stop() won
                      }
                    });
            for (int spin = random.nextInt(2_000); spin > 0; spin--) {
              Thread.onSpinWait();
            }
            boolean prevented;
            long newDelay = -1;
            long resetAt = 0;
            if (random.nextBoolean()) {
              prevented = t.stop();
            } else {
              newDelay = random.nextLong(MAX_DELAY);
              resetAt = System.nanoTime();
              prevented = t.reset(Duration.ofNanos(newDelay));
            }
            if (prevented && newDelay < 0) {
              receiver.interrupt(); // stopped before the value was taken: it must never come
            }
            receiver.join();
            ((TimerImpl) t).core().checkInvariants();
            long got = receivedAt.get();
            if (prevented && newDelay < 0 && got >= 0) {
              valuesWithStopTrue.incrementAndGet();
            }
            if (!prevented && got < 0) {
              lost.incrementAndGet(); // stop/reset said the value was taken: the receiver has it
            }
            if (got >= 0) {
              long due = prevented ? resetAt + newDelay : created + delay;
              if (got < due) {
                early.incrementAndGet();
              }
            }
          }
        });
    assertEquals(0, valuesWithStopTrue.get(), "values received although stop() prevented them");
    assertEquals(0, lost.get(), "values stop()/reset() called taken, but nobody received");
    assertEquals(0, early.get(), "values received before their time");
  }

  // ---- afterFunc: stop and reset ----

  private static void afterFuncStopReset(int timers) throws Exception {
    Semaphore ran = new Semaphore(0);
    ConcurrentLinkedQueue<AtomicInteger> stoppedRuns = new ConcurrentLinkedQueue<>();
    AtomicLong expected = new AtomicLong();
    runOnVirtualThreads(
        () -> {
          ThreadLocalRandom random = ThreadLocalRandom.current();
          for (int i = 0; i < timers / THREADS; i++) {
            AtomicInteger runs = new AtomicInteger();
            Timer t =
                Time.afterFunc(
                    Duration.ofNanos(random.nextLong(MAX_DELAY)),
                    () -> {
                      runs.incrementAndGet();
                      ran.release();
                    });
            long scheduled = 1;
            if (random.nextBoolean()) {
              if (t.reset(Duration.ofNanos(random.nextLong(MAX_DELAY)))) {
                scheduled--; // moved, not added
              }
              scheduled++;
            }
            if (random.nextBoolean() && t.stop()) {
              scheduled--;
              if (scheduled == 0) {
                stoppedRuns.add(runs);
              }
            }
            expected.addAndGet(scheduled);
          }
        });
    ran.acquire((int) expected.get());
    awaitEngineAfter(MAX_DELAY * 2);
    for (AtomicInteger runs : stoppedRuns) {
      assertEquals(0, runs.get(), "a stopped afterFunc ran");
    }
    assertFalse(ran.tryAcquire(), "more runs than scheduled");
  }

  /** Waits for an afterFunc due after every stressed one: then the engine is past them all. */
  private static void awaitEngineAfter(long nanos) throws InterruptedException {
    Semaphore sentinel = new Semaphore(0);
    Time.afterFunc(Duration.ofNanos(nanos), sentinel::release);
    sentinel.acquire();
  }

  private static void runOnVirtualThreads(ThrowingRunnable body) throws Exception {
    List<Thread> threads = new ArrayList<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    for (int i = 0; i < THREADS; i++) {
      threads.add(
          Thread.startVirtualThread(
              () -> {
                try {
                  body.run();
                } catch (Throwable t) {
                  failures.add(t);
                }
              }));
    }
    for (Thread t : threads) {
      t.join();
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError(failures.size() + " threads failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  interface ThrowingRunnable {
    void run() throws Exception;
  }

  @Test
  @Timeout(30)
  void givenATickerReadByASlowReceiver_whenItReceives_thenTicksAreInOrderAndNeverEarly()
      throws Exception {
    Ticker ticker = Time.newTicker(Duration.ofMillis(1));
    long start = System.nanoTime();
    Instant previous = Instant.MIN;
    for (int i = 1; i <= 50 * scale(); i++) {
      Instant tick = ticker.channel().receive();
      assertTrue(tick.isAfter(previous), "ticks move forward");
      assertTrue(System.nanoTime() - start >= TimeUnit.MILLISECONDS.toNanos(1), "never early");
      previous = tick;
      if (i % 7 == 0) {
        Time.sleep(Duration.ofMillis(3)); // fall behind: missed ticks are dropped, not queued
      }
    }
    ticker.stop();
    assertInstanceOf(
        TryReceived.WouldBlock.class, ticker.channel().tryReceive(Duration.ofMillis(5)));
  }
}
