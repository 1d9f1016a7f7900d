package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class DurableJobStoreTest {
  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));

  private LocalJobStore open() throws IOException {
    return LocalJobStore.open(options());
  }

  private JobStoreOptions options() {
    return JobStoreOptions.defaults()
        .withDirectory(dir)
        .withClock(clock)
        .withCapacity(10_000)
        .withSegmentBytes(1 << 20);
  }

  private static List<JobId> accept(JobStore store, JobSpec... specs) throws Exception {
    return assertInstanceOf(Admission.Accepted.class, store.submit(List.of(specs), Duration.ZERO))
        .ids();
  }

  private static JobSpec spec(String payload) {
    return JobSpec.of("t", payload.getBytes(UTF_8));
  }

  @Test
  void aReplayProgressObserverThatThrowsAbandonsTheOpenAndAReopenFindsEveryJob() throws Exception {
    // given a journal of a few MiB, so that replay reports progress more than once
    List<JobId> ids = new ArrayList<>();
    String payload = "x".repeat(10_000);
    try (LocalJobStore store = open()) {
      for (int i = 0; i < 500; i++) {
        ids.addAll(accept(store, spec(payload)));
      }
    }
    IllegalStateException abandon = new IllegalStateException("abandon the replay");
    AtomicLong reports = new AtomicLong();
    StoreObserver cancelling =
        new StoreObserver() {
          @Override
          public void replayProgress(long bytesDone, long bytesTotal) {
            reports.incrementAndGet();
            throw abandon;
          }
        };

    // when an open's replay is abandoned at its first progress report
    assertEquals(
        abandon,
        assertThrows(
            IllegalStateException.class,
            () -> LocalJobStore.open(options().withObserver(cancelling))));

    // then it stopped there, and the journal's lock is free and every job is still in it
    assertEquals(1, reports.get());
    try (LocalJobStore store = open()) {
      assertEquals(ids.size(), store.counts().recovered());
      for (JobId id : ids) {
        assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
      }
      store.checkInvariants();
    }
  }

  @Test
  void theJournalWritesItsNextSegmentAheadUnlessToldNot() throws Exception {
    Path ahead = dir.resolve("00000000000000000002.seg.preallocated");
    // given a store with the default options, the next segment's file is written ahead
    try (LocalJobStore store = open()) {
      accept(store, spec("a"));
      Waits.until(() -> Files.exists(ahead), "the next segment's file written ahead");
      assertEquals(1 << 20, Files.size(ahead));
    }
    assertTrue(Files.notExists(ahead), "deleted at close");
    // when a store is told not to, it starts no thread to write it (other tests' journals may
    // still be ending in this JVM, so their threads are counted before)
    long before = io.sluice.jobs.journal.JournalThreads.preallocators();
    try (LocalJobStore store = LocalJobStore.open(options().withPreallocate(false))) {
      accept(store, spec("b"));
      assertTrue(
          io.sluice.jobs.journal.JournalThreads.preallocators() <= before,
          io.sluice.jobs.journal.JournalThreads.alive().toString());
      assertTrue(Files.notExists(ahead));
    }
  }

  @Test
  void acceptedJobsAreThereAfterAReopenWithEverythingTheyCarry() throws Exception {
    List<JobId> ids;
    try (LocalJobStore store = open()) {
      ids =
          accept(
              store,
              spec("{\"a\":1}").withSource("sensor"),
              spec("later").withRunAt(clock.now().plusSeconds(60)));
    }

    try (LocalJobStore store = open()) {
      Job first = store.find(ids.get(0)).orElseThrow();
      assertEquals(JobState.QUEUED, first.state());
      assertEquals("{\"a\":1}", new String(first.payloadBytes(), UTF_8));
      assertEquals(Optional.of("sensor"), first.source());
      assertEquals(clock.now(), first.createdAt());
      Job later = store.find(ids.get(1)).orElseThrow();
      assertEquals(Optional.of(clock.now().plusSeconds(60)), later.nextAttemptAt());
      assertEquals(2, store.counts().recovered());
      assertEquals(ids.get(0), store.claim(t -> true).orElseThrow().id());
      store.checkInvariants();
    }
  }

  @Test
  void attemptsRetryWaitsDeadLettersAndFinishedJobsSurviveAReopen() throws Exception {
    List<JobId> ids;
    Instant t0 = clock.now();
    try (LocalJobStore store = open()) {
      ids =
          accept(
              store,
              spec("running"),
              spec("retrying"),
              spec("dead"),
              spec("done"),
              spec("deleted"));
      store.claim(t -> true); // running: its attempt was cut short by the "crash"
      clock.advance(Duration.ofSeconds(1));
      store.failed(
          store.claim(t -> true).orElseThrow().id(),
          "later",
          Optional.of(clock.now().plusSeconds(30)));
      clock.advance(Duration.ofSeconds(1));
      Job dying = store.claim(t -> true).orElseThrow();
      clock.advance(Duration.ofSeconds(1));
      store.failed(dying.id(), "fatal", Optional.empty());
      clock.advance(Duration.ofSeconds(1));
      Job succeeding = store.claim(t -> true).orElseThrow();
      clock.advance(Duration.ofSeconds(1));
      store.succeeded(succeeding.id());
      store.failed(store.claim(t -> true).orElseThrow().id(), "fatal", Optional.empty());
      store.deleteDead(ids.get(4));
    }

    try (LocalJobStore store = open()) {
      Job running = store.find(ids.get(0)).orElseThrow();
      assertEquals(JobState.QUEUED, running.state());
      assertEquals(1, running.attempts());
      Job retrying = store.find(ids.get(1)).orElseThrow();
      assertEquals(JobState.RETRY_WAIT, retrying.state());
      assertEquals(Optional.of(t0.plusSeconds(31)), retrying.nextAttemptAt());
      assertEquals(Optional.of("later"), retrying.lastError());
      assertEquals(Optional.of(t0), running.lastAttemptAt());
      Job dead = store.find(ids.get(2)).orElseThrow();
      assertEquals(JobState.DEAD, dead.state());
      assertEquals(Optional.of(t0.plusSeconds(2)), dead.lastAttemptAt());
      assertEquals(Optional.of(t0.plusSeconds(3)), dead.finishedAt());
      assertEquals(
          List.of(ids.get(2)),
          store.deadLetters(Optional.empty(), 10).stream().map(Job::id).toList());
      Job done = store.find(ids.get(3)).orElseThrow();
      assertEquals(JobState.SUCCEEDED, done.state(), "a succeeded job is remembered");
      assertEquals(0, done.payload().remaining(), "without its payload");
      assertEquals(Optional.of(t0.plusSeconds(4)), done.lastAttemptAt());
      assertEquals(Optional.of(t0.plusSeconds(5)), done.finishedAt());
      assertTrue(store.find(ids.get(4)).isEmpty(), "a deleted dead letter is not recovered");
      long held = "running".length() + "retrying".length() + "dead".length();
      assertEquals(
          new JobCounts(
              1,
              0,
              1,
              1,
              10_000,
              held,
              "dead".length(),
              JobStoreOptions.defaultPayloadBytesLimit(),
              0,
              3,
              0,
              0,
              0),
          store.counts());
      store.checkInvariants();
    }
  }

  @Test
  void aFailedAttemptWhoseRetryIsDueAtOnceComesBackAfterAReopenToBeRetriedNotDead()
      throws Exception {
    // given a job whose attempt failed with its retry due now (a zero delay, or full jitter's 0)
    JobId id;
    try (LocalJobStore store = open()) {
      id = accept(store, spec("x")).getFirst();
      Job job = store.claim(t -> true).orElseThrow();
      store.failed(job.id(), "try again at once", Optional.of(clock.now()));
      assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
      store.checkInvariants();
    }

    // when the store is opened again before it runs
    try (LocalJobStore store = open()) {
      // then it is pending, with the attempt counted and its error, not a dead letter
      Job job = store.find(id).orElseThrow();
      assertTrue(
          job.state() == JobState.QUEUED || job.state() == JobState.RETRY_WAIT, job.toString());
      assertEquals(1, job.attempts());
      assertEquals(Optional.of("try again at once"), job.lastError());
      assertEquals(0, store.counts().dead());
      store.checkInvariants();
      clock.advance(Duration.ZERO); // a manual clock fires what is due only when asked
      assertEquals(id, store.claim(t -> true).orElseThrow().id());
    }
  }

  @Test
  void segmentsWhoseJobsAllFinishedAreDeleted() throws Exception {
    byte[] big = new byte[100_000];
    try (LocalJobStore store = open()) {
      List<JobId> ids = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        ids.addAll(accept(store, JobSpec.of("t", big)));
      }
      long before = segmentFiles();
      assertTrue(before >= 4, "4 MB of jobs in 1 MiB segments: " + before + " segments");
      for (int i = 0; i < 40; i++) {
        store.succeeded(store.claim(t -> true).orElseThrow().id());
      }
      Waits.until(
          () -> segmentFiles() <= 2,
          "finished segments to be deleted (" + segmentFiles() + " left)");
    }
    try (LocalJobStore store = open()) {
      assertEquals(0, store.counts().pending());
    }
  }

  @Test
  void aBatchWhoseRecordWouldPassTheJournalsLimitIsRefusedAtOnceNamingTheLimit() throws Exception {
    // given 1 MiB segments: a batch is one record of at most half a segment, 524,288 bytes
    try (LocalJobStore store = open()) {
      // when one job of 600,000 bytes, and six of 100,000, are submitted with time to wait
      Admission one =
          store.submit(List.of(JobSpec.of("t", new byte[600_000])), Duration.ofHours(1));
      Admission six =
          store.submit(
              java.util.Collections.nCopies(6, JobSpec.of("t", new byte[100_000])),
              Duration.ofHours(1));

      // then both are refused at once, as never fitting, naming the limit; nothing was kept
      for (Admission a : List.of(one, six)) {
        Admission.Rejected rejected = assertInstanceOf(Admission.Rejected.class, a);
        assertEquals(Admission.Reason.TOO_LARGE, rejected.reason());
        assertEquals(Duration.ZERO, rejected.retryAfter(), "trying again cannot help");
        assertTrue(rejected.message().contains("can never fit"), rejected.message());
        assertTrue(rejected.message().contains("at most 524288 bytes"), rejected.message());
      }
      assertEquals(0, store.counts().pending());
      assertEquals(0, store.counts().payloadBytes());
    }
  }

  @Test
  void theLargestBatchTheJournalTakesIsAcceptedAndOneByteMoreIsRefused() throws Exception {
    // a record of one job of type "t" without a source: 4 (count) + 16 (id) + 2 x 12 (instants)
    // + 4 + 1 (type) + 4 (no source) + 4 (payload length) = 57 bytes besides the payload
    int largest = (1 << 20) / 2 - 57;
    try (LocalJobStore store = open()) {
      assertInstanceOf(
          Admission.Rejected.class,
          store.submit(List.of(JobSpec.of("t", new byte[largest + 1])), Duration.ZERO));

      JobId id = accept(store, JobSpec.of("t", new byte[largest])).getFirst();

      assertEquals(largest, store.find(id).orElseThrow().payloadBytes().length);
    }
    try (LocalJobStore store = open()) {
      assertEquals(1, store.counts().pending(), "the accepted one was written and recovered");
    }
  }

  @Test
  void aDeadLetterAmongJobsThatSucceededSurvivesTheirSegmentsCompactionAndAReopen()
      throws Exception {
    byte[] big = new byte[100_000];
    JobId kept;
    try (LocalJobStore store = open()) {
      kept = accept(store, JobSpec.of("t", big)).getFirst();
      store.failed(store.claim(t -> true).orElseThrow().id(), "fatal", Optional.empty());
      for (int i = 0; i < 40; i++) {
        accept(store, JobSpec.of("t", big));
        store.succeeded(store.claim(t -> true).orElseThrow().id());
      }
    }
    try (LocalJobStore store = open()) {
      assertEquals(JobState.DEAD, store.find(kept).orElseThrow().state());
    }
  }

  @Test
  void schedulesTheirLastFireAndTheirJobsSurviveAReopen() throws Exception {
    JobId fired;
    try (LocalJobStore store = open()) {
      store.putSchedule("nightly", "cron unix UTC 0 2 * * *");
      store.putSchedule("gone", "at 2027-01-01T00:00:00Z");
      fired =
          assertInstanceOf(
                  Admission.Accepted.class, store.fire("nightly", clock.now(), spec("{\"n\":1}")))
              .ids()
              .getFirst();
      store.deleteSchedule("gone");
    }
    try (LocalJobStore store = open()) {
      StoredSchedule s = store.schedule("nightly").orElseThrow();
      assertEquals("cron unix UTC 0 2 * * *", s.definition());
      assertEquals(Optional.of(clock.now()), s.lastFire());
      assertEquals(Optional.of(fired), s.lastJob());
      assertEquals(Optional.empty(), store.schedule("gone"));
      assertEquals(JobState.QUEUED, store.find(fired).orElseThrow().state());
      assertEquals(
          Admission.Reason.NOT_DUE,
          assertInstanceOf(Admission.Rejected.class, store.fire("nightly", clock.now(), spec("x")))
              .reason());
    }
  }

  @Test
  void aScheduleThatNeverFiresDoesNotKeepOldSegmentsForever() throws Exception {
    byte[] big = new byte[100_000];
    try (LocalJobStore store = open()) {
      store.putSchedule("yearly", "cron unix UTC 0 0 1 1 *");
      for (int i = 0; i < 40; i++) {
        accept(store, JobSpec.of("t", big));
        store.succeeded(store.claim(t -> true).orElseThrow().id());
      }
      Waits.until(
          () -> segmentFiles() <= 2,
          "old segments to be released once the schedule was rewritten ("
              + segmentFiles()
              + " left)");
    }
    try (LocalJobStore store = open()) {
      assertEquals("cron unix UTC 0 0 1 1 *", store.schedule("yearly").orElseThrow().definition());
      assertEquals(0, store.counts().pending());
    }
  }

  @Test
  void theObserverHearsForcesOutsideCommitsAtSegmentRollsAndAtClose() throws Exception {
    // given forces only on a period that never comes, so commits themselves force nothing
    AtomicLong forcedCommits = new AtomicLong();
    AtomicLong forces = new AtomicLong();
    StoreObserver observer =
        new StoreObserver() {
          @Override
          public void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {
            if (forceNanos > 0) {
              forcedCommits.incrementAndGet();
            }
          }

          @Override
          public void journalForced(long nanos) {
            forces.incrementAndGet();
          }
        };
    JobStoreOptions options =
        options().withObserver(observer).withDurability(Durability.interval(Duration.ofHours(1)));
    long forcesBeforeClose;
    try (LocalJobStore store = LocalJobStore.open(options)) {
      // when more than a 1 MiB segment is written, so the journal rolls
      for (int i = 0; i < 12; i++) {
        accept(store, JobSpec.of("t", new byte[100_000]));
      }
      assertTrue(segmentFiles() >= 2, segmentFiles() + " segments");
      forcesBeforeClose = forces.get();
    }

    // then the roll forced (no commit did), and so did the close
    assertEquals(0, forcedCommits.get());
    assertTrue(forcesBeforeClose >= 1, forcesBeforeClose + " forces before close");
    assertEquals(forcesBeforeClose + 1, forces.get(), "one force at close");
  }

  @Test
  void theObserverHearsCommitsAndReplayProgress() throws Exception {
    AtomicLong commits = new AtomicLong();
    AtomicLong progress = new AtomicLong();
    StoreObserver observer =
        new StoreObserver() {
          @Override
          public void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {
            commits.incrementAndGet();
          }

          @Override
          public void replayProgress(long bytesDone, long bytesTotal) {
            progress.set(bytesDone);
          }
        };
    try (LocalJobStore store = LocalJobStore.open(options().withObserver(observer))) {
      accept(store, spec("x"));
    }
    assertTrue(commits.get() >= 1);
    LocalJobStore.open(options().withObserver(observer)).close();
    assertTrue(progress.get() > 0, "replay reported progress");
  }

  @Test
  void anObserverThatThrowsAnErrorIsIgnoredAndTheJournalGoesOn() throws Exception {
    // given an observer that throws an Error at every commit, force and acknowledgement
    AtomicLong heard = new AtomicLong();
    StoreObserver failing =
        new StoreObserver() {
          @Override
          public void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {
            heard.incrementAndGet();
            throw new AssertionError("an observer with a bug");
          }

          @Override
          public void journalAcknowledged(long latencyNanos) {
            throw new AssertionError("an observer with a bug");
          }
        };
    List<JobId> ids = new java.util.ArrayList<>();
    try (LocalJobStore store = LocalJobStore.open(options().withObserver(failing))) {
      // when batches are submitted one after the other
      ids.addAll(accept(store, spec("a")));
      ids.addAll(accept(store, spec("b")));
    }

    // then each was accepted, and a reopen finds both
    assertTrue(heard.get() >= 2, heard + " commits heard");
    try (LocalJobStore store = open()) {
      for (JobId id : ids) {
        assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
      }
    }
  }

  @Test
  void aDurableStoreNeedsADirectory() {
    var e =
        assertThrows(
            IllegalArgumentException.class, () -> LocalJobStore.open(JobStoreOptions.defaults()));
    assertTrue(e.getMessage().contains("withDirectory"), e.getMessage());
  }

  private long segmentFiles() {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".seg")).count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
