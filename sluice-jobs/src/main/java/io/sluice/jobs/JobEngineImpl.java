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
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
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
 * Shutdown. Stop admission and claims (idle workers return), join the workers for the grace period,
 * then cancel the engine context: every running attempt's context is cancelled and its worker
 * interrupted; those attempts are reported to the store as abandoned (queued again, not failed).
 */
final class JobEngineImpl implements JobEngine {

  private static final System.Logger LOG = System.getLogger(JobEngine.class.getName());
  private static final int MAX_ERROR_CHARS = 2_000;

  /** The most jobs a worker claims at once (see the class comment). */
  static final int CLAIM_BATCH = 16;

  /** How long an attempt may hold the jobs claimed after it before they are given back. */
  static final Duration HAND_BACK = Duration.ofSeconds(1);

  private static final long HAND_BACK_NANOS = HAND_BACK.toNanos();

  private final JobStore store;
  private final JobStore.Claimer claimer;
  private final Map<String, TypeRuntime> types;
  private final Clock clock;
  private final RandomGenerator random;
  private final Duration shutdownGrace;
  private final EngineListener listener;
  private final Context background;
  private final AtomicReferenceArray<Attempt> attempts;
  private final AtomicReferenceArray<Batch> batches; // each worker's claims; see Hand-back
  private final Watchdog watchdog = new Watchdog();
  private final List<Thread> workers;
  private final CountDownLatch workersDone;
  private final Object shutdownLock = new Object();
  private volatile boolean stopping; // set first by shutdown: workers begin no more claimed jobs
  private volatile boolean hardStop;
  private Boolean shutdownOutcome;
  private volatile Map<String, Long> unhandledAtStart = Map.of(); // set once, at start

  private JobEngineImpl(BuilderImpl b) {
    this.store = b.store;
    this.clock = b.clock;
    this.random = b.random;
    this.shutdownGrace = b.shutdownGrace;
    this.listener = b.listener;
    this.types = new HashMap<>();
    b.handlers.forEach((type, h) -> types.put(type, new TypeRuntime(type, h.handler, h.options)));
    this.claimer = new JobStore.Claimer(new Gate(b.workers), CLAIM_BATCH, b.workers);
    this.background = Context.background(clock);
    this.attempts = new AtomicReferenceArray<>(b.workers);
    this.batches = new AtomicReferenceArray<>(b.workers);
    this.workersDone = new CountDownLatch(b.workers);
    this.workers = new ArrayList<>(b.workers);
    for (int i = 0; i < b.workers; i++) {
      int slot = i;
      workers.add(b.threadFactory.newThread(() -> work(slot)));
    }
  }

  private JobEngineImpl startWorkers() {
    warnOfUnhandledTypes();
    workers.forEach(Thread::start);
    return this;
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
    return new EngineStats(workers.size(), busy, store.counts(), byType, unhandledAtStart);
  }

  // ---------------------------------------------------------------- workers

