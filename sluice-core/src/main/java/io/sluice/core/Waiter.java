package io.sluice.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.locks.LockSupport;

/*
 * A thread blocked in one channel operation or one select: Go's "g" as seen from its sudogs (Node).
 *
 * state is WAITING until exactly one party moves it, by CAS, to its final value:
 *   - a clause index >= 0: a counterpart (a sender, a receiver, close(), a context hook of a select
 *     case) completed that clause; the counterpart wrote the clause's Node fields before the CAS;
 *   - INTERRUPTED, TIMED_OUT or CANCELLED: the waiter itself gave up (interrupt, deadline) or its
 *     context's hook did.
 * Whoever wins the CAS decides the outcome; everyone else treats the waiter's nodes as dead. That
 * single CAS is what makes a select complete exactly one clause (Go's selectDone).
 *
 * await() spins briefly before parking: a hand-off between two running threads then costs no
 * park/unpark, which dominates on virtual threads. It announces that it is about to park (parking,
 * volatile) and re-checks state afterwards; a completer reads parking after its CAS and unparks
 * only then. Both sides use volatile accesses, so at least one sees the other (no lost wake-up),
 * and a hand-off to a spinning waiter skips unpark altogether.
 *
 * Spinning is adaptive per channel (as HotSpot's adaptive spinning is per monitor): a wait on a
 * channel that spun and still had to park makes the next waits on that channel park at once, one
 * wait after an isolated failure, doubling with each failure in a row up to SPIN_BACKOFF; a wait
 * completed while spinning ends the row. Where spins pay off (two threads handing values back and
 * forth) they keep spinning, and the odd failure (the counterpart descheduled for a moment) costs
 * one park, not SPIN_BACKOFF of them: with a fixed backoff a rendezvous ping-pong parked on ~1% of
 * its hand-offs, now on almost none. Where waits are long (a pipeline stage waiting for the next
 * chunk) the failures come in a row and spinning stops within seven waits, so it does not burn the
 * carrier that the counterpart needs: on two oversubscribed cores, a 3-stage chunked pipeline ran
 * about 4x slower with a full spin phase before every park. A select keeps its spin phase (its
 * waits span several channels).
 *
 * Quiet spins, also per channel: a wait on a channel first spins without yielding (quietSpins
 * iterations, at most MAX_QUIET_SPINS), then yields every 4th spin as above. A wait completed
 * before its first yield doubles the channel's quiet spins, one completed only after a yield halves
 * them (to 0 below 8), and so does a failed spin phase. When the counterpart runs on another
 * carrier it arrives within a few hundred nanoseconds, and a yield (unmounting and remounting the
 * virtual thread) costs more than that wait: a rendezvous ping-pong yielding every 4th spin spent
 * ~830 ns per hand-off (HandoffDuel, with the host in its slow state), ~600 ns with quiet spins
 * (ADR 11). When the counterpart needs this carrier (one carrier, or both threads queued on one),
 * only a yield lets it run and quiet spins would only delay it: there they fall to 0 within a few
 * waits. A channel starts at 0 (what it did before quiet spins), and at 0 one wait in QUIET_PROBE
 * tries the most, so a channel whose threads run on separate carriers finds out within a thousand
 * waits.
 *
 * A plain send or receive queues a Node that is its own Waiter (one allocation); a select queues one
 * Node per clause, all pointing at one shared Waiter.
 */
class Waiter {
  static final int WAITING = -1;
  static final int INTERRUPTED = -2;
  static final int TIMED_OUT = -3;
  static final int CANCELLED = -4;

  /** Busy-wait iterations before parking; none on a single CPU, where spinning only delays. */
  private static final int SPINS = Runtime.getRuntime().availableProcessors() > 1 ? 256 : 0;

  /** Every 4th spin yields instead: on a busy or single carrier the counterpart needs the CPU. */
  private static final int YIELD_MASK = 3;

  /** The most waits on a channel that park without spinning after spin phases on it failed. */
  static final int SPIN_BACKOFF = 64;

  /** The most spins without yielding that a wait on a channel starts with (see above). */
  static final int MAX_QUIET_SPINS = 512;

  /** A channel whose waits start without quiet spins tries them once in this many waits. */
  static final int QUIET_PROBE = 1024;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Waiter.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final Thread thread = Thread.currentThread();
  private volatile int state = WAITING;
  private volatile boolean parking;

