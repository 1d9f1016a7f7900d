package io.sluice.core;

import io.sluice.core.internal.TimerEntry;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/*
 * A context that can be cancelled: by its owner, by its deadline, or by its parent.
 *
 * State: err is null while live and set once, under the monitor, at cancellation; cause is written
 * before err, so a thread that reads a non-null err (volatile) sees the cause too. Hooks (children,
 * blocked waiters, select cases, afterFunc) are detached under the monitor and run outside it, on
 * the cancelling thread, so every descendant is done before cancel() returns.
 *
 * A child registers one hook with its parent and removes it when it is cancelled itself, so a
 * long-lived parent does not accumulate finished children (Go's removeChild). A deadline is one
 * entry in the clock's timer engine, cancelled with the context.
 */
final class CancelContext extends BaseContext implements CancelableContext {
  private final BaseContext parent;
  private final Instant deadline;
  private final ContextHooks hooks = new ContextHooks();

  private volatile ContextCancelledException err;
  private Throwable cause; // published by the volatile write of err
  private ChannelImpl<Void> doneChannel; // guarded by this
  private ContextHooks.Hook parentHook; // guarded by this
  private TimerEntry timer; // guarded by this

  private CancelContext(BaseContext parent, Instant deadline) {
    this.parent = parent;
    this.deadline = deadline;
  }

  static CancelContext create(BaseContext parent, Instant deadline, Throwable deadlineCause) {
    CancelContext ctx = new CancelContext(parent, deadline);
    ContextHooks.Hook hook = parent.register(() -> ctx.cancelFromParent(parent));
    if (deadline != null) {
      Clock clock = parent.clock();
      long remaining = Duration.between(clock.now(), deadline).toNanos();
      if (remaining <= 0) {
        ctx.cancel(deadlineExceeded(), deadlineCause);
      } else {
        TimerEntry t =
            clock.schedule(
                clock.nanoTime() + remaining, () -> ctx.cancel(deadlineExceeded(), deadlineCause));
        synchronized (ctx) {
          ctx.timer = t;
        }
      }
    }
    boolean alreadyDone;
    synchronized (ctx) {
      ctx.parentHook = hook;
      alreadyDone = ctx.err != null;
    }
    if (alreadyDone) {
      ctx.releaseResources();
    }
    return ctx;
  }

  private static DeadlineExceededException deadlineExceeded() {
    return DeadlineExceededException.recorded();
  }

  private void cancelFromParent(BaseContext p) {
    ContextCancelledException parentErr = p.err().orElseThrow();
    cancel(parentErr, p.cause().filter(c -> c != parentErr).orElse(null));
  }

  @Override
  public void cancel() {
    cancel(ContextCancelledException.recorded(), null);
  }

  @Override
  public void cancel(Throwable cause) {
    cancel(ContextCancelledException.recorded(), Objects.requireNonNull(cause, "cause"));
  }

  @Override
  public void close() {
    cancel();
  }

  private void cancel(ContextCancelledException error, Throwable why) {
    List<ContextHooks.Hook> toRun;
    ChannelImpl<Void> done;
    synchronized (this) {
      if (err != null) {
        return;
      }
      cause = why;
      err = error;
      toRun = hooks.detach();
      done = doneChannel;
    }
    if (done != null) {
      done.close();
    }
    for (ContextHooks.Hook h : toRun) {
      h.action.run();
    }
    releaseResources();
  }

  /** After cancellation: leave the parent's hook list and the timer engine. */
  private void releaseResources() {
    ContextHooks.Hook ph;
    TimerEntry t;
    synchronized (this) {
      ph = parentHook;
      t = timer;
      parentHook = null;
      timer = null;
    }
    if (ph != null) {
      parent.unregister(ph);
    }
    if (t != null) {
      t.cancel();
    }
  }

  @Override
  ContextHooks.Hook register(Runnable action) {
    ContextHooks.Hook hook = new ContextHooks.Hook(action);
    boolean added;
    synchronized (this) {
      added = hooks.add(hook);
    }
    if (!added) {
      action.run();
    }
    return hook;
  }

  @Override
  boolean unregister(ContextHooks.Hook hook) {
    synchronized (this) {
      return hooks.remove(hook);
    }
  }

  @Override
  boolean cancellable() {
    return true;
  }

  /** Hooks still registered: children, waiters, afterFuncs. For leak tests. */
  synchronized int pendingHooks() {
    return hooks.size();
  }

  synchronized void checkInvariants() {
    hooks.checkInvariants();
    if (err != null && hooks.size() != 0) {
      throw new AssertionError("a done context still holds " + hooks.size() + " hooks");
    }
  }

  @Override
  public Optional<Instant> deadline() {
    return deadline != null ? Optional.of(deadline) : parent.deadline();
  }

  @Override
  public boolean isDone() {
    return err != null;
  }

  @Override
  public ReceiveChannel<Void> done() {
    boolean closeNow = false;
    ChannelImpl<Void> ch;
    synchronized (this) {
      if (doneChannel == null) {
        doneChannel = new ChannelImpl<>(0);
        closeNow = err != null;
      }
      ch = doneChannel;
    }
    if (closeNow) {
      ch.close();
    }
    return ch;
  }

  @Override
  public Optional<ContextCancelledException> err() {
    return Optional.ofNullable(err);
  }

  @Override
  public Optional<Throwable> cause() {
    ContextCancelledException e = err;
    if (e == null) {
      return Optional.empty();
    }
    return Optional.of(cause != null ? cause : e);
  }

  @Override
  public <V> Optional<V> value(Key<V> key) {
    return parent.value(key);
  }

  @Override
  public Clock clock() {
    return parent.clock();
  }

  @Override
  public String toString() {
    String state = err == null ? "live" : err.getMessage();
    return parent
        + (deadline != null ? ".WithDeadline(" + deadline + ")" : ".WithCancel")
        + "["
        + state
        + "]";
  }
}
