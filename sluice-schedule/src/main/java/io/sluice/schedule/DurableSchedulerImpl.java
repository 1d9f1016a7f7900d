package io.sluice.schedule;

import io.sluice.core.Clock;
import io.sluice.core.Timer;
import io.sluice.jobs.Admission;
import io.sluice.jobs.DurabilityUnknownException;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobId;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobState;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreException;
import io.sluice.jobs.JournalStalledException;
import io.sluice.jobs.StoredSchedule;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/*
 * The durable scheduler.
 *
 * State. One Armed per readable definition, by name, guarded by `lock`: the definition, the oldest
 * fire time not yet handled (`scheduled`, null once the trigger has none left), and the clock timer
 * that wakes it. What a fire changes (last fire, last job) lives in the store, which is the truth
 * after a restart; `scheduled` is derived from it at start and on every put.
 *
 * A tick (the timer's function, on its own virtual thread) takes the lock, asks the misfire policy
 * which fire times run now, fires them through JobStore.fire (one durable record each), and arms
 * the timer for the next. A full queue leaves `scheduled` at the fire time that did not fit and
 * retries a second later; the policy then decides once it is past the threshold.
 *
 * A hung disk. The store bounds each write by its ack timeout: a fire is refused at once while the
 * journal is stalled (JournalStalledException: nothing recorded), or its outcome is unknown after
 * the timeout (DurabilityUnknownException: it is recorded if the disk ever answers). Both are
 * handled as a full queue is: `scheduled` stays at that fire time and the tick tries again a
 * second later. Trying again cannot double the fire: the store refuses further changes to the
 * schedule while the first one's outcome is unknown, and once recorded refuses its fire time as
 * NOT_DUE (or skipFire returns false), which ends the retries. One WARN per stall for the whole
 * scheduler (`stallReported`), one INFO once a fire is recorded again. A stall longer than a
 * definition's misfire threshold counts as downtime: its policy decides what the missed fire
 * times run.
 *
 * Closing. close() sets `closing` before it takes the lock, so ticks waiting for the lock return
 * without touching the store; it then waits at most for the one store call in progress, which the
 * store bounds by its ack timeout (with reads of the store's schedules, about twice that).
 *
 * Timers and threads. A timer belongs to one Armed; a replaced or deleted Armed's timer is stopped,
 * and a tick of a stale Armed (its timer fired as it was being stopped) does nothing. `pending`
 * counts timers armed and not yet done (stopped before firing, or their tick finished), so close()
 * can wait until no tick thread is left.
 */
final class DurableSchedulerImpl implements DurableScheduler {

  private static final System.Logger LOG = System.getLogger(DurableScheduler.class.getName());

  /** How soon a fire that found the queue full is tried again. */
  static final Duration QUEUE_FULL_RETRY = Duration.ofSeconds(1);

  /** How many upcoming fire times a status lists. */
  static final int UPCOMING = 5;

  private final JobStore store;
  private final Clock clock;
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private final TreeMap<String, Armed> armed = new TreeMap<>();
  private int pending;
  private boolean closed;
  private volatile boolean closing; // set by close() before it waits for the lock
  private boolean stallReported; // a WARN for the current stall was logged; under the lock

  private static final class Armed {
    final RecurringJob job;
    Instant scheduled;
    Timer timer;
    boolean retryLogged; // a full queue or a failing store, reported once per streak
    // The last fire time of a batch (the runs one misfire resolution released) whose first run was
    // enqueued: the rest of it follows without an overlap check, also after a retry. Else null.
    Instant batchEnd;

    Armed(RecurringJob job, Instant scheduled) {
      this.job = job;
      this.scheduled = scheduled;
    }
  }

  private enum Fired {
    ENQUEUED,
    DONE,
    RETRY,
    STOP
  }