  /** Moves WAITING to {@code outcome}; true if this call decided the waiter's outcome. */
  boolean casState(int outcome) {
    return STATE.compareAndSet(this, WAITING, outcome);
  }

  int lvState() {
    return state;
  }

  /** Completes {@code clause} for this waiter and wakes it; false if it was already decided. */
  boolean claimAndWake(int clause) {
    if (casState(clause)) {
      wake();
      return true;
    }
    return false;
  }

  /** Call after a successful {@link #casState}: unparks the thread if it parked or is about to. */
  void wake() {
    if (parking) {
      LockSupport.unpark(thread);
    }
  }

  /**
   * Waits until the state is decided.
   *
   * @param deadlineNanos {@link System#nanoTime()} deadline, used only if {@code timed}; compared
   *     by difference with {@code nanoTime()}, so one that overflowed past {@link Long#MAX_VALUE}
   *     (a saturated timeout) still lies that far ahead
   * @param ctx woken with CANCELLED when done; {@code null} for none
   * @param operation with {@code target}, describes the wait for {@link Diagnostics}
   * @return the final state: a clause index, INTERRUPTED, TIMED_OUT or CANCELLED. If an interrupt
   *     arrives after a counterpart completed the operation, the operation stands and the interrupt
   *     status is set again.
   */
  int await(boolean timed, long deadlineNanos, BaseContext ctx, String operation, Object target) {
    ChannelImpl<?> channel = target instanceof ChannelImpl<?> c ? c : null;
    int quiet = 0;
    int spins = SPINS;
    if (channel != null && spins > 0) {
      if (channel.spinAllowed()) {
        quiet = channel.quietSpins();
        spins += quiet;
      } else {
        spins = 0;
      }
    }
    for (int i = 1; i <= spins; i++) {
      int s = state;
      if (s != WAITING) {
        if (channel != null) {
          channel.spinSucceeded(quiet, i <= quiet + YIELD_MASK);
        }
        return s;
      }
      if (i > quiet && (i & YIELD_MASK) == 0) {
        Thread.yield(); // lets a counterpart on this carrier (or CPU) run and complete us
      } else {
        Thread.onSpinWait();
      }
    }
    if (channel != null && spins > 0 && state == WAITING) {
      channel.spinFailed();
    }
    parking = true;
    ContextHooks.Hook hook = null;
    if (ctx != null && ctx.cancellable()) {
      hook = ctx.register(this::cancelByContext);
    }
    boolean reinterrupt = false;
    long warnAt = timed ? 0 : Diagnostics.blockedWarningNanos();
    long parkedAt = warnAt > 0 ? System.nanoTime() : 0;
    try {
      while (true) {
        int s = state;
        if (s != WAITING) {
          return s;
        }
        if (Thread.interrupted()) {
          if (casState(INTERRUPTED)) {
            return INTERRUPTED;
          }
          reinterrupt = true;
          continue;
        }
        if (timed) {
          long remaining = deadlineNanos - System.nanoTime();
          if (remaining <= 0) {
            if (casState(TIMED_OUT)) {
              return TIMED_OUT;
            }
            continue;
          }
          LockSupport.parkNanos(this, remaining);
        } else if (warnAt > 0) {
          long waited = System.nanoTime() - parkedAt;
          if (waited >= warnAt) {
            warnAt = 0;
            reportBlocked(operation, target, waited);
          } else {
            LockSupport.parkNanos(this, warnAt - waited);
          }
        } else {
          LockSupport.park(this);
        }
      }
    } finally {
      if (hook != null) {
        ctx.unregister(hook);
      }
      if (reinterrupt) {
        thread.interrupt();
      }
    }
  }

  /**
   * Logs the blocked-operation warning. The warning must change nothing else (Diagnostics): if
   * logging it throws (a failing log handler, a context value whose toString throws), the wait goes
   * on. Letting it propagate would leave this waiter undecided in the queues while its thread has
   * left, and the next counterpart would hand it a value that nobody receives.
   */
  private static void reportBlocked(String operation, Object target, long waited) {
    try {
      Diagnostics.reportBlocked(
          operation + " " + (target instanceof Object[] a ? Arrays.toString(a) : target), waited);
    } catch (RuntimeException e) {
      // the warning is lost, the wait is not
    }
  }

  private void cancelByContext() {
    if (casState(CANCELLED)) {
      wake();
    }
  }
}
