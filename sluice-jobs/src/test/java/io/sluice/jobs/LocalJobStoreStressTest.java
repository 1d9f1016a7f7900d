package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random operations on one store from many threads at once: submits of random sizes with and
 * without waiting for room (the capacity is small, so they wait), batch claims of random sizes,
 * every kind of report, dead letters retried and deleted, lookups and counts. The store's
 * invariants are checked while it runs; at the end every accepted job has succeeded once or was
 * deleted as a dead letter, and nothing is left.
 */
class LocalJobStoreStressTest {
  @Test
  @Timeout(120)
  void randomOperationsFromManyThreadsKeepTheStoreConsistentAndLoseNothing() throws Exception {
    run(30_000);
  }

  @Test
  @Tag("stress-long")
  @Timeout(1_800)
  void millionsOfRandomOperationsKeepTheStoreConsistentAndLoseNothing() throws Exception {
    run(500_000); // submits of 4.5 jobs on average, each claimed and reported at least once
  }

  private void run(long operations) throws Exception {
    int claimers = 4;
    LocalJobStore store =
        LocalJobStore.inMemory(
            JobStoreOptions.defaults().withCapacity(64).withFinishedRetention(1_000));
    Set<JobId> accepted = ConcurrentHashMap.newKeySet();
    Set<JobId> deleted = ConcurrentHashMap.newKeySet();
    AtomicReference<JobId> lastAccepted = new AtomicReference<>();
    AtomicLong budget = new AtomicLong(operations);
    AtomicLong succeeded = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    ConcurrentHashMap<JobId, Boolean> seenSucceeded = new ConcurrentHashMap<>();
    var draining = new java.util.concurrent.atomic.AtomicBoolean();
    List<Thread> submitters = new ArrayList<>();
    List<Thread> others = new ArrayList<>();

    for (int t = 0; t < 4; t++) {
      long seed = t;
      submitters.add(
          start(
              failure,
              () -> {
                SplittableRandom random = new SplittableRandom(seed);
                while (budget.getAndDecrement() > 0) {
                  int n = 1 + random.nextInt(8);
                  Duration wait = random.nextInt(4) == 0 ? Duration.ZERO : Duration.ofMillis(50);
                  Admission a =
                      store.submit(Collections.nCopies(n, JobSpec.of("t", new byte[] {1})), wait);
                  if (a instanceof Admission.Accepted ok) {
                    accepted.addAll(ok.ids());
                    lastAccepted.set(ok.ids().getLast());
                  }
                }
              }));
    }
    for (int t = 0; t < claimers; t++) {
      long seed = 100 + t;
      others.add(
          start(
              failure,
              () -> {
                SplittableRandom random = new SplittableRandom(seed);
                List<JobStore.Claim> done = new ArrayList<>();
                while (true) {
                  for (JobStore.Claim c : done) { // the claim records them before it waits
                    countSuccess(c, seenSucceeded, succeeded);
                  }
                  List<JobStore.Claim> claims =
                      store.claim(
                          done,
                          new JobStore.Claimer(
                              LocalJobStoreTest.UNLIMITED, 1 + random.nextInt(16), claimers));
                  done.clear();
                  if (claims.isEmpty()) {
                    return;
                  }
                  for (JobStore.Claim c : claims) {
                    int r = draining.get() ? 0 : random.nextInt(100);
                    if (r < 70) {
                      done.add(c); // recorded by the next claim
                    } else if (r < 80) {
                      countSuccess(c, seenSucceeded, succeeded); // first, as for the others
                      store.succeeded(c);
                    } else if (r < 88) {
                      store.failed(c, "again", Optional.of(Instant.now()));
                    } else if (r < 93) {
                      store.failed(c, "dead", Optional.empty());
                    } else {
                      store.abandoned(c);
                    }
                  }
                }
              }));
    }
    others.add(
        start(
            failure,
            () -> {
              SplittableRandom random = new SplittableRandom(7);
              while (!Thread.currentThread().isInterrupted()) {
                for (Job dead : store.deadLetters(Optional.empty(), 10)) {
                  if (!draining.get() && random.nextBoolean()) {
                    deleted.add(dead.id()); // first, so a lookup never misses it unaccounted
                    if (!store.deleteDead(dead.id())) {
                      deleted.remove(dead.id());
                    }
                  } else {
                    store.retryDead(dead.id());
                  }
                }
                Thread.sleep(0, 100_000);
              }
            }));
    others.add(
        start(
            failure,
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                long t0 = System.nanoTime();
                store.checkInvariants();
                JobCounts counts = store.counts();
                assertTrue(counts.pending() >= 0 && counts.running() >= 0, counts.toString());
                assertTrue(counts.pending() <= counts.capacity(), counts.toString());
                JobId last = lastAccepted.get();
                if (last != null) {
                  // accepted, so findable unless finished (and perhaps forgotten beyond the
                  // retention): a lookup moves arrivals into the queues first
                  assertTrue(
                      store.find(last).isPresent()
                          || seenSucceeded.containsKey(last)
                          || deleted.contains(last),
                      last + " accepted, not finished, but not found");
                }
                // checkInvariants holds the lock while it reads every entry: at most a tenth of the
                // time
                Thread.sleep(Math.max(1, (System.nanoTime() - t0) / 100_000));
              }
            }));

    for (Thread t : submitters) {
      t.join();
    }
    draining.set(true);
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (succeeded.get() + deleted.size() < accepted.size() && failure.get() == null) {
      assertTrue(
          System.nanoTime() < deadline,
          () ->
              "stuck: "
                  + succeeded.get()
                  + " succeeded + "
                  + deleted.size()
                  + " deleted of "
                  + accepted.size()
                  + " accepted; "
                  + store.counts()
                  + "; unfinished entries "
                  + store.liveIds().size()
                  + "\n"
                  + dump(others));
      Thread.sleep(1);
    }
    store.stopClaims();
    for (Thread t : others) {
      t.interrupt();
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError("a thread failed", failure.get());
    }

    store.checkInvariants();
    JobCounts counts = store.counts();
    assertEquals(0, counts.pending(), counts.toString());
    assertEquals(0, counts.dead(), counts.toString());
    assertEquals(accepted.size(), counts.submitted());
    assertEquals(accepted.size() - deleted.size(), counts.succeeded());
    for (JobId id : accepted) {
      assertTrue(
          deleted.contains(id) != seenSucceeded.containsKey(id),
          id + (deleted.contains(id) ? " was deleted and also succeeded" : " never finished"));
      if (deleted.contains(id)) {
        assertTrue(store.find(id).isEmpty(), id + " was deleted but is still there");
      }
    }
    assertEquals(accepted.size(), seenSucceeded.size() + deleted.size());
    assertTrue(accepted.size() > operations / 2, accepted.size() + " accepted");
    store.close();
  }

  private static String dump(List<Thread> threads) {
    StringBuilder b = new StringBuilder();
    for (Thread t : threads) {
      b.append(t).append(' ').append(t.getState()).append('\n');
      for (StackTraceElement e : t.getStackTrace()) {
        b.append("    ").append(e).append('\n');
      }
    }
    return b.toString();
  }

  private static void countSuccess(
      JobStore.Claim c, ConcurrentHashMap<JobId, Boolean> seen, AtomicLong succeeded) {
    JobId id = ((Entry) c).id;
    if (seen.putIfAbsent(id, Boolean.TRUE) != null) {
      throw new AssertionError("job " + id + " succeeded twice");
    }
    succeeded.incrementAndGet();
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
