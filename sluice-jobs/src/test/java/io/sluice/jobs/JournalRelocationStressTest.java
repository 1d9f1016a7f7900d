package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Submits, successes, retries, dead letters retried and deleted, from many threads, while
 * compaction rewrites old jobs into the newest segment (small segments, so it does so often). Then:
 *
 * <ul>
 *   <li>the jobs alive are exactly those accepted and neither succeeded nor deleted (the model),
 *       and a reopen brings each back once, as the store held it before it closed;
 *   <li>what the journal counts alive per home is what the jobs say;
 *   <li>the journal is no larger than compaction's bound: about four times the live bytes;
 *   <li>copies of the journal taken while a relocation's record is durable and the old segments are
 *       still there (as a crash would leave them) hold every job acknowledged before the copy and
 *       not finished before it ended, once, with its payload.
 * </ul>
 */
class JournalRelocationStressTest {
  @TempDir Path dir;
  @TempDir Path copies;

  private static final int SEGMENT_BYTES = 1 << 20;

  @Test
  @Timeout(300)
  void concurrentChangesWhileCompactionRelocatesLeaveEveryJobAsTheStoreHadIt() throws Exception {
    run(Integer.getInteger("sluice.stress.jobs", System.getenv("CI") != null ? 12_000 : 3_000));
  }

  @Test
  @Tag("stress-long")
  @Timeout(1_800)
  void manyJobsWhileCompactionRelocates() throws Exception {
    run(60_000);
  }

  /** A copy of the journal and the moments (in {@code events}) it began and ended. */
  private record Copy(Path directory, long begun, long ended) {}

  private void run(int jobs) throws Exception {
    ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
    AtomicLong relocated = new AtomicLong();
    JobStoreOptions options =
        JobStoreOptions.defaults()
            .withDirectory(dir)
            .withClock(clock)
            .withCapacity(50_000)
            .withSegmentBytes(SEGMENT_BYTES)
            .withFinishedRetention(0)
            .withObserver(
                new StoreObserver() {
                  @Override
                  public void journalRelocated(int n, long bytes) {
                    relocated.addAndGet(n);
                  }
                });
    // The model: when each job was acknowledged, and when the call that finished it began, on one
    // counter of events shared with the journal copies.
    AtomicLong events = new AtomicLong();
    Map<JobId, Long> accepted = new ConcurrentHashMap<>();
    Map<JobId, Long> succeeded = new ConcurrentHashMap<>();
    Map<JobId, Long> deleted = new ConcurrentHashMap<>();
    Map<JobId, byte[]> payloads = new ConcurrentHashMap<>();
    List<Copy> crashCopies = java.util.Collections.synchronizedList(new ArrayList<>());
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong budget = new AtomicLong(jobs);

    LocalJobStore store = LocalJobStore.open(options);
    store.relocationStep =
        step -> {
          if (step.equals("forced") && crashCopies.size() < 3) {
            Path to = copies.resolve("copy-" + crashCopies.size());
            long begun = events.incrementAndGet();
            copyJournal(dir, to);
            crashCopies.add(new Copy(to, begun, events.incrementAndGet()));
          }
        };
    List<Thread> submitters = new ArrayList<>();
    List<Thread> others = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      SplittableRandom random = new SplittableRandom(t);
      submitters.add(
          start(
              failure,
              () -> {
                int n;
                while (budget.addAndGet(-(n = 1 + random.nextInt(3))) >= 0) {
                  List<JobSpec> specs = new ArrayList<>();
                  List<byte[]> bytes = new ArrayList<>();
                  for (int i = 0; i < n; i++) {
                    byte[] b =
                        new byte[random.nextInt(4) == 0 ? 40_000 : 1 + random.nextInt(4_000)];
                    random.nextBytes(b);
                    JobSpec spec = JobSpec.of("t", b).withSource("s" + random.nextInt(3));
                    if (random.nextInt(40) == 0) {
                      spec = spec.withRunAt(clock.now().plus(Duration.ofDays(365)));
                    }
                    specs.add(spec);
                    bytes.add(b);
                  }
                  if (store.submit(specs, Duration.ZERO) instanceof Admission.Accepted ok) {
                    long at = events.incrementAndGet();
                    for (int i = 0; i < n; i++) {
                      payloads.put(ok.ids().get(i), bytes.get(i));
                      accepted.put(ok.ids().get(i), at);
                    }
                  }
                }
              }));
    }
    for (int t = 0; t < 2; t++) {
      SplittableRandom random = new SplittableRandom(100 + t);
      others.add(
          start(
              failure,
              () -> {
                while (true) {
                  Optional<Job> claimed = store.claim(type -> true);
                  if (claimed.isEmpty()) {
                    return;
                  }
                  JobId id = claimed.get().id();
                  int r = random.nextInt(100);
                  if (r < 75) {
                    succeeded.put(id, events.incrementAndGet());
                    store.succeeded(id);
                  } else if (r < 87) {
                    store.failed(id, "again " + r, Optional.of(clock.now()));
                  } else if (r < 96) {
                    store.failed(id, "dead " + r, Optional.empty());
                  } else {
                    store.failed(id, "much later", Optional.of(clock.now().plusSeconds(86_400)));
                  }
                }
              }));
    }
    others.add(
        start(
            failure,
            () -> {
              SplittableRandom random = new SplittableRandom(7);
              while (!stop.get()) {
                for (Job dead : store.deadLetters(Optional.empty(), 20)) {
                  int r = random.nextInt(10);
                  if (r < 3) {
                    deleted.put(dead.id(), events.incrementAndGet()); // first: its call begins
                    if (!store.deleteDead(dead.id())) {
                      deleted.remove(dead.id());
                    }
                  } else if (r < 5) {
                    store.retryDead(dead.id());
                  } // else it stays a dead letter
                }
                Thread.sleep(1);
              }
            }));
    others.add(
        start(
            failure,
            () -> {
              while (!stop.get()) {
                store.compactNow();
                Thread.sleep(1);
              }
            }));

