package io.sluice.core;

import io.sluice.core.internal.Nanos;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.function.Supplier;

/*
 * Go's hchan, for virtual threads.
 *
 * Algorithm (as in Go's runtime/chan.go): one short lock per channel guards a ring buffer and two
 * FIFO wait queues of Nodes (senders, receivers). Every operation takes the lock, completes at once
 * if it can, and otherwise queues a Node and parks outside the lock:
 *   send:    a waiting receiver gets the value directly; else the buffer takes it; else wait.
 *   receive: the buffer's head, refilled from the first waiting sender; else a waiting sender's
 *            value (unbuffered); else the end of the stream if closed; else wait.
 *   close:   mark closed, then decide every waiting node as "closed" and wake it.
 * A counterpart completes a waiting node by a CAS on its Waiter (Waiter's comment), so a select's
 * other clauses and a waiter giving up race safely; unpark happens after the lock is released.
 *
 * The lock is a test-and-set spin lock (spin, then yield): critical sections are a few dozen
 * instructions, so parking a lock holder's competitor would cost more than the section itself.
 * They can block, though: a timer channel's source takes the timer's monitor under the channel lock,
 * and a virtual thread that meets a contended monitor is unmounted, lock held. So a waiter that has
 * spun and yielded for long parks briefly before trying again; spinning and yielding alone kept
 * every carrier busy and the unmounted holder never ran again. Select takes the locks of all its
 * channels at once, in id order (Go's lockorder), to queue its nodes atomically with respect to
 * every counterpart.
 *
 * The buffer grows by doubling up to the capacity, so buffered(1_000_000) costs nothing until used.
 *
 * Invariants, whenever the lock is free (checkInvariants):
 *   0 <= count <= capacity; count > 0 implies no live waiting receiver;
 *   a bounded channel with count < capacity has no live waiting sender;
 *   an unbuffered channel never has live senders and live receivers at once, except the nodes of
 *   one select that waits on both sides of it;
 *   a closed channel has no live waiters.
 */
final class ChannelImpl<T> implements Channel<T> {
  private static final AtomicLong IDS = new AtomicLong();
  static final Object EMPTY = new Object();
  static final Object CLOSED = new Object();
  private static final Object SENT = new Object();
  private static final int INITIAL_BUFFER = 16;

  /** Lock waits: spins, then yields, then brief parks (see {@link #parkBriefly()}). */
  private static final int LOCK_SPINS = 64;

  private static final int LOCK_YIELDS = 256;
  private static final int LOCK_SPINS_HOLDING_OTHERS = 1 << 12;
  private static final long LOCK_PARK_NANOS = 20_000;
  private static final VarHandle LOCK;

