package io.sluice.jobs;

import io.sluice.core.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.random.RandomGenerator;

/**
 * Runs jobs: a fixed pool of workers pulling from a {@link JobStore}, one handler per job type,
 * retries with backoff, dead letters, and a graceful shutdown.
 *
 * <p>Unlike the seed's dispatcher, which started a goroutine per job that blocked until a worker
 * was free, the engine has exactly {@link Builder#workers(int)} worker threads and no thread per
 * queued job: a burst can only fill the store up to its capacity, after which {@link #submit}
 * answers {@link Admission.Rejected} at once (or after a bounded wait you choose).
 *
 * <pre>{@code
 * try (JobStore store = JobStore.open(JobStoreOptions.defaults().withDirectory(dir));
 *     JobEngine engine = JobEngine.builder(store)
 *         .workers(64)
 *         .handle("upload", (job, ctx) -> upload(job.id(), job.payloadBytes()))
 *         .start()) {
 *   Admission a = engine.submit(List.of(JobSpec.of("upload", bytes)));
 * }
 * }</pre>
 *
 * <table class="striped">
 *   <caption>Operations</caption>
 *   <tr><th>operation</th><th>blocks?</th></tr>
 *   <tr><td>{@link #submit(List)}</td><td>only while the journal makes the batch durable</td></tr>
 *   <tr><td>{@link #submit(List, Duration)}</td><td>also up to the given time for room</td></tr>
 *   <tr><td>{@link #retryDead}, {@link #deleteDead}</td><td>only while the journal makes the
 *       change durable</td></tr>
 *   <tr><td>{@link #find}, {@link #deadLetters}, {@link #stats}</td><td>no</td></tr>
 *   <tr><td>{@link #shutdown(Duration)}</td><td>until running attempts end, at most the grace
 *       passed plus one second (or the interrupt grace, if less) for interrupted handlers to
 *       return, plus the store's close</td></tr>
 * </table>
 *
 * <p><b>Stuck attempts.</b> An attempt that overruns its timeout is interrupted, and its context
 * ends. A handler that ignores both (a busy loop, I/O that is not interruptible, a wait to enter a
 * {@code synchronized} block) would keep its worker for good, and enough of them would stop the
 * engine without a word. So if the handler has not returned {@link Builder#interruptGrace} after
 * the timeout, the engine declares the attempt stuck: it logs one warning naming the job, its type,
 * how far past its timeout it is and the top of the worker's stack; counts it ({@link
 * EngineStats#stuck()}, {@link EngineStats.TypeStats#stuck()}, {@link
 * EngineListener#attemptStuck}); and starts a replacement worker, so the other jobs keep the full
 * pool. The stuck job stays {@link JobState#RUNNING}, as its handler still runs, so it never runs
 * twice at once; it also keeps its place in its type's concurrency limit. If the handler returns,
 * the attempt is recorded as timed out, retried or dead as the type's {@link RetryPolicy} says, and
 * its thread ends. Stuck threads are bounded only by how many handlers misbehave: watch the gauge.
 *
 * <p>Memory consistency effects: actions in a thread before it submits a job happen-before the
 * handler's attempts at it; a handler's actions in an attempt happen-before the next attempt and
 * before {@link #find} reports the outcome.
 */
public sealed interface JobEngine extends AutoCloseable permits JobEngineImpl {

  /**
   * A builder for an engine that runs jobs from {@code store}. The engine owns the store from
   * {@link Builder#start()} on: closing the engine closes the store.
   *
   * @param store where jobs come from
   * @return a builder with the defaults: workers = 2 x available processors, no handlers, the
   *     store's clock, a 30-second shutdown grace, a 5-second interrupt grace
   */
  static Builder builder(JobStore store) {
    return new JobEngineImpl.BuilderImpl(store);
  }

