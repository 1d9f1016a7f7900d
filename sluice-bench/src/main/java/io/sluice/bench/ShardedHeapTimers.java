package io.sluice.bench;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;

/*
 * Design. The alternative ADR 0004 names and issue 2 asks to measure: per-carrier timer heaps, as
 * Go's runtime keeps one heap per P. Java cannot name the carrier of a virtual thread without the
 * JDK's internals, so the shard is chosen by the scheduling thread's id (a hash modulo the shard
 * count, which is the number of available processors): one thread always uses one shard, as a
 * goroutine's P is usually the same from call to call.
 *
 * Each shard is an implicit d-ary min-heap (d = 4 by default, Go's choice since 1.10: half the
 * depth of a binary heap; -Dsluice.bench.heapArity=2 gives a binary heap) kept in two parallel
 * arrays, deadlines in a long[] and entries in an Entry[], so sifting compares deadlines without
 * loading the entries (Go 1.23's heap stores `when` next to the timer pointer for the same reason).
 * The heap is guarded by a test-and-test-and-set spin lock (critical sections are a sift of a few
 * levels; a contender spins briefly, then yields), and served by one platform daemon thread per
 * shard that parks until the heap's earliest deadline.
 *
 * Waking. The firing thread publishes `wakeAt` (the deadline it sleeps until, AWAKE while it runs)
 * under the lock before it parks; a scheduler whose entry becomes the heap's root and is due before
 * wakeAt sets wakeAt to AWAKE under the lock and unparks the thread after unlocking. An unpark that
 * comes before the park leaves a permit, so no wake-up is lost.
 *
 * Firing. The thread pops up to BATCH due entries under the lock, unlocks, and then for each one
 * CASes its state PENDING -> FIRED and hands the body to `bodies` (by default a new virtual thread,
 * as Sluice's afterFunc does). Cancel CASes PENDING -> CANCELLED. Exactly one of the two CASes
 * succeeds, so fire-versus-cancel is decided by the entry's state alone, whatever the heap holds.
 *
 * Two cancel policies, both measured:
 *  - LAZY (Go's runtime: zombies plus a purge). Cancel is the CAS alone; the entry stays in the
 *    heap until it reaches the root (dropped there) or a purge compacts the heap and re-heapifies
 *    it (Floyd, O(n)). The cancellers count cancelled entries by sampling, one cancel in 16 adding
 *    16 (what Sluice's wheel does, ADR 9; Go adds one per cancel), and the canceller whose count
 *    reaches max(MIN_PURGE, size / 4) (Go's rule) wakes the shard's thread to purge, at most once
 *    per PURGE_PAUSE_NANOS (Sluice's sweep pacing). An entry is three fields: 24 bytes.
 *  - INDEXED (java.util.concurrent's ScheduledThreadPoolExecutor, with removeOnCancel): the entry
 *    records its heap index, updated on every move, and cancel takes the shard's lock and removes
 *    it in O(log n) at once. Nothing waits for a purge; every move of a sift writes the index field
 *    of the entry it moves (a cache miss with a million entries). An entry is 32 bytes.
 *
 * Invariants (checkInvariants, any thread; takes each shard's lock): the heap order holds between
 * every entry and its parent; slots [0, size) are non-null and slots from size on are null; with
 * INDEXED cancel, every held entry's index is its slot and it is pending.
 *
 * Not done, and not needed by the measurements: shrinking the arrays after a purge, resetting a
 * timer, stealing due timers from another shard's heap when its thread is late (Go's Ps do), and a
 * clock other than System.nanoTime().
 */
/**
 * <strong>A measurement prototype, not product code.</strong> Sharded timer heaps (one min-heap per
 * processor, each under its own small lock and served by its own firing thread), written only to
 * measure the alternative to Sluice's timing wheel that issue 2 and ADR 0004 name, side by side
 * with it in {@link TimerBenchmark}, {@link TimerFootprint} and {@link TimerLateness}. Nothing in
 * Sluice uses it.
 *
 * <p>{@link #schedule} and {@link Entry#cancel()} may be called from any thread. A due entry's body
 * runs on whatever {@code bodies} gives it (a new virtual thread by default); {@link
 * Entry#cancel()} returns {@code true} if and only if the body will never be handed over.
 *
 * <p>Memory consistency effects: actions in a thread before it schedules an entry happen-before the
 * entry's body is handed to {@code bodies}.
 */
