package io.sluice.jobs.journal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.LockSupport;

/*
 * One append on its way to the disk: the node of the journal's MPSC stack and the waiter of its
 * submitter. The submitter computes both frame checks before enqueueing (so the CRC work is spread
 * over the submitting threads, not done by the one writer), pushes the node, and then either parks
 * (append) or returns a future (appendAsync). These are the plain CRC32Cs; the writer, which alone
 * knows where the frame will start, XORs them with the segment's mask for that offset.
 *
 * Completion: the writer stores `segment` (when it puts the frame) or `failure` (plain), then `state` (volatile, the release),
 * then unparks the waiter or completes the future. The waiter reads `state` (the acquire) before the
 * plain fields. A waiter that left because it was interrupted may still be unparked later; park()
 * allows spurious returns, so that is harmless to whatever the thread parks on next.
 *
 * Timed waits (a waiter with a deadline) add no timer: the waiter parks without one, and the
 * journal's watchdog, which looks only while a commit runs long, unparks a waiter whose deadline
 * has passed. The waiter then gives up by a CAS WAITING -> ABANDONED after storing a fresh `late`
 * future; completion swaps the state with getAndSet, and if it finds ABANDONED it completes `late`
 * instead of unparking. Exactly one side wins: either the waiter sees DONE/FAILED and returns the
 * outcome, or the completion sees ABANDONED and hands it to `late`. Untimed appends keep the plain
 * volatile store.
 *
 * Invariants: `state` goes WAITING -> DONE, WAITING -> FAILED, or WAITING -> ABANDONED -> DONE or
 * FAILED, once each; exactly one of `waiter` and `future` is set (the TERMINATED sentinel has
 * neither and is never completed); `late` is set iff the state has been ABANDONED.
 */
final class Pending {
  static final int WAITING = 0;
  static final int DONE = 1;
  static final int FAILED = 2;
  static final int ABANDONED = 3;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Pending.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Marks the stack of a closed or failed journal: nothing can be pushed on top of it. */
  static final Pending TERMINATED = new Pending(0, new byte[0], null, null, false);

  final int type;
  final byte[] body;
  final int crc;
  final int headerCrc;
  final long enqueuedNanos;

  /** Whether the record must be forced before it completes, whatever the durability policy. */
  final boolean force;

  private final Thread waiter;
  private final CompletableFuture<Long> future;

  /** Whether the waiter gives up at {@code deadline} (System.nanoTime). */
  private final boolean timed;

  private final long deadline;

  /** The outcome for a waiter that gave up; written before the CAS to ABANDONED. */
  private CompletableFuture<Long> late;

  /** Next older node while on the stack; next younger once the writer has reversed a batch. */
  Pending next;

  /** The segment the writer put the record into; written by the writer before completion. */
  long segment;

  private RuntimeException failure;
  private volatile int state;

  Pending(int type, byte[] body, Thread waiter, CompletableFuture<Long> future, boolean force) {
    this(type, body, waiter, future, force, -1);
  }

  /** A waiter that gives up after {@code timeoutNanos} if not negative. */
  Pending(
      int type,
      byte[] body,
      Thread waiter,
      CompletableFuture<Long> future,
      boolean force,
      long timeoutNanos) {
    this.type = type;
    this.force = force;
    this.body = body;
    this.crc = SegmentFormat.frameCrc(type, body);
    this.headerCrc = SegmentFormat.headerCrc(body.length, type, crc);
    this.waiter = waiter;
    this.future = future;
    this.enqueuedNanos = System.nanoTime();
    this.timed = timeoutNanos >= 0;
    this.deadline = timed ? enqueuedNanos + timeoutNanos : 0;
  }

  int frameBytes() {
    return SegmentFormat.FRAME_HEADER_BYTES + body.length;
  }

  void complete() {
    if (timed) {
      if ((int) STATE.getAndSet(this, DONE) == ABANDONED) {
        late.complete(segment);
        return;
      }
    } else {
      state = DONE;
    }
    if (future != null) {
      future.complete(segment);
    } else {
      LockSupport.unpark(waiter);
    }
  }

  void fail(RuntimeException failure) {
    this.failure = failure;
    if (timed) {
      if ((int) STATE.getAndSet(this, FAILED) == ABANDONED) {
        late.completeExceptionally(failure);
        return;
      }
    } else {
      state = FAILED;
    }
    if (future != null) {
      future.completeExceptionally(failure);
    } else {
      LockSupport.unpark(waiter);
    }
  }

  /** The watchdog's call: wakes a timed waiter whose deadline has passed, so it can give up. */
  void wakeIfExpired(long now) {
    if (timed && waiter != null && state == WAITING && now - deadline >= 0) {
      LockSupport.unpark(waiter);
    }
  }

  /**
   * Parks until completed or, once the watchdog wakes it past its deadline, gives up. Whatever
   * interrupts come, it keeps waiting; the interrupt status is kept.
   *
   * @throws AppendTimeoutException if it gave up: the outcome follows in the exception's future
   */
  long awaitUninterruptiblyTimed() throws AppendTimeoutException {
    boolean interrupted = false;
    try {
      while (state == WAITING) {
        LockSupport.park(this);
        if (Thread.currentThread().isInterrupted() && Thread.interrupted()) {
          interrupted = true;
        }
        if (state == WAITING && System.nanoTime() - deadline >= 0) {
          CompletableFuture<Long> outcome = new CompletableFuture<>();
          late = outcome;
          if (STATE.compareAndSet(this, WAITING, ABANDONED)) {
            throw new AppendTimeoutException(
                "the append was not acknowledged within its timeout", outcome);
          }
          late = null; // completed meanwhile: the outcome is the state's
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
    return outcome();
  }

  /**
   * Parks until completed. Interrupted while waiting: throws, the record may or may not become
   * durable. Completed and interrupted at once: returns, with the interrupt status kept.
   */
  long await() throws InterruptedException {
    while (state == WAITING) {
      LockSupport.park(this);
      // isInterrupted first: a plain read, where interrupted() on a virtual thread costs more
      if (Thread.currentThread().isInterrupted() && Thread.interrupted()) {
        if (state != WAITING) {
          Thread.currentThread().interrupt();
          break;
        }
        throw new InterruptedException(
            "interrupted while waiting for the journal to acknowledge an append; the record may or"
                + " may not become durable");
      }
    }
    return outcome();
  }

  /** Parks until completed, whatever interrupts come; the interrupt status is kept. */
  long awaitUninterruptibly() {
    boolean interrupted = false;
    while (state == WAITING) {
      LockSupport.park(this);
      // cleared so that park blocks again; set again before returning
      if (Thread.currentThread().isInterrupted() && Thread.interrupted()) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
    return outcome();
  }

  private long outcome() {
    if (state == FAILED) {
      throw failure instanceof JournalException je
          ? new JournalException(je.getMessage(), je)
          : failure;
    }
    return segment;
  }

  /** Whether no outcome was given yet: a waiter still waits, or one that gave up waits for it. */
  boolean isWaiting() {
    int s = state;
    return s == WAITING || s == ABANDONED;
  }
}