  private void work(int slot) {
    List<JobStore.Claim> succeeded = new ArrayList<>(); // successes the next claim records
    Batch batch = null;
    try {
      while (true) {
        List<JobStore.Claim> claims = store.claim(succeeded, claimer);
        succeeded.clear();
        if (claims.isEmpty()) {
          return;
        }
        batch = new Batch(claims);
        batches.set(slot, batch);
        int n = claims.size();
        for (int i; !stopping && (i = batch.next.getAndIncrement()) < n; ) {
          JobStore.Claim claim = claims.get(i);
          Job job = claim.job();
          TypeRuntime type = types.get(job.type());
          try {
            if (runAttempt(job, claim, type, slot, i + 1 < n)) {
              succeeded.add(claim);
            }
          } finally {
            type.leave(store);
          }
          Thread.interrupted(); // a handler may have interrupted its own thread
        }
        batches.set(slot, null);
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
      for (JobStore.Claim claim : succeeded) { // recorded unless the failure came after that
        try {
          store.succeeded(claim);
        } catch (RuntimeException again) {
          e.addSuppressed(again);
        }
      }
      LOG.log(System.Logger.Level.ERROR, "job worker stopped by an unexpected failure", e);
      if (batch != null) {
        batches.set(slot, null);
        giveBack(batch);
      }
    } finally {
      workersDone.countDown();
    }
  }

  /** A worker's claims and the cursor to the next one not begun; see Hand-back. */
  private static final class Batch {
    final List<JobStore.Claim> claims;
    final AtomicInteger next = new AtomicInteger();

    Batch(List<JobStore.Claim> claims) {
      this.claims = claims;
    }

    /** Whether a claim waits, not begun. */
    boolean waiting() {
      return next.get() < claims.size();
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
   * worker's next claim may record: returns true for that one.
   *
   * @param claim what the store handed out for the job
   * @param jobsWaitBehind whether jobs of the worker's batch wait for this attempt (see Hand-back)
   */
  private boolean runAttempt(
      Job job, JobStore.Claim claim, TypeRuntime type, int slot, boolean jobsWaitBehind) {
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
      return false;
    }
    type.attempts.increment();
    long start = clock.nanoTime();
    long deadline = Nanos.add(start, type.timeoutNanos);
    CancelableContext ctx = WatchedDeadlines.withDeadline(background, deadline);
    Attempt attempt = new Attempt(Thread.currentThread(), ctx, start, deadline);
    Throwable failure = null;
    boolean cutShort;
    boolean overran;
    try {
      attempts.set(slot, attempt);
      if (hardStop) {
        attempt.stopBy(false);
      }
      watchdog.watch(deadline);
      if (jobsWaitBehind) {
        watchdog.watch(Nanos.add(start, HAND_BACK_NANOS));
      }
      try {
        type.handler.handle(job, ctx);
      } catch (Throwable t) {
        failure = t;
      }
      cutShort = !attempt.finish();
      overran = ctx.err().orElse(null) instanceof DeadlineExceededException;
    } finally {
      attempts.set(slot, null);
      ctx.close();
    }
    boolean timed = listener != EngineListener.NONE; // a clock read saved when nobody listens
    long end = timed ? clock.nanoTime() : 0;
    EngineListener.Outcome outcome;
    if (failure == null && !cutShort) {
      outcome = EngineListener.Outcome.SUCCEEDED;
      type.succeeded.increment();
      if (!timed) {
        return true;
      }
      store.succeeded(claim);
    } else if (hardStop) {
      // Stopped by the shutdown, however the handler reacted: not the job's fault.
      outcome = EngineListener.Outcome.ABANDONED;
      store.abandoned(claim);
    } else if (cutShort || overran) {
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
      Duration elapsed = Duration.ofNanos(end - start);
      notifyListener(() -> listener.attemptFinished(job, outcome, elapsed));
    }
    return false;
  }

  private void failed(Job job, JobStore.Claim claim, TypeRuntime type, String error) {
    if (!type.options.retry().allowsAnotherAfter(job.attempts())) {
      dead(job, claim, type, error);
      return;
    }
    Duration delay = type.options.retry().delayAfter(job.attempts(), random);
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

  private static void notifyListener(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "an engine listener failed; ignored", e);
    }
  }

  /** The error text kept with a job: the exception and its causes, one line each, bounded. */
  static String describe(Throwable failure) {
    StringBuilder text = new StringBuilder();
    Throwable t = failure;
    for (int depth = 0; t != null && depth < 5; depth++, t = t.getCause()) {
      if (depth > 0) {
        text.append(" <- caused by ");
      }
      text.append(t.getClass().getName());
      if (t.getMessage() != null) {
        text.append(": ").append(t.getMessage());
      }
    }
    return text.length() <= MAX_ERROR_CHARS
        ? text.toString()
        : text.substring(0, MAX_ERROR_CHARS - 3) + "...";
  }

  // ---------------------------------------------------------------- shutdown

  @Override
  public boolean shutdown(Duration grace) throws InterruptedException {
    Objects.requireNonNull(grace, "grace");
    synchronized (shutdownLock) {
      if (shutdownOutcome != null) {
        return shutdownOutcome;
      }
      stopping = true;
      store.stopAdmission();
      store.stopClaims();
      boolean graceful = workersDone.await(grace.toNanos(), TimeUnit.NANOSECONDS);
      if (!graceful) {
        hardStop = true;
        cancelAttempts();
        workers.forEach(Thread::interrupt);
        if (!workersDone.await(
            shutdownGrace.toNanos() + TimeUnit.SECONDS.toNanos(5), TimeUnit.NANOSECONDS)) {
          LOG.log(
              System.Logger.Level.ERROR,
              "job handlers ignore interruption; "
                  + workersDone.getCount()
                  + " workers are still running and will be abandoned");
        }
      }
      cancelAttempts();
      watchdog.close();
      store.close();
      shutdownOutcome = graceful;
      return graceful;
    }
  }

  private void cancelAttempts() {
    for (int i = 0; i < attempts.length(); i++) {
      Attempt attempt = attempts.get(i);
      if (attempt != null) {
        attempt.stopBy(false);
      }
    }
  }

  @Override
  public void close() {
    try {
      shutdown(shutdownGrace);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      watchdog.close();
      store.close();
    }
  }

  /** For tests: whether every worker thread has ended. */
  boolean workersEnded() {
    return workers.stream().noneMatch(Thread::isAlive);
  }

  // ---------------------------------------------------------------- parts

  /**
   * One attempt: its context and deadline, and the race between the handler finishing and a stop
   * (the watchdog's or the shutdown's) interrupting it.
   */
  private static final class Attempt {
    private static final int RUNNING = 0;
    private static final int FINISHED = 1;
    private static final int STOPPING = 2;
    private static final int STOPPED = 3;
    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(Attempt.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final CancelableContext ctx;
    final long start;
    final long deadline;
    private final Thread thread;
    // A field, not an AtomicInteger: one object per attempt. Starts as 0, RUNNING, without a
    // volatile write: the attempt reaches other threads through the release of its slot.
    private volatile int state;

    Attempt(Thread thread, CancelableContext ctx, long start, long deadline) {
      this.thread = thread;
      this.ctx = ctx;
      this.start = start;
      this.deadline = deadline;
    }

    /**
     * Ends the attempt's context, as expired ({@code timedOut}) or cancelled, and interrupts the
     * worker unless the handler finished first. Never blocks.
     */
    void stopBy(boolean timedOut) {
      if (timedOut) {
        WatchedDeadlines.expire(ctx);
      } else {
        ctx.cancel();
      }
      if (casState(RUNNING, STOPPING)) {
        thread.interrupt();
        state = STOPPED;
      }
    }

    /**
     * Called by the worker when the handler returned: true if it finished before a stop. Otherwise
     * waits for the stop's interrupt to land and clears it.
     */
    boolean finish() {
      if (casState(RUNNING, FINISHED)) {
        return true;
      }
      while (state == STOPPING) {
        Thread.onSpinWait();
      }
      Thread.interrupted();
      return false;
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
        if (a == null || a.ctx.isDone()) {
          continue;
        }
        if (a.deadline != Long.MAX_VALUE) {
          if (a.deadline - now <= 0 || a.deadline - firedFor <= 0) {
            a.stopBy(true);
            continue;
          } else if (!any || a.deadline - earliest < 0) {
            earliest = a.deadline;
            any = true;
          }
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
        Thread.ofVirtual()
            .name("sluice-hand-back")
            .start(() -> batchesToGive.forEach(JobEngineImpl.this::giveBack));
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
          running.get());
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