final class ShardedHeapTimers implements AutoCloseable {
  /** How a cancelled entry leaves the heap. */
  enum CancelPolicy {
    /** The entry stays until it reaches the root or a purge drops it (Go's runtime). */
    LAZY,
    /** The entry records its heap index and is removed at once, under the lock (STPE's policy). */
    INDEXED
  }

  /** log2 of the heap's arity: 2 (a 4-ary heap) unless {@code -Dsluice.bench.heapArity=2}. */
  static final int ARITY_SHIFT = Integer.getInteger("sluice.bench.heapArity", 4) == 2 ? 1 : 2;

  /**
   * The fewest counted zombies a purge is worth: a purge is due at max(this, size / 4). {@code
   * -Dsluice.bench.heapMinPurge=N} changes it (a huge N turns purges off, to see what they cost).
   */
  static final int MIN_PURGE = Integer.getInteger("sluice.bench.heapMinPurge", 1024);

  /** One cancel in this many is counted, as this many. */
  static final int CANCEL_SAMPLE = 16;

  /** The least time between two purges of one shard. */
  static final long PURGE_PAUSE_NANOS = 5_000_000;

  /** Due entries popped per lock hold. */
  private static final int BATCH = 64;

  private static final long AWAKE = Long.MIN_VALUE;
  private static final long NONE = Long.MAX_VALUE;

  private final Shard[] shards;
  private final CancelPolicy policy;
  private final Executor bodies;

  /**
   * Sharded heaps, one per available processor, each with its firing thread started.
   *
   * @param policy how cancelled entries leave the heap
   * @param bodies runs the bodies of due entries ({@code Thread::startVirtualThread} for what
   *     Sluice's {@code afterFunc} does; {@code Runnable::run} runs them on the firing thread)
   */
  ShardedHeapTimers(CancelPolicy policy, Executor bodies) {
    this(Runtime.getRuntime().availableProcessors(), policy, bodies);
  }

  ShardedHeapTimers(int shardCount, CancelPolicy policy, Executor bodies) {
    if (shardCount < 1) {
      throw new IllegalArgumentException("shardCount < 1: " + shardCount);
    }
    this.policy = policy;
    this.bodies = bodies;
    this.shards = new Shard[shardCount];
    for (int i = 0; i < shardCount; i++) {
      shards[i] = new Shard(this, i);
    }
    for (Shard s : shards) {
      s.thread.start();
    }
  }

  /** Sharded heaps whose bodies each run on a new virtual thread. */
  static ShardedHeapTimers withVirtualThreadBodies(CancelPolicy policy) {
    return new ShardedHeapTimers(policy, Thread::startVirtualThread);
  }

  /**
   * Arms a timer that hands {@code body} to the executor once {@link System#nanoTime()} reaches
   * {@code deadlineNanos} (at once if it has). Takes the lock of the calling thread's shard for one
   * sift-up; never blocks otherwise.
   *
   * @param deadlineNanos when the body is due, on {@code System.nanoTime()}'s scale
   * @param body what to run
   * @return the entry, which can cancel it
   */
  Entry schedule(long deadlineNanos, Runnable body) {
    Shard shard = shards[shardIndex(Thread.currentThread().threadId(), shards.length)];
    Entry e =
        policy == CancelPolicy.INDEXED ? new IndexedEntry(shard, body) : new Entry(shard, body);
    shard.add(deadlineNanos, e);
    return e;
  }

  static int shardIndex(long threadId, int shardCount) {
    long h = threadId * 0x9E3779B97F4A7C15L; // Fibonacci hashing: consecutive ids spread out
    return (int) (((h >>> 32) * shardCount) >>> 32);
  }