  private DurableSchedulerImpl(JobStore store, Clock clock) {
    this.store = Objects.requireNonNull(store, "store");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  static DurableSchedulerImpl start(JobStore store, Clock clock) {
    DurableSchedulerImpl scheduler = new DurableSchedulerImpl(store, clock);
    scheduler.lock.lock();
    try {
      for (StoredSchedule stored : store.schedules()) {
        RecurringJob job;
        try {
          job = RecurringJob.decode(stored.name(), stored.definition());
        } catch (IllegalArgumentException e) {
          LOG.log(
              System.Logger.Level.ERROR,
              "recurring job "
                  + stored.name()
                  + " cannot be read and does not run ("
                  + e.getMessage()
                  + "); put it again or delete it");
          continue;
        }
        scheduler.install(job, stored);
      }
    } finally {
      scheduler.lock.unlock();
    }
    return scheduler;
  }

  // ---------------------------------------------------------------- API

  @Override
  public ScheduleStatus put(RecurringJob job) {
    Objects.requireNonNull(job, "job");
    lock.lock();
    try {
      checkOpen();
      boolean changed = store.putSchedule(job.name(), job.encode());
      Armed current = armed.get(job.name());
      if (!changed && current != null && current.job.equals(job)) {
        return statusLocked(current);
      }
      if (current != null) {
        disarm(current);
      }
      StoredSchedule stored = store.schedule(job.name()).orElseThrow();
      return statusLocked(install(job, stored));
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean delete(String name) {
    Objects.requireNonNull(name, "name");
    lock.lock();
    try {
      checkOpen();
      boolean existed = store.deleteSchedule(name);
      Armed current = armed.remove(name);
      if (current != null) {
        disarm(current);
      }
      return existed;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public Optional<ScheduleStatus> status(String name) {
    Objects.requireNonNull(name, "name");
    lock.lock();
    try {
      Armed a = armed.get(name);
      return a == null ? Optional.empty() : Optional.of(statusLocked(a));
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<ScheduleStatus> list() {
    lock.lock();
    try {
      List<ScheduleStatus> all = new ArrayList<>(armed.size());
      for (Armed a : armed.values()) {
        all.add(statusLocked(a));
      }
      return all;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    closing = true;
    lock.lock();
    try {
      if (!closed) {
        closed = true;
        armed.values().forEach(this::disarm);
        armed.clear();
      }
      while (pending > 0) {
        idle.awaitUninterruptibly();
      }
    } finally {
      lock.unlock();
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the scheduler is closed");
    }
  }

  // ---------------------------------------------------------------- firing

  /** Adds a definition and handles what is due now. Holds the lock. */
  private Armed install(RecurringJob job, StoredSchedule stored) {
    Armed a = new Armed(job, firstUnhandled(job.trigger(), stored));
    armed.put(job.name(), a);
    tickLocked(a);
    return a;
  }

  /**
   * The oldest fire time not yet handled: the first after the last recorded fire, or, if the
   * definition changed since (or never fired), the first at or after the change.
   */
  private static Instant firstUnhandled(Trigger trigger, StoredSchedule stored) {
    Optional<Instant> last = stored.lastFire().filter(f -> !f.isBefore(stored.updatedAt()));
    return (last.isPresent()
            ? trigger.nextAfter(last.get())
            : trigger.nextAtOrAfter(stored.updatedAt()))
        .orElse(null);
  }

  /** The timer's function. */
  private void tick(Armed a) {
    lock.lock();
    try {
      if (!closing && !closed && armed.get(a.job.name()) == a) {
        a.timer = null;
        tickLocked(a);
      }
    } finally {
      pending--;
      if (pending == 0) {
        idle.signalAll();
      }
      lock.unlock();
    }
  }

  /** Fires what is due for {@code a} and arms its timer for the next fire time. Holds the lock. */
  private void tickLocked(Armed a) {
    if (a.scheduled == null) {
      return;
    }
    RecurringJob job = a.job;
    Instant now = clock.now();
    MisfirePolicy.Outcome outcome =
        job.misfire().resolve(job.trigger(), a.scheduled, now, job.misfireThreshold());
    if (outcome.misfired()) {
      LOG.log(
          System.Logger.Level.INFO,
          "recurring job "
              + job.name()
              + " missed its fire times from "
              + a.scheduled
              + " (more than "
              + job.misfireThreshold()
              + " late); misfire policy "
              + job.misfire().spec()
              + " runs "
              + outcome.runs().size()
              + " of them now");
    }
    List<Instant> runs = outcome.runs();
    for (Instant fireTime : runs) {
      if (closing) {
        return; // unhandled: the next start resolves it against its misfire policy
      }
      boolean inBatch = a.batchEnd != null && !fireTime.isAfter(a.batchEnd);
      switch (fire(a, fireTime, !inBatch)) {
        case ENQUEUED -> {
          if (!inBatch) {
            a.batchEnd = runs.getLast();
          }
        }
        case DONE -> {}
        case RETRY -> {
          a.scheduled = fireTime;
          arm(a, now.plus(QUEUE_FULL_RETRY));
          return;
        }
        case STOP -> {
          return;
        }
      }
    }
    a.retryLogged = false;
    a.batchEnd = null;
    a.scheduled = outcome.next().orElse(null);
    if (a.scheduled != null) {
      arm(a, a.scheduled);
    }
  }

  /**
   * Enqueues the job of one fire time, unless {@code checkOverlap} and the overlap policy say no.
   */
  private Fired fire(Armed a, Instant fireTime, boolean checkOverlap) {
    RecurringJob job = a.job;
    if (checkOverlap && overlapBlocks(job)) {
      LOG.log(
          System.Logger.Level.DEBUG,
          () ->
              "recurring job "
                  + job.name()
                  + " skips "
                  + fireTime
                  + ": the previous fire's job is unfinished (overlap "
                  + job.overlap()
                  + ")");
      return skip(a, fireTime);
    }
    JobSpec spec =
        JobSpec.of(job.jobType(), job.payload().getBytes(StandardCharsets.UTF_8))
            .withSource("schedule:" + job.name());
    Admission admission;
    try {
      admission = store.fire(job.name(), fireTime, spec);
    } catch (JournalStalledException | DurabilityUnknownException e) {
      return retryAfterStall(a, fireTime, e);
    } catch (JobStoreException e) {
      return retryAfterStoreFailure(a, fireTime, e);
    }
    journalAnswered(job.name());
    return switch (admission) {
      case Admission.Accepted accepted -> {
        LOG.log(
            System.Logger.Level.DEBUG,
            () -> "recurring job " + job.name() + " fired for " + fireTime + ": " + accepted.ids());
        yield Fired.ENQUEUED;
      }
      case Admission.Rejected r when r.reason() == Admission.Reason.QUEUE_FULL -> {
        if (!a.retryLogged) {
          a.retryLogged = true;
          LOG.log(
              System.Logger.Level.WARNING,
              "recurring job "
                  + job.name()
                  + " cannot fire for "
                  + fireTime
                  + ": "
                  + r.message()
                  + "; trying every "
                  + QUEUE_FULL_RETRY.toSeconds()
                  + " s within its misfire threshold");
        }
        yield Fired.RETRY;
      }
      case Admission.Rejected r when r.reason() == Admission.Reason.SHUTTING_DOWN -> Fired.STOP;
      case Admission.Rejected r when r.reason() == Admission.Reason.TOO_LARGE -> {
        // Its payload can never be queued: waiting cannot help, and the next fire is no smaller.
        LOG.log(
            System.Logger.Level.ERROR,
            "recurring job "
                + job.name()
                + " cannot fire for "
                + fireTime
                + ", now or ever: "
                + r.message()
                + "; give it a smaller payload");
        yield skip(a, fireTime);
      }
      // NOT_DUE: this fire time is already recorded; nothing to do.
      case Admission.Rejected r -> Fired.DONE;
    };
  }

  /** Records a fire time passed over, so that a restart does not count it as missed. */
  private Fired skip(Armed a, Instant fireTime) {
    try {
      store.skipFire(a.job.name(), fireTime);
    } catch (JournalStalledException | DurabilityUnknownException e) {
      return retryAfterStall(a, fireTime, e);
    } catch (JobStoreException e) {
      return retryAfterStoreFailure(a, fireTime, e);
    }
    journalAnswered(a.job.name());
    return Fired.DONE;
  }

  /**
   * A stalled journal (a fire refused, or not confirmed in time): logged once per stall for the
   * whole scheduler, and the fire is tried again; see the class comment.
   */
  private Fired retryAfterStall(Armed a, Instant fireTime, JobStoreException e) {
    if (!stallReported) {
      stallReported = true;
      LOG.log(
          System.Logger.Level.WARNING,
          "recurring jobs cannot fire while the job journal is stalled (the disk may be hung):"
              + " recurring job "
              + a.job.name()
              + " could not fire for "
              + fireTime
              + " ("
              + e.getMessage()
              + "). Each fire is tried every "
              + QUEUE_FULL_RETRY.toSeconds()
              + " s within its misfire threshold, and none is enqueued twice");
    }
    return Fired.RETRY;
  }

  /** The store recorded a fire (or answered without a write): a stall reported has ended. */
  private void journalAnswered(String name) {
    if (stallReported) {
      stallReported = false;
      LOG.log(
          System.Logger.Level.INFO,
          "recurring jobs fire again: the job journal answered for recurring job " + name);
    }
  }

  /** A failing store: logged once per streak, and the fire is tried again. */
  private Fired retryAfterStoreFailure(Armed a, Instant fireTime, JobStoreException e) {
    if (!a.retryLogged) {
      a.retryLogged = true;
      LOG.log(
          System.Logger.Level.ERROR,
          "recurring job "
              + a.job.name()
              + " could not fire for "
              + fireTime
              + "; trying every "
              + QUEUE_FULL_RETRY.toSeconds()
              + " s within its misfire threshold",
          e);
    }
    return Fired.RETRY;
  }

  /** Whether the overlap policy holds back a fire because of the previous fire's job. */
  private boolean overlapBlocks(RecurringJob job) {
    if (job.overlap() == OverlapPolicy.ALLOW_CONCURRENT) {
      return false;
    }
    Optional<JobId> last = store.schedule(job.name()).flatMap(StoredSchedule::lastJob);
    // A job the store has forgotten finished long ago.
    JobState state = last.flatMap(store::find).map(Job::state).orElse(JobState.SUCCEEDED);
    return switch (state) {
      case QUEUED, RETRY_WAIT -> true;
      case RUNNING -> job.overlap() == OverlapPolicy.SKIP;
      case SUCCEEDED, DEAD -> false;
    };
  }

  private void arm(Armed a, Instant at) {
    Duration delay = Duration.between(clock.now(), at);
    pending++;
    a.timer = clock.afterFunc(delay.isNegative() ? Duration.ZERO : delay, () -> tick(a));
  }

  private void disarm(Armed a) {
    if (a.timer != null && a.timer.stop()) {
      pending--;
    }
    a.timer = null;
  }

  // ---------------------------------------------------------------- status

  private ScheduleStatus statusLocked(Armed a) {
    StoredSchedule stored = store.schedule(a.job.name()).orElse(null);
    List<Instant> upcoming = new ArrayList<>(UPCOMING);
    Instant t = a.scheduled;
    while (t != null && upcoming.size() < UPCOMING) {
      upcoming.add(t);
      t = a.job.trigger().nextAfter(t).orElse(null);
    }
    return new ScheduleStatus(
        a.job,
        stored == null ? clock.now() : stored.updatedAt(),
        stored == null ? Optional.empty() : stored.lastFire(),
        stored == null ? Optional.empty() : stored.lastJob(),
        Optional.ofNullable(a.scheduled),
        upcoming);
  }
}
