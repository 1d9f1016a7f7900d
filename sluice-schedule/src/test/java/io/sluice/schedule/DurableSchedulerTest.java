package io.sluice.schedule;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobId;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobState;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(60)
class DurableSchedulerTest {
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
  private static final Trigger HOURLY = Trigger.every(Duration.ofHours(1), T0);

  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(T0.minusSeconds(30));
  private JobStore store;
  private DurableScheduler scheduler;

  @AfterEach
  void closeAll() {
    if (scheduler != null) {
      scheduler.close();
    }
    if (store != null) {
      store.close();
    }
  }

  private JobStore openStore(int capacity) throws Exception {
    store =
        JobStore.open(
            JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withCapacity(capacity));
    return store;
  }

  private DurableScheduler startScheduler() {
    scheduler = DurableScheduler.start(store, clock);
    return scheduler;
  }

  private void restart() throws Exception {
    scheduler.close();
    store.close();
    scheduler = null;
    store = null;
  }

  /** Stops the scheduler and the store, moves the clock on by {@code downtime}, starts both. */
  private void restartAfter(Duration downtime) throws Exception {
    restart();
    clock.advance(downtime);
    openStore(10);
    startScheduler();
  }

  private Optional<Instant> nextFire(String name) {
    return scheduler.status(name).orElseThrow().nextFire();
  }

  /** Takes every queued job (none runs them here), oldest first. */
  private List<Job> drain() throws InterruptedException {
    List<Job> jobs = new ArrayList<>();
    while (store.counts().queued() > 0) {
      Job job = store.claim(t -> true).orElseThrow();
      store.succeeded(job.id());
      jobs.add(job);
    }
    return jobs;
  }

  /** Waits until the schedule waits for a fire time after now: every due fire was handled. */
  private void awaitSettled(String name) {
    until(
        () ->
            scheduler
                .status(name)
                .flatMap(ScheduleStatus::nextFire)
                .map(next -> next.isAfter(clock.now()))
                .orElse(true),
        "schedule " + name + " to handle its due fire times");
  }

