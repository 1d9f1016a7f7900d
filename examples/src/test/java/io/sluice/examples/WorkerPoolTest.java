package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Context;
import io.sluice.examples.WorkerPool.Admission;
import io.sluice.examples.WorkerPool.Dispatcher;
import io.sluice.examples.WorkerPool.Reason;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The worker pool runs every accepted job once on a fixed set of threads, rejects at once when its
 * queue is full, survives a failing job, and leaves no thread behind.
 */
@Timeout(60)
class WorkerPoolTest {
  private final TrackingThreadFactory threads = new TrackingThreadFactory("worker-");

  private static List<String> jobs(String prefix, int n) {
    return IntStream.range(0, n).mapToObj(i -> prefix + i).toList();
  }

  private static <T> void noFailureExpected(T job, Exception e) {
    throw new AssertionError("job " + job + " failed", e);
  }

  @Test
  void everyAcceptedJobRunsOnceOnTheFixedWorkersAndNoMoreThreadsThanWorkers() throws Exception {
    Map<String, Integer> runs = new ConcurrentHashMap<>();
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    Dispatcher<String> pool =
        new Dispatcher<>(
            Context.background(),
            4,
            1000,
            threads,
            (ctx, job) -> {
              peak.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
              runs.merge(job, 1, Integer::sum);
              Thread.yield();
              inFlight.decrementAndGet();
            },
            WorkerPoolTest::noFailureExpected);

    for (int request = 0; request < 100; request++) {
      assertEquals(
          new Admission.Accepted(10), pool.submit(jobs("r" + request + "/", 10)), "request");
    }
    pool.close();

    assertEquals(1000, runs.size());
    assertTrue(runs.values().stream().allMatch(n -> n == 1), "a job ran twice");
    assertEquals(1000, pool.done());
    assertTrue(peak.get() <= 4, "jobs at once: " + peak.get());
    assertEquals(4, threads.threads().size(), "one thread per worker, none per job");
    threads.assertAllEndedCleanly();
  }

  @Test
  void aFullQueueRejectsTheWholeRequestAtOnceAndQueuesNothingOfIt() throws Exception {
    CountDownLatch bothBusy = new CountDownLatch(2);
    CountDownLatch gate = new CountDownLatch(1);
    List<String> ran = new CopyOnWriteArrayList<>();
    Dispatcher<String> pool =
        new Dispatcher<>(
            Context.background(),
            2,
            3,
            threads,
            (ctx, job) -> {
              ran.add(job);
              if (job.startsWith("busy")) {
                bothBusy.countDown();
                gate.await(); // the workers are slower than the requests
              }
            },
            WorkerPoolTest::noFailureExpected);
    try {
      assertEquals(new Admission.Accepted(2), pool.submit(List.of("busy0", "busy1")));
      bothBusy.await(); // both workers hold a job; the queue is empty

      assertEquals(new Admission.Accepted(2), pool.submit(List.of("q0", "q1")));
      Admission twoMore = pool.submit(List.of("x0", "x1")); // room for 1: none is queued
      Admission tooBig = pool.submit(jobs("big", 4));
      assertEquals(new Admission.Accepted(1), pool.submit(List.of("q2")));
      Admission full = pool.submit(List.of("x2"));

      assertEquals(Reason.QUEUE_FULL, assertInstanceOf(Admission.Rejected.class, twoMore).reason());
      assertEquals(Reason.TOO_LARGE, assertInstanceOf(Admission.Rejected.class, tooBig).reason());
      assertEquals(Reason.QUEUE_FULL, assertInstanceOf(Admission.Rejected.class, full).reason());
    } finally {
      gate.countDown();
      pool.close();
    }
    assertEquals(
        List.of("busy0", "busy1", "q0", "q1", "q2"),
        ran.stream().sorted().toList(),
        "exactly the accepted jobs ran");
    threads.assertAllEndedCleanly();
  }

  @Test
  void aFailingJobIsReportedAndItsWorkerGoesOn() throws Exception {
    List<String> failures = new CopyOnWriteArrayList<>();
    Dispatcher<String> pool =
        new Dispatcher<>(
            Context.background(),
            1, // one worker: the jobs after the failure can only run if it survived
            10,
            threads,
            (ctx, job) -> {
              if (job.equals("j3")) {
                throw new IllegalStateException("S3 said no");
              }
            },
            (job, e) -> failures.add(job + ": " + e.getMessage()));

    assertEquals(new Admission.Accepted(10), pool.submit(jobs("j", 10)));
    pool.close();

    assertEquals(List.of("j3: S3 said no"), failures);
    assertEquals(9, pool.done());
    assertEquals(1, pool.failed());
    threads.assertAllEndedCleanly();
  }

  @Test
  void afterCloseEveryRequestIsRejectedAsShuttingDown() throws Exception {
    Dispatcher<String> pool =
        new Dispatcher<>(
            Context.background(),
            2,
            10,
            threads,
            (ctx, job) -> {},
            WorkerPoolTest::noFailureExpected);
    pool.close();

    Admission late = pool.submit(List.of("late"));

    assertEquals(Reason.SHUTTING_DOWN, assertInstanceOf(Admission.Rejected.class, late).reason());
    threads.assertAllEndedCleanly();
  }

  @Test
  void cancellingTheContextStopsBusyWorkersAndRejectsNewRequests() throws Exception {
    CancelableContext ctx = Context.background().withCancel();
    CountDownLatch busy = new CountDownLatch(2);
    Dispatcher<String> pool =
        new Dispatcher<>(
            ctx,
            2,
            10,
            threads,
            (c, job) -> {
              busy.countDown();
              c.awaitDone(); // a long upload that honours its context
            },
            (job, e) -> {});
    assertEquals(new Admission.Accepted(5), pool.submit(jobs("j", 5)));
    busy.await();

    ctx.cancel();
    Admission late = pool.submit(List.of("late"));
    pool.close();

    assertEquals(Reason.SHUTTING_DOWN, assertInstanceOf(Admission.Rejected.class, late).reason());
    assertEquals(2, pool.done(), "the queued jobs were not started after the cancellation");
    threads.assertAllEndedCleanly();
  }
}
