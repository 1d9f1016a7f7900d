package io.sluice.jobs;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.DeadlineExceededException;
import io.sluice.core.internal.Nanos;
import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;
import io.sluice.core.internal.WatchedDeadlines;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.random.RandomGenerator;

/*
 * The worker pool.
 *
 * Design. `workers` threads each loop: claim a job from the store (the store blocks them while
 * nothing is due), run one attempt, report the outcome to the store, repeat. There is no
 * dispatcher and no thread per queued job: the seed's `chan chan Job` dispatcher spawned a
 * goroutine per job that blocked until a worker was free, so its queue bound meant nothing under a
 * burst. Here the store's capacity is the bound and the pool size is the only thread count.
 *
 * Per-type limits. A TypeRuntime counts running attempts; the store asks its gate under the store
 * lock before handing out a job of that type, so a worker never holds a job it may not run. When
 * a type at its limit frees a slot, the store is told (gateOpened) so waiting workers look again.
 *
 * Timeouts. Each attempt gets a context whose deadline is the type's timeout from its start, and
 * which hangs off the background context, so attempts on different workers share no monitor. No
 * timer per attempt: a worker publishes its Attempt in `attempts` (one slot per worker), and one
 * Watchdog entry in the clock's timer engine, armed for the earliest deadline it knows, expires
 * the overdue attempts when it fires (their context ends with DeadlineExceededException and their
 * worker is interrupted) and re-arms itself for the next. An attempt whose deadline comes before
 * the armed one arms an earlier entry; with one timeout per type that is rare, so in steady state
 * an attempt costs the watchdog one volatile read. A worker publishes its attempt and then reads
 * `armed`; a firing entry clears `armed` and then reads the slots; so every attempt is either seen
 * by that scan or arms an entry itself. A hard stop cancels the attempts it finds in the slots. A
 * worker publishes its attempt and then reads `hardStop`; the shutdown writes `hardStop` and then
 * reads the slots; so every attempt is either seen by the shutdown or sees the stop itself. An
 * Attempt's state decides, by one CAS, whether the handler finished first or a stop (watchdog or
 * shutdown) came first; if the stop won, the worker waits for its interrupt to land and clears it,
 * so no interrupt leaks into the next attempt.
 *
 * Claims. A worker's claim (JobStore.claim(succeeded, claimer)) records the successes of its
 * previous claim and takes up to CLAIM_BATCH due jobs, in one round trip to the store (one lock
 * acquisition and two journal records for the lot, over a local store). The store hands out no
 * more than an even share of the due jobs among the workers, and several only of a type whose
 * limit cannot bind (a worker holding a batch of a limited type would hold its slots while running
 * them one at a time); so with a shallow queue every worker takes one job, as before, and with a
 * backlog a worker takes several, which it would have waited for anyway. The jobs of a batch run
 * one after the other; a job claimed but not begun when the engine stops is given back (queued
 * again, its attempt not counted). Under a burst of submitters the store lock is shared by
 * hundreds of threads; one claim per job gave the workers so small a share of it that they fell
 * behind. A success is recorded at once instead of by the next claim when a listener is to hear
 * of it (the listener sees the job finished in the store) or the engine stops. Claims are the
 * store's own handles (a local store's entries), so reporting looks nothing up by id.
 *
 * Hand-back. A batch's jobs wait for the ones before them, so one attempt that hangs (an upload
 * waiting for its timeout) would hold the jobs claimed with it, unstarted, while other workers
 * idle. So a worker publishes its batch in `batches`, takes each next job by incrementing the
 * batch's cursor, and arms the watchdog for HAND_BACK after an attempt's start while jobs wait
 * behind it; when that passes, the watchdog moves the cursor to the end (one getAndSet: the worker
 * and the watchdog never both take a job) and gives the jobs it took back to the store, queued
 * again with their attempt not counted, where idle workers claim them.
 *
 * Stuck attempts. An interrupt only asks: a handler in a busy loop, in I/O that ignores
 * interrupts or waiting for a monitor keeps its worker however long it overruns. So the watchdog
 * also watches each attempt it expired: if the handler has not returned `interruptGrace` after the
 * deadline, one CAS (STOPPED -> STUCK, against the worker's STOPPED -> RETURNED when the handler
 * returns) decides that the attempt is stuck. The watchdog then takes the attempt and its batch out
 * of the worker's slots and hands the rest to a helper thread: one warning with the worker's
 * stack, the listener, the stuck count, the jobs claimed behind it given back, and a replacement
 * worker started on the same slot, so the pool keeps its size. The job stays RUNNING, as its
 * handler still runs: it can never run twice at once. If the handler ever returns (STUCK ->
 * RETURNED_LATE), its worker records the attempt as timed out, as any other, and ends instead of
 * claiming again: the slot is its replacement's. A worker touches its slots only by CAS on its own
 * attempt and batch, so a late return cannot clear what the replacement published.
 *
 * Shutdown. Stop admission and claims (idle workers return), wait up to the grace for the workers
 * to end, then cancel the engine context: every running attempt's context is cancelled and its
 * worker interrupted; those attempts are reported to the store as abandoned (queued again, not
 * failed). The shutdown then waits at most HARD_STOP_WAIT (or interruptGrace, if less) for the
 * interrupted handlers to return; it gives up on those that do not (STOPPED or STUCK -> GIVEN_UP,
 * again one CAS against the worker's), records the successes of their batches that their workers
 * had not recorded yet, reports them, and closes the store without them: they stay
 * RUNNING in the journal, so the next start queues them again, as after a crash. A given-up worker
 * whose handler returns later touches nothing and ends. The watchdog's helper threads (hand-backs,
 * stuck reports) are counted with the workers, and none starts once the shutdown is about to
 * close the store. Before it closes the store, the shutdown joins the threads of the counted
 * workers, which may still run their last lines (or the thread factory's code after them) when
 * they leave the count. A worker that sees the hard stop before
 * its handler starts does not start it. Workers are counted (`liveWorkers`) instead of joined, as
 * the set of threads changes when stuck ones are replaced. The first shutdown call stops admission
 * and claims on its own thread and runs the rest (the waits, the hard stop, closing the store) on
 * a thread of the shutdown's own, whose outcome every call waits for: a caller that is interrupted
 * stops waiting, and the shutdown still ends, so no worker and no store is left behind.
 */