  private static void until(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting for " + what);
      }
      Thread.yield();
    }
  }

  /**
   * Lets "hourly" fire at T0 (its job taken and finished), stops the scheduler and the store, moves
   * the clock on by {@code downtime}, and starts both again.
   */
  private void firstFireThenDownFor(Duration downtime) throws Exception {
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    drain();
    restartAfter(downtime);
  }

  private Instant lastFire(String name) {
    return store.schedule(name).orElseThrow().lastFire().orElseThrow();
  }

  @Test
  void eachFireEnqueuesANormalJobWithThePayloadAndTheScheduleAsSource() throws Exception {
    openStore(10);
    startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{\"kind\":\"hourly\"}"));

    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    List<Job> jobs = drain();
    clock.advance(Duration.ofHours(1));
    awaitSettled("hourly");
    jobs.addAll(drain());

    assertEquals(2, jobs.size());
    Job first = jobs.getFirst();
    assertEquals("report", first.type());
    assertEquals("{\"kind\":\"hourly\"}", new String(first.payloadBytes(), UTF_8));
    assertEquals(Optional.of("schedule:hourly"), first.source());
    assertEquals(T0.plus(Duration.ofHours(1)), lastFire("hourly"));
  }

  @Test
  void puttingTheSameDefinitionAgainNeitherDuplicatesNorResetsIt() throws Exception {
    openStore(10);
    RecurringJob job = RecurringJob.of("hourly", HOURLY, "report", "{}");
    startScheduler().put(job);

    scheduler.put(job);
    scheduler.put(job);
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");

    assertEquals(1, drain().size());
    assertEquals(1, scheduler.list().size());
  }

  @Test
  void theStatusListsTheNextFireTimes() throws Exception {
    openStore(10);

    ScheduleStatus status = startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{}"));

    assertEquals(Optional.of(T0), status.nextFire());
    assertEquals(
        List.of(
            T0,
            T0.plusSeconds(3600),
            T0.plusSeconds(7200),
            T0.plusSeconds(10800),
            T0.plusSeconds(14400)),
        status.upcoming());
    assertEquals(Optional.empty(), status.lastFire());
  }

  @Test
  void aOneShotFiresOnceAndThenHasNoNextFire() throws Exception {
    openStore(10);
    startScheduler().put(RecurringJob.of("once", Trigger.at(T0), "report", "{}"));

    clock.advance(Duration.ofHours(5));
    awaitSettled("once");

    assertEquals(1, drain().size());
    assertEquals(Optional.empty(), scheduler.status("once").orElseThrow().nextFire());
  }

  @Test
  void aDeletedScheduleFiresNoMore() throws Exception {
    openStore(10);
    startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{}"));

    assertTrue(scheduler.delete("hourly"));
    clock.advance(Duration.ofHours(3));

    assertFalse(scheduler.delete("hourly"));
    assertEquals(Optional.empty(), scheduler.status("hourly"));
    assertEquals(Optional.empty(), store.schedule("hourly"));
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, store.counts().queued());
  }

  @Test
  void fireOnceAfterARestartEnqueuesOneJobForEveryMissedFireTime() throws Exception {
    openStore(10);
    startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{}"));
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    drain();
    restartAfter(Duration.ofHours(5).plusMinutes(10)); // down through five fire times

    assertEquals(1, drain().size());
    assertEquals(T0.plus(Duration.ofHours(5)), lastFire("hourly"));
    assertEquals(Optional.of(T0.plus(Duration.ofHours(6))), nextFire("hourly"));
  }

  @Test
  void skipAfterARestartEnqueuesNothingForMissedFireTimes() throws Exception {
    openStore(10);
    startScheduler()
        .put(RecurringJob.of("hourly", HOURLY, "report", "{}").withMisfire(MisfirePolicy.SKIP));
    firstFireThenDownFor(Duration.ofHours(5).plusMinutes(10));

    assertEquals(0, drain().size());
    assertEquals(T0, lastFire("hourly"));
    assertEquals(Optional.of(T0.plus(Duration.ofHours(6))), nextFire("hourly"));
  }

  @Test
  void catchUpAfterARestartEnqueuesTheLatestMissedFireTimesUpToItsMaximum() throws Exception {
    openStore(10);
    startScheduler()
        .put(
            RecurringJob.of("hourly", HOURLY, "report", "{}")
                .withMisfire(MisfirePolicy.catchUp(3))
                .withOverlap(OverlapPolicy.ALLOW_CONCURRENT));
    firstFireThenDownFor(Duration.ofHours(5).plusMinutes(10));

    assertEquals(3, drain().size());
    assertEquals(T0.plus(Duration.ofHours(5)), lastFire("hourly"));
  }

  @ParameterizedTest
  @EnumSource(
      value = OverlapPolicy.class,
      names = {"SKIP", "QUEUE_ONE"})
  void givenCatchUpAndAnOverlapPolicy_whenARestartMissedFireTimes_thenTheWholeBatchIsEnqueued(
      OverlapPolicy overlap) throws Exception {
    openStore(10);
    startScheduler()
        .put(
            RecurringJob.of("hourly", HOURLY, "report", "{}")
                .withMisfire(MisfirePolicy.catchUp(3))
                .withOverlap(overlap));
    firstFireThenDownFor(Duration.ofHours(5).plusMinutes(10));
    awaitSettled("hourly");

    assertEquals(3, drain().size(), "the catch-up's runs count as one fire for " + overlap);
    assertEquals(T0.plus(Duration.ofHours(5)), lastFire("hourly"));
  }

  @Test
  void givenCatchUpAndOverlapSkip_whenThePreviousJobIsUnfinished_thenNoneOfTheBatchIsEnqueued()
      throws Exception {
    openStore(10);
    startScheduler()
        .put(
            RecurringJob.of("hourly", HOURLY, "report", "{}")
                .withMisfire(MisfirePolicy.catchUp(3))
                .withOverlap(OverlapPolicy.SKIP));
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    restartAfter(Duration.ofHours(5).plusMinutes(10)); // the first fire's job still queued
    awaitSettled("hourly");

    assertEquals(1, drain().size(), "only the first fire's job");
    assertEquals(T0.plus(Duration.ofHours(5)), lastFire("hourly"));
  }

  @Test
  void aFireWithinTheThresholdAfterARestartIsLateNotMissed() throws Exception {
    openStore(10);
    startScheduler()
        .put(RecurringJob.of("hourly", HOURLY, "report", "{}").withMisfire(MisfirePolicy.SKIP));
    restartAfter(Duration.ofSeconds(50)); // T0 + 20 s: within the one-minute threshold

    assertEquals(1, drain().size());
    assertEquals(T0, lastFire("hourly"));
  }

  @Test
  void overlapSkipEnqueuesNothingWhileThePreviousJobIsUnfinished() throws Exception {
    openStore(10);
    startScheduler()
        .put(RecurringJob.of("hourly", HOURLY, "report", "{}").withOverlap(OverlapPolicy.SKIP));
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    Job running = store.claim(t -> true).orElseThrow();

    clock.advance(Duration.ofHours(1));
    awaitSettled("hourly");
    assertEquals(0, store.counts().queued());
    store.succeeded(running.id());
    clock.advance(Duration.ofHours(1));
    awaitSettled("hourly");

    assertEquals(1, drain().size());
    assertEquals(T0.plus(Duration.ofHours(2)), lastFire("hourly"));
  }

  @Test
  void aFireHeldBackByOverlapIsRecordedSoARestartDoesNotCountItAsMissed() throws Exception {
    // given the fire at T0 + 1 h held back (overlap SKIP) while the T0 job runs
    openStore(10);
    startScheduler()
        .put(RecurringJob.of("hourly", HOURLY, "report", "{}").withOverlap(OverlapPolicy.SKIP));
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    Job running = store.claim(t -> true).orElseThrow();
    clock.advance(Duration.ofHours(1));
    awaitSettled("hourly");
    assertEquals(T0.plus(Duration.ofHours(1)), lastFire("hourly"));
    store.succeeded(running.id());

    // when the service is down for ten minutes after it
    restartAfter(Duration.ofMinutes(10));

    // then nothing counts as missed (FIRE_ONCE would have enqueued a job), and it goes on
    assertEquals(0, drain().size());
    assertEquals(T0.plus(Duration.ofHours(1)), lastFire("hourly"));
    assertEquals(Optional.of(T0.plus(Duration.ofHours(2))), nextFire("hourly"));
  }

  @Test
  void overlapQueueOneEnqueuesOneMoreWhileThePreviousRunsButNotASecond() throws Exception {
    openStore(10);
    startScheduler()
        .put(
            RecurringJob.of("hourly", HOURLY, "report", "{}").withOverlap(OverlapPolicy.QUEUE_ONE));
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");
    store.claim(t -> true).orElseThrow(); // running from now on

    clock.advance(Duration.ofHours(1));
    awaitSettled("hourly");
    clock.advance(Duration.ofHours(1));
    awaitSettled("hourly");

    assertEquals(1, store.counts().queued());
    // T0 + 2 h was held back and recorded; the job queued is still the one of T0 + 1 h
    assertEquals(T0.plus(Duration.ofHours(2)), lastFire("hourly"));
    JobId queued = store.schedule("hourly").orElseThrow().lastJob().orElseThrow();
    assertEquals(JobState.QUEUED, store.find(queued).orElseThrow().state());
  }

  @Test
  void overlapAllowConcurrentEnqueuesEveryFire() throws Exception {
    openStore(10);
    startScheduler()
        .put(
            RecurringJob.of("hourly", HOURLY, "report", "{}")
                .withOverlap(OverlapPolicy.ALLOW_CONCURRENT));

    for (int i = 0; i < 3; i++) {
      clock.advance(i == 0 ? Duration.ofSeconds(30) : Duration.ofHours(1));
      awaitSettled("hourly");
    }

    assertEquals(3, store.counts().queued());
  }

  @Test
  void aFireThatFindsTheQueueFullIsTriedAgainUntilThereIsRoom() throws Exception {
    openStore(1);
    store.submit(List.of(JobSpec.of("filler", new byte[1])), Duration.ZERO);
    startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{}"));

    clock.advance(Duration.ofSeconds(30));
    until(() -> clock.pendingTimers() > 0, "the retry timer");
    assertEquals(Optional.empty(), store.schedule("hourly").orElseThrow().lastFire());
    assertEquals("filler", drain().getFirst().type());
    clock.advance(DurableSchedulerImpl.QUEUE_FULL_RETRY);
    awaitSettled("hourly");

    assertEquals(T0, lastFire("hourly"));
    assertEquals("report", drain().getFirst().type());
  }

  @Test
  void aFireWhosePayloadCanNeverFitIsNotRetriedAndTheScheduleGoesOn() throws Exception {
    store =
        JobStore.open(
            JobStoreOptions.defaults()
                .withDirectory(dir)
                .withClock(clock)
                .withCapacity(10)
                .withPayloadBytesLimit(8));
    startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{\"much\": \"too long\"}"));

    clock.advance(Duration.ofSeconds(30));
    awaitSettled("hourly");

    assertEquals(0, store.counts().queued(), "refused: the store holds 8 payload bytes at most");
    assertEquals(
        Optional.of(T0),
        store.schedule("hourly").orElseThrow().lastFire(),
        "recorded as skipped, so that a restart does not count it as missed");
    assertEquals(0, clock.pendingTimers() - 1, "only the next fire's timer, no retry timer");
    assertEquals(Optional.of(T0.plus(Duration.ofHours(1))), nextFire("hourly"));
  }

  @Test
  void aChangedDefinitionTakesEffectAtOnceAndKeepsTheLastFire() throws Exception {
    openStore(10);
    startScheduler().put(RecurringJob.of("s", HOURLY, "report", "{}"));
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("s");

    ScheduleStatus changed =
        scheduler.put(
            RecurringJob.of(
                "s",
                Trigger.cron("0 12 * * *", CronDialect.UNIX, ZoneId.of("UTC")),
                "report",
                "{}"));

    assertEquals(Optional.of(T0), changed.lastFire());
    assertEquals(Optional.of(Instant.parse("2026-11-27T12:00:00Z")), changed.nextFire());
  }

  @Test
  void aDefinitionThatCannotBeReadIsLeftAloneAndTheOthersRun() throws Exception {
    openStore(10);
    store.putSchedule("broken", "trigger=sometimes\n");
    store.putSchedule("good", RecurringJob.of("good", HOURLY, "report", "{}").encode());

    startScheduler();
    clock.advance(Duration.ofSeconds(30));
    awaitSettled("good");

    assertEquals(List.of("good"), scheduler.list().stream().map(s -> s.job().name()).toList());
    assertTrue(store.schedule("broken").isPresent());
    assertEquals(1, drain().size());
  }

  @Test
  void closeStopsEveryTimerAndRefusesChanges() throws Exception {
    openStore(10);
    startScheduler().put(RecurringJob.of("hourly", HOURLY, "report", "{}"));

    scheduler.close();
    scheduler.close();

    assertEquals(0, clock.pendingTimers());
    clock.advance(Duration.ofHours(2));
    assertEquals(0, store.counts().queued());
    assertThrows(
        IllegalStateException.class,
        () -> scheduler.put(RecurringJob.of("x", HOURLY, "report", "{}")));
    assertThrows(IllegalStateException.class, () -> scheduler.delete("hourly"));
  }

  @Test
  void aRecurringJobRoundTripsThroughItsStoredForm() {
    RecurringJob job =
        RecurringJob.of(
                "nightly",
                Trigger.cron("30 2 * * *", CronDialect.UNIX, ZoneId.of("Europe/Berlin")),
                "report",
                "{\"text\":\"line one\\nline two\", \"ü\": true}\n")
            .withMisfire(MisfirePolicy.catchUp(4))
            .withMisfireThreshold(Duration.ofMinutes(5))
            .withOverlap(OverlapPolicy.QUEUE_ONE);

    assertEquals(job, RecurringJob.decode("nightly", job.encode()));
  }

  @Test
  void aRecurringJobRefusesABadNameOrABlankType() {
    assertThrows(
        IllegalArgumentException.class, () -> RecurringJob.of("a/b", HOURLY, "report", "{}"));
    assertThrows(IllegalArgumentException.class, () -> RecurringJob.of("a", HOURLY, " ", "{}"));
  }
}
