package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.DeadlineExceededException;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The engine's attempt timeouts under random interleavings of starts, finishes and clock moves,
 * with three types of different timeouts (so the watchdog is re-armed earlier and later): after
 * every move of the clock, an attempt's context is done exactly when its deadline has passed, and
 * at the end every attempt timed out exactly when the clock passed its deadline before it was let
 * go. No interrupt leaks into a later attempt.
 */
@Timeout(120)
class AttemptTimeoutStressTest {
  private static final int WORKERS = 8;
  private static final Map<String, Integer> TIMEOUT_SECONDS = Map.of("a", 1, "b", 3, "c", 7);

  /** One started attempt, as its handler saw it. */
  private record Started(Context ctx, CountDownLatch release) {}

  @Test
  void deadlinesHoldUnderRandomStartsFinishesAndClockMoves() throws Exception {
    run(1_500, 1);
  }

  @Test
  @Tag("stress-long")
  void deadlinesHoldOverManyMoreSteps() throws Exception {
    for (long seed = 2; seed < 12; seed++) {
      run(5_000, seed);
    }
  }

  private static void run(int steps, long seed) throws Exception {
    ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
    LocalJobStore store =
        LocalJobStore.inMemory(JobStoreOptions.defaults().withCapacity(1_000).withClock(clock));
    Map<String, Started> started = new ConcurrentHashMap<>();
    AtomicInteger leakedInterrupts = new AtomicInteger();
    JobEngine.Builder builder = JobEngine.builder(store).workers(WORKERS);
    for (var type : TIMEOUT_SECONDS.entrySet()) {
      builder.handle(
          type.getKey(),
          (job, ctx) -> {
            if (Thread.currentThread().isInterrupted()) {
              leakedInterrupts.incrementAndGet();
            }
            CountDownLatch release = new CountDownLatch(1);
            started.put(new String(job.payloadBytes(), UTF_8), new Started(ctx, release));
            release.await(); // until released, or interrupted by the watchdog
          },
          HandlerOptions.defaults()
              .withTimeout(Duration.ofSeconds(type.getValue()))
              .withRetry(RetryPolicy.never()));
    }
    SplittableRandom random = new SplittableRandom(seed);
    List<String> types = List.copyOf(TIMEOUT_SECONDS.keySet());
    Map<String, JobId> ids = new ConcurrentHashMap<>();
    Map<String, Boolean> expectTimeout = new ConcurrentHashMap<>();
    List<String> live = new ArrayList<>(); // started, neither released nor timed out
    try (JobEngine engine = builder.start()) {
      int next = 0;
      for (int step = 0; step < steps; step++) {
        int op = random.nextInt(3);
        if (op == 0 && live.size() < WORKERS) {
          String name = "j" + next++;
          String type = types.get(random.nextInt(types.size()));
          JobSpec spec = JobSpec.of(type, name.getBytes(UTF_8));
          ids.put(name, ((Admission.Accepted) engine.submit(List.of(spec))).ids().getFirst());
          Waits.until(() -> started.containsKey(name), name + " to start");
          live.add(name);
        } else if (op == 1 && !live.isEmpty()) {
          String name = live.remove(random.nextInt(live.size()));
          expectTimeout.put(name, false);
          started.get(name).release().countDown();
          JobId id = ids.get(name); // finished before the clock moves again, or it might be late
          Waits.until(
              () -> engine.find(id).map(j -> j.state() == JobState.SUCCEEDED).orElse(false),
              name + " to succeed");
        } else {
          clock.advance(Duration.ofMillis(random.nextLong(2_500)));
          for (var it = live.iterator(); it.hasNext(); ) {
            String name = it.next();
            Context ctx = started.get(name).ctx();
            boolean due = !ctx.deadline().orElseThrow().isAfter(clock.now());
            assertEquals(due, ctx.isDone(), name + " done exactly when due, at step " + step);
            if (due) {
              assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
              expectTimeout.put(name, true);
              it.remove();
            }
          }
        }
      }
      for (String name : live) {
        expectTimeout.put(name, false);
        started.get(name).release().countDown();
      }
      for (var e : expectTimeout.entrySet()) {
        JobState want = e.getValue() ? JobState.DEAD : JobState.SUCCEEDED;
        JobId id = ids.get(e.getKey());
        Waits.until(
            () -> engine.find(id).map(j -> j.state() == want).orElse(false),
            e.getKey() + " to be " + want + " (it is " + engine.find(id) + ")");
      }
      long timedOut = expectTimeout.values().stream().filter(t -> t).count();
      long timedOutSeen =
          engine.stats().byType().values().stream()
              .mapToLong(EngineStats.TypeStats::timedOut)
              .sum();
      assertEquals(timedOut, timedOutSeen);
      assertEquals(0, leakedInterrupts.get(), "an interrupt leaked into a later attempt");
      assertTrue(expectTimeout.size() > steps / 10, "the run started too few jobs to mean much");
      assertTrue(timedOut > 0 && timedOut < expectTimeout.size(), "both outcomes occurred");
      assertTrue(clock.pendingTimers() <= 1, clock.pendingTimers() + " timers left");
    }
    store.checkInvariants();
    assertFalse(store.counts().running() > 0);
  }
}