final class JobEngineImpl implements JobEngine {

  private static final System.Logger LOG = System.getLogger(JobEngine.class.getName());
  private static final int MAX_ERROR_CHARS = 2_000;

  /** The most jobs a worker claims at once (see the class comment). */
  static final int CLAIM_BATCH = 16;

  /** How long an attempt may hold the jobs claimed after it before they are given back. */
  static final Duration HAND_BACK = Duration.ofSeconds(1);

  private static final long HAND_BACK_NANOS = HAND_BACK.toNanos();

  /** The default {@link JobEngine.Builder#interruptGrace}. */
  static final Duration DEFAULT_INTERRUPT_GRACE = Duration.ofSeconds(5);

  /**
   * The longest a shutdown waits, after its grace, for the handlers it interrupted to return
   * (shorter if the interrupt grace is).
   */
  static final Duration HARD_STOP_WAIT = Duration.ofSeconds(1);

  /** How many frames of a stuck worker's stack its warning shows at least, and at most. */
  private static final int STACK_FRAMES = 5;

  private static final int MAX_STACK_FRAMES = 24;

  private final JobStore store;
  private final JobStore.Claimer claimer;
  private final Map<String, TypeRuntime> types;
  private final Clock clock;
  private final RandomGenerator random; // drawn from under randomLock
  private final ReentrantLock randomLock = new ReentrantLock();
  private final Duration shutdownGrace;
  private final Duration interruptGrace;
  private final long interruptGraceNanos;
  private final EngineListener listener;
  private final Context background;
  private final AtomicReferenceArray<Attempt> attempts;
  private final AtomicReferenceArray<Batch> batches; // each worker's claims; see Hand-back
  private final Watchdog watchdog = new Watchdog();
  private final ThreadFactory threadFactory;
  private final int poolSize;
  private final Set<Thread> workers = ConcurrentHashMap.newKeySet(); // worker threads not ended
  private final Set<Attempt> stuck = ConcurrentHashMap.newKeySet(); // see Stuck attempts
  private final ReentrantLock poolLock = new ReentrantLock();
  private final Condition workerEnded = poolLock.newCondition();
  private int liveWorkers; // workers and helpers not ended that the shutdown waits for; poolLock
  private boolean helpersClosed; // set by the shutdown before it closes the store; under poolLock
  // workers that left the count (their loops returned); the shutdown joins them; under poolLock
  private final List<Thread> leftWorkers = new ArrayList<>();
  private final Object shutdownLock = new Object();
  private volatile boolean stopping; // set first by shutdown: workers begin no more claimed jobs
  private volatile boolean hardStop;
  private CompletableFuture<Boolean> shutdown; // set by the first shutdown call; under shutdownLock
  private Thread shutdownThread; // runs it; under shutdownLock
  private volatile Map<String, Long> unhandledAtStart = Map.of(); // set once, at start

  /**
   * For tests: runs when a stop (the watchdog's or the shutdown's) has ended an attempt's context
   * and not yet taken the attempt from its handler, so a test can let the handler return first.
   */
  volatile Runnable stopStep = () -> {};

  private JobEngineImpl(BuilderImpl b) {
    this.store = b.store;
    this.clock = b.clock;
    this.random = b.random;
    this.shutdownGrace = b.shutdownGrace;
    this.interruptGrace = b.interruptGrace;
    this.interruptGraceNanos = Nanos.of(b.interruptGrace);
    this.listener = b.listener;
    this.types = new HashMap<>();
    b.handlers.forEach((type, h) -> types.put(type, new TypeRuntime(type, h.handler, h.options)));
    this.claimer = new JobStore.Claimer(new Gate(b.workers), CLAIM_BATCH, b.workers);
    this.background = Context.background(clock);
    this.attempts = new AtomicReferenceArray<>(b.workers);
    this.batches = new AtomicReferenceArray<>(b.workers);
    this.threadFactory = b.threadFactory;
    this.poolSize = b.workers;
  }

  private JobEngineImpl startWorkers() {
    warnOfUnhandledTypes();
    List<Thread> threads = new ArrayList<>(poolSize);
    for (int i = 0; i < poolSize; i++) {
      int slot = i;
      threads.add(newWorker(() -> work(slot)));
    }
    poolLock.lock();
    try {
      liveWorkers = poolSize;
      workers.addAll(threads);
    } finally {
      poolLock.unlock();
    }
    threads.forEach(Thread::start);
    return this;
  }

  private Thread newWorker(Runnable work) {
    return Objects.requireNonNull(
        threadFactory.newThread(work), "the thread factory made no thread for a worker");
  }

  /**
   * Pending jobs whose type has no handler never run and nothing else says so (a deploy that
   * dropped or renamed a type leaves them): warns once, with the count per type.
   */
  private void warnOfUnhandledTypes() {
    Map<String, Long> unhandled = new TreeMap<>(store.pendingByType());
    unhandled.keySet().removeAll(types.keySet());
    unhandledAtStart = Map.copyOf(unhandled);
    if (unhandled.isEmpty()) {
      return;
    }
    long jobs = unhandled.values().stream().mapToLong(Long::longValue).sum();
    StringBuilder byType = new StringBuilder();
    unhandled.forEach(
        (type, n) ->
            byType
                .append(byType.isEmpty() ? "" : ", ")
                .append('"')
                .append(type)
                .append("\" (")
                .append(n)
                .append(')'));
    LOG.log(
        System.Logger.Level.WARNING,
        jobs
            + (jobs == 1 ? " pending job has a type" : " pending jobs have types")
            + " this engine has no handler for, and will not run until an engine with a handler"
            + " for them starts: "
            + byType
            + ". This engine handles "
            + new TreeMap<>(types).keySet()
            + ". Were these types dropped or renamed in a deploy? Register a handler for them"
            + " (JobEngine.Builder.handle); meanwhile they take room in the queue.");
  }

  // ---------------------------------------------------------------- submission and queries

  @Override
  public Admission submit(List<JobSpec> specs) throws InterruptedException {
    return submit(specs, Duration.ZERO);
  }

  @Override
  public Admission submit(List<JobSpec> specs, Duration maxWait) throws InterruptedException {
    for (JobSpec spec : specs) {
      if (!types.containsKey(spec.type())) {
        throw new IllegalArgumentException(
            "no handler for job type \""
                + spec.type()
                + "\"; this engine handles "
                + types.keySet());
      }
    }
    return store.submit(specs, maxWait);
  }

