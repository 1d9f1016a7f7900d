package io.sluice.pipeline;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/*
 * One stage's counters, read live (Monitor) and at the end without stopping the run.
 *
 * Two kinds of counting. Stages that pass whole chunks on without user code (buffer, take, merge,
 * toList, the fan-out) add to the LongAdders once per chunk. Stages that call user code item by
 * item count through a Lane, one per stage thread (for mapParallel, one per running item thread,
 * pooled so there are never more than `parallelism` of them): `in` is bumped per item as the item
 * is taken — a plain field of the owner's, published with an opaque store, no read-modify-write
 * shared with anyone — and `start` holds the nanoTime at which the thread began its current chunk
 * or item (0 while it waits on a channel), so the live busy time is the finished busy time plus
 * now - start, and a stuck stage shows its busy time growing instead of looking idle. The number
 * of lanes with a start set is the stage's live "in flight" figure.
 *
 * Invariants: only a lane's owner thread writes it (lvX opaque loads by readers, opaque stores by
 * the owner); a lane is idle (start == 0) whenever its owner waits on a channel. A thread that ends
 * by an exception may leave its lane busy, so a final report (stats(false)) ignores `start`: it has
 * inFlight == 0 and counts no time in progress.
 */
final class Meter {
  final String name;
  final LongAdder in = new LongAdder();
  final LongAdder out = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder busyNanos = new LongAdder();
  private volatile List<Edge> inputs;
  private final List<Lane> lanes = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<Lane> idle = new ConcurrentLinkedQueue<>();

  Meter(String name, List<Edge> inputs) {
    this.name = name;
    this.inputs = inputs;
  }

  /**
   * Measures the queue of {@code inputs} from now on: a sink stage given a branch drains the
   * branch's end, not the edge it was fed, which is the input of the branch's first stage.
   */
  void measure(List<Edge> inputs) {
    this.inputs = inputs;
  }

  /** A new lane for the calling stage thread, counted from now on. */
  Lane lane() {
    Lane l = new Lane();
    lanes.add(l);
    return l;
  }

  /** A lane for a short-lived thread: an idle one given back by an ended thread, or a new one. */
  Lane borrow() {
    Lane l = idle.poll();
    return l != null ? l : lane();
  }

  /** Gives back a borrowed lane, idle; its counts stay in the meter's sums. */
  void giveBack(Lane l) {
    l.idle();
    idle.add(l);
  }

  /**
   * The figures now. Live, a lane's busy period in progress counts (time so far, one in flight); in
   * a final report it does not: a thread that ended by an exception may have left its lane busy.
   */
  StageStats stats(boolean live) {
    long queued = 0;
    for (Edge e : inputs) {
      queued += e.queued();
    }
    long now = System.nanoTime();
    long items = in.sum();
    long busy = busyNanos.sum();
    int inFlight = 0;
    for (Lane l : lanes) {
      items += l.lvIn();
      busy += l.lvBusy();
      long s = l.lvStart();
      if (live && s != 0) {
        inFlight++;
        busy += Math.max(0, now - s);
      }
    }
    return new StageStats(
        name, items, out.sum(), failed.sum(), Duration.ofNanos(busy), queued, inFlight);
  }

  /** A stage thread's own counters; see the design block. */
  static final class Lane {
    private static final VarHandle IN;
    private static final VarHandle BUSY;
    private static final VarHandle START;

    static {
      try {
        MethodHandles.Lookup l = MethodHandles.lookup();
        IN = l.findVarHandle(Lane.class, "in", long.class);
        BUSY = l.findVarHandle(Lane.class, "busy", long.class);
        START = l.findVarHandle(Lane.class, "start", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private long in;
    private long busy;
    private long start; // 0: idle
    private boolean suspended;

    /**
     * One more item taken; owner only. A plain write, not an opaque one: in a loop whose function
     * the compiler inlined it may keep the count in a register and store it after the loop (an
     * opaque store per item cost 10-30% of a trivial three-stage pipeline's time), but it cannot
     * move the store past a call it does not see into, such as a function that blocks, so a stuck
     * stage still shows the item it is stuck on. The reader's opaque read of a 64-bit field does
     * not tear.
     */
    void took() {
      in++;
    }

    /** {@code n} more items taken; owner only. See {@link #took()}. */
    void took(long n) {
      in += n;
    }

    /** Starts a busy period at {@code now} (a nanoTime, never 0 in practice); owner only. */
    void begin(long now) {
      START.setOpaque(this, now == 0 ? 1 : now);
    }

    /** Ends the busy period in progress, if any, at {@code now}; owner only. */
    void end(long now) {
      long s = start;
      if (s != 0) {
        START.setOpaque(this, 0L);
        BUSY.setOpaque(this, busy + Math.max(0, now - s));
      }
      suspended = false;
    }

    /** Pauses the busy period in progress while the owner waits (a send); owner only. */
    void suspend(long now) {
      if (start != 0) {
        end(now);
        suspended = true;
      }
    }

    /** Resumes a busy period {@link #suspend} paused; owner only. */
    void resume(long now) {
      if (suspended) {
        suspended = false;
        begin(now);
      }
    }

    private void idle() {
      end(System.nanoTime());
    }

    long lvIn() {
      return (long) IN.getOpaque(this);
    }

    long lvBusy() {
      return (long) BUSY.getOpaque(this);
    }

    long lvStart() {
      return (long) START.getOpaque(this);
    }
  }
}
