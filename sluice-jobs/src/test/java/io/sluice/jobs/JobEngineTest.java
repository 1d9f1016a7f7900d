package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.DeadlineExceededException;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class JobEngineTest {

  private final ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
  private final LocalJobStore store =
      LocalJobStore.inMemory(JobStoreOptions.defaults().withCapacity(100_000).withClock(clock));
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final ThreadFactory counting =
      task -> {
        Thread t = Thread.ofVirtual().name("test-worker-" + threads.size()).unstarted(task);
        threads.add(t);
        return t;
      };
  private final List<String> events = new CopyOnWriteArrayList<>();
  private final EngineListener recording =
      new EngineListener() {
        @Override
        public void attemptFinished(Job job, Outcome outcome, Duration elapsed) {
          events.add(job.attempts() + ":" + outcome);
        }

        @Override
        public void died(Job job, String error) {
          events.add("died:" + error);
        }

        @Override
        public void attemptStuck(Job job, Duration overdue) {
          events.add(job.attempts() + ":STUCK:" + overdue);
        }
      };
  private JobEngine engine;

  private JobEngine.Builder builder() {
    return JobEngine.builder(store)
        .workers(4)
        .threadFactory(counting)
        .listener(recording)
        .random(new SplittableRandom(7));
  }

  @AfterEach
  void noWorkerOutlivesTheEngine() throws Exception {
    if (engine != null) {
      engine.shutdown(Duration.ofSeconds(10));
    }
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
      assertFalse(t.isAlive(), "worker " + t + " still alive");
    }
    store.checkInvariants();
  }

  private static JobSpec spec(String type, String payload) {
    return JobSpec.of(type, payload.getBytes(UTF_8));
  }

  private List<JobId> accept(List<JobSpec> specs) throws InterruptedException {
    return assertInstanceOf(Admission.Accepted.class, engine.submit(specs)).ids();
  }

  private void awaitState(JobId id, JobState state) {
    Waits.until(
        () -> engine.find(id).map(j -> j.state() == state).orElse(false),
        id + " to be " + state + " (it is " + engine.find(id) + ")");
  }

  @Test
  void everySubmittedJobRunsExactlyOnce() throws Exception {
    Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
    engine =
        builder()
            .handle(
                "count",
                (job, ctx) ->
                    runs.computeIfAbsent(
                            new String(job.payloadBytes(), UTF_8), k -> new AtomicInteger())
                        .incrementAndGet())
            .start();
    List<JobSpec> specs = new ArrayList<>();
    for (int i = 0; i < 10_000; i++) {
      specs.add(spec("count", "p" + i));
    }

    for (int i = 0; i < specs.size(); i += 500) {
      accept(specs.subList(i, i + 500));
    }
    Waits.until(() -> engine.stats().jobs().succeeded() == 10_000, "all jobs to succeed");

    assertEquals(10_000, runs.size());
    assertTrue(runs.values().stream().allMatch(c -> c.get() == 1));
    assertEquals(10_000, engine.stats().byType().get("count").succeeded());
    assertTrue(engine.shutdown(Duration.ofSeconds(10)));
  }

  @Test
  void aBurstOfQueuedJobsAgainstBusyWorkersStartsNoThreadBeyondTheWorkers() throws Exception {
    // given 4 workers, each blocked in an attempt
    CountDownLatch busy = new CountDownLatch(4);
    CountDownLatch release = new CountDownLatch(1);
    engine =
        builder()
            .handle(
                "hold",
                (job, ctx) -> {
                  busy.countDown();
                  release.await();
                })
            .start();
    accept(Collections.nCopies(4, spec("hold", "first")));
    assertTrue(busy.await(30, TimeUnit.SECONDS), "every worker took a job");

    // when a burst of 10,000 more is submitted
    for (int i = 0; i < 20; i++) {
      accept(Collections.nCopies(500, spec("hold", "burst")));
    }

    // then the burst waits in the queue, and the thread factory made the 4 workers and no more
    // (the engine's only other threads are short-lived helpers: hand-back and the store's
    // compaction, neither per queued job)
    assertEquals(10_000, engine.stats().jobs().queued());
    assertEquals(4, engine.stats().jobs().running());
    assertEquals(4, threads.size(), threads.toString());
    release.countDown();
    Waits.until(() -> engine.stats().jobs().succeeded() == 10_004, "every job to run");
    assertEquals(4, threads.size(), threads.toString());
  }

  @Test
  void pendingJobsOfATypeWithoutAHandlerAreWarnedOfOnceAtStartWithCountsPerType() throws Exception {
    // given pending jobs of types this engine will not handle (left by a deploy), and of one it
    // will
    store.submit(
        List.of(spec("gone", "1"), spec("gone", "2"), spec("renamed", "3"), spec("kept", "4")),
        Duration.ZERO);

    // when the engine starts
    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      engine = builder().handle("kept", (job, ctx) -> {}).start();

      // then one warning names each unhandled type with its count, and the handled one not
      List<String> warnings = log.warnings();
      assertEquals(1, warnings.size(), warnings.toString());
      String warning = warnings.getFirst();
      assertTrue(warning.startsWith("3 pending jobs have types"), warning);
      assertTrue(warning.contains("\"gone\" (2), \"renamed\" (1)"), warning);
      assertFalse(warning.contains("\"kept\""), warning);
    }
    // and the stats say the same
    assertEquals(Map.of("gone", 2L, "renamed", 1L), engine.stats().unhandledAtStart());
  }

  @Test
  void anEngineWithAHandlerForEveryPendingTypeWarnsOfNothing() throws Exception {
    store.submit(List.of(spec("kept", "1")), Duration.ZERO);

    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      engine = builder().handle("kept", (job, ctx) -> {}).start();

      assertEquals(List.of(), log.warnings());
    }
    assertEquals(Map.of(), engine.stats().unhandledAtStart());
  }

  @Test
  void jobsFromManyConcurrentSubmittersAllRunWhileWorkersWaitBetweenThem() throws Exception {
    // Single-job submits from many threads against workers that are mostly idle: each submit's
    // batch reaches the queues through the arrivals stack, and one submit at a time wakes them.
    int submitters = 64;
    int each = 300;
    AtomicInteger ran = new AtomicInteger();
    engine = builder().handle("tick", (job, ctx) -> ran.incrementAndGet()).start();
    List<Thread> threads = new ArrayList<>();
    for (int s = 0; s < submitters; s++) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < each; i++) {
                        accept(List.of(spec("tick", "t")));
                        if (i % 50 == 0) {
                          Thread.sleep(1); // let the workers drain the queue and wait again
                        }
                      }
                    } catch (InterruptedException e) {
                      throw new AssertionError(e);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }

    Waits.until(() -> ran.get() == submitters * each, "every job to run");
    assertEquals(submitters * each, engine.stats().jobs().succeeded());
  }

  @Test
  void aFailingJobIsRetriedWithBackoffOnTheClockUntilItSucceeds() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    RetryPolicy retry = new RetryPolicy(5, Duration.ofSeconds(1), Duration.ofSeconds(10), 2.0);
    engine =
        builder()
            .handle(
                "flaky",
                (job, ctx) -> {
                  if (calls.incrementAndGet() < 3) {
                    throw new IllegalStateException("try " + job.attempts());
                  }
                },
                HandlerOptions.defaults().withRetry(retry))
            .start();
    JobId id = accept(List.of(spec("flaky", "x"))).getFirst();

    awaitState(id, JobState.RETRY_WAIT);
    Job waiting = engine.find(id).orElseThrow();
    assertEquals(Optional.of("java.lang.IllegalStateException: try 1"), waiting.lastError());
    Duration wait = Duration.between(clock.now(), waiting.nextAttemptAt().orElseThrow());
    assertTrue(wait.compareTo(retry.capAfter(1)) <= 0, "first wait " + wait);
    clock.advance(retry.capAfter(1));
    // the listener hears of an attempt after the store records it: wait for both
    Waits.until(
        () ->
            calls.get() == 2
                && engine.find(id).orElseThrow().state() == JobState.RETRY_WAIT
                && events.size() == 2,
        "the second attempt to fail");
    clock.advance(retry.capAfter(2));
    awaitState(id, JobState.SUCCEEDED);

    assertEquals(3, engine.find(id).orElseThrow().attempts());
    Waits.until(() -> events.size() == 3, "the listener to hear of three attempts");
    assertEquals(List.of("1:FAILED", "2:FAILED", "3:SUCCEEDED"), events);
    EngineStats.TypeStats flaky = engine.stats().byType().get("flaky");
    assertEquals(2, flaky.retries());
    assertEquals(3, flaky.attempts());
    assertEquals(1, flaky.succeeded());
  }

  @Test
  void aJobThatFailsEveryAttemptBecomesADeadLetterThatCanBeRetried() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    engine =
        builder()
            .handle(
                "doomed",
                (job, ctx) -> {
                  if (calls.incrementAndGet() <= 2) {
                    throw new java.io.IOException(
                        "disk on fire", new IllegalArgumentException("root"));
                  }
                },
                HandlerOptions.defaults()
                    .withRetry(
                        RetryPolicy.defaults()
                            .withMaxAttempts(2)
                            .withDelays(Duration.ZERO, Duration.ZERO)))
            .start();
    JobId id = accept(List.of(spec("doomed", "x"))).getFirst();

    awaitState(id, JobState.DEAD);
    Job dead = engine.deadLetters(Optional.empty(), 10).getFirst();
    assertEquals(id, dead.id());
    assertEquals(2, dead.attempts());
    assertEquals(
        "java.io.IOException: disk on fire <- caused by java.lang.IllegalArgumentException: root",
        dead.lastError().orElseThrow());
    String died = "died:" + dead.lastError().orElseThrow();
    Waits.until(() -> events.contains(died), "the listener to hear of the death");

    assertEquals(new Admission.Accepted(List.of(id)), engine.retryDead(id));
    awaitState(id, JobState.SUCCEEDED);
    assertEquals(1, engine.find(id).orElseThrow().attempts());
  }

  @Test
  void jobsClaimedBehindAHangingAttemptAreHandedBackToIdleWorkers() throws Exception {
    // given: two workers, four jobs due before they start, so one worker claims the first two
    // together, and the first of all hangs until released
    CountDownLatch hanging = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<String> ran = new CopyOnWriteArrayList<>();
    List<JobId> ids =
        assertInstanceOf(
                Admission.Accepted.class,
                store.submit(
                    List.of(spec("t", "hang"), spec("t", "a"), spec("t", "b"), spec("t", "c")),
                    Duration.ZERO))
            .ids();
    engine =
        builder()
            .workers(2)
            .handle(
                "t",
                (job, ctx) -> {
                  String what = new String(job.payloadBytes(), UTF_8);
                  if (what.equals("hang")) {
                    hanging.countDown();
                    release.await();
                  }
                  ran.add(what);
                })
            .start();
    hanging.await();
    awaitState(ids.get(2), JobState.SUCCEEDED);
    awaitState(ids.get(3), JobState.SUCCEEDED);
    assertEquals(
        JobState.RUNNING,
        engine.find(ids.get(1)).orElseThrow().state(),
        "\"a\" was claimed with the hanging job and waits behind it, not begun");
    assertEquals(List.of("b", "c"), ran);

    // when the hanging attempt has run for the hand-back time
    clock.advance(JobEngineImpl.HAND_BACK);

    // then the job behind it is given back and run by the idle worker, its attempt counted once
    awaitState(ids.get(1), JobState.SUCCEEDED);
    assertEquals(1, engine.find(ids.get(1)).orElseThrow().attempts());
    assertEquals(List.of("b", "c", "a"), ran, "the hanging job still hangs");
    release.countDown();
    awaitState(ids.get(0), JobState.SUCCEEDED);
    assertEquals(List.of("b", "c", "a", "hang"), ran);
  }

  @Test
  void aPermanentFailureMakesADeadLetterAtOnceWhateverRetriesAreLeft() throws Exception {
    // given: ten attempts allowed, and a handler whose first attempt says retrying cannot help
    AtomicInteger calls = new AtomicInteger();
    engine =
        builder()
            .handle(
                "refused",
                (job, ctx) -> {
                  if (calls.incrementAndGet() == 1) {
                    throw new PermanentJobFailure(
                        "the store refused the key", new SecurityException("403 AccessDenied"));
                  }
                },
                HandlerOptions.defaults()
                    .withRetry(
                        RetryPolicy.defaults()
                            .withMaxAttempts(10)
                            .withDelays(Duration.ZERO, Duration.ZERO)))
            .start();

    // when
    JobId id = accept(List.of(spec("refused", "x"))).getFirst();

    // then: dead after one attempt, with the reason kept, and retrying it by hand still works
    awaitState(id, JobState.DEAD);
    Job dead = engine.find(id).orElseThrow();
    assertEquals(1, dead.attempts());
    assertEquals(
        "io.sluice.jobs.PermanentJobFailure: the store refused the key <- caused by"
            + " java.lang.SecurityException: 403 AccessDenied",
        dead.lastError().orElseThrow());
    assertEquals(1, engine.stats().byType().get("refused").dead());
    assertEquals(0, engine.stats().byType().get("refused").retries());
    assertEquals(new Admission.Accepted(List.of(id)), engine.retryDead(id));
    awaitState(id, JobState.SUCCEEDED);
    assertEquals(2, calls.get());
  }

  @Test
  void aPermanentFailureWrappedInAnotherExceptionIsRetriedAsUsual() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    engine =
        builder()
            .handle(
                "wrapped",
                (job, ctx) -> {
                  if (calls.incrementAndGet() == 1) {
                    throw new IllegalStateException(new PermanentJobFailure("inner"));
                  }
                },
                HandlerOptions.defaults()
                    .withRetry(
                        RetryPolicy.defaults()
                            .withMaxAttempts(3)
                            .withDelays(Duration.ZERO, Duration.ZERO)))
            .start();

    JobId id = accept(List.of(spec("wrapped", "x"))).getFirst();

    awaitState(id, JobState.SUCCEEDED);
    assertEquals(2, engine.find(id).orElseThrow().attempts());
  }

  @Test
  void anErrorThrownByAHandlerFailsThatAttemptOnlyAndTheWorkerGoesOn() throws Exception {
    engine =
        builder()
            .workers(1)
            .handle(
                "oom",
                (job, ctx) -> {
                  throw new OutOfMemoryError("pretend");
                },
                HandlerOptions.defaults().withRetry(RetryPolicy.never()))
            .handle("ok", (job, ctx) -> {})
            .start();
    JobId bad = accept(List.of(spec("oom", "x"))).getFirst();
    JobId good = accept(List.of(spec("ok", "y"))).getFirst();

    awaitState(bad, JobState.DEAD);
    awaitState(good, JobState.SUCCEEDED);
    assertTrue(
        engine
            .find(bad)
            .orElseThrow()
            .lastError()
            .orElseThrow()
            .startsWith("java.lang.OutOfMemoryError: pretend"));
  }

  @Test
  void aFailureUnderARetryPolicyWithDelaysTooLongForNanosecondsWaitsToRetryAndTheWorkerGoesOn()
      throws Exception {
    // given one worker and a type whose retry delays are a thousand years
    Duration millennium = Duration.ofDays(365L * 1_000);
    engine =
        builder()
            .workers(1)
            .handle(
                "patient",
                (job, ctx) -> {
                  throw new IllegalStateException("not yet");
                },
                HandlerOptions.defaults()
                    .withRetry(new RetryPolicy(3, millennium, millennium, 2.0)))
            .handle("ok", (job, ctx) -> {})
            .start();

    // when its job fails
    JobId patient = accept(List.of(spec("patient", "x"))).getFirst();
    awaitState(patient, JobState.RETRY_WAIT);

    // then it waits to retry, at most the longest delay a long counts in nanoseconds, and the
    // worker runs the next job
    Instant retryAt = engine.find(patient).orElseThrow().nextAttemptAt().orElseThrow();
    assertFalse(retryAt.isBefore(clock.now()));
    assertFalse(retryAt.isAfter(clock.now().plus(Duration.ofNanos(Long.MAX_VALUE))));
    JobId next = accept(List.of(spec("ok", "y"))).getFirst();
    awaitState(next, JobState.SUCCEEDED);
    assertEquals(1, engine.stats().byType().get("patient").retries());
  }

  /** A failure whose message and cause cannot be read: its accessors throw. */
  private static final class Unreadable extends RuntimeException {
    private static final long serialVersionUID = 1L;

    @Override
    public String getMessage() {
      throw new IllegalStateException("no message for you");
    }

    @Override
    public synchronized Throwable getCause() {
      throw new IllegalStateException("no cause for you");
    }
  }

  @Test
  void aHandlerThrowingAFailureWhoseMessageCannotBeReadFailsThatAttemptOnlyAndTheWorkerGoesOn()
      throws Exception {
    // given one worker and a handler that throws an exception whose getMessage throws
    engine =
        builder()
            .workers(1)
            .handle(
                "odd",
                (job, ctx) -> {
                  throw new Unreadable();
                },
                HandlerOptions.defaults().withRetry(RetryPolicy.never()))
            .handle("ok", (job, ctx) -> {})
            .start();

    // when its job runs
    JobId odd = accept(List.of(spec("odd", "x"))).getFirst();

    // then that attempt fails, naming the failure's class, and the worker runs the next job
    awaitState(odd, JobState.DEAD);
    String error = engine.find(odd).orElseThrow().lastError().orElseThrow();
    assertTrue(error.startsWith(Unreadable.class.getName()), error);
    JobId next = accept(List.of(spec("ok", "y"))).getFirst();
    awaitState(next, JobState.SUCCEEDED);
  }

  @Test
  void aListenerThatThrowsAnErrorIsIgnoredAndTheWorkerGoesOn() throws Exception {
    // given one worker and a listener that throws an Error at every outcome
    AtomicInteger heard = new AtomicInteger();
    engine =
        builder()
            .workers(1)
            .listener(
                new EngineListener() {
                  @Override
                  public void attemptFinished(Job job, Outcome outcome, Duration elapsed) {
                    heard.incrementAndGet();
                    throw new AssertionError("a listener with a bug");
                  }
                })
            .handle("ok", (job, ctx) -> {})
            .start();

    // when two jobs run one after the other
    JobId first = accept(List.of(spec("ok", "x"))).getFirst();
    awaitState(first, JobState.SUCCEEDED);
    JobId second = accept(List.of(spec("ok", "y"))).getFirst();

    // then the second runs too: the worker outlived the listener's failure
    awaitState(second, JobState.SUCCEEDED);
    Waits.until(() -> heard.get() == 2, "the listener to hear of both");
  }

  @Test
  void retryJitterDrawsFromTheGeneratorOneWorkerAtATime() throws Exception {
    // given a generator that is not thread-safe (as RandomGenerator.getDefault() and
    // SplittableRandom are not): it notes a draw that overlaps another, and its first draw waits
    // for one to overlap it (or, if none comes meanwhile, for a second)
    AtomicInteger inside = new AtomicInteger();
    AtomicBoolean overlapped = new AtomicBoolean();
    CountDownLatch overlap = new CountDownLatch(1);
    AtomicBoolean first = new AtomicBoolean(true);
    java.util.random.RandomGenerator watching =
        new java.util.random.RandomGenerator() {
          @Override
          public long nextLong() {
            if (inside.incrementAndGet() > 1) {
              overlapped.set(true);
              overlap.countDown();
            }
            try {
              if (first.getAndSet(false)) {
                overlap.await(1, TimeUnit.SECONDS);
              }
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            } finally {
              inside.decrementAndGet();
            }
            return 42;
          }
        };
    // and two workers whose jobs fail at the same moment
    java.util.concurrent.CyclicBarrier together = new java.util.concurrent.CyclicBarrier(2);
    engine =
        builder()
            .workers(2)
            .random(watching)
            .handle(
                "failing",
                (job, ctx) -> {
                  together.await();
                  throw new IllegalStateException("failed together");
                },
                HandlerOptions.defaults()
                    .withRetry(
                        new RetryPolicy(3, Duration.ofSeconds(1), Duration.ofSeconds(1), 1.0)))
            .start();

    // when both jobs fail
    List<JobId> ids = accept(List.of(spec("failing", "a"), spec("failing", "b")));
    for (JobId id : ids) {
      awaitState(id, JobState.RETRY_WAIT);
    }

    // then their jitter was drawn one after the other
    assertFalse(overlapped.get(), "two workers drew from the generator at once");
  }

  @Test
  void aHandlerThatReturnsNormallyOnceItsTimeoutEndedItsContextFailsAsTimedOut() throws Exception {
    // given one worker and a handler that waits for its context to end and then returns normally
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch returned = new CountDownLatch(1);
    engine =
        builder()
            .workers(1)
            .handle(
                "patient",
                (job, ctx) -> {
                  started.countDown();
                  ctx.awaitDone();
                  returned.countDown();
                },
                timeout(30))
            .start();
    JobId id = accept(List.of(spec("patient", "x"))).getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread worker = threads.getFirst();
    // and a watchdog that, having ended the context, lets the handler return before it takes the
    // attempt (the race a busy machine may decide either way)
    ((JobEngineImpl) engine).stopStep =
        () -> {
          try {
            assertTrue(returned.await(10, TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
          Waits.untilBlocked(worker); // recorded the outcome, waits for the next job
        };

    // when the attempt overruns its timeout
    clock.advance(Duration.ofSeconds(30));

    // then it failed as timed out (a dead letter: no retries), not succeeded
    awaitState(id, JobState.DEAD);
    assertTrue(engine.find(id).orElseThrow().lastError().orElseThrow().contains("timed out"));
    Waits.until(() -> events.contains("1:TIMED_OUT"), "the listener to hear of the timeout");
  }

  @Test
  void aHandlerThatReturnsNormallyOnceTheShutdownEndedItsContextRunsAgainAfterAReopen(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    // given a journaled store and a handler that waits for its context to end and then returns
    // normally, without having done its work
    JobStoreOptions durable =
        JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withSegmentBytes(1 << 20);
    LocalJobStore journaled = LocalJobStore.open(durable);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch returned = new CountDownLatch(1);
    engine =
        JobEngine.builder(journaled)
            .workers(1)
            .threadFactory(counting)
            .listener(recording)
            .handle(
                "patient",
                (job, ctx) -> {
                  started.countDown();
                  ctx.awaitDone();
                  returned.countDown();
                })
            .start();
    JobId id =
        assertInstanceOf(Admission.Accepted.class, engine.submit(List.of(spec("patient", "x"))))
            .ids()
            .getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread worker = threads.getFirst();
    // and a shutdown that, having ended the context, lets the handler return before it takes the
    // attempt
    ((JobEngineImpl) engine).stopStep =
        () -> {
          try {
            assertTrue(returned.await(10, TimeUnit.SECONDS));
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          }
          Waits.until(
              () -> !worker.isAlive() || worker.getState() == Thread.State.WAITING,
              "the worker to record the attempt");
        };

    // when the engine shuts down without grace
    engine.shutdown(Duration.ZERO);

    // then the attempt was abandoned, not a success: a reopened store queues the job again, its
    // attempt not counted
    Waits.until(() -> events.contains("1:ABANDONED"), "the listener to hear of the abandon");
    try (LocalJobStore reopened = LocalJobStore.open(durable)) {
      Job job = reopened.find(id).orElseThrow();
      assertEquals(JobState.QUEUED, job.state());
      assertEquals(0, job.attempts());
    }
  }

  @Test
  void anAttemptThatOverrunsItsTimeoutIsInterruptedAndFailsAndTheWorkerGoesOn() throws Exception {
    CountDownLatch blocked = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    engine =
        builder()
            .workers(1)
            .handle(
                "stuck",
                (job, ctx) -> {
                  blocked.countDown();
                  try {
                    new CountDownLatch(1).await();
                  } catch (InterruptedException e) {
                    interrupted.incrementAndGet();
                    throw e;
                  }
                },
                HandlerOptions.defaults()
                    .withTimeout(Duration.ofSeconds(30))
                    .withRetry(RetryPolicy.never()))
            .handle(
                "check",
                (job, ctx) -> {
                  if (Thread.currentThread().isInterrupted()) {
                    throw new AssertionError("an interrupt leaked into the next attempt");
                  }
                })
            .start();
    JobId stuck = accept(List.of(spec("stuck", "x"))).getFirst();
    assertTrue(blocked.await(10, TimeUnit.SECONDS));

    clock.advance(Duration.ofSeconds(30));
    awaitState(stuck, JobState.DEAD);
    JobId next = accept(List.of(spec("check", "y"))).getFirst();

    awaitState(next, JobState.SUCCEEDED);
    assertEquals(1, interrupted.get());
    assertTrue(engine.find(stuck).orElseThrow().lastError().orElseThrow().contains("timed out"));
    assertEquals(1, engine.stats().byType().get("stuck").timedOut());
    Waits.until(() -> events.contains("1:TIMED_OUT"), "the listener to hear of the timeout");
  }

  /** A handler that blocks until it is interrupted, and records its context. */
  private static JobHandler blockUntilInterrupted(Map<String, Context> contexts) {
    return (job, ctx) -> {
      contexts.put(new String(job.payloadBytes(), UTF_8), ctx);
      new CountDownLatch(1).await();
    };
  }

  /** Submits a job of {@code type} carrying {@code name} and waits until its attempt started. */
  private JobId startBlocked(Map<String, Context> contexts, String type, String name)
      throws InterruptedException {
    JobId id = accept(List.of(spec(type, name))).getFirst();
    Waits.until(() -> contexts.containsKey(name), name + " to start");
    return id;
  }

  private static HandlerOptions timeout(int seconds) {
    return HandlerOptions.defaults()
        .withTimeout(Duration.ofSeconds(seconds))
        .withRetry(RetryPolicy.never());
  }

  @Test
  void overrunningAttemptsStartedAtDifferentTimesEachEndAtTheirOwnDeadline() throws Exception {
    Map<String, Context> contexts = new ConcurrentHashMap<>();
    engine = builder().handle("stuck", blockUntilInterrupted(contexts), timeout(30)).start();
    Instant start = clock.now();
    List<JobId> ids = new ArrayList<>();
    for (String name : List.of("a", "b", "c")) {
      ids.add(startBlocked(contexts, "stuck", name));
      clock.advance(Duration.ofSeconds(10));
    }

    for (int i = 0; i < 3; i++) { // now = start + 30 s, 40 s, 50 s: a, b, c are due in turn
      awaitState(ids.get(i), JobState.DEAD);
      Context ctx = contexts.get(List.of("a", "b", "c").get(i));
      assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
      assertEquals(start.plusSeconds(30 + 10L * i), ctx.deadline().orElseThrow());
      for (int later = i + 1; later < 3; later++) {
        assertEquals(JobState.RUNNING, engine.find(ids.get(later)).orElseThrow().state());
      }
      clock.advance(Duration.ofSeconds(10));
    }
    assertEquals(3, engine.stats().byType().get("stuck").timedOut());
  }

  @Test
  void aShorterTimeoutStartedAfterALongerOneStillEndsOnTime() throws Exception {
    Map<String, Context> contexts = new ConcurrentHashMap<>();
    engine =
        builder()
            .handle("slow", blockUntilInterrupted(contexts), timeout(600))
            .handle("quick", blockUntilInterrupted(contexts), timeout(5))
            .start();
    JobId slow = startBlocked(contexts, "slow", "slow");
    JobId quick = startBlocked(contexts, "quick", "quick");

    clock.advance(Duration.ofSeconds(5));
    awaitState(quick, JobState.DEAD);
    assertEquals(JobState.RUNNING, engine.find(slow).orElseThrow().state());
    assertFalse(contexts.get("slow").isDone());

    clock.advance(Duration.ofSeconds(595));
    awaitState(slow, JobState.DEAD);
    assertTrue(engine.find(slow).orElseThrow().lastError().orElseThrow().contains("timed out"));
  }

  @Test
  void attemptsThatFinishInTimeShareOneWatchdogTimerThatLeavesNothingBehind() throws Exception {
    AtomicInteger interrupted = new AtomicInteger();
    AtomicInteger wrongDeadline = new AtomicInteger();
    engine =
        builder()
            .handle(
                "quick",
                (job, ctx) -> {
                  if (Thread.currentThread().isInterrupted() || ctx.isDone()) {
                    interrupted.incrementAndGet();
                  }
                  if (!ctx.deadline().orElseThrow().equals(clock.now().plusSeconds(10))) {
                    wrongDeadline.incrementAndGet();
                  }
                },
                timeout(10))
            .start();
    for (int round = 0; round < 5; round++) {
      List<JobId> ids = accept(Collections.nCopies(200, spec("quick", "q")));
      for (JobId id : ids) {
        awaitState(id, JobState.SUCCEEDED);
      }
      assertTrue(clock.pendingTimers() <= 1, clock.pendingTimers() + " timers for 200 attempts");
      clock.advance(Duration.ofSeconds(4));
    }

    clock.advance(Duration.ofSeconds(10)); // past every deadline, with nothing running
    assertEquals(0, clock.pendingTimers());
    assertEquals(0, interrupted.get());
    assertEquals(0, wrongDeadline.get());
    assertEquals(1000, engine.stats().byType().get("quick").succeeded());
  }

  @Test
  void aTimeoutTooLongToCountNeverExpiresAndDoesNotDelayAShortOne() throws Exception {
    Map<String, Context> contexts = new ConcurrentHashMap<>();
    engine =
        builder()
            .handle(
                "forever",
                blockUntilInterrupted(contexts),
                HandlerOptions.defaults()
                    .withTimeout(Duration.ofSeconds(Long.MAX_VALUE))
                    .withRetry(RetryPolicy.never()))
            .handle("quick", blockUntilInterrupted(contexts), timeout(5))
            .start();
    JobId forever = startBlocked(contexts, "forever", "forever");
    JobId quick = startBlocked(contexts, "quick", "quick");

    clock.advance(Duration.ofSeconds(5));
    awaitState(quick, JobState.DEAD);
    clock.advance(Duration.ofDays(365 * 100));
    assertFalse(contexts.get("forever").isDone());
    assertEquals(JobState.RUNNING, engine.find(forever).orElseThrow().state());
    assertFalse(engine.shutdown(Duration.ZERO), "stopped by the shutdown, not by a timeout");
  }

  @Test
  void aShutDownEngineLeavesNoTimerBehind() throws Exception {
    engine = builder().handle("quick", (job, ctx) -> {}, timeout(600)).start();
    JobId id = accept(List.of(spec("quick", "q"))).getFirst();
    awaitState(id, JobState.SUCCEEDED);
    assertEquals(1, clock.pendingTimers(), "the watchdog, armed for the attempt's deadline");

    assertTrue(engine.shutdown(Duration.ofSeconds(10)));

    assertEquals(0, clock.pendingTimers());
  }

  // ---------------------------------------------------------------- handlers that ignore
  // interrupts

  /**
   * Waits for {@code release}, swallowing every interrupt: the handler bug the engine must survive.
   */
  private static void awaitIgnoringInterrupts(CountDownLatch release) {
    while (true) {
      try {
        release.await();
        return;
      } catch (InterruptedException swallowed) {
        // as a careless handler does
      }
    }
  }

  @Test
  void aHandlerThatIgnoresItsInterruptIsReportedStuckAndReplacedAndFailsOnlyWhenItReturns()
      throws Exception {
    // given: one worker, and a "deaf" type whose first attempt swallows the interrupt at its
    // 30-second timeout and runs on until the test releases it; its retry runs at once
    CountDownLatch inFirstAttempt = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger runningNow = new AtomicInteger();
    AtomicInteger mostAtOnce = new AtomicInteger();
    AtomicInteger quickRuns = new AtomicInteger();
    engine =
        builder()
            .workers(1)
            .interruptGrace(Duration.ofSeconds(5))
            .handle(
                "deaf",
                (job, ctx) -> {
                  mostAtOnce.accumulateAndGet(runningNow.incrementAndGet(), Math::max);
                  try {
                    if (job.attempts() == 1) {
                      inFirstAttempt.countDown();
                      awaitIgnoringInterrupts(release);
                    }
                  } finally {
                    runningNow.decrementAndGet();
                  }
                },
                HandlerOptions.defaults()
                    .withTimeout(Duration.ofSeconds(30))
                    .withRetry(
                        RetryPolicy.defaults()
                            .withMaxAttempts(2)
                            .withDelays(Duration.ZERO, Duration.ZERO)))
            .handle("quick", (job, ctx) -> quickRuns.incrementAndGet())
            .start();
    JobId deaf = accept(List.of(spec("deaf", "x"))).getFirst();
    assertTrue(inFirstAttempt.await(10, TimeUnit.SECONDS));
    Thread firstWorker = threads.getFirst();
    // the stack in the warning is sampled when it is written: wait until the handler is parked
    // in its wait, not still on its way out of countDown, or the frame looked for is not there
    Waits.until(
        () -> firstWorker.getState() == Thread.State.WAITING, "the handler to wait for release");

    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      // when: the timeout passes (the handler is interrupted, and ignores it), then the grace
      clock.advance(Duration.ofSeconds(30));
      assertEquals(0, engine.stats().stuck(), "within the grace it is not stuck yet");
      clock.advance(Duration.ofSeconds(5));

      // then: reported once, with the job, its type, how late, and where the thread is
      Waits.until(() -> engine.stats().stuck() == 1, "the attempt to be declared stuck");
      Waits.until(() -> events.contains("1:STUCK:PT5S"), "the listener to hear of it");
      List<String> warnings = log.warnings();
      assertEquals(1, warnings.size(), warnings.toString());
      String warning = warnings.getFirst();
      assertTrue(warning.startsWith("job " + deaf + " (deaf) is stuck"), warning);
      assertTrue(warning.contains("overran its timeout of PT30S by PT5S"), warning);
      assertTrue(warning.contains("a replacement worker has started"), warning);
      assertTrue(warning.contains("JobEngineTest.awaitIgnoringInterrupts"), warning);
    }
    assertEquals(1, engine.stats().byType().get("deaf").stuck());

    // and: the pool keeps its one worker, which runs the other jobs while the stuck one holds
    List<JobId> quick = accept(Collections.nCopies(20, spec("quick", "q")));
    for (JobId id : quick) {
      awaitState(id, JobState.SUCCEEDED);
    }
    assertEquals(20, quickRuns.get());
    assertEquals(2, threads.size(), "one replacement: " + threads);
    assertEquals(1, engine.stats().workers());
    Job stillRunning = engine.find(deaf).orElseThrow();
    assertEquals(JobState.RUNNING, stillRunning.state(), "its handler still runs");
    assertEquals(1, stillRunning.attempts());

    // when the handler returns at last
    release.countDown();

    // then the attempt failed as timed out, the retry ran on the replacement, never both at once,
    // and the stuck thread ended instead of going back to the pool
    awaitState(deaf, JobState.SUCCEEDED);
    Job done = engine.find(deaf).orElseThrow();
    assertEquals(2, done.attempts());
    String error = done.lastError().orElseThrow();
    assertTrue(error.startsWith("timed out after PT30S (attempt 1)"), error);
    assertTrue(error.contains("the handler ignored the interrupt"), error);
    assertEquals(1, mostAtOnce.get());
    // (the listener hears of an attempt after the store records it, so maybe after the retry)
    Waits.until(
        () -> events.contains("1:TIMED_OUT") && events.contains("2:SUCCEEDED"),
        "the listener to hear of both attempts");
    firstWorker.join(TimeUnit.SECONDS.toMillis(10));
    assertFalse(firstWorker.isAlive());
    assertEquals(0, engine.stats().stuck());
    assertEquals(1, engine.stats().byType().get("deaf").timedOut());
    assertEquals(2, threads.size(), threads.toString());
    assertTrue(engine.shutdown(Duration.ofSeconds(10)));
  }

  @Test
  void aHandlerWaitingToEnterASynchronizedBlockIsStuckAndDeadWhenItGetsInWithoutRetries()
      throws Exception {
    // given: a handler that waits for a monitor the test holds (a wait no interrupt ends)
    Object monitor = new Object();
    CountDownLatch started = new CountDownLatch(1);
    engine =
        builder()
            .workers(2)
            .interruptGrace(Duration.ofSeconds(1))
            .handle(
                "locked",
                (job, ctx) -> {
                  started.countDown();
                  synchronized (monitor) {
                    monitor.notifyAll();
                  }
                },
                timeout(10))
            .start();
    JobId id;
    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      synchronized (monitor) {
        id = accept(List.of(spec("locked", "x"))).getFirst();
        assertTrue(started.await(10, TimeUnit.SECONDS));
        Waits.until(
            () -> threads.stream().anyMatch(t -> t.getState() == Thread.State.BLOCKED),
            "the handler to block on the monitor");

        // when its timeout and then the interrupt grace pass
        clock.advance(Duration.ofSeconds(10));
        clock.advance(Duration.ofSeconds(1));

        // then it is reported stuck, with the handler's frame on top of its stack
        Waits.until(() -> engine.stats().stuck() == 1, "the attempt to be declared stuck");
        Waits.until(() -> !log.warnings().isEmpty(), "the warning");
        String warning = log.warnings().getFirst();
        assertTrue(warning.contains("overran its timeout of PT10S by PT1S"), warning);
        assertTrue(
            warning.contains(
                "JobEngineTest.lambda$aHandlerWaitingToEnterASynchronizedBlockIsStuck"),
            warning);
        assertEquals(JobState.RUNNING, engine.find(id).orElseThrow().state());
      }
    }

    // when the test lets go of the monitor, the handler gets in and returns: dead, as timed out
    awaitState(id, JobState.DEAD);
    assertTrue(engine.find(id).orElseThrow().lastError().orElseThrow().contains("timed out"));
    Waits.until(() -> engine.stats().stuck() == 0, "the stuck count to fall");
    assertEquals(1, engine.stats().byType().get("locked").stuck());
  }

  @Test
  void aHandlerThatReturnsPromptlyAfterItsInterruptIsNeverReportedStuck() throws Exception {
    Map<String, Context> contexts = new ConcurrentHashMap<>();
    engine =
        builder()
            .workers(1)
            .interruptGrace(Duration.ofSeconds(5))
            .handle("slow", blockUntilInterrupted(contexts), timeout(30))
            .start();
    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      JobId id = startBlocked(contexts, "slow", "a");

      clock.advance(Duration.ofSeconds(30));
      awaitState(id, JobState.DEAD);
      clock.advance(Duration.ofSeconds(5)); // past when it would have been stuck

      assertEquals(0, engine.stats().stuck());
      assertEquals(0, engine.stats().byType().get("slow").stuck());
      assertTrue(
          log.warnings().stream().noneMatch(w -> w.contains("stuck")), log.warnings()::toString);
      assertEquals(1, threads.size(), "no replacement: " + threads);
    }
  }

  @Test
  void aStuckAttemptIsAbandonedByTheShutdownWhichDoesNotWaitForItsThread() throws Exception {
    // given: a stuck attempt
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    engine =
        builder()
            .workers(1)
            .interruptGrace(Duration.ofSeconds(5))
            .shutdownGrace(Duration.ofDays(1))
            .handle(
                "deaf",
                (job, ctx) -> {
                  started.countDown();
                  awaitIgnoringInterrupts(release);
                },
                timeout(30))
            .start();
    JobId id = accept(List.of(spec("deaf", "x"))).getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    Thread stuckThread = threads.getFirst();
    clock.advance(Duration.ofSeconds(30));
    clock.advance(Duration.ofSeconds(5));
    Waits.until(() -> engine.stats().stuck() == 1, "the attempt to be declared stuck");

    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      // when the engine shuts down with no grace
      boolean graceful = engine.shutdown(Duration.ZERO);

      // then it returned while the handler still runs, and said which job it abandoned
      assertFalse(graceful);
      assertEquals(1, release.getCount());
      assertTrue(stuckThread.isAlive());
      List<String> abandoned =
          log.warnings().stream().filter(w -> w.startsWith("shutdown abandoned")).toList();
      assertEquals(1, abandoned.size(), log.warnings().toString());
      assertTrue(abandoned.getFirst().contains(id + " (deaf, attempt 1"), abandoned.getFirst());
      Waits.until(() -> events.contains("1:ABANDONED"), "the listener to hear of it");

      // and when the handler returns after all, its thread ends without touching the store
      release.countDown();
      stuckThread.join(TimeUnit.SECONDS.toMillis(10));
      assertFalse(stuckThread.isAlive());
      assertEquals(List.of(), log.errors());
    }
    assertEquals(JobState.RUNNING, store.find(id).orElseThrow().state());
    assertEquals(1, events.stream().filter(e -> e.endsWith("ABANDONED")).count(), events::toString);
  }

  @Test
  void shutdownWaitsForTheGraceItIsGivenNotTheBuildersAndAReopenedStoreRunsTheAbandonedJob(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    // given: a journaled store, a builder grace of a day, and a handler that ignores interrupts
    JobStoreOptions durable =
        JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withSegmentBytes(1 << 20);
    LocalJobStore journaled = LocalJobStore.open(durable);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    engine =
        JobEngine.builder(journaled)
            .workers(2)
            .threadFactory(counting)
            .listener(recording)
            .shutdownGrace(Duration.ofDays(1))
            .handle(
                "deaf",
                (job, ctx) -> {
                  started.countDown();
                  awaitIgnoringInterrupts(release);
                })
            .start();
    JobId id =
        assertInstanceOf(Admission.Accepted.class, engine.submit(List.of(spec("deaf", "x"))))
            .ids()
            .getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));

    try (LogCapture log = LogCapture.of(JobEngine.class)) {
      // when: a shutdown with a grace of 50 ms
      boolean graceful = engine.shutdown(Duration.ofMillis(50));

      // then: it returned with the handler still held by the test (not after the builder's day),
      // and named the job it abandoned
      assertFalse(graceful);
      assertEquals(1, release.getCount());
      String warning =
          log.warnings().stream()
              .filter(w -> w.startsWith("shutdown abandoned 1 job"))
              .findFirst()
              .orElseThrow(() -> new AssertionError(log.warnings().toString()));
      assertTrue(warning.contains(id + " (deaf, attempt 1"), warning);
      assertTrue(warning.contains("run again"), warning);
      release.countDown();
      for (Thread t : threads) {
        t.join(TimeUnit.SECONDS.toMillis(10));
      }
      assertEquals(List.of(), log.errors(), "the late handler touched the closed store");
    }

    // and: the journal still has it running, so a reopened store queues it, its attempt counted
    try (LocalJobStore reopened = LocalJobStore.open(durable)) {
      Job job = reopened.find(id).orElseThrow();
      assertEquals(JobState.QUEUED, job.state());
      assertEquals(1, job.attempts());
      reopened.checkInvariants();
    }
  }

  @Test
  void aShutdownThatGivesUpOnAnAttemptRecordsTheSuccessesItsWorkerHadNotRecordedYet(
      @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
    // given: a journaled store holding two jobs, which one worker claims together; no listener,
    // so the first job's success waits for the worker's next claim to be recorded; the second
    // job's handler ignores interrupts
    JobStoreOptions durable =
        JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withSegmentBytes(1 << 20);
    LocalJobStore journaled = LocalJobStore.open(durable);
    List<JobId> ids =
        assertInstanceOf(
                Admission.Accepted.class,
                journaled.submit(
                    List.of(spec("work", "quick"), spec("work", "deaf")), Duration.ZERO))
            .ids();
    CountDownLatch deafStarted = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    engine =
        JobEngine.builder(journaled)
            .workers(1)
            .threadFactory(counting)
            .interruptGrace(Duration.ofMillis(50))
            .handle(
                "work",
                (job, ctx) -> {
                  if (new String(job.payloadBytes(), UTF_8).equals("deaf")) {
                    deafStarted.countDown();
                    awaitIgnoringInterrupts(release);
                  }
                })
            .start();
    assertTrue(deafStarted.await(10, TimeUnit.SECONDS));

    // when: the engine shuts down without grace and gives up on the deaf attempt
    assertFalse(engine.shutdown(Duration.ZERO));
    release.countDown();
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
    }

    // then: the journal has the first job succeeded, so it does not run again; the deaf one is
    // queued again with its attempt counted
    try (LocalJobStore reopened = LocalJobStore.open(durable)) {
      assertEquals(JobState.SUCCEEDED, reopened.find(ids.get(0)).orElseThrow().state());
      Job deaf = reopened.find(ids.get(1)).orElseThrow();
      assertEquals(JobState.QUEUED, deaf.state());
      assertEquals(1, deaf.attempts());
    }
  }

  @Test
  void aShutdownClosesTheStoreOnlyAfterEveryWorkerThreadHasEnded() throws Exception {
    // given worker threads that run code of their own after the worker's loop returns (as a
    // thread factory that cleans up after its tasks does), and a store that notes, when it is
    // closed, whether a worker thread is still alive
    CountDownLatch loopEnded = new CountDownLatch(1);
    CountDownLatch linger = new CountDownLatch(1);
    List<Thread> made = new CopyOnWriteArrayList<>();
    ThreadFactory lingering =
        task -> {
          Thread t =
              Thread.ofVirtual()
                  .unstarted(
                      () -> {
                        try {
                          task.run();
                        } finally {
                          loopEnded.countDown();
                          awaitIgnoringInterrupts(linger);
                        }
                      });
          made.add(t);
          threads.add(t);
          return t;
        };
    CountDownLatch storeClosing = new CountDownLatch(1);
    AtomicBoolean closedWhileAWorkerRan = new AtomicBoolean();
    JobStore watching =
        (JobStore)
            java.lang.reflect.Proxy.newProxyInstance(
                JobStore.class.getClassLoader(),
                new Class<?>[] {JobStore.class},
                (proxy, method, args) -> {
                  if (method.getName().equals("close")) {
                    closedWhileAWorkerRan.set(made.stream().anyMatch(Thread::isAlive));
                    storeClosing.countDown();
                  }
                  try {
                    return method.invoke(store, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    engine =
        builderWithoutListener(watching)
            .workers(1)
            .threadFactory(lingering)
            .handle("ok", (job, ctx) -> {})
            .start();

    // when the engine shuts down, and its worker thread lingers after its loop ended until the
    // store is closed (or, if the store is not closed meanwhile, a second has passed)
    Thread closer = Thread.ofVirtual().start(engine::close);
    assertTrue(loopEnded.await(10, TimeUnit.SECONDS));
    storeClosing.await(1, TimeUnit.SECONDS);
    linger.countDown();
    closer.join();

    // then the store was closed only after the worker thread had ended
    assertEquals(0, storeClosing.getCount());
    assertFalse(closedWhileAWorkerRan.get(), "the store was closed while a worker thread ran");
    assertFalse(made.getFirst().isAlive());
  }

  @Test
  void aShutdownClosesTheStoreOnlyAfterJobsBeingHandedBackAreGivenBack() throws Exception {
    // given: one worker that claims three jobs together, the first of which hangs, and a store
    // whose first give-back waits until the store is closed (or, if it is not closed meanwhile, a
    // second has passed), noting whether the store was closed before it went on
    CountDownLatch hanging = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    List<JobId> ids =
        assertInstanceOf(
                Admission.Accepted.class,
                store.submit(
                    List.of(spec("t", "hang"), spec("t", "a"), spec("t", "b")), Duration.ZERO))
            .ids();
    CountDownLatch givingBack = new CountDownLatch(1);
    CountDownLatch storeClosing = new CountDownLatch(1);
    AtomicBoolean closed = new AtomicBoolean();
    AtomicBoolean givenBackAfterClose = new AtomicBoolean();
    JobStore watching =
        (JobStore)
            java.lang.reflect.Proxy.newProxyInstance(
                JobStore.class.getClassLoader(),
                new Class<?>[] {JobStore.class},
                (proxy, method, args) -> {
                  switch (method.getName()) {
                    case "close" -> {
                      closed.set(true);
                      storeClosing.countDown();
                    }
                    case "abandoned" -> {
                      if (givingBack.getCount() == 1) {
                        givingBack.countDown();
                        storeClosing.await(1, TimeUnit.SECONDS);
                      }
                      givenBackAfterClose.compareAndSet(false, closed.get());
                    }
                    default -> {}
                  }
                  try {
                    return method.invoke(store, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    engine =
        builderWithoutListener(watching)
            .workers(1)
            .handle(
                "t",
                (job, ctx) -> {
                  if (new String(job.payloadBytes(), UTF_8).equals("hang")) {
                    hanging.countDown();
                    release.await();
                  }
                })
            .start();
    assertTrue(hanging.await(10, TimeUnit.SECONDS));

    // when: the jobs behind the hanging one are being handed back, and meanwhile the hanging job
    // ends and the engine shuts down
    clock.advance(JobEngineImpl.HAND_BACK);
    assertTrue(givingBack.await(10, TimeUnit.SECONDS));
    release.countDown();
    engine.close();

    // then: the store was closed only after they were given back (queued again, not counted)
    for (JobId id : ids.subList(1, 3)) {
      Waits.until(
          () -> store.find(id).orElseThrow().state() == JobState.QUEUED, id + " to be given back");
      assertEquals(0, store.find(id).orElseThrow().attempts());
    }
    assertFalse(givenBackAfterClose.get(), "a job was given back to a closed store");
  }

  @Test
  void aTypeNeverRunsMoreAttemptsAtOnceThanItsLimitAndOtherTypesStillRun() throws Exception {
    AtomicInteger now = new AtomicInteger();
    AtomicInteger most = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    engine =
        builder()
            .workers(8)
            .handle(
                "limited",
                (job, ctx) -> {
                  most.accumulateAndGet(now.incrementAndGet(), Math::max);
                  release.await();
                  now.decrementAndGet();
                },
                HandlerOptions.defaults().withConcurrency(2))
            .handle("free", (job, ctx) -> {})
            .start();
    List<JobId> limited = accept(Collections.nCopies(20, spec("limited", "x")));
    Waits.until(() -> now.get() == 2, "two limited attempts to run");
    List<JobId> free = accept(Collections.nCopies(50, spec("free", "y")));

    for (JobId id : free) {
      awaitState(id, JobState.SUCCEEDED);
    }
    assertEquals(2, now.get());
    release.countDown();
    for (JobId id : limited) {
      awaitState(id, JobState.SUCCEEDED);
    }
    assertEquals(2, most.get());
  }

  @Test
  void aJobOfAnUnknownTypeIsRefusedAtSubmission() {
    engine = builder().handle("known", (job, ctx) -> {}).start();

    var e =
        assertThrows(
            IllegalArgumentException.class, () -> engine.submit(List.of(spec("unknown", "x"))));
    assertTrue(e.getMessage().contains("[known]"), e.getMessage());
  }

  @Test
  void shutdownLetsRunningAttemptsFinishWithinTheGrace() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    engine =
        builder()
            .handle(
                "slow",
                (job, ctx) -> {
                  started.countDown();
                  finish.await();
                })
            .start();
    JobId id = accept(List.of(spec("slow", "x"))).getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));

    Thread.ofVirtual()
        .start(
            () -> {
              Waits.until(() -> engine.stats().busy() == 1, "busy");
              finish.countDown();
            });
    boolean graceful = engine.shutdown(Duration.ofMinutes(1));

    assertTrue(graceful);
    assertEquals(JobState.SUCCEEDED, engine.find(id).orElseThrow().state());
    assertEquals(
        Admission.Reason.SHUTTING_DOWN,
        assertInstanceOf(Admission.Rejected.class, engine.submit(List.of(spec("slow", "y"))))
            .reason());
  }

  @Test
  void shutdownInterruptsAttemptsThatOverrunTheGraceAndQueuesThemAgainUncounted() throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    engine =
        builder()
            .handle(
                "endless",
                (job, ctx) -> {
                  started.countDown();
                  ctx.awaitDone();
                  throw new IllegalStateException("stopped");
                })
            .start();
    JobId id = accept(List.of(spec("endless", "x"))).getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));

    boolean graceful = engine.shutdown(Duration.ofMillis(50));

    assertFalse(graceful);
    Job job = store.find(id).orElseThrow();
    assertEquals(JobState.QUEUED, job.state());
    assertEquals(0, job.attempts());
    assertEquals(0, store.counts().failedAttempts());
    Waits.until(
        () -> events.contains("1:ABANDONED"), "the listener to hear of the abandoned attempt");
  }

  /** Starts an engine whose one "endless" attempt runs until its context is cancelled. */
  private JobId startOneEndlessAttempt() throws InterruptedException {
    CountDownLatch started = new CountDownLatch(1);
    engine =
        builder()
            .handle(
                "endless",
                (job, ctx) -> {
                  started.countDown();
                  ctx.awaitDone();
                  throw new IllegalStateException("stopped");
                })
            .start();
    JobId id = accept(List.of(spec("endless", "x"))).getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));
    return id;
  }

  @ParameterizedTest(name = "already interrupted: {0}")
  @ValueSource(booleans = {true, false})
  void anInterruptedShutdownThrowsAndTheShutdownGoesOnToTheEnd(boolean alreadyInterrupted)
      throws Exception {
    // given an attempt that ends only when the shutdown cancels it, after the grace
    JobId id = startOneEndlessAttempt();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicBoolean interruptedAtEnd = new AtomicBoolean(true);
    Thread stopper =
        Thread.ofVirtual()
            .start(
                () -> {
                  if (alreadyInterrupted) {
                    Thread.currentThread().interrupt();
                  }
                  try {
                    engine.shutdown(Duration.ofMillis(50));
                  } catch (Throwable t) {
                    thrown.set(t);
                  } finally {
                    interruptedAtEnd.set(Thread.currentThread().isInterrupted());
                  }
                });

    // when
    if (!alreadyInterrupted) {
      Waits.untilBlocked(stopper);
      stopper.interrupt();
    }
    stopper.join();

    // then the caller stops waiting, and the shutdown still cancels the attempt and ends
    assertInstanceOf(InterruptedException.class, thrown.get());
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
    Waits.until(
        () -> threads.stream().noneMatch(Thread::isAlive), "the shutdown to end every worker");
    Waits.until(
        () -> events.contains("1:ABANDONED"), "the listener to hear of the abandoned attempt");
    assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
    assertFalse(engine.shutdown(Duration.ofMinutes(1)), "a second call gets the first's outcome");
  }

  @Test
  void closeInterruptedWhileItWaitsStillEndsEveryWorkerAndKeepsTheInterruptStatus()
      throws Exception {
    // given an attempt that ends only when the shutdown cancels it, after the builder's grace
    CountDownLatch started = new CountDownLatch(1);
    engine =
        builder()
            .shutdownGrace(Duration.ofMillis(50))
            .handle(
                "endless",
                (job, ctx) -> {
                  started.countDown();
                  ctx.awaitDone();
                  throw new IllegalStateException("stopped");
                })
            .start();
    JobId id = accept(List.of(spec("endless", "x"))).getFirst();
    assertTrue(started.await(10, TimeUnit.SECONDS));

    // when
    Thread.currentThread().interrupt();
    engine.close();

    // then
    assertTrue(Thread.interrupted(), "close keeps the interrupt status");
    for (Thread t : threads) {
      assertFalse(t.isAlive(), "worker " + t + " outlived close");
    }
    assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
  }

  @ParameterizedTest(name = "already interrupted: {0}")
  @ValueSource(booleans = {true, false})
  void aSubmitterInterruptedWhileWaitingForRoomAcceptsNothing(boolean alreadyInterrupted)
      throws Exception {
    // given an engine over a store with room for one job, which runs until released
    LocalJobStore small =
        LocalJobStore.inMemory(JobStoreOptions.defaults().withCapacity(1).withClock(clock));
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    engine =
        JobEngine.builder(small)
            .workers(2)
            .threadFactory(counting)
            .handle(
                "held",
                (job, ctx) -> {
                  started.countDown();
                  release.await();
                })
            .start();
    accept(List.of(spec("held", "1")));
    assertTrue(started.await(10, TimeUnit.SECONDS));
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicBoolean interruptedAtEnd = new AtomicBoolean(true);
    Thread submitter =
        Thread.ofVirtual()
            .start(
                () -> {
                  if (alreadyInterrupted) {
                    Thread.currentThread().interrupt();
                  }
                  try {
                    engine.submit(List.of(spec("held", "2")), Duration.ofMinutes(5));
                  } catch (Throwable t) {
                    thrown.set(t);
                  } finally {
                    interruptedAtEnd.set(Thread.currentThread().isInterrupted());
                  }
                });

    // when
    if (!alreadyInterrupted) {
      Waits.untilBlocked(submitter);
      submitter.interrupt();
    }
    submitter.join();

    // then nothing was accepted, and the room that appears later is there for others
    assertInstanceOf(InterruptedException.class, thrown.get());
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
    assertEquals(1, small.counts().pending());
    release.countDown();
    Waits.until(() -> small.counts().pending() == 0, "the held job to finish");
    assertEquals(1, small.counts().succeeded());
    small.checkInvariants();
  }

  @Test
  void aJobThatKeptTakingTheProcessDownIsDeadInsteadOfRunningForever() throws Exception {
    Entry crashLooper = new Entry(JobId.next(), "poison", new byte[0], null, clock.now(), null);
    crashLooper.attempts = 3;
    store.recover(crashLooper);
    AtomicInteger calls = new AtomicInteger();
    engine =
        builder()
            .handle(
                "poison",
                (job, ctx) -> calls.incrementAndGet(),
                HandlerOptions.defaults().withRetry(RetryPolicy.defaults().withMaxAttempts(3)))
            .start();

    awaitState(crashLooper.id, JobState.DEAD);

    assertEquals(0, calls.get());
    assertTrue(
        engine
            .find(crashLooper.id)
            .orElseThrow()
            .lastError()
            .orElseThrow()
            .contains("the process stopped during its attempts"));
  }

  @Test
  void theBuilderChecksItsArgumentsAtOnce() {
    JobEngine.Builder b = JobEngine.builder(store);
    assertThrows(IllegalArgumentException.class, () -> b.workers(0));
    assertThrows(IllegalArgumentException.class, () -> b.handle("", (j, c) -> {}));
    assertThrows(IllegalArgumentException.class, () -> b.shutdownGrace(Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> b.interruptGrace(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> b.interruptGrace(Duration.ofSeconds(-1)));
    assertThrows(IllegalStateException.class, b::start);
    b.handle("a", (j, c) -> {});
    assertThrows(IllegalArgumentException.class, () -> b.handle("a", (j, c) -> {}));
  }

  private JobEngine.Builder builderWithoutListener(JobStore over) {
    return JobEngine.builder(over)
        .clock(clock) // the store's: an engine knows only a LocalJobStore's clock by itself
        .workers(4)
        .threadFactory(counting)
        .random(new SplittableRandom(7));
  }

  /** Each job fails its first attempt if its payload starts with "f"; every attempt is recorded. */
  private JobHandler flakyRecording(Map<String, List<String>> seen) {
    return (job, ctx) -> {
      String payload = new String(job.payloadBytes(), UTF_8);
      seen.computeIfAbsent(payload, k -> new CopyOnWriteArrayList<>())
          .add(job.id() + " " + job.state() + " " + job.attempts() + " " + job.lastError());
      if (payload.startsWith("f") && job.attempts() == 1) {
        throw new IllegalStateException("first try of " + payload);
      }
    };
  }

  private void assertFinishedJobsShowWhatHappened(
      List<JobId> ids, List<JobSpec> specs, Map<String, List<String>> seen) {
    for (int i = 0; i < ids.size(); i++) {
      String payload = new String(specs.get(i).payloadArray(), UTF_8);
      Job done = engine.find(ids.get(i)).orElseThrow();
      boolean flaky = payload.startsWith("f");
      Optional<String> error =
          flaky
              ? Optional.of("java.lang.IllegalStateException: first try of " + payload)
              : Optional.empty();
      assertEquals(JobState.SUCCEEDED, done.state(), payload);
      assertEquals(flaky ? 2 : 1, done.attempts(), payload);
      assertEquals(error, done.lastError(), payload);
      assertEquals(0, done.payload().remaining(), "a finished job keeps no payload");
      List<String> expected = new ArrayList<>();
      expected.add(ids.get(i) + " RUNNING 1 Optional.empty");
      if (flaky) {
        expected.add(ids.get(i) + " RUNNING 2 " + error);
      }
      assertEquals(expected, seen.get(payload), "the attempts' snapshots");
    }
  }

  private static List<JobSpec> halfFlaky(int n) {
    List<JobSpec> specs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      specs.add(spec("mixed", (i % 2 == 0 ? "f" : "s") + i));
    }
    return specs;
  }

  private static final HandlerOptions RETRY_AT_ONCE =
      HandlerOptions.defaults()
          .withRetry(
              RetryPolicy.defaults().withMaxAttempts(2).withDelays(Duration.ZERO, Duration.ZERO));

  @Test
  void withoutAListenerEveryJobEndsSucceededWithTheAttemptsAndErrorItHad() throws Exception {
    Map<String, List<String>> seen = new ConcurrentHashMap<>();
    engine =
        builderWithoutListener(store).handle("mixed", flakyRecording(seen), RETRY_AT_ONCE).start();
    List<JobSpec> specs = halfFlaky(2_000);

    List<JobId> ids = new ArrayList<>();
    for (int i = 0; i < specs.size(); i += 100) {
      ids.addAll(accept(specs.subList(i, i + 100)));
    }
    Waits.until(() -> store.counts().succeeded() == 2_000, "every success to be recorded");

    assertFinishedJobsShowWhatHappened(ids, specs, seen);
    assertEquals(0, store.counts().running());
    assertEquals(1_000, store.counts().failedAttempts());
  }

  @Test
  void overAStoreKnownOnlyByItsInterfaceEveryJobEndsSucceededWithTheAttemptsAndErrorItHad()
      throws Exception {
    JobStore forwarding =
        (JobStore)
            java.lang.reflect.Proxy.newProxyInstance(
                JobStore.class.getClassLoader(),
                new Class<?>[] {JobStore.class},
                (proxy, method, args) -> {
                  try {
                    return method.invoke(store, args);
                  } catch (java.lang.reflect.InvocationTargetException e) {
                    throw e.getCause();
                  }
                });
    Map<String, List<String>> seen = new ConcurrentHashMap<>();
    engine =
        builderWithoutListener(forwarding)
            .handle("mixed", flakyRecording(seen), RETRY_AT_ONCE)
            .start();
    List<JobSpec> specs = halfFlaky(200);

    List<JobId> ids = new ArrayList<>();
    for (int i = 0; i < specs.size(); i += 100) {
      ids.addAll(accept(specs.subList(i, i + 100)));
    }
    Waits.until(() -> store.counts().succeeded() == 200, "every success to be recorded");

    assertFinishedJobsShowWhatHappened(ids, specs, seen);
    assertEquals(0, store.counts().running());
  }

  @Test
  void withoutAListenerAGracefulShutdownRecordsTheLastSuccessOfEveryWorker() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    engine = builderWithoutListener(store).handle("held", (job, ctx) -> release.await()).start();
    List<JobSpec> specs = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      specs.add(spec("held", "h" + i));
    }
    List<JobId> ids = accept(specs); // with a backlog, workers claim several: some are given back
    Waits.until(() -> engine.stats().busy() == 4, "every worker to hold a job");
    CompletableFuture<Boolean> shutdown = new CompletableFuture<>();
    Thread stopper =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    shutdown.complete(engine.shutdown(Duration.ofMinutes(1)));
                  } catch (Throwable t) {
                    shutdown.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(stopper);

    release.countDown();

    assertTrue(shutdown.get(30, TimeUnit.SECONDS));
    JobCounts counts = store.counts();
    assertEquals(4, counts.succeeded());
    assertEquals(0, counts.running());
    assertEquals(6, counts.queued());
    for (JobId id : ids) {
      Job job = store.find(id).orElseThrow();
      assertEquals(job.state() == JobState.SUCCEEDED ? 1 : 0, job.attempts(), job.toString());
    }
  }
}