  @Override
  public Optional<Job> find(JobId id) {
    return store.find(id);
  }

  @Override
  public List<Job> deadLetters(Optional<JobId> after, int limit) {
    return store.deadLetters(after, limit);
  }

  @Override
  public Admission retryDead(JobId id) {
    return store.retryDead(id);
  }

  @Override
  public boolean deleteDead(JobId id) {
    return store.deleteDead(id);
  }

  @Override
  public EngineStats stats() {
    Map<String, EngineStats.TypeStats> byType = new LinkedHashMap<>();
    types.forEach((name, t) -> byType.put(name, t.stats()));
    int busy = 0;
    for (int i = 0; i < attempts.length(); i++) {
      if (attempts.get(i) != null) {
        busy++;
      }
    }
    return new EngineStats(poolSize, busy, stuckNow(), store.counts(), byType, unhandledAtStart);
  }

  /** Attempts declared stuck whose handlers have not returned. */
  private int stuckNow() {
    int n = 0;
    for (Attempt a : stuck) {
      if (a.isStuck()) {
        n++;
      }
    }
    return n;
  }

  // ---------------------------------------------------------------- workers

  private void work(int slot) {
    List<JobStore.Claim> succeeded = new ArrayList<>(); // successes the next claim records
    Batch batch = null;
    boolean counted = true; // whether the shutdown still waits for this worker
    try {
      while (true) {
        List<JobStore.Claim> claims = store.claim(succeeded, claimer);
        succeeded.clear();
        if (claims.isEmpty()) {
          return;
        }
        batch = new Batch(claims, succeeded);
        batches.set(slot, batch);
        int n = claims.size();
        for (int i; !stopping && (i = batch.next.getAndIncrement()) < n; ) {
          JobStore.Claim claim = claims.get(i);
          Job job = claim.job();
          TypeRuntime type = types.get(job.type());
          Ending ending;
          try {
            ending = runAttempt(job, claim, type, slot, batch, i + 1 < n);
          } finally {
            type.leave(store);
          }
          switch (ending) {
            case SUCCEEDED_UNRECORDED -> succeeded.add(claim);
            case REPORTED -> {}
            case REPLACED -> { // stuck, and replaced: the slots are the replacement's now
              Batch mine = batch;
              batch = null;
              giveBack(mine);
              recordSuccesses(mine);
              return;
            }
            case GIVEN_UP -> { // the shutdown gave up on this worker and closed the store
              batch = null;
              counted = false;
              return;
            }
          }
          Thread.interrupted(); // a handler may have interrupted its own thread
        }
        batches.compareAndSet(slot, batch, null);
        giveBack(batch);
        batch = null;
        if (hardStop) {
          for (JobStore.Claim claim : succeeded) {
            store.succeeded(claim);
          }
          return;
        }
      }
    } catch (InterruptedException e) {
      // shutdown interrupted a worker waiting for a job
    } catch (RuntimeException | Error e) {
      if (batch == null) {
        for (JobStore.Claim claim : succeeded) { // recorded unless the failure came after that
          try {
            store.succeeded(claim);
          } catch (RuntimeException again) {
            e.addSuppressed(again);
          }
        }
      } else {
        recordSuccesses(batch);
      }
      LOG.log(System.Logger.Level.ERROR, "job worker stopped by an unexpected failure", e);
      if (batch != null) {
        batches.compareAndSet(slot, batch, null);
        giveBack(batch);
      }
    } finally {
      workers.remove(Thread.currentThread());
      if (counted) {
        leaveCount();
      }
    }
  }

  /**
   * The last lines of a counted pool thread (a worker or a watchdog helper): it leaves the count
   * and is handed to shutdown, which joins it before it closes the store.
   */
  private void leaveCount() {
    poolLock.lock();
    try {
      liveWorkers--;
      leftWorkers.add(Thread.currentThread());
      workerEnded.signalAll();
    } finally {
      poolLock.unlock();
    }
  }

  /** How an attempt left its worker. */
  private enum Ending {
    /** Succeeded; the worker's next claim records it. */
    SUCCEEDED_UNRECORDED,
    /** Its outcome is recorded; the worker goes on. */
    REPORTED,
    /** It was stuck and its outcome is recorded now; a replacement has the worker's slots. */
    REPLACED,
    /** The shutdown gave up waiting for it: the worker must touch nothing more. */
    GIVEN_UP
  }

  /**
   * A worker's claims, the cursor to the next one not begun (see Hand-back), and the successes of
   * the batch not yet recorded, which whoever takes them first records if the worker gets stuck.
   */
  private static final class Batch {
    final List<JobStore.Claim> claims;
    final AtomicInteger next = new AtomicInteger();
    private final List<JobStore.Claim> succeeded; // the worker's; see recordSuccesses
    private final AtomicBoolean successesTaken = new AtomicBoolean();

    Batch(List<JobStore.Claim> claims, List<JobStore.Claim> succeeded) {
      this.claims = claims;
      this.succeeded = succeeded;
    }

    /** Whether a claim waits, not begun. */
    boolean waiting() {
      return next.get() < claims.size();
    }
  }

