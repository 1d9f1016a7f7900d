package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Compaction rewrites jobs that stay for long (dead letters, long retry waits, far-future start
 * times) into the newest journal segment, so that they no longer keep every later segment on disk;
 * and a crash at any moment of that rewrite, or a change to a job while it runs, leaves every job
 * once, in its state.
 */
@Timeout(120)
class JournalRelocationTest {
  @TempDir Path dir;
  @TempDir Path crashCopy;
  private final ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
  private final AtomicLong relocatedJobs = new AtomicLong();
  private final AtomicLong relocatedBytes = new AtomicLong();

  private final StoreObserver countRelocations =
      new StoreObserver() {
        @Override
        public void journalRelocated(int jobs, long bytes) {
          relocatedJobs.addAndGet(jobs);
          relocatedBytes.addAndGet(bytes);
        }
      };

  private JobStoreOptions options(Path directory) {
    return JobStoreOptions.defaults()
        .withDirectory(directory)
        .withClock(clock)
        .withCapacity(10_000)
        .withSegmentBytes(1 << 20)
        .withObserver(countRelocations);
  }

  private LocalJobStore open() throws IOException {
    return LocalJobStore.open(options(dir));
  }

  private static JobId accept(JobStore store, JobSpec spec) throws Exception {
    return assertInstanceOf(Admission.Accepted.class, store.submit(List.of(spec), Duration.ZERO))
        .ids()
        .getFirst();
  }

  private static byte[] payload(int seed, int length) {
    byte[] b = new byte[length];
    new SplittableRandom(seed).nextBytes(b);
    return b;
  }

  /** Submits {@code n} jobs of 100 KB and runs each to success: ten of them fill a segment. */
  private static void runToSuccess(LocalJobStore store, int n) throws Exception {
    for (int i = 0; i < n; i++) {
      JobId id = accept(store, JobSpec.of("t", payload(i, 100_000)));
      Job claimed = store.claim(t -> true).orElseThrow();
      assertEquals(id, claimed.id());
      store.succeeded(claimed.id());
    }
  }

  enum LongLived {
    DEAD_LETTER,
    LONG_RETRY_WAIT,
    FAR_FUTURE_START
  }

  private static final Duration THIRTY_DAYS = Duration.ofDays(30);
  private static final Duration A_YEAR = Duration.ofDays(365);

