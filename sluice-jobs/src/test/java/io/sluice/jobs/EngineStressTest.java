package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The whole engine under random load: submitters of random batches into a small queue, three types
 * with different concurrency limits, handlers that succeed, throw exceptions, errors, permanent
 * failures and exceptions whose message cannot be read, or interrupt their own thread, a clock that
 * moves (so claimed batches are handed back and slow attempts time out), and dead letters retried
 * and deleted while jobs run. At the end every accepted job has succeeded exactly once or was
 * deleted as a dead letter; no type ran more attempts at once than its limit; no attempt began with
 * its thread interrupted; the counts are empty and agree with what the handlers saw.
 */
class EngineStressTest {
  private static final Map<String, Integer> LIMITS = Map.of("one", 1, "three", 3, "many", 1_000);
  private static final List<String> TYPES = List.of("one", "three", "many");

  @ParameterizedTest(name = "listener: {0}")
  @ValueSource(booleans = {true, false})
  @Timeout(120)
  void randomLoadLosesNothingRunsNothingTwiceAndKeepsTheLimits(boolean listening) throws Exception {
    run(System.getenv("CI") != null ? 20_000 : 6_000, listening, 1);
  }

  @ParameterizedTest(name = "listener: {0}")
  @ValueSource(booleans = {true, false})
  @Tag("stress-long")
  @Timeout(1_800)
  void muchMoreRandomLoadLosesNothingRunsNothingTwiceAndKeepsTheLimits(boolean listening)
      throws Exception {
    for (long seed = 2; seed < 12; seed++) {
      run(100_000, listening, seed);
    }
  }

