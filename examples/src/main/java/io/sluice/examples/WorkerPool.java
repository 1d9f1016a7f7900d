package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.Received;
import io.sluice.core.TaskGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;

/**
 * The seed's "Handling 1 Million Requests per Minute with Go": a job queue and a fixed set of
 * workers behind a request handler — with the three traps of the Go dispatcher removed.
 *
 * <p>The Go versions, in the order the article tries them:
 *
 * <ol>
 *   <li>{@code go payload.UploadToS3()} per payload: unbounded goroutines, no back-pressure.
 *   <li>A buffered {@code Queue} and one processor: {@code Queue <- payload} in the handler blocks
 *       the request once the queue is full.
 *   <li>The dispatcher: a {@code JobQueue}, a {@code WorkerPool chan chan Job} and N workers. But
 *       its {@code dispatch} loop starts {@code go func(job Job) { jobChannel := <-d.WorkerPool;
 *       jobChannel <- job }(job)} for every job, "blocking until a worker is idle": while the
 *       workers are busy, every job becomes a parked goroutine, so the queue bound bounds nothing
 *       and memory grows with the backlog. The handler still blocks in {@code JobQueue <- work}
 *       when the queue is full, and {@code Stop} drops the jobs still queued.
 * </ol>
 *
 * <p>Here, with Sluice core only:
 *
 * <ul>
 *   <li>The queue is a {@link Channel#buffered bounded channel} and the workers receive from it
 *       directly: there is no dispatcher and no thread per job — the pool runs exactly {@code
 *       workers} threads however many jobs pass through it.
 *   <li>{@link Dispatcher#submit} never blocks: a request's jobs are queued all together if the
 *       queue has room for all of them, or not at all, and the handler answers at once (HTTP 202 or
 *       429, as {@code sluice-server} does).
 *   <li>The workers are tasks of a {@link TaskGroup}: a job that throws an exception is reported
 *       and the worker goes on; {@link Dispatcher#close()} stops admission, lets the workers finish
 *       what is queued and joins them; cancelling the context stops them at once.
 * </ul>
 *
 * <p>{@code sluice-jobs}' {@code JobEngine} is the full version (durable queue, retries, per-type
 * limits); this example shows the shape with nothing but the core primitives.
 */
public final class WorkerPool {
  private WorkerPool() {}

  /** The handler's answer to one request: every job queued, or none. */
  sealed interface Admission {
    /**
     * Every job of the request is queued (HTTP 202).
     *
     * @param jobs how many
     */
    record Accepted(int jobs) implements Admission {}

    /**
     * Nothing of the request was queued.
     *
     * @param reason why
     * @param message for people
     */
    record Rejected(Reason reason, String message) implements Admission {}
  }

  /** Why a request was rejected. */
  enum Reason {
    /** Not enough room for the whole request now: try again later (HTTP 429). */
    QUEUE_FULL,
    /** More jobs than the queue can ever hold: trying again cannot help (HTTP 413). */
    TOO_LARGE,
    /** The pool is shutting down (HTTP 503). */
    SHUTTING_DOWN
  }

  /**
   * The work for one job.
   *
   * @param <J> the job type
   */
  @FunctionalInterface
  interface Work<J> {
    /**
     * Does the job.
     *
     * @param ctx done when the pool is cancelled
     * @param job the job
     * @throws Exception a failure, reported to the pool's failure handler
     */
    void run(Context ctx, J job) throws Exception;
  }

  /**
   * A bounded job queue drained by a fixed number of workers.
   *
   * <p>Memory consistency effects: actions before a {@link #submit} that accepts a job
   * happen-before the job runs; actions of every job happen-before {@link #close()} returns.
   *
   * @param <J> the job type
   */
  static final class Dispatcher<J> {
    private final Channel<J> queue;
    private final TaskGroup workers;
    private final Work<? super J> work;
    private final BiConsumer<? super J, ? super Exception> onFailure;
    private final ReentrantLock admission = new ReentrantLock(); // held only while trySend-ing
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    /**
     * Starts {@code workers} workers over a queue of {@code capacity} jobs.
     *
     * @param ctx cancelling it stops the workers at once
     * @param workers how many jobs run at once, at least 1
     * @param capacity the most jobs waiting, at least 1
     * @param threads makes the worker threads
     * @param work the work per job
     * @param onFailure hears each job that threw an exception; the worker then goes on
     * @throws InterruptedException if interrupted while starting the workers
     */
    Dispatcher(
        Context ctx,
        int workers,
        int capacity,
        ThreadFactory threads,
        Work<? super J> work,
        BiConsumer<? super J, ? super Exception> onFailure)
        throws InterruptedException {
      if (workers < 1 || capacity < 1) {
        throw new IllegalArgumentException(
            "workers and capacity must be at least 1, were " + workers + " and " + capacity);
      }
      this.queue = Channel.buffered(capacity);
      this.work = Objects.requireNonNull(work, "work");
      this.onFailure = Objects.requireNonNull(onFailure, "onFailure");
      this.workers =
          TaskGroup.open(
              ctx, TaskGroup.Options.defaults().withName("worker").withThreadFactory(threads));
      for (int i = 0; i < workers; i++) {
        this.workers.go(this::workLoop);
      }
    }

