package io.sluice.schedule;

import static io.sluice.schedule.TriggerTest.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many schedules made and cancelled from several threads while another advances the clock; then
 * every due time passes and the invariants are checked: a schedule whose cancel succeeded before it
 * ran never ran, every other one-shot ran exactly once, every recurring schedule ran exactly as
 * often as its handle says (and, if never cancelled, exactly as often as its trigger was due), no
 * timer is left and no thread outlives the scheduler. Scaled up tenfold when {@code CI=true}.
 */
class SchedulerStressTest {
  static final Instant T0 = t("2026-01-01T00:00:00Z");
  static final Instant RECURRING_START = T0.plus(Duration.ofMinutes(10));
  static final Instant END = RECURRING_START.plusSeconds(5);
  static final int WORKERS = 4;
  static final int OPS = Boolean.parseBoolean(System.getenv("CI")) ? 20_000 : 2_000;

  /** What the test knows about one schedule. */
  record Made(
      ScheduleHandle handle, AtomicInteger bodies, Trigger trigger, AtomicBoolean cancelled) {}

  @Test
  @Timeout(120)
  void
      givenConcurrentMakersCancellersAndAClockDriver_whenEverythingIsDue_thenNoRunIsLostOrDuplicated()
          throws Exception {
    ManualClock clock = Clock.manual(T0);
    TestThreads threads = new TestThreads();
    Scheduler scheduler =
        Scheduler.create(SchedulerOptions.defaults().withClock(clock).withThreadFactory(threads));
    ConcurrentLinkedQueue<Made> made = new ConcurrentLinkedQueue<>();
    CountDownLatch workersDone = new CountDownLatch(WORKERS);
    List<Thread> workers = new ArrayList<>();
    for (int w = 0; w < WORKERS; w++) {
      long seed = 42 + w;
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    try {
                      work(scheduler, made, new SplittableRandom(seed));
                    } finally {
                      workersDone.countDown();
                    }
                  }));
    }
    Thread driver =
        Thread.ofPlatform()
            .start(
                () -> {
                  SplittableRandom random = new SplittableRandom(7);
                  while (workersDone.getCount() > 0
                      && clock.now().isBefore(RECURRING_START.minusSeconds(60))) {
                    clock.advance(Duration.ofMillis(random.nextInt(1, 50)));
                    Thread.yield();
                  }
                });
    for (Thread w : workers) {
      w.join();
    }
    driver.join();

    clock.advance(Duration.between(clock.now(), END)); // every one-shot and recurring run is due
    threads.awaitAllEnded();
    List<Made> all = new ArrayList<>(made);
    long[] runCounts = all.stream().mapToLong(m -> m.handle().runCount()).toArray();
    scheduler.close();

    assertEquals(0, clock.pendingTimers());
    threads.assertNoneAlive();
    ((SchedulerImpl) scheduler).checkInvariants();
    for (int i = 0; i < all.size(); i++) {
      Made m = all.get(i);
      int bodies = m.bodies().get();
      assertEquals(runCounts[i], bodies, m.handle() + ": runCount vs bodies run");
      if (m.trigger() == null) { // a one-shot
        assertEquals(m.cancelled().get() ? 0 : 1, bodies, m.handle().toString());
      } else if (!m.cancelled().get()) {
        assertEquals(dueCount(m.trigger()), bodies, m.handle().toString());
      } else {
        assertTrue(bodies <= dueCount(m.trigger()), m.handle().toString());
      }
      assertTrue(m.handle().isDone());
      assertFalse(m.handle().cancel());
    }
  }

  private static void work(
      Scheduler scheduler, ConcurrentLinkedQueue<Made> made, SplittableRandom random) {
    List<Made> mine = new ArrayList<>();
    for (int op = 0; op < OPS; op++) {
      int dice = random.nextInt(100);
      if (dice < 55) {
        AtomicInteger bodies = new AtomicInteger();
        Duration delay = Duration.ofMillis(random.nextInt(0, 5000));
        ScheduleHandle h =
            random.nextBoolean()
                ? scheduler.after(delay, bodies::incrementAndGet)
                : scheduler.at(scheduler.clock().now().plus(delay), bodies::incrementAndGet);
        mine.add(new Made(h, bodies, null, new AtomicBoolean()));
      } else if (dice < 65) {
        AtomicInteger bodies = new AtomicInteger();
        Trigger trigger =
            Trigger.every(
                Duration.ofMillis(random.nextInt(100, 1000)),
                RECURRING_START.plusMillis(random.nextInt(0, 1000)));
        ScheduleHandle h =
            scheduler.schedule(
                trigger,
                bodies::incrementAndGet,
                ScheduleOptions.defaults().withOverlapPolicy(OverlapPolicy.ALLOW_CONCURRENT));
        mine.add(new Made(h, bodies, trigger, new AtomicBoolean()));
      } else if (!mine.isEmpty()) {
        Made victim = mine.get(random.nextInt(mine.size()));
        if (victim.handle().cancel()) {
          victim.cancelled().set(true);
        }
      }
    }
    made.addAll(mine);
  }

  /** How many fire times of {@code trigger} fall in {@code [RECURRING_START, END]}. */
  private static int dueCount(Trigger trigger) {
    int n = 0;
    for (Optional<Instant> f = trigger.nextAtOrAfter(RECURRING_START);
        f.isPresent() && !f.get().isAfter(END);
        f = trigger.nextAfter(f.get())) {
      n++;
    }
    return n;
  }
}
