package io.sluice.core;

import io.sluice.core.internal.TimerEntry;
import java.time.Instant;
import java.util.List;

/*
 * The producer behind a timer's or ticker's channel, done as Go 1.23 does it (runtime/time.go:
 * "isChan" timers, maybeRunChan, blockTimerChan): the channel is unbuffered, and a value is made
 * only when someone takes it. The timer is just `when` and a few flags until a receiver waits;
 * only then does it put an entry in the clock's timer engine. Dropped without ever being waited
 * on, it is garbage like any object -- time.After in a loop costs nothing durable.
 *
 * State, guarded by this object's monitor (the timer lock): `when`, the nanoTime the next value is
 * due; `period`, 0 for a timer; `active`, running (a timer stops being active when its value is
 * taken or it is stopped); `wanted`, a receiver asked to be woken (armForWaiter) and no firing has
 * since found nobody waiting -- it survives stop, so a reset re-arms for a receiver still blocked;
 * `armed`, the engine entry, held exactly while active and wanted; `armGen`, which tells an
 * entry's action whether it is still the current one.
 *
 * Three paths produce a value, and all three decide under the channel lock and then the timer lock
 * (always in that order; the timer lock is never held while taking the channel lock):
 *   pollDue       a receiver (receive, tryReceive, select) looks and the value is due;
 *   fire          the engine entry's action: if the value is due and a receiver is still waiting,
 *                 hand it over with the channel's own sendLocked and consume it; if nobody waits,
 *                 consume nothing -- the value stays due for the next pollDue, and the entry is gone;
 *   (nothing else: stop and reset only change the state under the timer lock.)
 * Because consuming and handing over happen in one critical section of both locks, once stop() or
 * reset() returns no receive can get a value of the old settings, stop() returns true exactly when
 * the value was not taken, and a value is never both handed over and left due.
 *
 * Tickers drop ticks like Go's: taking a tick moves `when` to the first multiple of the period
 * after now, so a slow receiver gets the oldest missed tick and no backlog.
 *
 * The engine entry keeps the timer reachable while armed. When the last waiting receiver leaves
 * without a value (a timeout, an interrupt, a select that chose another clause), the channel calls
 * lastReceiverLeft and the entry is cancelled (Go's unblockTimerChan), so a timer in a busy select
 * loop holds no engine entry between iterations.
 *
 * Stranded receivers (the seed's Stop pitfall). stop() does not close the channel, as in Go, so a
 * receiver blocked on it stays blocked until a reset. That is only a hang for a *plain* receive --
 * no timeout, no context, no other select clause: those end some other way. The channel marks a
 * plain receiver's Node (Node.plain, written when the node is made, i.e. only on the way to
 * parking) and passes the flag to armForWaiter; so these slow paths can tell, at no cost elsewhere:
 *   armForWaiter  a plain receiver is about to park and the timer is not active (stopped, or its
 *                 one value already taken: the `if (!t.stop()) <-t.C` idiom) -- only a reset can
 *                 ever wake it; armForWaiter returns true and the channel calls
 *                 reportStrandedReceive after unlocking, on the receiver's thread;
 *   stop          `wanted` says a receiver may be waiting; only then does stop, after releasing the
 *                 timer lock, take the channel lock and then the timer lock again (the usual
 *                 order), check the timer is still stopped, and collect the live plain receivers;
 *   fire          a one-shot value (a Timer's, an after(d) channel's) went to the first receiver and
 *                 the channel still has receiver nodes queued: the live plain ones are stranded as
 *                 surely as by stop -- one value serves one receiver -- but their receives started
 *                 while the value was still to come, so armForWaiter could not tell. fire already
 *                 holds both locks, so it collects them there; with one receiver (or none) the
 *                 check is a read of `warned` and of the queue's head, and nothing is allocated.
 *   pollDue       the same, when the value goes to a receiver that found it due (a receive,
 *                 tryReceive or select arriving between the deadline and the engine's fire, or
 *                 after a reset to now) while receivers are parked: `wanted` says one may be, so
 *                 the common pollDue reads one field more. Its thread has no place to log once the
 *                 channel lock is released, so the report becomes an engine action due now.
 * `warned` makes any report happen at most once per timer; Diagnostics caps them process-wide.
 * Logging happens with no lock held, and never on the system clock's engine thread (the
 * value-taken report gets a virtual thread of its own there).
 */