  /**
   * Submits a batch, all or nothing, answering at once if there is no room for all of it.
   *
   * @param specs the jobs; each type must have a handler
   * @return accepted with the ids, or rejected with the reason
   * @throws IllegalArgumentException if a type has no handler or the batch is empty
   * @throws InterruptedException never while waiting for room; see {@link JobStore#submit}
   * @throws DurabilityUnknownException if the journal did not confirm the batch durable within
   *     {@link JobStoreOptions#ackTimeout()} (a hung disk): it may still be recorded, and then its
   *     jobs run; the exception carries their ids
   * @throws JournalStalledException if the journal is stalled: refused at once, nothing recorded
   * @throws JobStoreException if the journal failed
   */
  Admission submit(List<JobSpec> specs) throws InterruptedException;

  /**
   * Submits a batch, all or nothing, waiting up to {@code maxWait} for room.
   *
   * <p>Waits for room in the store, then for the journal. Interruption while waiting for room
   * throws {@link InterruptedException} and accepts nothing.
   *
   * @param specs the jobs; each type must have a handler
   * @param maxWait the longest wait for room
   * @return accepted with the ids, or rejected with the reason
   * @throws IllegalArgumentException if a type has no handler or the batch is empty
   * @throws InterruptedException if interrupted while waiting for room
   * @throws DurabilityUnknownException if the journal did not confirm the batch durable within
   *     {@link JobStoreOptions#ackTimeout()} (a hung disk): it may still be recorded, and then its
   *     jobs run; the exception carries their ids
   * @throws JournalStalledException if the journal is stalled: refused at once, nothing recorded
   * @throws JobStoreException if the journal failed
   */
  Admission submit(List<JobSpec> specs, Duration maxWait) throws InterruptedException;

  /**
   * A snapshot of a job.
   *
   * @param id the job
   * @return the job, or empty if unknown or long finished
   */
  Optional<Job> find(JobId id);

  /**
   * A page of dead letters in id order.
   *
   * @param after the last id of the previous page, or empty
   * @param limit the page size, at least 1
   * @return the page
   */
  List<Job> deadLetters(Optional<JobId> after, int limit);

  /**
   * Queues a dead letter again with a fresh count of attempts, if the queue has room: see {@link
   * JobStore#retryDead}.
   *
   * @param id the job
   * @return accepted with {@code id} once the retry is durable, or rejected: no room now ({@link
   *     Admission.Reason#QUEUE_FULL}, with a time to wait), shutting down, or not a dead letter
   *     ({@link Admission.Reason#NOT_A_DEAD_LETTER})
   * @throws JournalStalledException if the journal is stalled: refused, nothing recorded
   * @throws DurabilityUnknownException if the journal did not confirm the retry within {@link
   *     JobStoreOptions#ackTimeout()}: it stays a dead letter until the journal answers
   * @throws JobStoreException if the journal failed; it stays a dead letter
   */
  Admission retryDead(JobId id);

  /**
   * Deletes a dead letter, durably before this returns true: see {@link JobStore#deleteDead}.
   *
   * @param id the job
   * @return false if it is not a dead letter
   * @throws JournalStalledException if the journal is stalled: refused, nothing recorded
   * @throws DurabilityUnknownException if the journal did not confirm the deletion within {@link
   *     JobStoreOptions#ackTimeout()}: it stays a dead letter until the journal answers
   * @throws JobStoreException if the journal failed, or the store is closed; it stays a dead letter
   */
  boolean deleteDead(JobId id);

  /**
   * What the engine and its store are doing now.
   *
   * @return the figures
   */
  EngineStats stats();

