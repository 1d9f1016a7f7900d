package io.sluice.core;

import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;

/*
 * Clock.afterFunc: a timer whose firing starts `fn` on a new virtual thread. The timer is its own
 * first engine entry, so a pending afterFunc is one object of 40 bytes, the size of a bare engine
 * entry (the entry's fields, `fn` and `current`; the clock comes from the entry). A reset
 * schedules a new entry, which becomes `current` (null means the timer itself); resets are
 * serialised by this object's monitor, and stop() takes no lock.
 *
 * stop() and reset() report whether they cancelled an entry that had not fired: Go's "reschedules
 * f (true) or schedules it to run again (false)". Why stop() without the lock is linearizable: a
 * reset publishes its new entry first and only then cancels the old one. So a stop whose cancel of
 * the entry it read fails either finds `current` unchanged -- that entry fired, or was stopped
 * before, and the stop takes effect there, returning false -- or finds the reset's new entry, and
 * takes effect after that reset by trying again on it. A failed cancel reads the state written by
 * the reset's successful one, which follows the reset's write of `current`, so the stop cannot miss
 * the new entry.
 */
final class FuncTimer extends TimerEntry implements Timer, Runnable {
  private final Runnable fn;
  private volatile TimerEntry current; // null: this entry; written only by reset, under the monitor

  private FuncTimer(Clock clock, long deadlineNanos, Runnable fn) {
    super(clock, deadlineNanos);
    this.fn = fn;
  }

  static FuncTimer start(Clock clock, long delayNanos, Runnable fn) {
    FuncTimer timer = new FuncTimer(clock, clock.deadlineAfter(delayNanos), fn);
    TimerEngine.schedule(timer);
    return timer;
  }

  /** The first entry's action: starts the function on its own virtual thread. */
  @Override
  protected void fire() {
    run();
  }

  /** A reset entry's action, the same as the first one's: the timer is its own action. */
  @Override
  public void run() {
    Thread.ofVirtual().name("sluice-afterfunc").start(fn);
  }

  @Override
  public ReceiveChannel<Instant> channel() {
    throw new IllegalStateException(
        "a timer made by afterFunc has no channel (Go's t.C is nil); it runs its function instead");
  }

  @Override
  public boolean stop() {
    TimerEntry e = entry();
    while (!e.cancel()) {
      TimerEntry now = entry();
      if (now == e) {
        return false;
      }
      e = now; // a reset replaced it meanwhile: stop the new one
    }
    return true;
  }

  @Override
  public synchronized boolean reset(Duration delay) {
    long nanos = Clock.delayNanos(delay);
    TimerEntry old = entry();
    Clock clock = clock();
    current = clock.schedule(clock.deadlineAfter(nanos), this);
    return old.cancel();
  }

  private TimerEntry entry() {
    TimerEntry e = current;
    return e == null ? this : e;
  }

  @Override
  public String toString() {
    return "Timer[afterFunc " + fn + "]";
  }
}
