package io.sluice.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import io.sluice.jobs.HungDisk;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.jobs.LogCapture;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * The durable scheduler over a disk that hangs: the store's journal on real files behind a
 * HungDisk gate that holds an fsync until the test lets it go. Fire times come from a manual
 * clock; the journal measures its timeouts with System.nanoTime, so they are small real durations.
 * The tests wait on what the scheduler and the store report (a timer armed again, a job queued, a
 * log record), never on time, and assert no timing.
 */
@Timeout(60)
class DurableSchedulerStallTest {
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
  private static final Trigger HOURLY = Trigger.every(Duration.ofHours(1), T0);

  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(T0.minusSeconds(30));
  private final HungDisk disk = new HungDisk();
  private final LogCapture log = LogCapture.of(DurableScheduler.class);
  private JobStore store;
  private DurableScheduler scheduler;
  private CountDownLatch release = new CountDownLatch(0); // the hung force's, once hung

  @AfterEach
  void closeAll() {
    log.close();
    release.countDown(); // a test that failed while the disk hangs must not hang closing the store
    if (scheduler != null) {
      scheduler.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private void start(Duration ackTimeout, Duration stallThreshold) throws Exception {
    store =
        disk.open(
            JobStoreOptions.defaults()
                .withDirectory(dir)
                .withClock(clock)
                .withCapacity(10)
                .withDirectIo(false)
                .withAckTimeout(ackTimeout)
                .withStallThreshold(stallThreshold));
    scheduler = DurableScheduler.start(store, clock);
    scheduler.put(RecurringJob.of("hourly", HOURLY, "report", "{}"));
  }

  /** Moves the clock on and waits until the schedule's tick has armed its timer again. */
  private void advanceAndAwaitTick(Duration by) {
    clock.advance(by);
    until(() -> clock.pendingTimers() == 1, "the schedule to arm its timer again");
  }

  private static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting for " + what);
      }
      Thread.yield();
    }
  }

  @Test
  void aFireCaughtInAStallIsTriedAgainWarnedOnceAndEnqueuedOnceWhenTheDiskRecovers()
      throws Exception {
    // given a scheduler over a store whose disk hangs in the next force; the journal counts as
    // stalled soon after, so the first fire's outcome is unknown and the retries are refused
    start(Duration.ofMillis(50), Duration.ofMillis(20));
    release = disk.hangNextForce();

    // when the fire time comes, and then three retries
    advanceAndAwaitTick(Duration.ofSeconds(30));
    for (int i = 0; i < 3; i++) {
      advanceAndAwaitTick(DurableSchedulerImpl.QUEUE_FULL_RETRY);
    }

    // then the scheduler still runs, has warned once, and the store shows no fire yet
    assertEquals(1, log.warnings().size(), log.warnings().toString());
    assertTrue(log.warnings().getFirst().contains("stalled"), log.warnings().getFirst());
    assertTrue(store.schedule("hourly").orElseThrow().lastFire().isEmpty());
    assertEquals(Optional.of(T0), scheduler.status("hourly").orElseThrow().nextFire());

    // when the disk recovers: the fire whose outcome was unknown is recorded, its job queued
    release.countDown();
    Job job = store.claim(type -> true).orElseThrow();
    store.succeeded(job.id());
    // and the next retry finds it recorded
    clock.advance(DurableSchedulerImpl.QUEUE_FULL_RETRY);
    until(
        () ->
            scheduler
                .status("hourly")
                .flatMap(ScheduleStatus::nextFire)
                .equals(Optional.of(T0.plus(Duration.ofHours(1)))),
        "the schedule to move on to its next fire time");

    // then the fire for T0 enqueued exactly that one job
    assertEquals(0, store.counts().queued());
    assertEquals(Optional.of(T0), store.schedule("hourly").orElseThrow().lastFire());
    assertEquals(Optional.of(job.id()), store.schedule("hourly").orElseThrow().lastJob());

    // and the next fire time fires once, as usual, with no new warning
    clock.advance(Duration.ofHours(1));
    Job next = store.claim(type -> true).orElseThrow();
    store.succeeded(next.id());
    until(
        () ->
            scheduler
                .status("hourly")
                .flatMap(ScheduleStatus::nextFire)
                .orElseThrow()
                .isAfter(clock.now()),
        "the schedule to handle its fire");
    assertEquals(0, store.counts().queued());
    assertEquals(
        Optional.of(T0.plus(Duration.ofHours(1))),
        store.schedule("hourly").orElseThrow().lastFire());
    assertEquals(1, log.warnings().size(), log.warnings().toString());
  }

  @Test
  void closeReturnsWhileTheDiskStillHangsOnceTheFireInProgressGivesUp() throws Exception {
    // given a fire in progress, its record in a force that hangs
    start(Duration.ofMillis(100), Duration.ofMinutes(10));
    CountDownLatch entered = new CountDownLatch(1);
    release = disk.hangNextForce(entered);
    clock.advance(Duration.ofSeconds(30));
    entered.await();

    // when the scheduler is closed, then it returns although the disk still hangs
    scheduler.close();
    assertEquals(1, release.getCount());
    assertEquals(0, clock.pendingTimers());

    // and nothing fires afterwards
    clock.advance(Duration.ofHours(2));
    assertEquals(0, clock.pendingTimers());

    // and once the disk recovers, the fire in progress counts once, as recorded
    release.countDown();
    Job job = store.claim(type -> true).orElseThrow();
    assertEquals(Optional.of(job.id()), store.schedule("hourly").orElseThrow().lastJob());
    assertEquals(0, store.counts().queued());
    List<String> warnings = log.warnings();
    assertFalse(warnings.isEmpty(), "the stall was reported");
  }
}