final class ChannelTimer implements ChannelSource<Instant> {
  /** What the user holds, which decides how a stranded receiver can be released. */
  enum Kind {
    /** {@link Clock#newTimer}: a reset releases the receiver. */
    TIMER,
    /** {@link Clock#newTicker}: a reset releases the receiver. */
    TICKER,
    /** {@link Clock#after}: nobody can reset it, so a stranded receiver waits for ever. */
    AFTER
  }

  private final Clock clock;
  private final Kind kind;
  final ChannelImpl<Instant> channel;

  // Guarded by this.
  private long period;
  private long when;
  private boolean active = true;
  private boolean wanted;
  private TimerEntry armed;
  private int armGen;
  private boolean warned;

  private ChannelTimer(Clock clock, Kind kind, long period, long when) {
    this.clock = clock;
    this.kind = kind;
    this.period = period;
    this.when = when;
    this.channel = new ChannelImpl<>(0, this);
  }

  static ChannelTimer timer(Clock clock, long delayNanos) {
    return new ChannelTimer(clock, Kind.TIMER, 0, clock.deadlineAfter(delayNanos));
  }

  /** The timer behind {@link Clock#after}, whose only handle is its channel. */
  static ChannelTimer after(Clock clock, long delayNanos) {
    return new ChannelTimer(clock, Kind.AFTER, 0, clock.deadlineAfter(delayNanos));
  }

  static ChannelTimer ticker(Clock clock, long periodNanos) {
    return new ChannelTimer(clock, Kind.TICKER, periodNanos, clock.deadlineAfter(periodNanos));
  }

  // ---- ChannelSource: called with the channel lock held ----

  @Override
  public synchronized Instant pollDue() {
    long now = clock.nanoTime();
    if (!active || now < when) {
      return null;
    }
    Instant value = clock.instantAt(when);
    consumeLocked(now);
    disarmLocked();
    if (active && wanted) {
      armLocked(); // a ticker: other receivers may still wait for the next tick
    } else if (!active && wanted && !warned && channel.hasQueuedReceiverLocked()) {
      reportLaterIfLeftByValue(now, value);
    }
    return value;
  }

  /**
   * pollDue's slow path: a one-shot value went to a receiver that found it due (a receive arriving
   * between the deadline and the engine's fire, or after a reset to now) while receivers' nodes are
   * still queued. The channel lock is held and the caller's thread has no place to log after it is
   * released, so the report is an engine action due now: it runs on the engine's thread, or on a
   * manual clock's next advance, and from there as fire's report does.
   */
  private void reportLaterIfLeftByValue(long now, Instant value) {
    List<Thread> stranded = plainReceiversLeftByValueLocked();
    if (!stranded.isEmpty()) {
      clock.schedule(now, () -> reportReceiversLeftByValue(value, stranded));
    }
  }

  @Override
  public synchronized boolean armForWaiter(boolean plain) {
    wanted = true;
    if (active) {
      if (armed == null) {
        armLocked();
      }
      return false;
    }
    if (!plain || warned) {
      return false;
    }
    warned = true;
    return true;
  }

  @Override
  public void reportStrandedReceive() {
    Diagnostics.reportStrandedTimerReceive(kind, this);
  }

  @Override
  public synchronized void lastReceiverLeft() {
    wanted = false;
    disarmLocked();
  }

  // ---- the engine entry's action ----

  private void fire(int gen) {
    Object handed = null;
    Instant value = null;
    List<Thread> stranded = List.of();
    channel.lock();
    try {
      synchronized (this) {
        if (gen != armGen) {
          return; // stopped, reset or consumed since this entry was armed
        }
        armed = null;
        long now = clock.nanoTime();
        if (!active) {
          return;
        }
        if (now < when) {
          armLocked(); // not reached with a monotonic clock; kept so a waiter is never stranded
          return;
        }
        value = clock.instantAt(when);
        Object result = channel.sendLocked(value);
        if (!(result instanceof Node)) {
          wanted = false;
          return; // nobody waits: the value stays due, for pollDue
        }
        handed = result;
        consumeLocked(now);
        if (active) {
          armLocked(); // a ticker: serve any other waiting receiver at the next tick
        } else if (!warned && channel.hasQueuedReceiverLocked()) {
          stranded = plainReceiversLeftByValueLocked();
        }
      }
    } finally {
      channel.unlock();
    }
    ChannelImpl.finish(handed);
    if (!stranded.isEmpty()) {
      reportReceiversLeftByValue(value, stranded);
    }
  }