  /** A failure whose message cannot be read. */
  private static final class Unreadable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      throw new IllegalStateException("unreadable");
    }
  }

  private static void run(int jobs, boolean listening, long seed) throws Exception {
    ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
    LocalJobStore store =
        LocalJobStore.inMemory(
            JobStoreOptions.defaults()
                .withCapacity(64)
                .withFinishedRetention(10 * jobs)
                .withClock(clock));
    Map<String, AtomicInteger> runningNow = new ConcurrentHashMap<>();
    Map<String, AtomicInteger> mostAtOnce = new ConcurrentHashMap<>();
    Map<String, AtomicLong> handlerCalls = new ConcurrentHashMap<>();
    AtomicInteger interruptedAtStart = new AtomicInteger();
    Map<JobId, AtomicInteger> successes = new ConcurrentHashMap<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    JobEngine.Builder builder =
        JobEngine.builder(store).workers(6).random(new SplittableRandom(seed));
    RetryPolicy retry = new RetryPolicy(3, Duration.ZERO, Duration.ZERO, 2.0);
    for (String type : TYPES) {
      runningNow.put(type, new AtomicInteger());
      mostAtOnce.put(type, new AtomicInteger());
      handlerCalls.put(type, new AtomicLong());
      builder.handle(
          type,
          (job, ctx) -> {
            if (Thread.currentThread().isInterrupted()) {
              interruptedAtStart.incrementAndGet();
            }
            int now = runningNow.get(type).incrementAndGet();
            mostAtOnce.get(type).accumulateAndGet(now, Math::max);
            handlerCalls.get(type).incrementAndGet();
            try {
              act(job);
            } finally {
              runningNow.get(type).decrementAndGet();
            }
          },
          HandlerOptions.defaults()
              .withConcurrency(LIMITS.get(type))
              .withTimeout(Duration.ofSeconds(2))
              .withRetry(retry));
    }
    if (listening) {
      builder.listener(
          new EngineListener() {
            @Override
            public void attemptFinished(Job job, Outcome outcome, Duration elapsed) {
              if (outcome == Outcome.SUCCEEDED) {
                successes.computeIfAbsent(job.id(), k -> new AtomicInteger()).incrementAndGet();
              }
            }
          });
    }
    JobEngine engine = builder.start();
    Set<JobId> accepted = ConcurrentHashMap.newKeySet();
    Set<JobId> deleted = ConcurrentHashMap.newKeySet();
    AtomicLong budget = new AtomicLong(jobs);
    AtomicBoolean draining = new AtomicBoolean();
    List<Thread> submitters = new ArrayList<>();
    List<Thread> others = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      long s = seed * 100 + t;
      submitters.add(
          start(
              failure,
              () -> {
                SplittableRandom random = new SplittableRandom(s);
                while (budget.get() > 0) {
                  int n = 1 + random.nextInt(8);
                  budget.addAndGet(-n);
                  List<JobSpec> specs = new ArrayList<>();
                  for (int i = 0; i < n; i++) {
                    byte[] payload = new byte[8];
                    ByteBuffer.wrap(payload).putLong(random.nextLong());
                    specs.add(JobSpec.of(TYPES.get(random.nextInt(TYPES.size())), payload));
                  }
                  if (engine.submit(specs, Duration.ofMillis(random.nextInt(3) * 20L))
                      instanceof Admission.Accepted ok) {
                    accepted.addAll(ok.ids());
                  }
                }
              }));
    }
    others.add(
        start(
            failure,
            () -> {
              SplittableRandom random = new SplittableRandom(seed + 7);
              while (!Thread.currentThread().isInterrupted()) {
                for (Job dead : engine.deadLetters(Optional.empty(), 8)) {
                  if (!draining.get() && random.nextBoolean()) {
                    deleted.add(dead.id()); // first: a job seen gone is always accounted for
                    if (!engine.deleteDead(dead.id())) {
                      deleted.remove(dead.id());
                    }
                  } else {
                    engine.retryDead(dead.id());
                  }
                }
                Thread.sleep(0, 200_000);
              }
            }));
    others.add(
        start(
            failure,
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                clock.advance(Duration.ofMillis(1)); // hand-backs after 1 s, timeouts after 2 s
                Thread.sleep(0, 100_000);
              }
            }));
    others.add(
        start(
            failure,
            () -> {
              while (!Thread.currentThread().isInterrupted()) {
                JobCounts counts = engine.stats().jobs();
                assertTrue(
                    counts.queued() >= 0 && counts.running() >= 0 && counts.retryWait() >= 0,
                    counts.toString());
                assertTrue(counts.pending() <= counts.capacity(), counts.toString());
                Thread.sleep(1);
              }
            }));

    for (Thread t : submitters) {
      t.join();
    }
    draining.set(true);
    long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
    List<JobId> open = new ArrayList<>(accepted);
    while (!open.isEmpty() && failure.get() == null) {
      JobId id = open.getLast();
      Optional<Job> job = engine.find(id);
      if (deleted.contains(id) || job.map(j -> j.state() == JobState.SUCCEEDED).orElse(false)) {
        open.removeLast();
        continue;
      }
      assertTrue(
          System.nanoTime() < deadline,
          () -> open.size() + " jobs never finished, such as " + job + "; " + engine.stats());
      Thread.sleep(1);
    }
    assertTrue(engine.shutdown(Duration.ofSeconds(30)));
    for (Thread t : others) {
      t.interrupt();
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError("a thread failed", failure.get());
    }

    store.checkInvariants();
    EngineStats stats = engine.stats();
    JobCounts counts = stats.jobs();
    assertEquals(0, counts.pending(), counts.toString());
    assertEquals(0, counts.dead(), counts.toString());
    assertEquals(accepted.size() - deleted.size(), counts.succeeded(), counts.toString());
    for (String type : TYPES) {
      assertTrue(
          mostAtOnce.get(type).get() <= LIMITS.get(type),
          type + " ran " + mostAtOnce.get(type) + " at once");
      EngineStats.TypeStats t = stats.byType().get(type);
      assertEquals(handlerCalls.get(type).get(), t.attempts(), type + ": " + t);
      assertEquals(0, t.running(), type + ": " + t);
    }
    assertEquals(0, interruptedAtStart.get(), "attempts that began interrupted");
    for (JobId id : accepted) {
      Optional<Job> job = engine.find(id);
      if (deleted.contains(id)) {
        assertTrue(job.isEmpty(), id + " was deleted but is " + job);
        assertTrue(successes.get(id) == null, id + " was deleted after it succeeded");
      } else {
        assertEquals(JobState.SUCCEEDED, job.orElseThrow().state());
        if (listening) {
          assertEquals(1, successes.get(id).get(), id + " succeeded more than once");
        }
      }
    }
    assertTrue(accepted.size() > jobs / 4, accepted.size() + " accepted of " + jobs);
  }

  /** What an attempt does, at random: mostly succeed, else fail in one of many ways. */
  private static void act(Job job) {
    int r = ThreadLocalRandomHolder.next(100);
    if (r < 55) {
      return;
    }
    if (r < 65) {
      Thread.currentThread().interrupt(); // returns with its own interrupt set: a success
      return;
    }
    if (r < 78) {
      throw new IllegalStateException("failed attempt " + job.attempts());
    }
    if (r < 88) {
      throw new AssertionError("an error in attempt " + job.attempts());
    }
    if (r < 93) {
      throw new Unreadable();
    }
    throw new PermanentJobFailure("never again", null);
  }

  /** Per-thread randomness for the handlers, whose order of runs is not deterministic anyway. */
  private static final class ThreadLocalRandomHolder {
    static int next(int bound) {
      return java.util.concurrent.ThreadLocalRandom.current().nextInt(bound);
    }
  }

  @FunctionalInterface
  private interface Body {
    void run() throws Exception;
  }

  private static Thread start(AtomicReference<Throwable> failure, Body body) {
    return Thread.ofPlatform()
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