  static {
    try {
      LOCK = MethodHandles.lookup().findVarHandle(ChannelImpl.class, "lockState", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Lock order for select: unique per channel. */
  final long id = IDS.incrementAndGet();

  final int capacity;
  private final ChannelSource<T> source;
  private volatile int lockState;

  // Guarded by the lock.
  private Object[] buffer;
  private int head;
  private int count;
  private boolean closed;
  private Throwable closeError;
  private final WaitQueue senders = new WaitQueue();
  private final WaitQueue receivers = new WaitQueue();

  /*
   * Adaptive spinning (see Waiter): negative after a failed spin phase, counting up to 0 by one per
   * wait that skips spinning. Plain field, read and written racily: it is a hint, any value is safe.
   */
  private int spinBackoff;

  /** Spin phases on this channel that failed in a row, up to MAX_FAILURES_IN_A_ROW; a hint too. */
  private int spinFailures;

  /**
   * Spins without yielding before a wait's yielding spins (see Waiter); a hint too. It starts at 0,
   * as a channel used for a few waits is best served by yielding early.
   */
  private int quietSpins;

  /** Waits started while quietSpins was 0, for the periodic probe; a hint too. */
  private int waitsSinceProbe;

  private static final int MAX_FAILURES_IN_A_ROW =
      Integer.numberOfTrailingZeros(Waiter.SPIN_BACKOFF) + 1;

  ChannelImpl(int capacity) {
    this(capacity, null);
  }

  ChannelImpl(int capacity, ChannelSource<T> source) {
    this.capacity = capacity;
    this.source = source;
    this.buffer = capacity == 0 ? null : new Object[Math.min(capacity, INITIAL_BUFFER)];
  }

  // ---------------------------------------------------------------- lock

  void lock() {
    if (!LOCK.compareAndSet(this, 0, 1)) {
      lockSlow();
    }
  }

  private void lockSlow() {
    boolean interrupted = false;
    for (int spins = 1; !(lockState == 0 && LOCK.compareAndSet(this, 0, 1)); spins++) {
      if (spins < LOCK_SPINS) {
        Thread.onSpinWait();
      } else if (spins < LOCK_SPINS + LOCK_YIELDS) {
        Thread.yield();
      } else {
        interrupted |= parkBriefly();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Locks without yielding the thread: for a select that already holds other channels' locks (a
   * virtual thread that yields while holding a lock makes everyone behind it wait for the
   * scheduler). Lock order by id guarantees the holder makes progress, as long as it runs: so past
   * a spin budget this too parks briefly (see {@link #parkBriefly()}).
   */
  void lockHoldingOthers() {
    boolean interrupted = false;
    for (int spins = 1; !LOCK.compareAndSet(this, 0, 1); spins++) {
      if (spins < LOCK_SPINS_HOLDING_OTHERS) {
        Thread.onSpinWait();
      } else {
        interrupted |= parkBriefly();
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Parks for a moment, so that the carrier is free: the lock's holder may be a virtual thread that
   * was unmounted inside its critical section (a timer channel's source takes the timer's monitor
   * under the channel lock, and a contended monitor unmounts a virtual thread) and now waits for a
   * carrier. Waiters that only spin and yield keep every carrier busy (a yielding virtual thread
   * goes back to its carrier's own queue, ahead of the holder), and the holder never runs again.
   * The interrupt status is cleared for the park, which it would cut short, and returned so the
   * caller can set it again once it holds the lock.
   */
  private static boolean parkBriefly() {
    boolean interrupted = Thread.interrupted();
    LockSupport.parkNanos(LOCK_PARK_NANOS);
    return interrupted;
  }

  void unlock() {
    LOCK.setRelease(this, 0);
  }

  // ---------------------------------------------------------------- buffer (under lock)

  private void enqueue(Object v) {
    if (count == buffer.length) {
      grow();
    }
    int tail = head + count;
    if (tail >= buffer.length) {
      tail -= buffer.length;
    }
    buffer[tail] = v;
    count++;
  }

  private Object dequeue() {
    Object v = buffer[head];
    buffer[head] = null;
    if (++head == buffer.length) {
      head = 0;
    }
    count--;
    return v;
  }

  private void grow() {
    int newLength = (int) Math.min((long) buffer.length * 2, capacity);
    Object[] bigger = new Object[newLength];
    for (int i = 0; i < count; i++) {
      int j = head + i;
      bigger[i] = buffer[j >= buffer.length ? j - buffer.length : j];
    }
    buffer = bigger;
    head = 0;
  }

  // ---------------------------------------------------------------- cores (under lock)

  /**
   * Completes a send if possible now. Returns SENT, a claimed receiver Node to wake, or EMPTY when
   * the caller would have to wait; CLOSED if the channel is closed.
   */
  Object sendLocked(Object v) {
    if (closed) {
      return CLOSED;
    }
    Node r = receivers.claimFirst(v);
    if (r != null) {
      return r;
    }
    if (count < capacity) {
      enqueue(v);
      return SENT;
    }
    return EMPTY;
  }

  /**
   * Completes a receive if possible now. Returns the value; or a claimed sender Node to wake, whose
   * item holds the received value; or CLOSED; or EMPTY when the caller would have to wait.
   */
  Object receiveLocked() {
    if (count > 0) {
      Object v = dequeue();
      Node s = senders.claimFirst(null);
      if (s != null) {
        enqueue(s.item);
        s.item = v;
        return s;
      }
      return v;
    }
    Node s = senders.claimFirst(null);
    if (s != null) {
      return s;
    }
    if (source != null) {
      T due = source.pollDue();
      if (due != null) {
        return due;
      }
    }
    return closed ? CLOSED : EMPTY;
  }

  void addSender(Node n) {
    senders.add(n);
  }

  /**
   * Queues a receiver's node. Returns true if the node is a plain receive that only a reset of this
   * channel's timer can ever complete: the caller reports it with {@link #reportStrandedReceive()}
   * after unlocking.
   */
  boolean addReceiver(Node n) {
    receivers.add(n);
    return source != null && source.armForWaiter(n.plain);
  }

  /**
   * After unlock, on the receiving thread: see {@link ChannelSource#reportStrandedReceive()}. The
   * receiver's node is already queued, so the report must not throw (its thread would leave a live
   * node behind, and the next value would go to nobody): Diagnostics loses a warning that fails to
   * log rather than throw.
   */
  void reportStrandedReceive() {
    source.reportStrandedReceive();
  }

  /**
   * Whether any receiver's node is queued, live or not: one field read, so a one-shot timer whose
   * value was just taken skips {@link #plainReceiverThreadsLocked()} when nobody else waits. Call
   * with the lock held.
   */
  boolean hasQueuedReceiverLocked() {
    return !receivers.isEmpty();
  }

  /** The threads waiting in a plain receive (see {@link Node#plain}); call with the lock held. */
  List<Thread> plainReceiverThreadsLocked() {
    List<Thread> threads = List.of();
    for (Node n = receivers.first(); n != null; n = n.next) {
      if (n.plain && n.waiter.lvState() == Waiter.WAITING) {
        if (threads.isEmpty()) {
          threads = new ArrayList<>();
        }
        threads.add(n.waiter.thread);
      }
    }
    return threads;
  }

  /** Unlinks a node whose waiter was decided elsewhere or gave up. */
  void removeNode(Node n) {
    if (n.queue == null) {
      return;
    }
    lock();
    try {
      if (!senders.remove(n) && receivers.remove(n) && source != null && !receivers.hasLiveNode()) {
        source.lastReceiverLeft();
      }
    } finally {
      unlock();
    }
  }

  /** After unlock: wakes a claimed counterpart and unwraps the value a receive got. */
  static Object finish(Object result) {
    if (result instanceof Node n) {
      n.wakeWaiter();
      return n.item;
    }
    return result;
  }

  static boolean isClosedResult(Object result) {
    return result == CLOSED;
  }

  /** The close error; call only after observing the channel closed (the lock published it). */
  Throwable closeError() {
    return closeError;
  }

  // ---------------------------------------------------------------- send

  @Override
  public void send(T value) throws InterruptedException {
    doSend(value, false, 0, null);
  }

  @Override
  public void send(Context ctx, T value) throws InterruptedException {
    doSend(value, false, 0, (BaseContext) Objects.requireNonNull(ctx, "ctx"));
  }

  @Override
  public boolean trySend(T value) {
    Objects.requireNonNull(value, "a channel cannot carry null");
    lock();
    Object r = sendLocked(value);
    unlock();
    if (r == CLOSED) {
      throw closedForSend();
    }
    finish(r);
    return r != EMPTY;
  }

  @Override
  public boolean trySend(T value, Duration timeout) throws InterruptedException {
    long nanos = Nanos.of(Objects.requireNonNull(timeout, "timeout"));
    if (nanos <= 0) { // no wait, but an interrupted thread throws as with any timeout
      Objects.requireNonNull(value, "a channel cannot carry null");
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      return trySend(value);
    }
    return doSend(value, true, System.nanoTime() + nanos, null);
  }

  private boolean doSend(T value, boolean timed, long deadline, BaseContext ctx)
      throws InterruptedException {
    Objects.requireNonNull(value, "a channel cannot carry null");
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (ctx != null && ctx.isDone()) {
      throw ctx.failure();
    }
    lock();
    Object r = sendLocked(value);
    if (r != EMPTY) {
      unlock();
      if (r == CLOSED) {
        throw closedForSend();
      }
      finish(r);
      return true;
    }
    Node n = new Node(value);
    senders.add(n);
    unlock();
    int outcome = n.await(timed, deadline, ctx, "send on", this);
    if (outcome >= 0) {
      if (n.closed) {
        throw closedForSend();
      }
      return true;
    }
    removeNode(n);
    return giveUp(outcome, ctx);
  }

  private static boolean giveUp(int outcome, BaseContext ctx) throws InterruptedException {
    switch (outcome) {
      case Waiter.INTERRUPTED -> throw new InterruptedException();
      case Waiter.CANCELLED -> throw ctx.failure();
      default -> {
        return false; // TIMED_OUT
      }
    }
  }

  ChannelClosedException closedForSend() {
    return new ChannelClosedException("send on closed channel", closeError);
  }

  ChannelClosedException closedForReceive() {
    return new ChannelClosedException("receive from closed channel", closeError);
  }

  // ---------------------------------------------------------------- receive

  @Override
  public T receive() throws InterruptedException {
    return valueOrThrow(doReceive(false, 0, null));
  }

  @Override
  public T receive(Context ctx) throws InterruptedException {
    return valueOrThrow(doReceive(false, 0, (BaseContext) Objects.requireNonNull(ctx, "ctx")));
  }

  @Override
  public Received<T> receiveOrClosed() throws InterruptedException {
    return toReceived(doReceive(false, 0, null));
  }

  @Override
  public Received<T> receiveOrClosed(Context ctx) throws InterruptedException {
    return toReceived(doReceive(false, 0, (BaseContext) Objects.requireNonNull(ctx, "ctx")));
  }

  @Override
  public TryReceived<T> tryReceive() {
    lock();
    Object r = receiveLocked();
    unlock();
    return r == EMPTY ? TryReceived.WouldBlock.instance() : toReceived(finish(r));
  }

  @Override
  public TryReceived<T> tryReceive(Duration timeout) throws InterruptedException {
    long nanos = Nanos.of(Objects.requireNonNull(timeout, "timeout"));
    if (nanos <= 0) { // no wait, but an interrupted thread throws as with any timeout
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
      return tryReceive();
    }
    Object r = doReceive(true, System.nanoTime() + nanos, null);
    return r == EMPTY ? TryReceived.WouldBlock.instance() : toReceived(r);
  }

  /** Returns the value, CLOSED, or EMPTY (timed out). */
  private Object doReceive(boolean timed, long deadline, BaseContext ctx)
      throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (ctx != null && ctx.isDone()) {
      throw ctx.failure();
    }
    lock();
    Object r = receiveLocked();
    if (r != EMPTY) {
      unlock();
      return finish(r);
    }
    Node n = new Node(null);
    n.plain = !timed && ctx == null;
    boolean stranded = addReceiver(n);
    unlock();
    if (stranded) {
      reportStrandedReceive();
    }
    int outcome = n.await(timed, deadline, ctx, "receive from", this);
    if (outcome >= 0) {
      return n.closed ? CLOSED : n.item;
    }
    removeNode(n);
    giveUp(outcome, ctx);
    return EMPTY;
  }

  @SuppressWarnings("unchecked")
  private T valueOrThrow(Object r) {
    if (r == CLOSED) {
      throw closedForReceive();
    }
    return (T) r;
  }

  @SuppressWarnings("unchecked")
  Received<T> toReceived(Object r) {
    return r == CLOSED ? Received.Closed.of(closeError) : new Received.Value<>((T) r);
  }

  // ---------------------------------------------------------------- close

  @Override
  public boolean close() {
    return doClose(null);
  }

  @Override
  public boolean close(Throwable error) {
    return doClose(Objects.requireNonNull(error, "error"));
  }

  private boolean doClose(Throwable error) {
    Node wake = null;
    lock();
    try {
      if (closed) {
        return false;
      }
      closed = true;
      closeError = error;
      wake = claimAllAsClosed(receivers, wake);
      wake = claimAllAsClosed(senders, wake);
    } finally {
      unlock();
    }
    // The claimed nodes are unlinked; their next fields chain them here.
    while (wake != null) {
      Node next = wake.next;
      wake.next = null;
      wake.wakeWaiter();
      wake = next;
    }
    return true;
  }

  private static Node claimAllAsClosed(WaitQueue q, Node chain) {
    for (Node n = q.first(); n != null; n = q.first()) {
      q.remove(n);
      n.closed = true;
      if (n.claim()) {
        n.next = chain;
        chain = n;
      }
    }
    return chain;
  }

  @Override
  public boolean isClosed() {
    lock();
    boolean c = closed;
    unlock();
    return c;
  }

  @Override
  public int len() {
    lock();
    int n = count;
    unlock();
    return n;
  }

  @Override
  public int cap() {
    return capacity;
  }

  // ---------------------------------------------------------------- select clauses, iteration

  @Override
  public <R> Clause<R> onSend(T value, Supplier<? extends R> onSent) {
    return new SelectClause.Send<>(
        this,
        Objects.requireNonNull(value, "a channel cannot carry null"),
        Objects.requireNonNull(onSent, "onSent"));
  }

  @Override
  public <R> Clause<R> onReceive(Function<? super T, ? extends R> onValue) {
    return new SelectClause.Receive<>(this, Objects.requireNonNull(onValue, "onValue"), null);
  }

  @Override
  public <R> Clause<R> onReceiveOrClosed(Function<? super Received<T>, ? extends R> onResult) {
    return new SelectClause.Receive<>(this, null, Objects.requireNonNull(onResult, "onResult"));
  }

  @Override
  public Iterator<T> iterator() {
    return iterator(null);
  }

  @Override
  public Iterable<T> range(Context ctx) {
    Objects.requireNonNull(ctx, "ctx");
    return () -> iterator(ctx);
  }

  /** The iterator of {@link #iterator()} ({@code ctx} null) and of {@link #range(Context)}. */
  private Iterator<T> iterator(Context ctx) {
    return new Iterator<>() {
      private Received<T> next;

      @Override
      public boolean hasNext() {
        if (next == null) {
          try {
            next = ctx == null ? receiveOrClosed() : receiveOrClosed(ctx);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new UncheckedInterruptedException(e);
          }
        }
        if (next instanceof Received.Closed<T>(var error) && error.isPresent()) {
          throw closedForReceive();
        }
        return next.ok();
      }

      @Override
      public T next() {
        if (!hasNext()) {
          throw new NoSuchElementException("channel closed");
        }
        T v = ((Received.Value<T>) next).value();
        next = null;
        return v;
      }
    };
  }

  void checkInvariants() {
    lock();
    try {
      int liveSenders = senders.countLive();
      int liveReceivers = receivers.countLive();
      if (count < 0 || count > capacity) {
        throw new AssertionError("count " + count + " outside [0, " + capacity + "]");
      }
      if (count > 0 && liveReceivers > 0) {
        throw new AssertionError(liveReceivers + " receivers wait on a non-empty buffer");
      }
      if (capacity > 0 && count < capacity && liveSenders > 0) {
        throw new AssertionError(liveSenders + " senders wait on a buffer with room");
      }
      if (capacity == 0 && liveSenders > 0 && liveReceivers > 0 && !oneWaiterOnBothSides()) {
        throw new AssertionError("senders and receivers wait on one unbuffered channel");
      }
      if (closed && liveSenders + liveReceivers > 0) {
        throw new AssertionError("waiters remain on a closed channel");
      }
    } finally {
      unlock();
    }
  }

  /**
   * Whether every live node belongs to one waiter: a select waiting both to send to and to receive
   * from this channel, which cannot match itself (as in Go), is not a missed hand-off.
   */
  private boolean oneWaiterOnBothSides() {
    Waiter only = null;
    for (WaitQueue q : new WaitQueue[] {senders, receivers}) {
      for (Node n = q.first(); n != null; n = n.next) {
        if (n.waiter.lvState() == Waiter.WAITING) {
          if (only == null) {
            only = n.waiter;
          } else if (only != n.waiter) {
            return false;
          }
        }
      }
    }
    return true;
  }

  @Override
  public String toString() {
    String kind =
        capacity == 0
            ? "unbuffered"
            : capacity == UNLIMITED ? "unlimited" : "buffered(" + capacity + ")";
    lock();
    try {
      return "Channel#"
          + id
          + "["
          + kind
          + ", len="
          + count
          + (closed ? ", closed" : "")
          + ", waiting senders="
          + senders.countLive()
          + ", receivers="
          + receivers.countLive()
          + "]";
    } finally {
      unlock();
    }
  }

  /** Whether a waiter on this channel should spin before parking; see {@link Waiter}. */
  boolean spinAllowed() {
    int b = spinBackoff;
    if (b >= 0) {
      return true;
    }
    spinBackoff = b + 1;
    return false;
  }

  /**
   * A waiter on this channel spun and still has to park: the next waits park at once, 1 after a
   * first failure, then twice as many after each further failure in a row, up to {@link
   * Waiter#SPIN_BACKOFF}.
   */
  void spinFailed() {
    int f = spinFailures;
    if (f < MAX_FAILURES_IN_A_ROW) {
      spinFailures = ++f;
    }
    spinBackoff = -(1 << (f - 1));
    quietSpins /= 2; // its quiet spins were no use either
  }

  /**
   * A waiter on this channel was completed while it spun: failures are no longer in a row; a wait
   * completed before its first yield lets the next waits spin longer without yielding (at least
   * {@code quiet}, the quiet spins it had), one completed only after yielding shortens that.
   */
  void spinSucceeded(int quiet, boolean beforeAnyYield) {
    if (spinFailures != 0) { // no write while spins keep succeeding: the line stays shared
      spinFailures = 0;
    }
    int q = quietSpins;
    if (beforeAnyYield) {
      if (q < Waiter.MAX_QUIET_SPINS) {
        quietSpins = Math.min(Waiter.MAX_QUIET_SPINS, Math.max(quiet, Math.max(4, q * 2)));
      }
    } else if (q > 0) {
      quietSpins = q < 8 ? 0 : q / 2;
    }
  }

  /**
   * The spins without yielding a wait on this channel starts with; at 0, every {@link
   * Waiter#QUIET_PROBE}th wait tries the most again (see {@link Waiter}).
   */
  int quietSpins() {
    int q = quietSpins;
    if (q == 0 && (++waitsSinceProbe & (Waiter.QUIET_PROBE - 1)) == 0) {
      return Waiter.MAX_QUIET_SPINS;
    }
    return q;
  }

  /** The adaptive spinning hint, for tests. */
  int spinBackoff() {
    return spinBackoff;
  }

  /** The quiet spins hint, for tests. */
  int quietSpinsHint() {
    return quietSpins;
  }
}
