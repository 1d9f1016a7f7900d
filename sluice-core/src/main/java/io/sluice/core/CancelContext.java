package io.sluice.core;

import io.sluice.core.internal.Nanos;
import io.sluice.core.internal.TimerEngine;
import io.sluice.core.internal.TimerEntry;
import io.sluice.core.internal.WatchedDeadlines;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.lang.reflect.UndeclaredThrowableException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/*
 * A context that can be cancelled: by its owner, by its deadline, or by its parent.
 *
 * State: err is null while live and set once, under the monitor, at cancellation; cause is written
 * before err, so a thread that reads a non-null err (volatile) sees the cause too. A plain cancel
 * (or close) sets err to CANCELLED, a marker never handed out, which error() swaps once for the
 * context's own exception when someone first asks: most contexts are closed when their work is
 * done and never asked why, and making the exception was the costliest step of a close. Hooks (children,
 * blocked waiters, select cases, afterFunc) are detached under the monitor and run outside it, on
 * the cancelling thread, so every descendant is done before cancel() returns.
 *
 * A child registers one hook with its parent and removes it when it is cancelled itself, so a
 * long-lived parent does not accumulate finished children (Go's removeChild). That hook (a
 * ChildCancel) is not run as a call: cancel() makes the child done with its own error and cause and
 * queues it, and a loop runs the queued children's hooks in turn, so a chain of contexts of any
 * depth ends done. Go recurses, on a stack that grows; a Java thread's stack overflowed a few
 * thousand levels down, leaving the contexts below live for ever and their ancestors' other hooks
 * unrun.
 *
 * A hook that throws (none should; an Error such as an OutOfMemoryError starting an afterFunc's
 * thread can) does not stop the loop either: every hook of every context still runs and every
 * descendant ends, and only then does cancel() throw what was thrown — the first Error, else the
 * first exception, the others suppressed in it. Stopping at the first throw left later waiters
 * blocked and later children live for ever, though their context was done.
 *
 * A deadline is one entry in the clock's timer engine (a DeadlineTimer), cancelled with the
 * context. A timeout reads only the monotonic clock; its deadline as an instant is worked out when
 * someone asks for it.
 */
final class CancelContext extends BaseContext implements CancelableContext {
  private static final VarHandle DEADLINE;
  private static final VarHandle ERR;