    for (Thread t : submitters) {
      t.join();
    }
    stop.set(true);
    store.stopClaims();
    for (Thread t : others) {
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError("a thread failed", failure.get());
    }

    // then the store holds exactly the model's live jobs
    store.compactFully();
    store.checkInvariants();
    Set<JobId> expected = new HashSet<>(accepted.keySet());
    expected.removeAll(succeeded.keySet());
    expected.removeAll(deleted.keySet());
    Map<JobId, Job> before = new java.util.HashMap<>();
    for (JobId id : accepted.keySet()) {
      store.find(id).ifPresent(job -> before.put(id, job));
    }
    assertEquals(expected, before.keySet());
    assertTrue(relocated.get() > 0, "compaction relocated jobs: " + relocated.get());

    // and the journal is within compaction's bound
    long liveBytes = 0;
    for (Job job : before.values()) {
      liveBytes += job.payloadBytes().length + 200;
    }
    long segments = JournalRelocationTest.segmentFiles(dir);
    long bound = 2 + 4 * liveBytes / (SEGMENT_BYTES * 3 / 4);
    assertTrue(
        segments <= bound,
        segments + " segments for " + liveBytes + " live bytes; at most " + bound + " expected");
    store.close();
    store.checkHomes();

    // and a reopen brings every job back as it was
    try (LocalJobStore reopened = LocalJobStore.open(options)) {
      assertEquals(before.size(), reopened.counts().recovered());
      for (Job was : before.values()) {
        Job is = reopened.find(was.id()).orElseThrow();
        assertSameJob(was, is, clock.now());
      }
      reopened.checkInvariants();
    }

    // and every crash copy holds what was acknowledged before it and not finished before its end
    assertTrue(!crashCopies.isEmpty(), "no relocation reached its durable step");
    for (Copy copy : crashCopies) {
      try (LocalJobStore recovered = LocalJobStore.open(options.withDirectory(copy.directory()))) {
        for (Map.Entry<JobId, Long> a : accepted.entrySet()) {
          JobId id = a.getKey();
          boolean finishedBefore =
              succeeded.getOrDefault(id, Long.MAX_VALUE) < copy.ended()
                  || deleted.getOrDefault(id, Long.MAX_VALUE) < copy.ended();
          Optional<Job> found = recovered.find(id);
          if (a.getValue() < copy.begun() && !finishedBefore) {
            assertTrue(found.isPresent(), id + " was lost in " + copy);
          }
          found.ifPresent(job -> assertArrayEquals(payloads.get(id), job.payloadBytes()));
        }
        recovered.checkInvariants();
      }
    }
  }

  /** The same job, as a reopen shows it: a retry due by now is queued again. */
  private static void assertSameJob(Job was, Job is, Instant now) {
    String id = was.id().toString();
    assertEquals(normalState(was, now), normalState(is, now), id);
    assertEquals(was.attempts(), is.attempts(), id);
    assertEquals(was.lastError(), is.lastError(), id);
    assertEquals(was.lastAttemptAt(), is.lastAttemptAt(), id);
    assertEquals(was.finishedAt(), is.finishedAt(), id);
    assertEquals(was.createdAt(), is.createdAt(), id);
    assertEquals(was.source(), is.source(), id);
    assertEquals(was.type(), is.type(), id);
    assertEquals(
        was.nextAttemptAt().filter(t -> t.isAfter(now)),
        is.nextAttemptAt().filter(t -> t.isAfter(now)),
        id);
    assertArrayEquals(was.payloadBytes(), is.payloadBytes(), id);
  }

  private static JobState normalState(Job job, Instant now) {
    boolean due = job.nextAttemptAt().map(t -> !t.isAfter(now)).orElse(true);
    return job.state() == JobState.RETRY_WAIT && due ? JobState.QUEUED : job.state();
  }

  /** Copies the segment files; one released meanwhile held nothing needed, and is left out. */
  private static void copyJournal(Path from, Path to) {
    try {
      Files.createDirectories(to);
      List<Path> segments;
      try (Stream<Path> files = Files.list(from)) {
        segments = files.filter(p -> p.toString().endsWith(".seg")).sorted().toList();
      }
      for (Path p : segments) {
        try {
          Files.copy(p, to.resolve(p.getFileName()));
        } catch (NoSuchFileException released) {
          // deleted after the listing: before the first segment any job needs
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private interface Body {
    void run() throws Exception;
  }

  private static Thread start(AtomicReference<Throwable> failure, Body body) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                body.run();
              } catch (InterruptedException e) {
                // asked to stop
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
              }
            });
  }
}
