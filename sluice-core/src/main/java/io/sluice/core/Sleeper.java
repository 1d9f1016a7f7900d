package io.sluice.core;

import io.sluice.core.internal.TimerEntry;
import java.util.concurrent.locks.LockSupport;

/*
 * Clock.sleep: one engine entry whose action unparks the sleeper, plus, with a cancellable context,
 * one hook that does the same. The thread parks until the entry fired (`woken`), its interrupt
 * status is set, or the context is done; spurious wake-ups just loop. Whatever ends the sleep, the
 * entry and the hook are removed before returning, so nothing outlives the call.
 */
final class Sleeper implements Runnable {
  private final Thread thread = Thread.currentThread();
  private volatile boolean woken;

  private Sleeper() {}

  static void sleep(Clock clock, BaseContext ctx, long delayNanos) throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (ctx != null) {
      ctx.throwIfDone();
    }
    if (delayNanos <= 0) {
      return;
    }
    new Sleeper().await(clock, ctx, clock.deadlineAfter(delayNanos));
  }

  private void await(Clock clock, BaseContext ctx, long deadline) throws InterruptedException {
    TimerEntry entry = clock.schedule(deadline, this);
    ContextHooks.Hook hook = ctx != null && ctx.cancellable() ? ctx.register(this::unpark) : null;
    try {
      while (!woken) {
        if (ctx != null && ctx.isDone()) {
          throw ctx.failure();
        }
        LockSupport.park(this);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
      }
    } finally {
      entry.cancel();
      if (hook != null) {
        ctx.unregister(hook);
      }
    }
  }

  /** The engine entry's action: the time has come. */
  @Override
  public void run() {
    woken = true;
    LockSupport.unpark(thread);
  }

  private void unpark() {
    LockSupport.unpark(thread);
  }
}
