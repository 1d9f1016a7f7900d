package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * A durable store whose journal an earlier Sluice wrote. The fixture v1-store/ is the one segment
 * that the journal format version 1 (commit 9635384) wrote for: four jobs submitted in one batch at
 * 2026-11-27T10:00:00Z ("queued", "running" with source "sensor", "done", "dead"), then, a second
 * apart each, claims of "queued" and "running" (attempts cut short by the "crash"), a claim of
 * "done" and its success, a claim of "dead" and its permanent failure ("fatal").
 */
@Timeout(60)
class JournalUpgradeTest {
  private static final JobId QUEUED = JobId.parse("01a222a7-1a7a-7000-b2cc-bb6f7bfd7a2a");
  private static final JobId RUNNING = JobId.parse("01a222a7-1a7a-7001-a45a-010241de8ac5");
  private static final JobId DONE = JobId.parse("01a222a7-1a7a-7002-9956-2c8e93afd346");
  private static final JobId DEAD = JobId.parse("01a222a7-1a7a-7003-bd3e-1ba912065da3");
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");

  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(T0.plusSeconds(60));

  private LocalJobStore open() throws Exception {
    return LocalJobStore.open(
        JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withSegmentBytes(1 << 20));
  }

  private void copyFixture() throws Exception {
    String name = "00000000000000000001.seg";
    try (InputStream in = JournalUpgradeTest.class.getResourceAsStream("v1-store/" + name)) {
      Files.copy(in, dir.resolve(name));
    }
  }

  @Test
  void jobsJournaledByTheVersion1FormatAreAllThereAfterAnUpgrade() throws Exception {
    // given a store journaled by the version 1 format
    copyFixture();

    // when a Sluice of this version opens it
    try (LocalJobStore store = open()) {
      // then every job is there, in the state it had
      Job queued = store.find(QUEUED).orElseThrow();
      assertEquals(JobState.QUEUED, queued.state());
      assertEquals(1, queued.attempts());
      assertEquals("queued", new String(queued.payloadBytes(), UTF_8));
      assertEquals(Optional.of(T0.plusSeconds(1)), queued.lastAttemptAt());
      Job running = store.find(RUNNING).orElseThrow();
      assertEquals(JobState.QUEUED, running.state());
      assertEquals(Optional.of("sensor"), running.source());
      Job done = store.find(DONE).orElseThrow();
      assertEquals(JobState.SUCCEEDED, done.state());
      assertEquals(Optional.of(T0.plusSeconds(4)), done.finishedAt());
      Job dead = store.find(DEAD).orElseThrow();
      assertEquals(JobState.DEAD, dead.state());
      assertEquals(Optional.of("fatal"), dead.lastError());
      assertEquals(T0, dead.createdAt());
      store.checkInvariants();
    }
  }

  @Test
  void anUpgradedStoreKeepsItsOldJobsAndTheNewOnesAcrossAnotherRestart() throws Exception {
    // given an upgraded store that took a job and finished an old one
    copyFixture();
    JobId fresh;
    try (LocalJobStore store = open()) {
      fresh =
          assertInstanceOf(
                  Admission.Accepted.class,
                  store.submit(List.of(JobSpec.of("t", "new".getBytes(UTF_8))), Duration.ZERO))
              .ids()
              .getFirst();
      assertEquals(QUEUED, store.claim(t -> true).orElseThrow().id());
      store.succeeded(QUEUED);
    }

    // when it is opened once more
    try (LocalJobStore store = open()) {
      // then the old jobs and the new one are there, with what happened after the upgrade
      assertEquals(JobState.SUCCEEDED, store.find(QUEUED).orElseThrow().state());
      assertEquals(JobState.QUEUED, store.find(RUNNING).orElseThrow().state());
      assertEquals(JobState.SUCCEEDED, store.find(DONE).orElseThrow().state());
      assertEquals(JobState.DEAD, store.find(DEAD).orElseThrow().state());
      Job job = store.find(fresh).orElseThrow();
      assertEquals(JobState.QUEUED, job.state());
      assertEquals("new", new String(job.payloadBytes(), UTF_8));
      assertTrue(store.counts().recovered() >= 2, store.counts().toString());
      store.checkInvariants();
    }
  }
}