  /**
   * Records the successes of a stuck worker's batch, once: called by the worker if its handler
   * returns and by the helper that replaced it, whichever comes first. The worker added them before
   * the stuck attempt began, and adds none after it.
   */
  private void recordSuccesses(Batch batch) {
    if (!batch.successesTaken.compareAndSet(false, true)) {
      return;
    }
    for (JobStore.Claim claim : batch.succeeded) {
      try {
        store.succeeded(claim);
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.ERROR,
            "could not record the success of job " + claim.job().id(),
            e);
      }
    }
  }

  /**
   * Takes every claim of {@code batch} not begun (by the worker or by an earlier call) and gives it
   * back to the store.
   */
  private void giveBack(Batch batch) {
    int n = batch.claims.size();
    int from = batch.next.getAndSet(n);
    if (from < n) {
      giveBack(batch.claims, from);
    }
  }

  /**
   * Gives back the claims from {@code from} on, which were claimed with the ones before them but
   * will not run here (the engine is stopping, or they waited too long): queued again, the attempts
   * not counted.
   */
  private void giveBack(List<JobStore.Claim> claims, int from) {
    for (int i = from; i < claims.size(); i++) {
      JobStore.Claim claim = claims.get(i);
      try {
        store.abandoned(claim);
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.ERROR,
            "could not give back job " + claim.job().id() + " claimed but not begun",
            e);
      } finally {
        types.get(claim.job().type()).leave(store);
      }
    }
  }

  /**
   * The per-type limits, as the store asks them: a type is unlimited when its limit could not bind
   * even if every worker held a whole batch of it.
   */
  private final class Gate implements JobStore.TypeGate {
    private final long unlimitedFrom;

    Gate(int workers) {
      this.unlimitedFrom = (long) workers * CLAIM_BATCH;
    }

    @Override
    public boolean tryEnter(String type) {
      TypeRuntime runtime = types.get(type);
      return runtime != null && runtime.tryEnter();
    }

    @Override
    public boolean unlimited(String type) {
      TypeRuntime runtime = types.get(type);
      return runtime != null && runtime.options.concurrency() >= unlimitedFrom;
    }
  }

  /**
   * Runs one attempt of {@code job} and reports its outcome to the store, except a success that the
   * worker's next claim may record, and except an attempt the shutdown gave up on.
   *
   * @param claim what the store handed out for the job
   * @param batch the worker's batch, which holds the claim
   * @param jobsWaitBehind whether jobs of the worker's batch wait for this attempt (see Hand-back)
   * @return how the attempt left the worker
   */
  private Ending runAttempt(
      Job job,
      JobStore.Claim claim,
      TypeRuntime type,
      int slot,
      Batch batch,
      boolean jobsWaitBehind) {
    RetryPolicy retry = type.options.retry();
    if (job.attempts() > retry.maxAttempts()) {
      // Only a crash mid-attempt leaves more started attempts than allowed: a job that keeps
      // taking the process down must not run forever.
      String error =
          "the process stopped during its attempts "
              + job.attempts()
              + " times in all"
              + job.lastError().map(e -> "; last error: " + e).orElse("");
      dead(job, claim, type, error);
      return Ending.REPORTED;
    }
    type.attempts.increment();
    long start = clock.nanoTime();
    long deadline = Nanos.add(start, type.timeoutNanos);
    CancelableContext ctx = WatchedDeadlines.withDeadline(background, deadline);
    Attempt attempt =
        new Attempt(
            job,
            type,
            batch,
            Thread.currentThread(),
            ctx,
            start,
            deadline,
            deadline == Long.MAX_VALUE ? Long.MAX_VALUE : Nanos.add(deadline, interruptGraceNanos));
    Throwable failure = null;
    int ended;
    boolean overran;
    boolean stopped; // the watchdog or the shutdown ended its context before the handler returned
    try {
      attempts.set(slot, attempt);
      if (hardStop) {
        attempt.stopBy(false, stopStep); // the engine is stopping: the handler does not start
      } else {
        watchdog.watch(deadline);
        if (jobsWaitBehind) {
          watchdog.watch(Nanos.add(start, HAND_BACK_NANOS));
        }
        try {
          type.handler.handle(job, ctx);
        } catch (Throwable t) {
          failure = t;
        }
      }
      ended = attempt.finish();
      stopped = ctx.isDone(); // nothing else ends it: it hangs off the background context
      overran = ctx.err().orElse(null) instanceof DeadlineExceededException;
    } finally {
      attempts.compareAndSet(slot, attempt, null); // not the replacement's, if this one was stuck
      ctx.close();
    }
    if (ended == Attempt.GIVEN_UP) {
      return Ending.GIVEN_UP; // reported by the shutdown, and the store is closed
    }
    boolean late = ended == Attempt.RETURNED_LATE;
    if (late) {
      stuck.remove(attempt);
    }
    boolean timed = listener != EngineListener.NONE; // a clock read saved when nobody listens
    long returned = timed || late ? clock.nanoTime() : 0;
    EngineListener.Outcome outcome;
    // A handler that returns normally once its context ended (as one waiting on ctx.done() does)
    // was stopped, not done: that is a timeout or an abandon, whichever side won the race
    if (failure == null && ended == Attempt.FINISHED && !stopped) {
      outcome = EngineListener.Outcome.SUCCEEDED;
      type.succeeded.increment();
      if (!timed) {
        return Ending.SUCCEEDED_UNRECORDED;
      }
      store.succeeded(claim);
    } else if (hardStop) {
      // Stopped by the shutdown, however the handler reacted: not the job's fault.
      outcome = EngineListener.Outcome.ABANDONED;
      store.abandoned(claim);
    } else if (ended != Attempt.FINISHED || overran) {
      outcome = EngineListener.Outcome.TIMED_OUT;
      type.timedOut.increment();
      failed(
          job,
          claim,
          type,
          "timed out after "
              + type.options.timeout()
              + " (attempt "
              + job.attempts()
              + ")"
              + (late
                  ? "; the handler ignored the interrupt and returned "
                      + Duration.ofNanos(returned - deadline)
                      + " after the timeout"
                  : "")
              + (failure == null ? "" : ": " + describe(failure)));
    } else {
      outcome = EngineListener.Outcome.FAILED;
      type.failed.increment();
      if (failure instanceof PermanentJobFailure) {
        dead(job, claim, type, describe(failure)); // trying again cannot help: no retry
      } else {
        failed(job, claim, type, describe(failure));
      }
    }
    if (timed) {
      Duration elapsed = Duration.ofNanos(returned - start);
      notifyListener(() -> listener.attemptFinished(job, outcome, elapsed));
    }
    return late ? Ending.REPLACED : Ending.REPORTED;
  }

  private void failed(Job job, JobStore.Claim claim, TypeRuntime type, String error) {
    if (!type.options.retry().allowsAnotherAfter(job.attempts())) {
      dead(job, claim, type, error);
      return;
    }
    Duration delay;
    randomLock.lock(); // the generator need not be thread-safe, and the default one is not
    try {
      delay = type.options.retry().delayAfter(job.attempts(), random);
    } finally {
      randomLock.unlock();
    }
    type.retries.increment();
    store.failed(claim, error, Optional.of(clock.now().plus(delay)));
    LOG.log(
        System.Logger.Level.DEBUG,
        () ->
            "job "
                + job.id()
                + " ("
                + job.type()
                + ") attempt "
                + job.attempts()
                + " failed, retry in "
                + delay
                + ": "
                + error);
    notifyListener(() -> listener.retryScheduled(job, delay));
  }

  private void dead(Job job, JobStore.Claim claim, TypeRuntime type, String error) {
    type.dead.increment();
    store.failed(claim, error, Optional.empty());
    LOG.log(
        System.Logger.Level.WARNING,
        () ->
            "job "
                + job.id()
                + " ("
                + job.type()
                + ") is a dead letter after "
                + job.attempts()
                + " attempts: "
                + error);
    notifyListener(() -> listener.died(job, error));
  }

  /**
   * Calls the listener. Whatever it throws, an Error included (an assertion in a test's listener, a
   * stack overflow), is logged and ignored: it must not end a worker, a stuck worker's helper or
   * the shutdown, which would leave the pool a worker short or the store open.
   */
  private static void notifyListener(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException | Error e) {
      LOG.log(System.Logger.Level.WARNING, "an engine listener failed; ignored", e);
    }
  }

  /**
   * The error text kept with a job: the exception and its causes, one line each, bounded. The
   * handler's exception is its code: an accessor of it that throws ends the text there, with a
   * note, instead of failing the worker.
   */
  static String describe(Throwable failure) {
    StringBuilder text = new StringBuilder();
    Throwable t = failure;
    try {
      for (int depth = 0; t != null && depth < 5; depth++, t = t.getCause()) {
        if (depth > 0) {
          text.append(" <- caused by ");
        }
        text.append(t.getClass().getName());
        String message = t.getMessage();
        if (message != null) {
          text.append(": ").append(message);
        }
      }
    } catch (RuntimeException | StackOverflowError e) {
      text.append(" (and its description failed: ").append(e.getClass().getName()).append(')');
    }
    return text.length() <= MAX_ERROR_CHARS
        ? text.toString()
        : text.substring(0, MAX_ERROR_CHARS - 3) + "...";
  }

  // ---------------------------------------------------------------- shutdown

  @Override
  public boolean shutdown(Duration grace) throws InterruptedException {
    long graceNanos = Nanos.of(Objects.requireNonNull(grace, "grace"));
    CompletableFuture<Boolean> outcome;
    Thread thread;
    synchronized (shutdownLock) {
      if (shutdown == null) {
        stopping = true;
        store.stopAdmission();
        store.stopClaims();
        CompletableFuture<Boolean> f = new CompletableFuture<>();
        shutdownThread =
            Thread.ofVirtual()
                .name("sluice-engine-shutdown")
                .start(
                    () -> {
                      try {
                        f.complete(stopWorkersAndStore(graceNanos));
                      } catch (Throwable t) {
                        f.completeExceptionally(t);
                      }
                    });
        shutdown = f;
      }
      outcome = shutdown;
      thread = shutdownThread;
    }
    try {
      boolean graceful = outcome.get();
      thread.join(); // it has only to end: no thread of the engine outlives the call
      return graceful;
    } catch (ExecutionException e) {
      thread.join();
      Throwable t = e.getCause();
      if (t instanceof RuntimeException r) {
        throw r;
      }
      if (t instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("the shutdown failed", t);
    }
  }

  /**
   * The shutdown after admission and claims stopped, on its own thread, which nothing interrupts.
   */
  private boolean stopWorkersAndStore(long graceNanos) throws InterruptedException {
    boolean graceful = awaitWorkers(graceNanos);
    if (!graceful) {
      hardStop = true;
      cancelAttempts();
      workers.forEach(Thread::interrupt);
      if (!awaitWorkers(hardStopWaitNanos())) {
        giveUpOnAttempts();
        awaitWorkers(Long.MAX_VALUE); // those left are recording an outcome, not in a handler
      }
    }
    cancelAttempts();
    watchdog.close();
    poolLock.lock();
    try {
      helpersClosed = true; // a watchdog firing still may not start one the store would miss
    } finally {
      poolLock.unlock();
    }
    awaitWorkers(Long.MAX_VALUE); // helpers started before: they do not wait for anything
    joinLeftWorkers();
    store.close();
    return graceful;
  }

  /**
   * Starts a helper thread of the watchdog's (a hand-back; a stuck worker's replacement and
   * report), which gives jobs back to the store: the shutdown waits for it as for a worker, so it
   * never gives a job back to a closed store (the job would stay RUNNING in the journal, its
   * attempt counted at the next start though it never began). Once the shutdown is about to close
   * the store, starts none: every worker has ended by then, and given back what it held.
   */
  private void startHelper(String name, Runnable work) {
    poolLock.lock();
    try {
      if (helpersClosed) {
        return;
      }
      liveWorkers++;
    } finally {
      poolLock.unlock();
    }
    boolean started = false;
    try {
      Thread.ofVirtual()
          .name(name)
          .start(
              () -> {
                try {
                  work.run();
                } finally {
                  leaveCount();
                }
              });
      started = true;
    } finally {
      if (!started) {
        poolLock.lock();
        try {
          liveWorkers--;
          workerEnded.signalAll();
        } finally {
          poolLock.unlock();
        }
      }
    }
  }

  /**
   * Waits for the threads of the workers that left the count to end: a worker leaves it in its last
   * lines, and its thread may run code of the thread factory's after them; so no thread of a
   * counted worker outlives the shutdown. Given-up workers are not among them.
   */
  private void joinLeftWorkers() throws InterruptedException {
    List<Thread> left;
    poolLock.lock();
    try {
      left = List.copyOf(leftWorkers);
    } finally {
      poolLock.unlock();
    }
    for (Thread t : left) {
      t.join();
    }
  }

  /** How long a hard stop waits for the handlers it interrupted: see {@link #HARD_STOP_WAIT}. */
  private long hardStopWaitNanos() {
    return Math.min(interruptGraceNanos, HARD_STOP_WAIT.toNanos());
  }

  /** Waits up to {@code nanos} until no worker is left that the shutdown waits for. */
  private boolean awaitWorkers(long nanos) throws InterruptedException {
    poolLock.lock();
    try {
      while (liveWorkers > 0) {
        if (nanos <= 0) {
          return false;
        }
        nanos = workerEnded.awaitNanos(nanos);
      }
      return true;
    } finally {
      poolLock.unlock();
    }
  }

  private void cancelAttempts() {
    for (int i = 0; i < attempts.length(); i++) {
      Attempt attempt = attempts.get(i);
      if (attempt != null) {
        attempt.stopBy(false, stopStep);
      }
    }
  }

  /**
   * Gives up on the attempts whose handlers did not return after the hard stop's interrupt: their
   * workers no longer hold up the shutdown, and will touch nothing if the handlers return. Their
   * jobs stay RUNNING in the store, which closes without them: a journal queues them again at the
   * next start. The successes their workers had not recorded yet (jobs of the same batch that ran
   * before them) are recorded now. Reports them in one warning and to the listener, as abandoned.
   */
  private void giveUpOnAttempts() {
    List<Attempt> givenUp = new ArrayList<>();
    for (int i = 0; i < attempts.length(); i++) {
      Attempt a = attempts.get(i);
      if (a != null && a.giveUp()) {
        givenUp.add(a);
      }
    }
    for (Attempt a : stuck) {
      if (a.giveUp()) {
        givenUp.add(a);
      }
    }
    if (givenUp.isEmpty()) {
      return;
    }
    poolLock.lock();
    try {
      liveWorkers -= givenUp.size();
      workerEnded.signalAll();
    } finally {
      poolLock.unlock();
    }
    long now = clock.nanoTime();
    StringBuilder jobs = new StringBuilder();
    for (Attempt a : givenUp) {
      giveBack(a.batch); // the jobs claimed behind it, not begun: queued again, not counted
      // The jobs of its batch that succeeded before it: the worker's next claim would have
      // recorded them, and a given-up worker touches nothing more, so they would run again.
      recordSuccesses(a.batch);
      jobs.append(jobs.isEmpty() ? "" : "; ")
          .append(a.job.id())
          .append(" (")
          .append(a.job.type())
          .append(", attempt ")
          .append(a.job.attempts())
          .append(", on ")
          .append(a.thread.getName().isEmpty() ? a.thread.toString() : a.thread.getName())
          .append(')');
      Duration elapsed = Duration.ofNanos(now - a.start);
      notifyListener(
          () -> listener.attemptFinished(a.job, EngineListener.Outcome.ABANDONED, elapsed));
    }
    LOG.log(
        System.Logger.Level.WARNING,
        "shutdown abandoned "
            + givenUp.size()
            + (givenUp.size() == 1 ? " job whose handler" : " jobs whose handlers")
            + " did not return "
            + Duration.ofNanos(hardStopWaitNanos())
            + " after the interrupt: "
            + jobs
            + ". They stay RUNNING in the journal and run again, their attempt counted, when the"
            + " store is next opened; their worker threads run on until the handlers return.");
  }

  @Override
  public void close() {
    boolean interrupted = false;
    while (true) {
      try {
        shutdown(shutdownGrace);
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** For tests: whether every worker thread has ended. */
  boolean workersEnded() {
    return workers.isEmpty();
  }

  // ---------------------------------------------------------------- stuck attempts

  /**
   * Declares the attempt in slot {@code i} stuck, unless its handler returned first; on the
   * watchdog's thread, so the rest (logging, store calls, a thread factory) goes to a helper.
   */
  private void declareStuck(int i, Attempt a, long now) {
    stuck.add(a); // before the CAS: a handler returning at once removes it again
    if (!a.markStuck()) {
      stuck.remove(a);
      return;
    }
    attempts.compareAndSet(i, a, null);
    batches.compareAndSet(i, a.batch, null);
    a.type.stuck.increment();
    Duration overdue = Duration.ofNanos(now - a.deadline);
    startHelper("sluice-stuck-" + i, () -> replaceStuck(i, a, overdue));
  }

  /** Replaces a stuck worker, gives back what it held and reports it. */
  private void replaceStuck(int slot, Attempt a, Duration overdue) {
    StackTraceElement[] stack = a.thread.getStackTrace();
    boolean replaced = startReplacement(slot);
    giveBack(a.batch);
    recordSuccesses(a.batch);
    LOG.log(
        System.Logger.Level.WARNING,
        "job "
            + a.job.id()
            + " ("
            + a.job.type()
            + ") is stuck: attempt "
            + a.job.attempts()
            + " overran its timeout of "
            + a.type.options.timeout()
            + " by "
            + overdue
            + " and its handler has not returned "
            + interruptGrace
            + " after the interrupt, so it ignores interruption (a busy loop, I/O that is not"
            + " interruptible, a wait for a monitor?). The job stays RUNNING until the handler"
            + " returns, then fails as timed out. Worker thread "
            + (a.thread.getName().isEmpty() ? a.thread.toString() : a.thread.getName())
            + " stays with it"
            + (replaced ? "; a replacement worker has started" : "")
            + " ("
            + stuckNow()
            + " stuck now). It is at:"
            + (stack.length == 0 ? " (no stack: the thread has ended)" : stackTop(stack)));
    notifyListener(() -> listener.attemptStuck(a.job, overdue));
  }

  /**
   * The top of a stuck worker's stack, one frame a line: at least {@link #STACK_FRAMES} frames, and
   * more if those are all the JDK's, down to the first frame of other code (the handler's, most
   * likely), at most {@link #MAX_STACK_FRAMES}.
   */
  static String stackTop(StackTraceElement[] stack) {
    StringBuilder top = new StringBuilder();
    int shown = 0;
    boolean outsideJdk = false;
    while (shown < stack.length
        && shown < MAX_STACK_FRAMES
        && (shown < STACK_FRAMES || !outsideJdk)) {
      StackTraceElement frame = stack[shown++];
      top.append("\n\tat ").append(frame);
      String c = frame.getClassName();
      outsideJdk |= !(c.startsWith("java.") || c.startsWith("jdk.") || c.startsWith("sun."));
    }
    if (shown < stack.length) {
      top.append("\n\t... ").append(stack.length - shown).append(" more");
    }
    return top.toString();
  }

  /** Starts a worker on a stuck one's slot, unless the engine is stopping; true if it started. */
  private boolean startReplacement(int slot) {
    poolLock.lock();
    try {
      if (stopping) {
        return false;
      }
      Thread t = newWorker(() -> work(slot));
      liveWorkers++;
      workers.add(t);
      try {
        t.start();
      } catch (RuntimeException | Error e) {
        liveWorkers--;
        workers.remove(t);
        throw e;
      }
      return true;
    } catch (RuntimeException e) {
      LOG.log(
          System.Logger.Level.ERROR,
          "could not start a worker to replace a stuck one: the engine runs one worker short",
          e);
      return false;
    } finally {
      poolLock.unlock();
    }
  }

  // ---------------------------------------------------------------- parts

  /**
   * One attempt: its context and deadline, and the races between the handler returning and a stop
   * (the watchdog's or the shutdown's) interrupting it, the watchdog declaring it stuck, or the
   * shutdown giving up on it. Each race is one CAS on {@code state}:
   *
   * <pre>
   * RUNNING -> FINISHED                  the handler returned first (worker)
   * RUNNING -> STOPPING -> STOPPED       a stop interrupted it (watchdog or shutdown)
   * STOPPED -> RETURNED                  the handler returned after the stop (worker)
   * STOPPED -> STUCK                     not returned in the interrupt grace (watchdog)
   * STUCK -> RETURNED_LATE               the handler returned at last (worker)
   * STOPPED or STUCK -> GIVEN_UP         the shutdown stopped waiting for it
   * </pre>
   */
  private static final class Attempt {
    static final int RUNNING = 0;
    static final int FINISHED = 1;
    static final int STOPPING = 2;
    static final int STOPPED = 3;
    static final int RETURNED = 4;
    static final int STUCK = 5;
    static final int RETURNED_LATE = 6;
    static final int GIVEN_UP = 7;
    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(Attempt.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Job job;
    final TypeRuntime type;
    final Batch batch;
    final CancelableContext ctx;
    final long start;
    final long deadline;
    final long stuckAt; // the deadline plus the interrupt grace; MAX_VALUE: never
    final Thread thread;
    // Written before the state becomes STOPPED, read after it is seen STOPPED.
    private boolean timedOut;
    // A field, not an AtomicInteger: one object per attempt. Starts as 0, RUNNING, without a
    // volatile write: the attempt reaches other threads through the release of its slot.
    private volatile int state;

    Attempt(
        Job job,
        TypeRuntime type,
        Batch batch,
        Thread thread,
        CancelableContext ctx,
        long start,
        long deadline,
        long stuckAt) {
      this.job = job;
      this.type = type;
      this.batch = batch;
      this.thread = thread;
      this.ctx = ctx;
      this.start = start;
      this.deadline = deadline;
      this.stuckAt = stuckAt;
    }

    /**
     * Ends the attempt's context, as expired ({@code timedOut}) or cancelled, and interrupts the
     * worker unless the handler finished first. Never blocks (but for a test's {@code stopStep},
     * run between the two).
     *
     * @return true if this call stopped it
     */
    boolean stopBy(boolean timedOut, Runnable stopStep) {
      if (timedOut) {
        WatchedDeadlines.expire(ctx);
      } else {
        ctx.cancel();
      }
      stopStep.run();
      if (casState(RUNNING, STOPPING)) {
        this.timedOut = timedOut;
        thread.interrupt();
        state = STOPPED;
        return true;
      }
      return false;
    }

    /** Whether the watchdog expired it and its handler has not returned since. */
    boolean overdue() {
      return state == STOPPED && timedOut;
    }

    /** The watchdog's side of STOPPED -> STUCK. */
    boolean markStuck() {
      return casState(STOPPED, STUCK);
    }

    boolean isStuck() {
      return state == STUCK;
    }

    /** The shutdown's side: true if the handler had not returned, and never will be waited for. */
    boolean giveUp() {
      while (state == STOPPING) {
        Thread.onSpinWait(); // a stop between its CAS and its interrupt: a few instructions
      }
      return casState(STOPPED, GIVEN_UP) || casState(STUCK, GIVEN_UP);
    }

    /**
     * Called by the worker when the handler returned (or was not started): FINISHED if before any
     * stop; otherwise waits for the stop's interrupt to land, clears it, and answers RETURNED,
     * RETURNED_LATE (it was stuck) or GIVEN_UP.
     */
    int finish() {
      if (casState(RUNNING, FINISHED)) {
        return FINISHED;
      }
      while (state == STOPPING) {
        Thread.onSpinWait();
      }
      Thread.interrupted();
      if (casState(STOPPED, RETURNED)) {
        return RETURNED;
      }
      if (casState(STUCK, RETURNED_LATE)) {
        return RETURNED_LATE;
      }
      return state; // GIVEN_UP: nothing moves it on
    }

    private boolean casState(int expected, int next) {
      return STATE.compareAndSet(this, expected, next);
    }
  }

  /**
   * Ends overdue attempts: one entry in the clock's timer engine, armed for the earliest deadline
   * it knows of (see the class comment).
   */
  private final class Watchdog {
    private final AtomicReference<WatchEntry> armed = new AtomicReference<>();
    private volatile boolean closed;

    /**
     * Takes the armed entry out of the timer engine once no worker is left, so a closed engine is
     * not held by the engine's timers until that entry's deadline.
     */
    void close() {
      closed = true;
      WatchEntry w = armed.getAndSet(null);
      if (w != null) {
        w.cancel();
      }
    }

    /**
     * Makes sure an entry fires by {@code deadline}: called by a worker after it published an
     * attempt due then, and by a firing entry for the earliest attempt still running.
     */
    void watch(long deadline) {
      if (closed || deadline == Long.MAX_VALUE) { // MAX: a timeout too long to count in ns
        return;
      }
      WatchEntry next = null;
      for (WatchEntry w = armed.get();
          w == null || deadline - w.deadlineNanos() < 0;
          w = armed.get()) {
        if (next == null) {
          next = new WatchEntry(deadline);
        }
        if (armed.compareAndSet(w, next)) {
          TimerEngine.schedule(next);
          if (w != null) {
            w.cancel();
          }
          if (closed) {
            close(); // lost a race with close(): take back what this call armed
          }
          return;
        }
      }
    }

    /**
     * On the timer engine's thread: expires what is due and takes back the jobs that waited {@link
     * #HAND_BACK} behind an attempt, then re-arms for the rest.
     */
    void fired(WatchEntry entry) {
      boolean current = armed.compareAndSet(entry, null); // a full fence before the slots are read
      long now = clock.nanoTime();
      long firedFor = entry.deadlineNanos(); // the engine fires by tick: maybe just before it
      long earliest = 0;
      boolean any = false;
      List<Batch> handBack = null;
      for (int i = 0; i < attempts.length(); i++) {
        Attempt a = attempts.get(i);
        if (a == null) {
          continue;
        }
        long next = Long.MAX_VALUE; // when this attempt needs the watchdog again
        if (!a.ctx.isDone()) {
          if (a.deadline != Long.MAX_VALUE) {
            if (a.deadline - now <= 0 || a.deadline - firedFor <= 0) {
              if (a.stopBy(true, stopStep)) {
                next = a.stuckAt; // to see whether its handler returns
              }
            } else {
              next = a.deadline;
            }
          }
        } else if (a.overdue() && a.stuckAt != Long.MAX_VALUE) {
          if (a.stuckAt - now <= 0 || a.stuckAt - firedFor <= 0) {
            declareStuck(i, a, now);
            continue; // what it held goes back with the declaration
          }
          next = a.stuckAt;
        }
        if (next != Long.MAX_VALUE && (!any || next - earliest < 0)) {
          earliest = next;
          any = true;
        }
        Batch b = batches.get(i);
        if (b != null && b.waiting()) {
          long due = Nanos.add(a.start, HAND_BACK_NANOS);
          if (due - now <= 0 || due - firedFor <= 0) {
            if (handBack == null) {
              handBack = new ArrayList<>();
            }
            handBack.add(b);
          } else if (!any || due - earliest < 0) {
            earliest = due;
            any = true;
          }
        }
      }
      if (handBack != null) {
        // The store may do I/O (a database's); not on the timer engine's thread.
        List<Batch> batchesToGive = handBack;
        startHelper("sluice-hand-back", () -> batchesToGive.forEach(JobEngineImpl.this::giveBack));
      }
      if (current && any) {
        watch(earliest); // only the current entry re-arms; a stale one has been replaced
      }
    }

    private final class WatchEntry extends TimerEntry {
      WatchEntry(long deadline) {
        super(clock, deadline);
      }

      @Override
      protected void fire() {
        fired(this);
      }
    }
  }

  /** A job type's handler, options, running count and totals. */
  private static final class TypeRuntime {
    final String name;
    final JobHandler handler;
    final HandlerOptions options;
    final long timeoutNanos;
    final AtomicInteger running = new AtomicInteger();
    final LongAdder attempts = new LongAdder();
    final LongAdder succeeded = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder timedOut = new LongAdder();
    final LongAdder stuck = new LongAdder();
    final LongAdder retries = new LongAdder();
    final LongAdder dead = new LongAdder();

    TypeRuntime(String name, JobHandler handler, HandlerOptions options) {
      this.name = name;
      this.handler = handler;
      this.options = options;
      this.timeoutNanos = Nanos.of(options.timeout());
    }

    boolean tryEnter() {
      int limit = options.concurrency();
      while (true) {
        int now = running.get();
        if (now >= limit) {
          return false;
        }
        if (running.compareAndSet(now, now + 1)) {
          return true;
        }
      }
    }

    void leave(JobStore store) {
      if (running.getAndDecrement() == options.concurrency()) {
        store.gateOpened();
      }
    }

    EngineStats.TypeStats stats() {
      return new EngineStats.TypeStats(
          attempts.sum(),
          succeeded.sum(),
          failed.sum(),
          timedOut.sum(),
          retries.sum(),
          dead.sum(),
          running.get(),
          stuck.sum());
    }

    @Override
    public String toString() {
      return name;
    }
  }

  private record Registration(JobHandler handler, HandlerOptions options) {}

  static final class BuilderImpl implements JobEngine.Builder {
    private final JobStore store;
    private final Map<String, Registration> handlers = new LinkedHashMap<>();
    private int workers = 2 * Runtime.getRuntime().availableProcessors();
    private Clock clock;
    private ThreadFactory threadFactory = Thread.ofVirtual().name("sluice-worker-", 0).factory();
    private RandomGenerator random = RandomGenerator.getDefault();
    private Duration shutdownGrace = Duration.ofSeconds(30);
    private Duration interruptGrace = DEFAULT_INTERRUPT_GRACE;
    private EngineListener listener = EngineListener.NONE;
    private boolean started;

    BuilderImpl(JobStore store) {
      this.store = Objects.requireNonNull(store, "store");
      this.clock = store instanceof LocalJobStore local ? local.clock() : Clock.system();
    }

    @Override
    public Builder workers(int workers) {
      if (workers < 1) {
        throw new IllegalArgumentException("workers must be at least 1, got " + workers);
      }
      this.workers = workers;
      return this;
    }

    @Override
    public Builder handle(String type, JobHandler handler) {
      return handle(type, handler, HandlerOptions.defaults());
    }

    @Override
    public Builder handle(String type, JobHandler handler, HandlerOptions options) {
      JobSpec.checkType(type);
      Objects.requireNonNull(handler, "handler");
      Objects.requireNonNull(options, "options");
      if (handlers.putIfAbsent(type, new Registration(handler, options)) != null) {
        throw new IllegalArgumentException("job type \"" + type + "\" already has a handler");
      }
      return this;
    }

    @Override
    public Builder clock(Clock clock) {
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    @Override
    public Builder threadFactory(ThreadFactory factory) {
      this.threadFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    @Override
    public Builder random(RandomGenerator random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    @Override
    public Builder shutdownGrace(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative()) {
        throw new IllegalArgumentException("shutdown grace must not be negative, got " + grace);
      }
      this.shutdownGrace = grace;
      return this;
    }

    @Override
    public Builder interruptGrace(Duration grace) {
      Objects.requireNonNull(grace, "grace");
      if (grace.isNegative() || grace.isZero()) {
        throw new IllegalArgumentException("interrupt grace must be positive, got " + grace);
      }
      this.interruptGrace = grace;
      return this;
    }

    @Override
    public Builder listener(EngineListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    @Override
    public JobEngine start() {
      if (handlers.isEmpty()) {
        throw new IllegalStateException("register at least one handler before start()");
      }
      if (started) {
        throw new IllegalStateException("this builder already started an engine");
      }
      started = true;
      return new JobEngineImpl(this).startWorkers();
    }
  }
}