    /** One worker: takes jobs until the queue is closed and drained, or the pool is cancelled. */
    private void workLoop(Context ctx) throws InterruptedException {
      try {
        while (queue.receiveOrClosed(ctx) instanceof Received.Value<J>(J job)) {
          try {
            work.run(ctx, job);
            done.incrementAndGet();
          } catch (InterruptedException e) {
            throw e; // close() gave up waiting: stop
          } catch (Exception e) {
            failed.incrementAndGet();
            onFailure.accept(job, e); // one bad job does not take its worker down
          }
        }
      } catch (ContextCancelledException cancelled) {
        // the pool was cancelled: stop without taking more jobs
      }
    }

    /**
     * Queues every job of one request, or none of them. Never blocks: it only ever waits for
     * another {@code submit} or {@code close} to finish their non-blocking steps.
     *
     * @param jobs the request's jobs
     * @return {@link Admission.Accepted} if all were queued, {@link Admission.Rejected} otherwise
     */
    Admission submit(List<? extends J> jobs) {
      if (jobs.size() > queue.cap()) {
        return new Admission.Rejected(
            Reason.TOO_LARGE, jobs.size() + " jobs can never fit a queue of " + queue.cap());
      }
      admission.lock();
      try {
        if (queue.isClosed() || workers.context().isDone()) {
          return new Admission.Rejected(Reason.SHUTTING_DOWN, "the pool is shutting down");
        }
        // Only submitters add to the queue, one at a time under this lock, and workers only take
        // from it: the room seen here can only grow until the sends below are done.
        int room = queue.cap() - queue.len();
        if (room < jobs.size()) {
          return new Admission.Rejected(
              Reason.QUEUE_FULL, "room for " + room + " jobs, not " + jobs.size());
        }
        for (J job : jobs) {
          if (!queue.trySend(job)) {
            throw new IllegalStateException("the room counted for " + job + " was gone");
          }
        }
        return new Admission.Accepted(jobs.size());
      } finally {
        admission.unlock();
      }
    }

    /**
     * Jobs that ended without throwing.
     *
     * @return the count so far
     */
    long done() {
      return done.get();
    }

    /**
     * Jobs that threw an exception.
     *
     * @return the count so far
     */
    long failed() {
      return failed.get();
    }

    /**
     * Stops admission, waits until the workers have run every queued job, and joins them. If the
     * waiting thread is interrupted, the workers are interrupted and joined at once, and the
     * thread's interrupt status is set again.
     *
     * @throws io.sluice.core.TaskFailedException if a job threw an {@link Error}: that stopped the
     *     pool (see the {@code Panics} example)
     */
    void close() {
      admission.lock();
      try {
        queue.close(); // the workers' loops end once the queue is drained
      } finally {
        admission.unlock();
      }
      try {
        workers.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        workers.close();
      }
    }
  }

  /**
   * Four workers "upload" for 20 ms each; ten requests of five payloads arrive at once against a
   * queue of twelve: some are accepted, the rest rejected at once, and every accepted payload is
   * uploaded before the pool closes.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Dispatcher<String> pool =
        new Dispatcher<>(
            Context.background(),
            4,
            12,
            Thread.ofVirtual().name("worker-", 0).factory(),
            (ctx, payload) -> Thread.sleep(20), // UploadToS3
            (payload, e) -> System.out.println("upload of " + payload + " failed: " + e));
    int accepted = 0;
    try {
      for (int request = 0; request < 10; request++) {
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
          payloads.add("request" + request + "/payload" + i);
        }
        switch (pool.submit(payloads)) {
          case Admission.Accepted a -> {
            accepted += a.jobs();
            System.out.println("request " + request + ": 202 Accepted, " + a.jobs() + " queued");
          }
          case Admission.Rejected r ->
              System.out.println(
                  "request " + request + ": rejected at once, " + r.reason() + ": " + r.message());
        }
      }
    } finally {
      pool.close();
    }
    System.out.println(
        accepted + " payloads accepted, " + pool.done() + " uploaded by 4 workers, none dropped");
  }
}