  /**
   * The slow path of fire and pollDue, with both locks held, when a one-shot value was taken and
   * receivers' nodes are still queued: the live plain ones among them wait for a reset that may
   * never come. Returns them, and marks the timer as reported if there are any.
   */
  private List<Thread> plainReceiversLeftByValueLocked() {
    List<Thread> threads = channel.plainReceiverThreadsLocked();
    if (!threads.isEmpty()) {
      warned = true;
    }
    return threads;
  }

  /**
   * Logs the receivers that a one-shot value left waiting, with no lock held. A manual clock fires
   * on the thread that advances it, which may log; the system clock's engine thread must not block,
   * and a log handler may (a slow console, a full disk), so there the report gets a virtual thread
   * of its own -- at most once per timer.
   */
  private void reportReceiversLeftByValue(Instant value, List<Thread> stranded) {
    Runnable report = () -> Diagnostics.reportReceiversLeftByValue(kind, value, stranded);
    if (clock instanceof ManualClock) {
      report.run();
    } else {
      Thread.ofVirtual().name("sluice-timer-warning").start(report);
    }
  }

  // ---- Timer and Ticker operations: the timer lock only (stop's report: channel, then timer) ----

  boolean stop() {
    boolean wasActive;
    boolean receiverMayWait;
    synchronized (this) {
      wasActive = active;
      active = false;
      disarmLocked();
      receiverMayWait = wanted && !warned;
    }
    if (receiverMayWait) {
      reportPlainReceiversLeftWaiting();
    }
    return wasActive;
  }

  /**
   * stop()'s slow path, with no lock held on entry: reports the plain receivers that the stop left
   * waiting, unless the timer was reset meanwhile or one report was made already.
   */
  private void reportPlainReceiversLeftWaiting() {
    List<Thread> waiting;
    channel.lock();
    try {
      synchronized (this) {
        if (active || warned) {
          return;
        }
        waiting = channel.plainReceiverThreadsLocked();
        if (waiting.isEmpty()) {
          return;
        }
        warned = true;
      }
    } finally {
      channel.unlock();
    }
    Diagnostics.reportStoppedTimerWithReceivers(kind, this, waiting);
  }

  synchronized boolean reset(long delayNanos) {
    boolean wasActive = active;
    restartLocked(clock.deadlineAfter(delayNanos));
    return wasActive;
  }

  synchronized void resetPeriod(long periodNanos) {
    period = periodNanos;
    restartLocked(clock.deadlineAfter(periodNanos));
  }

  private void restartLocked(long newWhen) {
    when = newWhen;
    active = true;
    disarmLocked();
    if (wanted) {
      armLocked();
    }
  }

  private void consumeLocked(long now) {
    if (period == 0) {
      active = false;
      return;
    }
    long missed = (now - when) / period;
    try {
      when = Math.addExact(when, Math.multiplyExact(period, missed + 1));
    } catch (ArithmeticException e) {
      when = Long.MAX_VALUE;
    }
  }

  private void armLocked() {
    int gen = ++armGen;
    armed = clock.schedule(when, () -> fire(gen));
  }

  /** Drops the engine entry; an action of it that is already running will find armGen moved. */
  private void disarmLocked() {
    if (armed != null) {
      armed.cancel();
      armed = null;
    }
    armGen++;
  }

  /** The class comment's state invariants. */
  synchronized void checkInvariants() {
    if (armed != null && !(active && wanted)) {
      throw new AssertionError(
          "an engine entry is held for a timer not active and wanted: " + this);
    }
    if (period < 0) {
      throw new AssertionError("negative period " + period);
    }
  }

  /** Whether an engine entry is held, for tests. */
  synchronized boolean isArmed() {
    return armed != null;
  }

  @Override
  public synchronized String toString() {
    return (period == 0 ? "Timer[" : "Ticker[every " + period + " ns, ")
        + (active ? "due at " + clock.instantAt(when) : "stopped")
        + "]";
  }
}
