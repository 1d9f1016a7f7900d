package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.EngineListener;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobStore;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The meters ServerMetrics makes of what the engine and the journal report. */
@Timeout(30)
class ServerMetricsTest {
  private final ServerMetrics metrics = new ServerMetrics();

  @Test
  void retriesDeathsAndAttemptsAreCountedByJobType() throws Exception {
    // given an engine with two types whose jobs always fail, with two attempts each
    CountDownLatch dead = new CountDownLatch(2);
    EngineListener counting =
        new EngineListener() {
          @Override
          public void attemptFinished(Job job, Outcome outcome, Duration elapsed) {
            metrics.attemptFinished(job, outcome, elapsed);
          }

          @Override
          public void retryScheduled(Job job, Duration delay) {
            metrics.retryScheduled(job, delay);
          }

          @Override
          public void died(Job job, String error) {
            metrics.died(job, error);
            dead.countDown();
          }
        };
    io.sluice.jobs.HandlerOptions twoAttempts =
        io.sluice.jobs.HandlerOptions.defaults()
            .withRetry(
                io.sluice.jobs.RetryPolicy.defaults()
                    .withMaxAttempts(2)
                    .withDelays(Duration.ofMillis(1), Duration.ofMillis(1)));
    try (JobEngine engine =
        JobEngine.builder(JobStore.inMemory(10))
            .workers(1)
            .handle("a", (job, ctx) -> fail(), twoAttempts)
            .handle("b", (job, ctx) -> fail(), twoAttempts)
            .listener(counting)
            .start()) {
      metrics.readStatsFrom(engine::stats);
      String before = metrics.scrape();
      assertTrue(before.contains("sluice_retries_total{type=\"a\"} 0.0"), before);
      assertTrue(before.contains("sluice_jobs_died_total{type=\"b\"} 0.0"), before);

      // when two jobs of "a" fail twice each, to their death
      engine.submit(List.of(JobSpec.of("a", "x".getBytes(StandardCharsets.UTF_8))));
      engine.submit(List.of(JobSpec.of("a", "y".getBytes(StandardCharsets.UTF_8))));
      assertTrue(dead.await(20, TimeUnit.SECONDS), "both jobs died");
      assertEquals(2, engine.stats().jobs().dead());
    }

    // then the meters of "a" count them, and those of "b" nothing
    String after = metrics.scrape();
    for (String line :
        List.of(
            "sluice_retries_total{type=\"a\"} 2.0",
            "sluice_jobs_died_total{type=\"a\"} 2.0",
            "sluice_upload_attempts_seconds_count{outcome=\"failed\",type=\"a\"} 4\n",
            "sluice_retries_total{type=\"b\"} 0.0",
            "sluice_jobs_died_total{type=\"b\"} 0.0")) {
      assertTrue(after.contains(line), line + " in\n" + after);
    }
  }

  private static void fail() throws Exception {
    throw new Exception("refused");
  }

  @Test
  void aStuckAttemptIsCountedByJobTypeAndTheThreadItHoldsIsAGauge() throws Exception {
    // given an engine whose "deaf" handler ignores the interrupt at its timeout, on a manual clock
    io.sluice.core.ManualClock clock =
        io.sluice.core.Clock.manual(java.time.Instant.parse("2026-11-27T10:00:00Z"));
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch reported = new CountDownLatch(1);
    EngineListener counting =
        new EngineListener() {
          @Override
          public void attemptStuck(Job job, Duration overdue) {
            metrics.attemptStuck(job, overdue);
            reported.countDown();
          }
        };
    try (JobEngine engine =
        JobEngine.builder(JobStore.inMemory(10))
            .clock(clock)
            .workers(1)
            .interruptGrace(Duration.ofSeconds(5))
            .handle(
                "deaf",
                (job, ctx) -> {
                  started.countDown();
                  while (true) {
                    try {
                      release.await();
                      return;
                    } catch (InterruptedException ignored) {
                      // the defect this meter is for
                    }
                  }
                },
                io.sluice.jobs.HandlerOptions.defaults()
                    .withTimeout(Duration.ofSeconds(10))
                    .withRetry(io.sluice.jobs.RetryPolicy.never()))
            .handle("other", (job, ctx) -> {})
            .listener(counting)
            .start()) {
      metrics.readStatsFrom(engine::stats);
      assertTrue(metrics.scrape().contains("sluice_jobs_stuck_total{type=\"deaf\"} 0.0"));
      engine.submit(List.of(JobSpec.of("deaf", "x".getBytes(StandardCharsets.UTF_8))));
      assertTrue(started.await(20, TimeUnit.SECONDS));

      // when it overruns its timeout and then the interrupt grace
      clock.advance(Duration.ofSeconds(10));
      clock.advance(Duration.ofSeconds(5));
      assertTrue(reported.await(20, TimeUnit.SECONDS), "the listener heard of it");

      // then
      metrics.readStatsFrom(engine::stats); // drops the stats cached by the first scrape
      String scrape = metrics.scrape();
      assertTrue(scrape.contains("sluice_jobs_stuck_total{type=\"deaf\"} 1.0"), scrape);
      assertTrue(scrape.contains("sluice_jobs_stuck_total{type=\"other\"} 0.0"), scrape);
      assertTrue(scrape.contains("sluice_workers_stuck 1.0"), scrape);
      release.countDown();
    }
  }

  @Test
  void everyForceOfTheJournalIsTimedOnceWhetherOrNotACommitMadeIt() {
    // given a commit that forced, as the journal reports it: once as a commit, once as a force
    metrics.journalCommitted(10, 4096, 1_000, 200_000);
    metrics.journalForced(200_000);

    // when the journal forces outside a commit: on its interval, at a segment roll, at close
    metrics.journalCommitted(10, 4096, 1_000, 0);
    metrics.journalForced(150_000);
    metrics.journalForced(180_000);

    // then the fsync timer saw each of the three forces once
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("sluice_journal_fsync_seconds_count 3\n"), scrape);
    assertTrue(scrape.contains("sluice_journal_commit_records_count 2\n"), scrape);
  }

  @Test
  void jobsThatCompactionRelocatedAreCountedWithTheirBytes() {
    // when compaction rewrites two records of old jobs into the newest segment
    metrics.journalRelocated(3, 12_000);
    metrics.journalRelocated(1, 500);

    // then both counters add them up
    String scrape = metrics.scrape();
    assertTrue(scrape.contains("sluice_journal_relocated_total 4.0\n"), scrape);
    assertTrue(scrape.contains("sluice_journal_relocated_bytes_total 12500.0\n"), scrape);
  }
}
