package io.sluice.core;

import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;

/*
 * Clock.afterFunc: a timer whose firing starts `fn` on a new virtual thread. The state is the
 * current engine entry, replaced by reset under this object's monitor; the engine's action only
 * starts the thread, so it takes no lock. stop() and reset() report whether they cancelled an
 * entry that had not fired: Go's "reschedules f (true) or schedules it to run again (false)".
 */
final class FuncTimer implements Timer, Runnable {
  private final Clock clock;
  private final Runnable fn;
  private TimerEntry entry; // guarded by this

  private FuncTimer(Clock clock, Runnable fn) {
    this.clock = clock;
    this.fn = fn;
  }

  static FuncTimer start(Clock clock, long delayNanos, Runnable fn) {
    FuncTimer timer = new FuncTimer(clock, fn);
    // No lock: nobody else can see the timer before it is returned, and the engine's action reads
    // only the final fn; stop and reset read entry under the monitor after a safe publication.
    timer.entry = clock.schedule(clock.deadlineAfter(delayNanos), timer);
    return timer;
  }

  /**
   * The engine entry's action: starts the function on its own virtual thread. The timer is its own
   * action so a pending afterFunc costs this object and the engine entry, no method-reference
   * object.
   */
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
  public synchronized boolean stop() {
    return entry.cancel();
  }

  @Override
  public synchronized boolean reset(Duration delay) {
    long nanos = Clock.delayNanos(delay);
    boolean active = entry.cancel();
    entry = clock.schedule(clock.deadlineAfter(nanos), this);
    return active;
  }

  @Override
  public String toString() {
    return "Timer[afterFunc " + fn + "]";
  }
}
