package io.sluice.jobs.journal;

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
 * Invariants: `state` goes WAITING -> DONE or WAITING -> FAILED once; exactly one of `waiter` and
 * `future` is set (the TERMINATED sentinel has neither and is never completed).
 */
final class Pending {
  static final int WAITING = 0;
  static final int DONE = 1;
  static final int FAILED = 2;

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

  /** Next older node while on the stack; next younger once the writer has reversed a batch. */
  Pending next;

  /** The segment the writer put the record into; written by the writer before completion. */
  long segment;

  private RuntimeException failure;
  private volatile int state;

  Pending(int type, byte[] body, Thread waiter, CompletableFuture<Long> future, boolean force) {
    this.type = type;
    this.force = force;
    this.body = body;
    this.crc = SegmentFormat.frameCrc(type, body);
    this.headerCrc = SegmentFormat.headerCrc(body.length, type, crc);
    this.waiter = waiter;
    this.future = future;
    this.enqueuedNanos = System.nanoTime();
  }

  int frameBytes() {
    return SegmentFormat.FRAME_HEADER_BYTES + body.length;
  }

  void complete() {
    state = DONE;
    if (future != null) {
      future.complete(segment);
    } else {
      LockSupport.unpark(waiter);
    }
  }

  void fail(RuntimeException failure) {
    this.failure = failure;
    state = FAILED;
    if (future != null) {
      future.completeExceptionally(failure);
    } else {
      LockSupport.unpark(waiter);
    }
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

  boolean isWaiting() {
    return state == WAITING;
  }
}