  /** What a plain cancel records until someone asks for the error; never handed out. */
  private static final ContextCancelledException CANCELLED = ContextCancelledException.recorded();

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      DEADLINE = lookup.findVarHandle(CancelContext.class, "deadline", Instant.class);
      ERR = lookup.findVarHandle(CancelContext.class, "err", ContextCancelledException.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final BaseContext parent;
  private final boolean ownDeadline;
  private final boolean watched; // the deadline is enforced by whoever calls expire(), not a timer
  private final long deadlineNanos; // on the clock's nanoTime() scale, if ownDeadline
  private final ContextHooks hooks = new ContextHooks();

  // The own deadline as an instant: given to withDeadline, or worked out from deadlineNanos the
  // first time deadline() is asked (a timeout then reads one clock, not two); set once.
  @SuppressWarnings("unused") // written through DEADLINE
  private volatile Instant deadline;

  private volatile ContextCancelledException err;
  private Throwable cause; // published by the volatile write of err
  private ChannelImpl<Void> doneChannel; // guarded by this
  private ContextHooks.Hook parentHook; // guarded by this
  private TimerEntry timer; // guarded by this

  private CancelContext(
      BaseContext parent, boolean ownDeadline, long deadlineNanos, Instant deadline) {
    this(parent, ownDeadline, false, deadlineNanos, deadline);
  }

  private CancelContext(
      BaseContext parent,
      boolean ownDeadline,
      boolean watched,
      long deadlineNanos,
      Instant deadline) {
    this.parent = parent;
    this.ownDeadline = ownDeadline;
    this.watched = watched;
    this.deadlineNanos = deadlineNanos;
    this.deadline = deadline;
  }

  /** A child of {@code parent}, done at {@code deadline} if it is not null. */
  static CancelContext create(BaseContext parent, Instant deadline, Throwable deadlineCause) {
    if (deadline == null) {
      return register(new CancelContext(parent, false, 0, null), null, 0, null, false);
    }
    Clock clock = parent.clock();
    long remaining = Nanos.of(Duration.between(clock.now(), deadline));
    CancelContext ctx = new CancelContext(parent, true, clock.deadlineAfter(remaining), deadline);
    return register(ctx, clock, remaining, deadlineCause, true);
  }

  /** A child of {@code parent} (which has no deadline) done {@code timeoutNanos} from now. */
  static CancelContext createTimeout(BaseContext parent, long timeoutNanos) {
    Clock clock = parent.clock();
    CancelContext ctx = new CancelContext(parent, true, clock.deadlineAfter(timeoutNanos), null);
    return register(ctx, clock, timeoutNanos, null, true);
  }

  /** A child whose deadline only {@link #expire} enforces: see {@link WatchedDeadlines}. */
  static CancelContext createWatched(BaseContext parent, long deadlineNanos) {
    return register(
        new CancelContext(parent, true, true, deadlineNanos, null), null, 0, null, false);
  }

  /** Ends a context from {@link #createWatched} as a passing deadline would. */
  static boolean expire(CancelableContext ctx) {
    if (!(ctx instanceof CancelContext c) || !c.watched) {
      throw new IllegalArgumentException("not a context with a watched deadline: " + ctx);
    }
    return c.cancel(deadlineExceeded(), null);
  }

  /**
   * Hooks a new context to its parent and, if {@code armed}, its deadline ({@code remaining} ns
   * away) to the clock's timer engine.
   */
  private static CancelContext register(
      CancelContext ctx, Clock clock, long remaining, Throwable deadlineCause, boolean armed) {
    BaseContext parent = ctx.parent;
    ContextHooks.Hook hook =
        parent.cancellable() ? parent.register(new ChildCancel(ctx, parent)) : null;
    TimerEntry timer = null;
    if (armed) {
      if (remaining <= 0) {
        ctx.cancel(deadlineExceeded(), deadlineCause);
      } else {
        timer = new DeadlineTimer(clock, ctx.deadlineNanos, ctx, deadlineCause);
        TimerEngine.schedule(timer);
      }
    }
    boolean alreadyDone;
    synchronized (ctx) {
      ctx.parentHook = hook;
      ctx.timer = timer;
      alreadyDone = ctx.err != null;
    }
    if (alreadyDone) {
      ctx.releaseResources();
    }
    return ctx;
  }

  /** The timer entry of a deadline: one object, which cancels its context when it fires. */
  private static final class DeadlineTimer extends TimerEntry {
    private CancelContext ctx; // dropped once the entry is cancelled
    private final Throwable cause;

    DeadlineTimer(Clock clock, long deadlineNanos, CancelContext ctx, Throwable cause) {
      super(clock, deadlineNanos);
      this.ctx = ctx;
      this.cause = cause;
    }

    @Override
    protected void fire() {
      ctx.cancel(deadlineExceeded(), cause);
    }

    @Override
    protected void onCancel() {
      ctx = null;
    }
  }

  private static DeadlineExceededException deadlineExceeded() {
    return DeadlineExceededException.recorded();
  }

  /**
   * The hook a child registers with its parent. Run as a hook (the parent was done already when the
   * child registered), it cancels the child; a cancel in progress queues it instead.
   */
  private record ChildCancel(CancelContext child, BaseContext parent) implements Runnable {
    @Override
    public void run() {
      child.cancel(child.markDoneByParent(parent));
    }
  }

  /** Marks this context done because its parent {@code p} is; the hooks to run, or null. */
  private List<ContextHooks.Hook> markDoneByParent(BaseContext p) {
    ContextCancelledException parentErr = p.err().orElseThrow();
    return markDone(parentErr, p.cause().filter(c -> c != parentErr).orElse(null));
  }

  @Override
  public void cancel() {
    cancel(CANCELLED, null);
  }

  @Override
  public void cancel(Throwable cause) {
    cancel(CANCELLED, Objects.requireNonNull(cause, "cause"));
  }

  @Override
  public void close() {
    cancel();
  }

  /** Ends the context with {@code error}; false if it was done already. */
  private boolean cancel(ContextCancelledException error, Throwable why) {
    return cancel(markDone(error, why));
  }

  /**
   * Runs the hooks {@link #markDone} returned (false if it returned null, as for a context done
   * already), then ends every descendant: the class comment's loop, which never recurses.
   */
  private boolean cancel(List<ContextHooks.Hook> toRun) {
    if (toRun == null) {
      return false;
    }
    Loop loop = runHooks(this, toRun, null);
    releaseResources();
    for (Ended e; loop != null && (e = loop.descendants.poll()) != null; ) {
      loop = runHooks(e.ctx, e.hooks, loop);
      e.ctx.releaseResources();
    }
    if (loop != null) {
      loop.rethrow();
    }
    return true;
  }

  /** A descendant that the loop has made done, and its hooks, still to run. */
  private record Ended(CancelContext ctx, List<ContextHooks.Hook> hooks) {}

  /**
   * What the cancel loop carries beyond the first context's hooks, made only when needed: the
   * descendants still to end, and what hooks have thrown so far.
   */
  private static final class Loop {
    final ArrayDeque<Ended> descendants = new ArrayDeque<>();
    List<Throwable> failures; // in the order the hooks threw them; null while none has

    void failed(Throwable t) {
      if (failures == null) {
        failures = new ArrayList<>(2);
      }
      failures.add(t);
    }

    /**
     * Throws what the hooks threw, once every hook has run: the first Error, else the first
     * exception, with every other one suppressed in it.
     */
    void rethrow() {
      if (failures == null) {
        return;
      }
      Throwable first = failures.getFirst();
      for (Throwable t : failures) {
        if (t instanceof Error) {
          first = t;
          break;
        }
      }
      for (Throwable t : failures) {
        if (t != first) {
          first.addSuppressed(t);
        }
      }
      switch (first) {
        case Error e -> throw e;
        case RuntimeException e -> throw e;
        default -> throw new UndeclaredThrowableException(first); // a hook that threw sneakily
      }
    }
  }

  /**
   * Records {@code error} and {@code why} and closes the done channel, unless the context is done
   * already; returns its detached hooks, or null if it was done.
   */
  private List<ContextHooks.Hook> markDone(ContextCancelledException error, Throwable why) {
    List<ContextHooks.Hook> toRun;
    ChannelImpl<Void> done;
    synchronized (this) {
      if (err != null) {
        return null;
      }
      cause = why;
      err = error;
      toRun = hooks.detach();
      done = doneChannel;
    }
    if (done != null) {
      done.close();
    }
    return toRun;
  }

  /**
   * Runs the hooks of {@code owner}, which is done; a child's hook instead makes the child done
   * with the owner's error and cause (read from the owner itself, not through the value contexts
   * between them) and adds it to the loop's descendants. A hook that throws does not stop the
   * others: what it threw is kept in the loop, for {@link Loop#rethrow} once every hook has run.
   * The loop is made when first needed.
   */
  private static Loop runHooks(CancelContext owner, List<ContextHooks.Hook> hooks, Loop loop) {
    ContextCancelledException ownerErr = null;
    for (ContextHooks.Hook h : hooks) {
      try {
        if (h.action instanceof ChildCancel c) {
          if (ownerErr == null) {
            ownerErr = owner.error();
          }
          List<ContextHooks.Hook> theirs = c.child.markDone(ownerErr, owner.cause);
          if (theirs != null) {
            if (loop == null) {
              loop = new Loop();
            }
            loop.descendants.add(new Ended(c.child, theirs));
          }
        } else {
          h.action.run();
        }
      } catch (Throwable t) {
        if (loop == null) {
          loop = new Loop();
        }
        loop.failed(t);
      }
    }
    return loop;
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

  /** Whether this context has a deadline of its own, not only an inherited one. */
  boolean hasOwnDeadline() {
    return ownDeadline;
  }

  /** The deadline of its own as an instant, worked out once; call only if it has one. */
  Instant ownDeadline() {
    Instant d = deadline;
    if (d == null) {
      Instant computed = clock().instantAt(deadlineNanos);
      Instant witness = (Instant) DEADLINE.compareAndExchange(this, null, computed);
      d = witness != null ? witness : computed;
    }
    return d;
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
    return Optional.ofNullable(error());
  }

  /** The error, null while live; the first call after a plain cancel makes the context's own. */
  private ContextCancelledException error() {
    ContextCancelledException e = err;
    if (e == CANCELLED) {
      ContextCancelledException own = ContextCancelledException.recorded();
      ContextCancelledException witness =
          (ContextCancelledException) ERR.compareAndExchange(this, CANCELLED, own);
      e = witness == CANCELLED ? own : witness;
    }
    return e;
  }

  @Override
  public Optional<Throwable> cause() {
    ContextCancelledException e = error();
    if (e == null) {
      return Optional.empty();
    }
    return Optional.of(cause != null ? cause : e);
  }

  @Override
  BaseContext parent() {
    return parent;
  }

  @Override
  String label() {
    String state = err == null ? "live" : err.getMessage();
    return (ownDeadline ? ".WithDeadline(" + ownDeadline() + ")" : ".WithCancel")
        + "["
        + state
        + "]";
  }
}