  private JobId makeLongLived(LocalJobStore store, LongLived kind, byte[] bytes) throws Exception {
    JobSpec spec = JobSpec.of("t", bytes).withSource("sensor-7");
    if (kind == LongLived.FAR_FUTURE_START) {
      return accept(store, spec.withRunAt(clock.now().plus(A_YEAR)));
    }
    JobId id = accept(store, spec);
    assertEquals(id, store.claim(t -> true).orElseThrow().id());
    clock.advance(Duration.ofSeconds(1));
    Optional<Instant> retryAt =
        kind == LongLived.DEAD_LETTER
            ? Optional.empty()
            : Optional.of(clock.now().plus(THIRTY_DAYS));
    store.failed(id, "upload refused: 403", retryAt);
    return id;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(LongLived.class)
  void aLongLivedJobNoLongerKeepsTheSegmentsAfterItOnceTheirJobsFinished(LongLived kind)
      throws Exception {
    Instant t0 = clock.now();
    byte[] bytes = payload(-1, 100_000);
    JobId kept;
    try (LocalJobStore store = open()) {
      // given a long-lived job, then 100 jobs of 100 KB (ten 1 MiB segments) that all succeed
      kept = makeLongLived(store, kind, bytes);
      runToSuccess(store, 100);

      // when compaction has done what it does
      store.compactFully();

      // then a segment or two are left, not all eleven, because the job was rewritten
      assertTrue(segmentFiles(dir) <= 2, segmentFiles(dir) + " segments left");
      assertTrue(relocatedJobs.get() >= 1, "relocated " + relocatedJobs.get());
      store.checkInvariants();
    }

    try (LocalJobStore store = open()) {
      // and after a reopen the job is there as it was, alone
      Job job = store.find(kept).orElseThrow();
      assertArrayEquals(bytes, job.payloadBytes());
      assertEquals(Optional.of("sensor-7"), job.source());
      assertEquals(t0, job.createdAt());
      assertEquals(1, store.counts().recovered());
      switch (kind) {
        case DEAD_LETTER -> {
          assertEquals(JobState.DEAD, job.state());
          assertEquals(1, job.attempts());
          assertEquals(Optional.of("upload refused: 403"), job.lastError());
          assertEquals(Optional.of(t0), job.lastAttemptAt());
          assertEquals(Optional.of(t0.plusSeconds(1)), job.finishedAt());
          assertEquals(
              List.of(kept),
              store.deadLetters(Optional.empty(), 10).stream().map(Job::id).toList());
          // and it can be retried
          assertInstanceOf(Admission.Accepted.class, store.retryDead(kept));
        }
        case LONG_RETRY_WAIT -> {
          assertEquals(JobState.RETRY_WAIT, job.state());
          assertEquals(1, job.attempts());
          assertEquals(Optional.of("upload refused: 403"), job.lastError());
          assertEquals(Optional.of(t0.plusSeconds(1).plus(THIRTY_DAYS)), job.nextAttemptAt());
          clock.advance(THIRTY_DAYS.plusSeconds(1));
        }
        case FAR_FUTURE_START -> {
          assertEquals(JobState.QUEUED, job.state());
          assertEquals(0, job.attempts());
          assertEquals(Optional.of(t0.plus(A_YEAR)), job.nextAttemptAt());
          clock.advance(A_YEAR);
        }
      }
      Job claimed = store.claim(t -> true).orElseThrow();
      assertEquals(kept, claimed.id());
      assertArrayEquals(bytes, claimed.payloadBytes());
      store.succeeded(kept);
      assertEquals(0, store.counts().pending());
      store.checkInvariants();
    }
  }

  @Test
  void withTheThresholdAtZeroADeadLetterKeepsEverySegmentAfterIt() throws Exception {
    try (LocalJobStore store = LocalJobStore.open(options(dir).withRelocationThreshold(0))) {
      makeLongLived(store, LongLived.DEAD_LETTER, payload(-1, 100_000));
      runToSuccess(store, 100);

      store.compactFully();

      assertTrue(segmentFiles(dir) >= 10, segmentFiles(dir) + " segments left");
      assertEquals(0, relocatedJobs.get());
    }
  }

  @Test
  void aBacklogThatIsNotRunYetIsNeverRewritten() throws Exception {
    try (LocalJobStore store = open()) {
      // given a dead letter, then 2,000 queued jobs of 10 KB that nobody runs (about 20 segments)
      JobId dead = makeLongLived(store, LongLived.DEAD_LETTER, payload(-1, 10_000));
      for (int i = 0; i < 2_000; i++) {
        accept(store, JobSpec.of("t", payload(i, 10_000)));
      }
      long segments = segmentFiles(dir);
      assertTrue(segments >= 18, segments + " segments");

      // when compaction runs, again and again
      for (int pass = 0; pass < 10; pass++) {
        store.compactFully();
      }

      // then nothing was rewritten: the backlog fills its segments, dead letter included
      assertEquals(0, relocatedJobs.get());
      assertEquals(segments, segmentFiles(dir));

      // when the first half of the backlog runs, leaving the dead letter alone in old segments
      for (int i = 0; i < 1_000; i++) {
        store.succeeded(store.claim(t -> true).orElseThrow().id());
      }
      store.compactFully();

      // then only the dead letter is rewritten, once, and the old segments go
      assertEquals(1, relocatedJobs.get());
      assertTrue(relocatedBytes.get() < 11_000, relocatedBytes.get() + " bytes relocated");
      assertTrue(segmentFiles(dir) <= segments / 2 + 2, segmentFiles(dir) + " segments left");

      // and more of the backlog, with more compaction, rewrites nothing more
      for (int i = 0; i < 1_000; i++) {
        accept(store, JobSpec.of("t", payload(i, 10_000)));
      }
      for (int pass = 0; pass < 10; pass++) {
        store.compactFully();
      }
      assertEquals(1, relocatedJobs.get());
      assertEquals(JobState.DEAD, store.find(dead).orElseThrow().state());
      store.checkInvariants();
    }
  }

  /**
   * Jobs changed while compaction rewrites them, and a copy of the journal taken when the rewrite
   * is durable but the old segments are not yet released (as a crash would leave it): both replay
   * to each job once, in its state.
   */
  @Test
  void changesDuringARelocationAndACrashBeforeTheReleaseLeaveEachJobOnceInItsState()
      throws Exception {
    Instant t0 = clock.now();
    JobId deletedWhileFound;
    JobId stillDead;
    JobId succeededAfterRecord;
    JobId waiting;
    JobId retriedAfterRecord;
    CountDownLatch segmentsFilled = new CountDownLatch(1);
    CountDownLatch copied = new CountDownLatch(1);
    AtomicBoolean found = new AtomicBoolean();
    AtomicBoolean forced = new AtomicBoolean();
    try (LocalJobStore store = open()) {
      // given, in the first segment: three dead letters, one job waiting a long retry, one running
      deletedWhileFound = makeLongLived(store, LongLived.DEAD_LETTER, payload(1, 1000));
      stillDead = makeLongLived(store, LongLived.DEAD_LETTER, payload(2, 1000));
      retriedAfterRecord = makeLongLived(store, LongLived.DEAD_LETTER, payload(3, 1000));
      waiting = makeLongLived(store, LongLived.LONG_RETRY_WAIT, payload(4, 1000));
      succeededAfterRecord = accept(store, JobSpec.of("t", payload(5, 1000)));
      assertEquals(succeededAfterRecord, store.claim(t -> true).orElseThrow().id());
      store.relocationStep =
          step -> {
            try {
              if (step.equals("found") && found.compareAndSet(false, true)) {
                segmentsFilled.await();
                // deleted after the jobs were chosen, before their record is queued: not in it
                assertTrue(store.deleteDead(deletedWhileFound));
              } else if (step.equals("forced") && forced.compareAndSet(false, true)) {
                // changed after the record, before the jobs move: recorded after it
                store.succeeded(succeededAfterRecord);
                assertInstanceOf(Admission.Accepted.class, store.retryDead(retriedAfterRecord));
                accept(store, JobSpec.of("marker", new byte[1])); // durable, so all before it is
                copyJournal(dir, crashCopy);
                copied.countDown();
              }
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          };

      // when 40 jobs of 100 KB fill four segments and succeed, and compaction runs
      runToSuccess(store, 40);
      segmentsFilled.countDown();
      store.compactFully();

      // then the rewrite ran, with the changes and the copy in the middle of it
      assertEquals(0, copied.getCount(), "the relocation reached its durable step");
      assertTrue(segmentFiles(dir) <= 2, segmentFiles(dir) + " segments left");
      store.checkInvariants();
    }
    assertTrue(
        Files.exists(crashCopy.resolve(String.format("%020d.seg", 1))),
        "the copy holds the first segment beside the rewrite");

    // then the store and its copy from before the release both come back with each job once
    for (Path journal : List.of(dir, crashCopy)) {
      try (LocalJobStore store = LocalJobStore.open(options(journal))) {
        assertTrue(store.find(deletedWhileFound).isEmpty(), journal + ": deleted stays deleted");
        Job dead = store.find(stillDead).orElseThrow();
        assertEquals(JobState.DEAD, dead.state());
        assertEquals(1, dead.attempts());
        assertEquals(Optional.of("upload refused: 403"), dead.lastError());
        assertArrayEquals(payload(2, 1000), dead.payloadBytes());
        assertEquals(
            List.of(stillDead),
            store.deadLetters(Optional.empty(), 10).stream().map(Job::id).toList(),
            journal + ": one dead letter");
        Job retried = store.find(retriedAfterRecord).orElseThrow();
        assertEquals(JobState.QUEUED, retried.state());
        assertEquals(0, retried.attempts());
        Job wait = store.find(waiting).orElseThrow();
        assertEquals(JobState.RETRY_WAIT, wait.state());
        assertEquals(Optional.of(t0.plusSeconds(4).plus(THIRTY_DAYS)), wait.nextAttemptAt());
        assertFalse(
            store
                .find(succeededAfterRecord)
                .map(j -> j.state() != JobState.SUCCEEDED)
                .orElse(false),
            journal + ": a job that succeeded after its rewrite stays finished");
        assertEquals(1, store.counts().dead());
        assertEquals(1, store.counts().retryWait());
        store.checkInvariants();
      }
    }
  }

  @Test
  void whatTheJournalCountsAlivePerHomeMatchesTheJobsAfterRelocations() throws Exception {
    LocalJobStore store = open();
    try {
      makeLongLived(store, LongLived.DEAD_LETTER, payload(1, 50_000));
      makeLongLived(store, LongLived.LONG_RETRY_WAIT, payload(2, 50_000));
      runToSuccess(store, 30);
      makeLongLived(store, LongLived.FAR_FUTURE_START, payload(3, 50_000));
      runToSuccess(store, 30);
      store.compactFully();
      assertTrue(relocatedJobs.get() >= 3, "relocated " + relocatedJobs.get());
    } finally {
      store.close();
    }
    store.checkHomes();
    try (LocalJobStore reopened = open()) {
      reopened.compactFully();
      assertEquals(3, reopened.counts().recovered());
    }
  }

  @Test
  void theThresholdMustBeAFractionBelowOne() {
    JobStoreOptions defaults = JobStoreOptions.defaults();
    assertEquals(0.25, defaults.relocationThreshold());
    for (double bad : new double[] {-0.1, 1, 1.5, Double.NaN}) {
      var e =
          assertThrows(IllegalArgumentException.class, () -> defaults.withRelocationThreshold(bad));
      assertTrue(e.getMessage().contains("relocationThreshold"), e.getMessage());
    }
    assertEquals(0, defaults.withRelocationThreshold(0).relocationThreshold());
  }

  static long segmentFiles(Path directory) {
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(p -> p.toString().endsWith(".seg")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Copies the segment files, as a crash at this moment would leave them. */
  static void copyJournal(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.list(from)) {
      for (Path p : files.filter(p -> p.toString().endsWith(".seg")).toList()) {
        Files.copy(p, to.resolve(p.getFileName()));
      }
    }
  }
}