  /** Entries held by all shards, cancelled ones not yet dropped included. */
  int held() {
    int n = 0;
    for (Shard s : shards) {
      s.lock();
      try {
        n += s.size;
      } finally {
        s.unlock();
      }
    }
    return n;
  }

  /**
   * Checks every shard's invariants (see the design notes); throws if one is broken. Call it when
   * no cancel is under way: an indexed entry is cancelled a moment before it leaves the heap.
   */
  void checkInvariants() {
    for (Shard s : shards) {
      s.lock();
      try {
        s.checkInvariantsLocked();
      } finally {
        s.unlock();
      }
    }
  }

  /** Stops the firing threads and waits for them; pending entries never fire. */
  @Override
  public void close() {
    for (Shard s : shards) {
      s.shutdown = true;
      LockSupport.unpark(s.thread);
    }
    boolean interrupted = false;
    for (Shard s : shards) {
      while (s.thread.isAlive()) {
        try {
          s.thread.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** A pending timer: its state, its shard and its body (24 bytes). */
  static class Entry {
    static final int PENDING = 0;
    static final int FIRED = 1;
    static final int CANCELLED = 2;

    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(Entry.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    final Shard shard;
    final Runnable body;

    @SuppressWarnings("unused") // accessed through STATE
    private volatile int state;

    Entry(Shard shard, Runnable body) {
      this.shard = shard;
      this.body = body;
    }

    /**
     * Stops the timer if it has not fired yet. With {@link CancelPolicy#LAZY}: one CAS, and in one
     * call of sixteen on average an atomic add to the shard's zombie count; never blocks. With
     * {@link CancelPolicy#INDEXED}: the CAS, then the shard's lock for an O(log n) removal.
     *
     * @return {@code true} if this call prevented the body from running
     */
    final boolean cancel() {
      if (!STATE.compareAndSet(this, PENDING, CANCELLED)) {
        return false;
      }
      shard.onCancelled(this);
      return true;
    }

    final boolean casFire() {
      return STATE.compareAndSet(this, PENDING, FIRED);
    }

    final int lvState() {
      return (int) STATE.getVolatile(this);
    }
  }

  /** An entry that knows its slot in the heap, for {@link CancelPolicy#INDEXED} (32 bytes). */
  static final class IndexedEntry extends Entry {
    int index = -1; // guarded by the shard's lock; -1 once out of the heap

    IndexedEntry(Shard shard, Runnable body) {
      super(shard, body);
    }
  }

  /** Padding before a shard's hot fields, so two shards' locks never share a cache line. */
  @SuppressWarnings("unused")
  abstract static class ShardPadBefore {
    long p00, p01, p02, p03, p04, p05, p06, p07;
  }

  /** A shard's fields. */
  abstract static class ShardFields extends ShardPadBefore {
    volatile int locked; // the spin lock: 0 free, 1 held
    volatile long zombies; // cancelled entries counted (by sampling) since the last purge
    volatile boolean purgeAsked;
    volatile boolean shutdown;
    // Guarded by the lock.
    long[] deadlines = new long[64];
    Entry[] entries = new Entry[64];
    int size; // written under the lock, read without it (opaque) by cancellers for the purge rule
    long wakeAt = AWAKE;
  }

  /** Padding after a shard's hot fields. */
  @SuppressWarnings("unused")
  abstract static class ShardPadAfter extends ShardFields {
    long p10, p11, p12, p13, p14, p15, p16, p17;
  }

  /** One heap, its lock and its firing thread. */
  static final class Shard extends ShardPadAfter {
    private static final VarHandle LOCKED;
    private static final VarHandle ZOMBIES;
    private static final VarHandle SIZE;
    private static final VarHandle PURGE_ASKED;

    static {
      try {
        MethodHandles.Lookup lookup = MethodHandles.lookup();
        LOCKED = lookup.findVarHandle(ShardFields.class, "locked", int.class);
        ZOMBIES = lookup.findVarHandle(ShardFields.class, "zombies", long.class);
        SIZE = lookup.findVarHandle(ShardFields.class, "size", int.class);
        PURGE_ASKED = lookup.findVarHandle(ShardFields.class, "purgeAsked", boolean.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final ShardedHeapTimers owner;
    private final boolean indexed;
    final Thread thread;
    private long lastPurge = System.nanoTime() - PURGE_PAUSE_NANOS;

    Shard(ShardedHeapTimers owner, int index) {
      this.owner = owner;
      this.indexed = owner.policy == CancelPolicy.INDEXED;
      this.thread =
          Thread.ofPlatform().daemon().name("heap-timer-" + index).unstarted(this::runFiring);
    }

    // ---- the lock ----

    void lock() {
      if (LOCKED.compareAndSet(this, 0, 1)) {
        return;
      }
      for (int spins = 0; ; spins++) {
        if ((int) LOCKED.getOpaque(this) == 0 && LOCKED.compareAndSet(this, 0, 1)) {
          return;
        }
        if (spins < 100) {
          Thread.onSpinWait();
        } else {
          Thread.yield(); // the holder may be descheduled, or purging a large heap
        }
      }
    }

    void unlock() {
      LOCKED.setRelease(this, 0);
    }

    // ---- schedulers and cancellers: any thread ----

    void add(long deadline, Entry e) {
      boolean wake = false;
      lock();
      try {
        int i = size;
        if (i == entries.length) {
          grow();
        }
        SIZE.setOpaque(this, i + 1);
        siftUp(i, deadline, e);
        if (entries[0] == e && deadline < wakeAt) {
          wakeAt = AWAKE; // one unpark per wake-up, however many earlier timers arrive meanwhile
          wake = true;
        }
      } finally {
        unlock();
      }
      if (wake) {
        LockSupport.unpark(thread);
      }
    }

    void onCancelled(Entry e) {
      if (indexed) {
        removeIndexed((IndexedEntry) e);
        return;
      }
      if ((ThreadLocalRandom.current().nextInt() & (CANCEL_SAMPLE - 1)) != 0) {
        return;
      }
      long z = (long) ZOMBIES.getAndAdd(this, (long) CANCEL_SAMPLE) + CANCEL_SAMPLE;
      long at = Math.max(MIN_PURGE, (int) SIZE.getOpaque(this) / 4);
      if (z >= at && !purgeAsked && PURGE_ASKED.compareAndSet(this, false, true)) {
        LockSupport.unpark(thread);
      }
    }

    private void removeIndexed(IndexedEntry e) {
      lock();
      try {
        int i = e.index;
        if (i >= 0) { // else the firing thread popped it and will find it cancelled
          removeAt(i);
        }
      } finally {
        unlock();
      }
    }

    // ---- the heap: under the lock ----

    private void grow() {
      int capacity = entries.length * 2;
      deadlines = Arrays.copyOf(deadlines, capacity);
      entries = Arrays.copyOf(entries, capacity);
    }

    /** Places {@code e}, due at {@code w}, at slot {@code i} or above; slot i is a hole. */
    private void siftUp(int i, long w, Entry e) {
      long[] d = deadlines;
      Entry[] es = entries;
      while (i > 0) {
        int p = (i - 1) >>> ARITY_SHIFT;
        long pw = d[p];
        if (pw <= w) {
          break;
        }
        d[i] = pw;
        setIndex(es[i] = es[p], i);
        i = p;
      }
      d[i] = w;
      setIndex(es[i] = e, i);
    }

    /** Places {@code e}, due at {@code w}, at slot {@code i} or below; slot i is a hole. */
    private void siftDown(int i, long w, Entry e) {
      long[] d = deadlines;
      Entry[] es = entries;
      int n = size;
      for (; ; ) {
        int c = (i << ARITY_SHIFT) + 1;
        if (c >= n) {
          break;
        }
        int end = Math.min(c + (1 << ARITY_SHIFT), n);
        int m = c;
        long mw = d[c];
        for (int k = c + 1; k < end; k++) {
          if (d[k] < mw) {
            mw = d[k];
            m = k;
          }
        }
        if (mw >= w) {
          break;
        }
        d[i] = mw;
        setIndex(es[i] = es[m], i);
        i = m;
      }
      d[i] = w;
      setIndex(es[i] = e, i);
    }

    private void setIndex(Entry e, int i) {
      if (indexed) {
        ((IndexedEntry) e).index = i;
      }
    }

    /** Removes the entry at slot {@code i}: the last entry fills the hole and sifts. */
    private Entry removeAt(int i) {
      Entry removed = entries[i];
      int last = size - 1;
      SIZE.setOpaque(this, last);
      if (i != last) {
        long w = deadlines[last];
        Entry moved = entries[last];
        entries[last] = null;
        if (i > 0 && deadlines[(i - 1) >>> ARITY_SHIFT] > w) {
          siftUp(i, w, moved);
        } else {
          siftDown(i, w, moved);
        }
      } else {
        entries[last] = null;
      }
      if (indexed) {
        ((IndexedEntry) removed).index = -1;
      }
      return removed;
    }

    /** Drops every cancelled entry and re-heapifies (Floyd): O(size). */
    private void purge() {
      long counted = zombies;
      long[] d = deadlines;
      Entry[] es = entries;
      int n = size;
      int kept = 0;
      for (int i = 0; i < n; i++) {
        Entry e = es[i];
        if (e.lvState() == Entry.PENDING) {
          d[kept] = d[i];
          es[kept++] = e;
        }
      }
      Arrays.fill(es, kept, n, null);
      SIZE.setOpaque(this, kept);
      for (int i = (kept - 2) >>> ARITY_SHIFT; kept > 1 && i >= 0; i--) {
        siftDown(i, d[i], es[i]);
      }
      ZOMBIES.getAndAdd(this, -counted);
    }

    void checkInvariantsLocked() {
      for (int i = 0; i < entries.length; i++) {
        Entry e = entries[i];
        if ((e == null) != (i >= size)) {
          throw new IllegalStateException("slot " + i + " is " + e + " with size " + size);
        }
        if (i > 0 && i < size && deadlines[(i - 1) >>> ARITY_SHIFT] > deadlines[i]) {
          throw new IllegalStateException("heap order broken at slot " + i);
        }
        if (indexed && e != null) {
          if (((IndexedEntry) e).index != i) {
            throw new IllegalStateException("entry at slot " + i + " says it is at another");
          }
          if (e.lvState() == Entry.CANCELLED) {
            throw new IllegalStateException("a cancelled indexed entry is still held, slot " + i);
          }
        }
      }
    }

    // ---- the firing thread ----

    private void runFiring() {
      Entry[] due = new Entry[BATCH];
      while (!shutdown) {
        int popped = 0;
        long next;
        long now = System.nanoTime();
        boolean purgeWaits = false;
        lock();
        try {
          wakeAt = AWAKE;
          while (popped < BATCH && size > 0 && deadlines[0] - now <= 0) {
            Entry e = removeAt(0);
            if (e.lvState() == Entry.PENDING) {
              due[popped++] = e;
            } else if (!indexed) {
              ZOMBIES.getAndAdd(this, -1L); // a zombie dropped at the root
            }
          }
          if (purgeAsked) {
            if (now - lastPurge >= PURGE_PAUSE_NANOS) {
              purgeAsked = false;
              purge();
              lastPurge = now;
            } else {
              purgeWaits = true;
            }
          }
          next = size > 0 ? deadlines[0] : NONE;
          if (popped == 0) {
            wakeAt = next; // from here on, a scheduler with an earlier root unparks this thread
          }
        } finally {
          unlock();
        }
        for (int i = 0; i < popped; i++) {
          Entry e = due[i];
          due[i] = null;
          if (e.casFire()) {
            try {
              owner.bodies.execute(e.body);
            } catch (Throwable t) {
              thread.getUncaughtExceptionHandler().uncaughtException(thread, t);
            }
          }
        }
        if (popped == 0) {
          long wake = purgeWaits ? Math.min(next, lastPurge + PURGE_PAUSE_NANOS) : next;
          long delay = wake - System.nanoTime();
          if (wake == NONE) {
            LockSupport.park(this);
          } else if (delay > 0) {
            LockSupport.parkNanos(this, delay);
          }
        }
      }
    }
  }
}
