package io.sluice.core.internal;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import java.util.Objects;

/**
 * <strong>Not API.</strong> Contexts with a deadline that their owner enforces, for Sluice's own
 * modules that run many short-lived deadlines at once: {@code io.sluice.jobs} gives every attempt a
 * context with the handler's timeout, and one watchdog entry in the timer engine ends the attempts
 * that overrun, where a timer per attempt would cost every attempt two atomic updates of the
 * engine's shared state. The module exports this package only to those modules; code on the class
 * path can reach it, but it may change or disappear in any release.
 *
 * <p>A watched context reports its deadline like any other ({@link Context#deadline()}), but
 * nothing ends it when the deadline passes: its owner calls {@link #expire} then, which ends it
 * exactly as a passing deadline ends a {@link Context#withTimeout} context (a {@link
 * io.sluice.core.DeadlineExceededException}, the same hooks). Cancelling it works as usual.
 *
 * <p>The implementation comes through {@link TimerEngine}'s access, which {@link Clock}'s static
 * initializer installs.
 */
public final class WatchedDeadlines {
  private WatchedDeadlines() {}

  /**
   * A child of {@code parent} whose {@link Context#deadline()} is the instant of {@code
   * deadlineNanos} on the parent's clock, and which no timer ends: the caller calls {@link #expire}
   * once that time has come. It is done early if the parent is done or it is cancelled.
   *
   * @param parent a context without a deadline of its own or inherited
   * @param deadlineNanos when the caller will expire it, on {@code parent.clock().nanoTime()}'s
   *     scale
   * @return a new context; close it when the work it covers is over
   * @throws IllegalArgumentException if {@code parent} has a deadline
   */
  public static CancelableContext withDeadline(Context parent, long deadlineNanos) {
    Objects.requireNonNull(parent, "parent");
    if (parent.deadline().isPresent()) {
      throw new IllegalArgumentException(
          "a watched deadline needs a parent without a deadline; this one has "
              + parent.deadline().get());
    }
    return TimerEngine.access().watchedDeadline(parent, deadlineNanos);
  }

  /**
   * Ends a context from {@link #withDeadline} because its deadline passed: its error becomes a
   * {@link io.sluice.core.DeadlineExceededException}, as when a timeout context's timer fires. Does
   * nothing if the context is already done. Never blocks; runs the context's hooks (its children's
   * cancellation, {@code afterFunc}s) on the calling thread.
   *
   * @param ctx a context from {@link #withDeadline}
   * @return {@code true} if this call ended it
   * @throws IllegalArgumentException if {@code ctx} did not come from {@link #withDeadline}
   */
  public static boolean expire(CancelableContext ctx) {
    return TimerEngine.access().expireWatched(Objects.requireNonNull(ctx, "ctx"));
  }
}
