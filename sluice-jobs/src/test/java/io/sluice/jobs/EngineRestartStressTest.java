package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine over a journaled store, stopped again and again at random moments while jobs run: with
 * no grace (attempts interrupted and given back), with handlers that ignore the interrupt (the
 * shutdown gives up on them), with and without a listener (successes recorded at once, or by the
 * worker's next claim), with batches claimed together and handed back as the clock moves. After
 * each stop the store is opened again. At the end every accepted job has succeeded, none ran again
 * after a reopened store showed it succeeded, and none was lost on the way.
 */
class EngineRestartStressTest {
  @TempDir Path dir;

  @Test
  @Timeout(180)
  void jobsSurviveRandomStopsAndRunNoMoreOnceTheJournalHasThemSucceeded() throws Exception {
    run(System.getenv("CI") != null ? 12 : 6, 1);
  }

  @Test
  @Tag("stress-long")
  @Timeout(1_800)
  void manyMoreRandomStopsLoseNothingAndRunNothingAgainAfterItsSuccessWasRecorded()
      throws Exception {
    for (long seed = 2; seed < 8; seed++) {
      run(40, seed);
    }
  }

  private void run(int rounds, long seed) throws Exception {
    ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
    JobStoreOptions options =
        JobStoreOptions.defaults()
            .withDirectory(dir.resolve("seed-" + seed))
            .withClock(clock)
            .withCapacity(200)
            .withFinishedRetention(1_000_000)
            .withDurability(Durability.NEVER)
            .withSegmentBytes(1 << 20);
    SplittableRandom random = new SplittableRandom(seed);
    Set<JobId> accepted = ConcurrentHashMap.newKeySet();
    Set<JobId> recordedSucceeded = ConcurrentHashMap.newKeySet(); // seen SUCCEEDED after a reopen
    Map<JobId, AtomicInteger> runsAfterRecorded = new ConcurrentHashMap<>();
    Map<JobId, AtomicInteger> runs = new ConcurrentHashMap<>();
    Set<JobId> succeededOnce = ConcurrentHashMap.newKeySet(); // a handler returned normally
    CountDownLatch never = new CountDownLatch(1); // deaf handlers wait on it, ignoring interrupts
    List<Thread> deaf = new ArrayList<>();

    for (int round = 0; round <= rounds; round++) {
      boolean last = round == rounds;
      LocalJobStore store = LocalJobStore.open(options);
      for (JobId id : accepted) {
        Optional<Job> found = store.find(id);
        if (found.isEmpty()) {
          // compaction dropped the records of a finished job: it must have succeeded
          assertTrue(succeededOnce.contains(id), id + " was lost (seed " + seed + ")");
          recordedSucceeded.add(id);
          continue;
        }
        Job job = found.get();
        if (job.state() == JobState.SUCCEEDED) {
          recordedSucceeded.add(id);
        } else {
          assertTrue(
              job.state() == JobState.QUEUED || job.state() == JobState.RETRY_WAIT,
              id + " came back " + job.state());
        }
      }
      store.checkInvariants();
      JobEngine.Builder builder =
          JobEngine.builder(store)
              .workers(1 + random.nextInt(4))
              .interruptGrace(Duration.ofMillis(20))
              .random(new SplittableRandom(seed * 1_000 + round));
      if (random.nextBoolean()) {
        builder.listener(new EngineListener() {});
      }
      builder.handle(
          "t",
          (job, ctx) -> {
            runs.computeIfAbsent(job.id(), k -> new AtomicInteger()).incrementAndGet();
            if (recordedSucceeded.contains(job.id())) {
              runsAfterRecorded
                  .computeIfAbsent(job.id(), k -> new AtomicInteger())
                  .incrementAndGet();
            }
            int r = ThreadLocalRandom.current().nextInt(100);
            if (last || r < 70) {
              succeededOnce.add(job.id());
              return;
            }
            if (r < 85) {
              throw new IllegalStateException("failed");
            }
            if (r < 95) {
              ctx.awaitDone(); // until the timeout or the shutdown ends it
              return;
            }
            deaf.add(Thread.currentThread());
            while (true) { // ignores its interrupt: the shutdown gives up on it
              try {
                never.await();
                return;
              } catch (InterruptedException ignored) {
                // as a careless handler does
              }
            }
          },
          HandlerOptions.defaults()
              .withTimeout(Duration.ofSeconds(2))
              .withRetry(new RetryPolicy(1_000, Duration.ZERO, Duration.ZERO, 1.0)));
      JobEngine engine = builder.start();
      clock.advance(Duration.ZERO); // retries recovered due: a manual clock fires them when asked
      if (!last) {
        int batches = 1 + random.nextInt(10);
        for (int b = 0; b < batches; b++) {
          List<JobSpec> specs = new ArrayList<>();
          for (int i = 1 + random.nextInt(8); i > 0; i--) {
            byte[] payload = new byte[8];
            ByteBuffer.wrap(payload).putLong(random.nextLong());
            specs.add(JobSpec.of("t", payload));
          }
          if (engine.submit(specs) instanceof Admission.Accepted ok) {
            accepted.addAll(ok.ids());
          }
          if (random.nextInt(3) == 0) {
            clock.advance(Duration.ofMillis(random.nextInt(1_500))); // hand-backs, timeouts
          }
        }
        // stop while jobs run, without grace
        engine.shutdown(Duration.ZERO);
      } else {
        Waits.until(
            () -> {
              clock.advance(Duration.ZERO);
              return store.counts().pending() == 0;
            },
            "the last round to drain");
        assertTrue(engine.shutdown(Duration.ofSeconds(30)));
      }
    }

    never.countDown();
    for (Thread t : deaf) {
      t.join();
    }
    try (LocalJobStore store = LocalJobStore.open(options)) {
      store.checkInvariants();
      for (JobId id : accepted) {
        Optional<Job> job = store.find(id);
        assertTrue(
            job.map(j -> j.state() == JobState.SUCCEEDED).orElse(succeededOnce.contains(id)),
            id + " did not succeed: " + job);
      }
    }
    assertEquals(Map.of(), runsAfterRecorded, "jobs that ran after the journal had them succeeded");
    assertTrue(accepted.size() > rounds, accepted.size() + " accepted");
  }
}