  /**
   * Stops taking jobs, lets running attempts finish for up to {@code grace}, then cancels their
   * contexts and interrupts them. An interrupted attempt is not counted as a failure: the job stays
   * pending and runs again after the next start. Then closes the store. Calling it again waits for
   * the first call's outcome.
   *
   * <p>After the grace, the shutdown waits at most one second more (or the {@linkplain
   * Builder#interruptGrace interrupt grace}, if less) for the interrupted handlers to return. It
   * abandons those that do not, stuck ones included, and says which in one warning (and to the
   * listener, as {@link EngineListener.Outcome#ABANDONED}): their jobs stay running in the store,
   * which closes without them, so a durable store queues them again when it is next opened, their
   * attempt counted, as after a crash. Their threads run on until the handlers return, and then end
   * without touching the store. So {@code shutdown(grace)} returns after about {@code grace} plus
   * that second (plus the store's close), however the handlers behave.
   *
   * <p>The store's close waits for the journal's last write and force, and a disk that hangs holds
   * them for as long as it hangs (no Java code can end a stuck system call; see {@link
   * JobStore#close()}). To bound the whole stop, call this on a thread of your own and give up on
   * it once {@link JobStoreOptions#ackTimeout()} has passed with the journal stalled, as {@code
   * sluice serve} does: everything acknowledged was durable first and runs again after the next
   * start.
   *
   * @param grace how long running attempts may take to finish
   * @return true if every attempt finished within the grace period
   * @throws InterruptedException if interrupted before or while waiting; admission and claims are
   *     stopped all the same, and the rest of the shutdown goes on, on a thread of its own, to the
   *     end described above; a later call waits for its outcome
   */
  boolean shutdown(Duration grace) throws InterruptedException;

  /**
   * {@link #shutdown(Duration)} with the builder's grace period. Waits for the shutdown to end even
   * if the calling thread is interrupted, and sets its interrupt status again afterwards, so that
   * no worker outlives the call.
   */
  @Override
  void close();

  /** Configures and starts an engine. Each setter checks its argument at once. */
  interface Builder {
    /**
     * The number of worker threads: the most attempts that run at once.
     *
     * @param workers at least 1
     * @return this builder
     */
    Builder workers(int workers);

    /**
     * The handler for a type, with {@link HandlerOptions#defaults()}.
     *
     * @param type the job type
     * @param handler runs its jobs
     * @return this builder
     */
    Builder handle(String type, JobHandler handler);

    /**
     * The handler for a type, with its options.
     *
     * @param type the job type
     * @param handler runs its jobs
     * @param options concurrency, timeout, retry policy
     * @return this builder
     */
    Builder handle(String type, JobHandler handler, HandlerOptions options);

    /**
     * The clock for timeouts and retry times; by default the store's.
     *
     * @param clock the clock
     * @return this builder
     */
    Builder clock(Clock clock);

    /**
     * Makes the worker threads; by default virtual threads named {@code sluice-worker-N}.
     *
     * @param factory the factory
     * @return this builder
     */
    Builder threadFactory(ThreadFactory factory);

    /**
     * The randomness for retry jitter. The workers draw from it one at a time, so it need not be
     * thread-safe. By default {@link RandomGenerator#getDefault()}.
     *
     * @param random the generator
     * @return this builder
     */
    Builder random(RandomGenerator random);

    /**
     * How long {@link #close()} lets running attempts finish.
     *
     * @param grace not negative
     * @return this builder
     */
    Builder shutdownGrace(Duration grace);

    /**
     * How long an interrupted attempt may take to return: an attempt whose handler has not returned
     * this long after its timeout (when it was interrupted) is declared stuck, reported and its
     * worker replaced (see "Stuck attempts" in {@link JobEngine}); a shutdown waits at most this
     * long, or one second if less, for the attempts it interrupted. By default 5 seconds.
     *
     * @param grace positive
     * @return this builder
     */
    Builder interruptGrace(Duration grace);

    /**
     * Hears every attempt's outcome, for metrics.
     *
     * @param listener the listener
     * @return this builder
     */
    Builder listener(EngineListener listener);

    /**
     * Starts the workers.
     *
     * @return the running engine
     * @throws IllegalStateException if no handler was registered
     */
    JobEngine start();
  }
}
