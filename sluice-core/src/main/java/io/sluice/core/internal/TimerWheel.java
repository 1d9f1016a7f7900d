package io.sluice.core.internal;

import static io.sluice.core.internal.TimerEntry.CANCELLED;
import static io.sluice.core.internal.TimerEntry.FIRED;
import static io.sluice.core.internal.TimerEntry.PENDING;

import io.sluice.core.Clock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongConsumer;
import java.util.function.Predicate;
import java.util.function.Supplier;

/*
 * The timer engine: a hierarchical timing wheel with occupancy bitmaps, fed by a lock-free stack.
 *
 * Algorithm. Time is cut into ticks of 2^tickShift nanoseconds, counted from `origin`. A timer due
 * at deadline d belongs to tick ceil((d - origin) / tickNanos), so it never fires early and at most
 * one tick late (plus the thread's wake-up latency). The wheel has `levels` levels of 64 slots;
 * slot s of level l holds timers whose tick has digit s in base-64 position l. A timer is placed
 * by comparing its tick with `elapsed`, the last tick processed: the level is the position of the
 * highest base-64 digit in which they differ ((elapsed ^ tick) | 63 picks it). That is the
 * placement of Tokio's time driver (tokio/src/runtime/time/wheel), itself a form of the
 * hierarchical wheels of Varghese and Lauck, "Hashed and hierarchical timing wheels" (1987).
 *
 * Two consequences make the wheel cheap to drive. Every timer on level l agrees with `elapsed` in
 * all digits above l, and its digit l is greater than elapsed's, so no level ever wraps around.
 * And every timer on a lower level is due before every timer on a higher one. So the next
 * expiration is the lowest set bit of the lowest non-empty level's bitmap: two instructions, no
 * idle ticking. Reaching a slot on level 0 fires its timers (they are all due in exactly that
 * tick); reaching one on a higher level moves its timers down (a timer moves at most levels - 1
 * times in its life). Moving `elapsed` forward to any tick before the next expiration keeps the
 * placement valid, because such a tick shares the same digits above each timer's level.
 *
 * Lateness: at most one tick plus the thread's wake-up latency (parkNanos overshoot, typically
 * tens of microseconds). The system engine's tick is 2^18 ns (SYSTEM_TICK_SHIFT says why); a
 * ManualClock's wheel has 1 ns ticks, so it fires in exact deadline order.
 *
 * Scheduling never takes a lock: a node is pushed onto `inbound`, a Treiber stack, and only the
 * engine (the `sluice-timer` thread, or the thread that advances a ManualClock) moves it into the
 * wheel. The engine publishes `plannedTick`, the tick it sleeps until (AWAKE while it runs);
 * a scheduler unparks it only after lowering plannedTick by CAS to an earlier tick, so a burst of
 * timers due later than the planned wake-up costs no wake-up at all. The engine stores plannedTick
 * and then reads inbound; a scheduler pushes (a full fence) and then reads plannedTick: one of the
 * two sees the other, so no timer is missed while the engine parks.
 *
 * Cancelling is one CAS on the node's state (PENDING -> CANCELLED). The node stays where it is, as
 * Go's runtime leaves deleted timers in its heaps; the engine drops it when it meets it, and sweeps
 * the whole wheel when `zombies`, its count of the cancelled nodes it still holds, reaches `sweepAt`
 * = max(MIN_SWEEP, held / 4) -- Go's "zombies > len/4" rule. The canceller whose count crosses
 * sweepAt wakes the engine for it. A sweep costs O(held) and follows at least held / 4 cancels, so
 * cancelled nodes never outnumber a quarter of what the engine holds (plus MIN_SWEEP) for long,
 * whatever their deadlines. Sweeping unlinks cancelled nodes in place and writes nothing to the
 * nodes it keeps.
 *
 * A threaded wheel counts cancels by sampling (ADR 9): one cancel in `cancelSample` (16), chosen by
 * the cancelling thread's ThreadLocalRandom, adds 16 to zombies; the others add nothing. An exact
 * count was one shared atomic add per cancel, as much as the CAS itself; the sample costs one in
 * sixteen of those and keeps the count unbiased, off by about 4 * sqrt(n) after n cancels (12% at
 * MIN_SWEEP, under 1% at 250,000). The count cannot drift across sweeps: a sweep subtracts what the
 * count was when it began, and nodes the engine drops on its own lower the count at most to zero.
 * And a threaded wheel sweeps at most once per SWEEP_PAUSE_NANOS (5 ms): a sweep reads every held
 * node, so sweeping again and again while a burst of cancels runs on the other core makes the two
 * fight over the same cache lines (measured: the burst's cancels ran 2-3x slower). The pause holds
 * the quarter bound back by at most 5 ms. A ManualClock's wheel counts every cancel and never
 * pauses, so tests see exact counts.
 *
 * Nodes are TimerEntry objects, which the wheel stores as they are, so an owner that needs one
 * object per pending timer subclasses TimerEntry and is its own node (the scheduler's one-shots);
 * the wheel calls the node's fire() and never looks at what the subclass adds. The fields the wheel
 * uses are package-private in TimerEntry, which is why the wheel lives in this package with it. A
 * node is 32 bytes with compressed references (header, state, deadline, wheel, next) plus its
 * subclass's fields: core's ActionEntry adds its Runnable, 40 bytes in all. `next` links the
 * inbound stack and then the slot's list. Lists are LIFO and reversed when taken, so timers due in
 * the same tick fire in the order they were scheduled.
 *
 * Invariants (checkInvariants, engine thread only): a slot's bitmap bit is set iff its list is
 * non-empty; every held node sits on the level and slot that its tick and `elapsed` dictate, with
 * a tick after `elapsed`; `size` is the number of nodes on the wheel.
 */
/**
 * <strong>Not API.</strong> A clock's timer engine: a hierarchical timing wheel, driven by its own
 * daemon thread (the system clock's) or by the thread that advances a {@link
 * io.sluice.core.ManualClock}. Public only so that {@code io.sluice.core}'s clocks can drive it;
 * other modules go through {@link TimerEngine}.
 *
 * <p>Scheduling and cancelling are lock-free and callable from any thread. Methods documented
 * "engine only" must be called on the engine's thread, or under the ManualClock's lock.
 *
 * <p>Memory consistency effects: actions in a thread before it schedules an entry happen-before the
 * entry fires.
 */
public final class TimerWheel {
  /**
   * The system engine's tick: 2^18 ns, about 262 us. Measured against 2^20 (1.05 ms): median
   * lateness 0.27 ms instead of 0.7 ms, for at most one wake-up per occupied tick when timers are
   * dense (a few thousand cheap wake-ups a second, never any while idle).
   */
  public static final int SYSTEM_TICK_SHIFT = 18;

  private static final int SLOT_BITS = 6;
  private static final int SLOTS = 1 << SLOT_BITS;
  private static final int SLOT_MASK = SLOTS - 1;
  private static final long AWAKE = Long.MIN_VALUE;
  private static final long NONE = Long.MAX_VALUE;

  /** The fewest cancelled entries the engine sweeps for: a sweep is due at max(this, held / 4). */
  public static final long MIN_SWEEP = 1024;

  /** A threaded wheel counts one cancel in this many, by adding this many (a power of two). */
  static final int CANCEL_SAMPLE = 16;

  /** The least time between two sweeps of a threaded wheel. */
  public static final long SWEEP_PAUSE_NANOS = 5_000_000;

  private static final VarHandle INBOUND;
  private static final VarHandle PLANNED_TICK;
  private static final VarHandle ZOMBIES;
  private static final VarHandle SWEEP_AT;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      INBOUND = lookup.findVarHandle(TimerWheel.class, "inbound", TimerEntry.class);
      PLANNED_TICK = lookup.findVarHandle(TimerWheel.class, "plannedTick", long.class);
      ZOMBIES = lookup.findVarHandle(TimerWheel.class, "zombies", long.class);
      SWEEP_AT = lookup.findVarHandle(TimerWheel.class, "sweepAt", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  final long origin;
  final Clock clock; // the clock whose timers these are; null for a bare test wheel
  private final int tickShift;
  private final int levels;
  private final Thread thread; // null when driven by a ManualClock
  private final int cancelSample; // 1 (exact) for a manual wheel
  private final long sweepPause; // 0 for a manual wheel
  private volatile boolean shutdown;

  // Shared with schedulers and cancellers.
  @SuppressWarnings("unused") // accessed through INBOUND
  private volatile TimerEntry inbound;

  @SuppressWarnings("unused") // accessed through PLANNED_TICK
  private volatile long plannedTick = AWAKE;

  @SuppressWarnings("unused") // accessed through ZOMBIES
  private volatile long zombies;

  @SuppressWarnings("unused") // accessed through SWEEP_AT
  private volatile long sweepAt = MIN_SWEEP;

  // Engine-owned.
  private final TimerEntry[] slots;
  private final long[] occupied;
  private long elapsed;
  private int size;
  private long sweeps;
  private long lastSweep; // the nowNanos of the last automatic sweep

  private TimerWheel(Clock clock, long origin, int tickShift, String threadName) {
    this.clock = clock;
    this.origin = origin;
    this.tickShift = tickShift;
    this.levels = (Long.SIZE - 1 - tickShift + SLOT_BITS - 1) / SLOT_BITS;
    this.slots = new TimerEntry[levels * SLOTS];
    this.occupied = new long[levels];
    this.cancelSample = threadName == null ? 1 : CANCEL_SAMPLE;
    this.sweepPause = threadName == null ? 0 : SWEEP_PAUSE_NANOS;
    this.lastSweep = origin - sweepPause;
    this.thread =
        threadName == null
            ? null
            : Thread.ofPlatform().daemon().name(threadName).unstarted(this::runEngine);
  }

  /**
   * A wheel with its own daemon thread that fires timers as {@link System#nanoTime()} passes.
   *
   * @param name the thread's name
   * @param tickShift the tick is 2^tickShift ns
   * @param clock the clock whose timers it holds ({@link TimerEntry#clock()}), or null in tests
   * @return the started wheel
   */
  public static TimerWheel startThread(String name, int tickShift, Clock clock) {
    TimerWheel wheel = new TimerWheel(clock, System.nanoTime(), tickShift, name);
    wheel.thread.start();
    return wheel;
  }

  /**
   * A wheel with 1 ns ticks and no thread, driven by {@link #advanceTo} (a ManualClock).
   *
   * @param clock the clock whose timers it holds ({@link TimerEntry#clock()}), or null in tests
   * @return the wheel
   */
  public static TimerWheel manual(Clock clock) {
    return new TimerWheel(clock, 0, 0, null);
  }

  // ---- scheduling and cancelling: any thread, lock-free ----

  /**
   * Runs {@code action} on the engine's thread once the deadline has passed (at once if it has).
   * The action must be short and must not block. Never blocks, takes no lock.
   *
   * @param deadline when the action is due, on the clock's {@code nanoTime()} scale
   * @param action what to run
   * @return the entry, which can cancel the action
   */
  public TimerEntry schedule(long deadline, Runnable action) {
    ActionEntry node = new ActionEntry(this, deadline, action);
    schedule(node);
    return node;
  }

  /**
   * Hands a new entry of this wheel to the engine: pushes it on inbound, wakes the engine if due.
   */
  void schedule(TimerEntry node) {
    TimerEntry head;
    do {
      head = lvInbound();
      node.next = head;
    } while (!casInbound(head, node));
    if (thread != null) {
      wakeIfEarlier(tickOf(node.deadline));
    }
  }

  private void wakeIfEarlier(long tick) {
    for (long planned = lvPlannedTick(); tick < planned; planned = lvPlannedTick()) {
      if (casPlannedTick(planned, tick)) {
        LockSupport.unpark(thread);
        return;
      }
    }
  }

  /** Counts one more cancelled node (by sampling); called by {@link TimerEntry#cancel()}. */
  void onCancelled() {
    int sample = cancelSample;
    if (sample > 1 && (ThreadLocalRandom.current().nextInt() & (sample - 1)) != 0) {
      return;
    }
    long z = (long) ZOMBIES.getAndAdd(this, (long) sample) + sample;
    long at = lvSweepAt();
    if (z >= at && z - sample < at && thread != null) {
      LockSupport.unpark(thread);
    }
  }

  // ---- the engine: one thread at a time ----

  private void runEngine() {
    while (!shutdown) {
      svPlannedTick(AWAKE);
      Throwable failure = advanceTo(System.nanoTime());
      if (failure != null) {
        report(failure);
      }
      long next = nextExpiration();
      svPlannedTick(next);
      long now = System.nanoTime();
      if (lvInbound() != null || sweepDue(now)) {
        continue; // a timer arrived, or a sweep is due, after advanceTo looked
      }
      long wake = next == NONE ? Long.MAX_VALUE : origin + (next << tickShift);
      if (lvZombies() >= lvSweepAt()) {
        wake = Math.min(wake, lastSweep + sweepPause); // a sweep waits out its pause
      }
      if (wake == Long.MAX_VALUE) {
        LockSupport.park(this);
      } else if (wake - now > 0) {
        LockSupport.parkNanos(this, wake - now);
      }
    }
  }

  /**
   * Hands an action's failure to the engine thread's uncaught exception handler. What the handler
   * throws in turn is dropped: escaping, it would end the one thread that fires every timer of the
   * clock, and every sleep, deadline and timer channel after it would wait for ever.
   */
  private void report(Throwable failure) {
    try {
      thread.getUncaughtExceptionHandler().uncaughtException(thread, failure);
    } catch (Throwable handlerFailure) {
      // nowhere left to report it; the engine must outlive its handler
    }
  }

  /**
   * Fires every timer due at or before {@code nowNanos}, in tick order; sweeps if due. Engine only.
   *
   * @param nowNanos the clock's reading
   * @return the first failure of an action, or null; later ones are added as suppressed
   */
  public Throwable advanceTo(long nowNanos) {
    return advanceTo(nowNanos, null);
  }

  /**
   * As {@link #advanceTo(long)}; {@code beforeTick} learns each tick's time before it fires.
   *
   * @param nowNanos the clock's reading
   * @param beforeTick told the time of each tick before its timers fire, or null
   * @return the first failure of an action, or null; later ones are added as suppressed
   */
  public Throwable advanceTo(long nowNanos, LongConsumer beforeTick) {
    long nowTick = floorTick(nowNanos);
    Throwable failure = null;
    for (; ; ) {
      failure = drainInbound(failure);
      if (sweepDue(nowNanos)) {
        sweep();
        lastSweep = nowNanos;
      }
      int level = lowestOccupiedLevel();
      int slot = level < 0 ? -1 : Long.numberOfTrailingZeros(occupied[level]);
      long tick = level < 0 ? NONE : slotTick(level, slot);
      if (level < 0 || tick > nowTick) {
        if (lvInbound() != null) {
          continue; // an action fired while draining scheduled another: it may be due too
        }
        break;
      }
      TimerEntry list = take(level, slot);
      elapsed = tick;
      if (beforeTick != null) {
        beforeTick.accept(origin + (tick << tickShift));
      }
      if (level == 0) {
        failure = fireAll(list, failure);
      } else {
        failure = reinsertAll(list, true, failure);
      }
    }
    if (nowTick > elapsed) {
      elapsed = nowTick; // before every held tick, so placements stay valid
    }
    publishSweepThreshold();
    return failure;
  }

  /** The tick of the next expiration, or {@link #NONE}. Engine thread only. */
  long nextExpiration() {
    int level = lowestOccupiedLevel();
    if (level < 0) {
      return NONE;
    }
    return slotTick(level, Long.numberOfTrailingZeros(occupied[level]));
  }

  /** The nanoTime at which {@link #nextExpiration()} is due, or {@link Long#MAX_VALUE}. */
  long nextExpirationNanos() {
    long tick = nextExpiration();
    return tick == NONE ? Long.MAX_VALUE : origin + (tick << tickShift);
  }

  private Throwable drainInbound(Throwable failure) {
    if (lvInbound() == null) {
      return failure;
    }
    return reinsertAll(reverse(xchgInbound()), false, failure);
  }

  private Throwable insert(TimerEntry n, Throwable failure) {
    long tick = tickOf(n.deadline);
    if (tick <= elapsed) {
      return fire(n, failure);
    }
    int level = levelOf(tick);
    int index = level * SLOTS + slotOf(tick, level);
    n.next = slots[index];
    slots[index] = n;
    occupied[level] |= 1L << slotOf(tick, level);
    size++;
    return failure;
  }

  private TimerEntry take(int level, int slot) {
    int index = level * SLOTS + slot;
    TimerEntry list = slots[index];
    slots[index] = null;
    occupied[level] &= ~(1L << slot);
    return reverse(list);
  }

  private Throwable fireAll(TimerEntry list, Throwable failure) {
    for (TimerEntry n = list, next; n != null; n = next) {
      next = n.next;
      n.next = null;
      size--;
      failure = fire(n, failure);
    }
    return failure;
  }

  /**
   * Places every entry of {@code list} anew, dropping cancelled ones; {@code held} says whether
   * they come off the wheel (counted in size) or from the inbound stack.
   */
  private Throwable reinsertAll(TimerEntry list, boolean held, Throwable failure) {
    long dropped = 0;
    for (TimerEntry n = list, next; n != null; n = next) {
      next = n.next;
      n.next = null;
      if (held) {
        size--;
      }
      if (n.lvState() == CANCELLED) {
        dropped++;
      } else {
        failure = insert(n, failure);
      }
    }
    forgetZombies(dropped);
    return failure;
  }

  private Throwable fire(TimerEntry n, Throwable failure) {
    if (!n.casFire()) {
      forgetZombies(1);
      return failure;
    }
    try {
      n.fire();
    } catch (Throwable t) {
      if (failure == null) {
        return t;
      }
      failure.addSuppressed(t);
    }
    return failure;
  }

  /**
   * Unlinks every cancelled node from the wheel, in place: only the link before a dropped node is
   * written. The count starts again from the cancels made while it ran.
   */
  private void sweep() {
    long counted = lvZombies();
    for (int level = 0; level < levels; level++) {
      for (long bits = occupied[level]; bits != 0; bits &= bits - 1) {
        int slot = Long.numberOfTrailingZeros(bits);
        int index = level * SLOTS + slot;
        TimerEntry head = slots[index];
        while (head != null && head.lvState() == CANCELLED) {
          TimerEntry next = head.next;
          head.next = null;
          size--;
          head = next;
        }
        slots[index] = head;
        if (head == null) {
          occupied[level] &= ~(1L << slot);
          continue;
        }
        for (TimerEntry kept = head, n = kept.next; n != null; n = kept.next) {
          if (n.lvState() == CANCELLED) {
            kept.next = n.next;
            n.next = null;
            size--;
          } else {
            kept = n;
          }
        }
      }
    }
    addZombies(-counted);
    sweeps++;
  }

  private boolean sweepDue(long nowNanos) {
    return lvZombies() >= lvSweepAt() && nowNanos - lastSweep >= sweepPause;
  }

  private void publishSweepThreshold() {
    long threshold = Math.max(MIN_SWEEP, size / 4);
    svSweepAt(threshold);
  }

  private int lowestOccupiedLevel() {
    for (int level = 0; level < levels; level++) {
      if (occupied[level] != 0) {
        return level;
      }
    }
    return -1;
  }

  // ---- tick arithmetic ----

  /** The first tick at or after {@code deadline}: the tick the timer fires in. */
  long tickOf(long deadline) {
    long relative = deadline - origin;
    if (((deadline ^ origin) & (deadline ^ relative)) < 0) {
      relative = deadline < 0 ? 0 : Long.MAX_VALUE; // the subtraction overflowed
    }
    if (relative <= 0) {
      return 0;
    }
    long tick = relative >>> tickShift;
    return (relative & ((1L << tickShift) - 1)) == 0 ? tick : tick + 1;
  }

  private long floorTick(long nanos) {
    long relative = nanos - origin;
    return relative <= 0 ? 0 : relative >>> tickShift;
  }

  private int levelOf(long tick) {
    long differing = (elapsed ^ tick) | SLOT_MASK;
    return (Long.SIZE - 1 - Long.numberOfLeadingZeros(differing)) / SLOT_BITS;
  }

  private static int slotOf(long tick, int level) {
    return (int) (tick >>> (level * SLOT_BITS)) & SLOT_MASK;
  }

  /** The first tick of {@code slot} on {@code level}, in elapsed's current rotation. */
  private long slotTick(int level, int slot) {
    int above = (level + 1) * SLOT_BITS;
    long high = above >= Long.SIZE ? 0 : elapsed & (-1L << above);
    return high | ((long) slot << (level * SLOT_BITS));
  }

  private static TimerEntry reverse(TimerEntry list) {
    TimerEntry reversed = null;
    for (TimerEntry n = list, next; n != null; n = next) {
      next = n.next;
      n.next = reversed;
      reversed = n;
    }
    return reversed;
  }

  /**
   * Cancels every pending node, on the wheel or still on inbound, that {@code filter} accepts.
   * Engine only. Inbound is walked, not drained: nodes pushed while this runs sit above the head
   * read here, and their schedulers are the ones that must look after them.
   *
   * @param filter accepts the entries to cancel
   * @return how many entries this call cancelled
   */
  public int cancelMatching(Predicate<? super TimerEntry> filter) {
    int cancelled = 0;
    for (TimerEntry n = lvInbound(); n != null; n = n.next) {
      cancelled += cancelIfMatching(n, filter);
    }
    for (int level = 0; level < levels; level++) {
      for (long bits = occupied[level]; bits != 0; bits &= bits - 1) {
        int index = level * SLOTS + Long.numberOfTrailingZeros(bits);
        for (TimerEntry n = slots[index]; n != null; n = n.next) {
          cancelled += cancelIfMatching(n, filter);
        }
      }
    }
    return cancelled;
  }

  private static int cancelIfMatching(TimerEntry n, Predicate<? super TimerEntry> filter) {
    return n.lvState() == PENDING && filter.test(n) && n.cancel() ? 1 : 0;
  }

  // ---- for ManualClock and tests ----

  /**
   * Sweeps, then counts the live timers: those on the wheel and those still on inbound. Engine only
   * (a ManualClock holds its lock).
   *
   * @return the pending entries
   */
  public int liveCount() {
    sweep();
    publishSweepThreshold();
    int live = size;
    for (TimerEntry n = lvInbound(); n != null; n = n.next) {
      if (n.lvState() == PENDING) {
        live++;
      }
    }
    return live;
  }

  /**
   * Runs {@code probe} on the engine thread at its next iteration and returns its result: how tests
   * look at a threaded wheel's engine-owned state without racing it, and how the system clock
   * cancels by filter. Waits for the engine; must not be called on its thread.
   *
   * @param <R> the result's type
   * @param probe what to run on the engine's thread
   * @return what {@code probe} returned
   * @throws InterruptedException if interrupted while waiting (the probe still runs, later)
   */
  public <R> R onEngine(Supplier<R> probe) throws InterruptedException {
    CompletableFuture<R> result = onEngineAsync(probe);
    try {
      return result.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * As {@link #onEngine}, without waiting: for a caller that waits with a timeout.
   *
   * @param probe what to run on the engine's thread
   * @param <R> the probe's result
   * @return completed with the probe's result, or exceptionally with what it threw
   */
  public <R> CompletableFuture<R> onEngineAsync(Supplier<R> probe) {
    CompletableFuture<R> result = new CompletableFuture<>();
    schedule(
        Long.MIN_VALUE,
        () -> {
          try {
            result.complete(probe.get());
          } catch (Throwable t) {
            result.completeExceptionally(t);
          }
        });
    return result;
  }

  /**
   * Nodes on the wheel, live or cancelled-but-not-yet-dropped. Engine only; for tests.
   *
   * @return the count
   */
  public int size() {
    return size;
  }

  /** How many sweeps ran. Engine only. */
  long sweeps() {
    return sweeps;
  }

  /**
   * The count of cancelled nodes at which the engine sweeps, as last published; for tests.
   *
   * @return max(MIN_SWEEP, held / 4) as of the engine's last step
   */
  public long sweepThreshold() {
    return lvSweepAt();
  }

  /**
   * The cancelled nodes not yet dropped, as counted so far (exact on a manual wheel, sampled on a
   * threaded one); for tests.
   *
   * @return the count
   */
  public long zombies() {
    return lvZombies();
  }

  /**
   * What the engine was told and has published, readable from any thread: for a diagnosis when it
   * seems not to run (tests print it with the engine thread's stack).
   *
   * @return the planned tick, whether entries wait on inbound, the counted cancels and the sweep
   *     threshold
   */
  public String engineState() {
    long planned = lvPlannedTick();
    return "plannedTick="
        + (planned == AWAKE ? "AWAKE" : planned == NONE ? "NONE" : Long.toString(planned))
        + ", inbound="
        + (lvInbound() == null ? "empty" : "pending")
        + ", zombies="
        + lvZombies()
        + ", sweepAt="
        + lvSweepAt();
  }

  /**
   * The engine's thread.
   *
   * @return the thread, or null for a manual wheel
   */
  public Thread thread() {
    return thread;
  }

  /**
   * Ends a test wheel's thread; its pending timers never fire. Not for the system wheel.
   *
   * @throws InterruptedException if interrupted while joining the thread
   */
  public void shutdown() throws InterruptedException {
    shutdown = true;
    LockSupport.unpark(thread);
    thread.join();
  }

  /**
   * Checks the class comment's invariants. Engine only.
   *
   * @throws AssertionError if one does not hold
   */
  public void checkInvariants() {
    int counted = 0;
    for (int level = 0; level < levels; level++) {
      for (int slot = 0; slot < SLOTS; slot++) {
        TimerEntry list = slots[level * SLOTS + slot];
        boolean bit = (occupied[level] & (1L << slot)) != 0;
        if (bit != (list != null)) {
          throw new AssertionError("bitmap and list disagree at level " + level + " slot " + slot);
        }
        for (TimerEntry n = list; n != null; n = n.next) {
          long tick = tickOf(n.deadline);
          if (tick <= elapsed) {
            throw new AssertionError("held timer tick " + tick + " is not after " + elapsed);
          }
          if (levelOf(tick) != level || slotOf(tick, level) != slot) {
            throw new AssertionError(
                "timer of tick " + tick + " at level " + level + " slot " + slot);
          }
          if (n.lvState() == FIRED) {
            throw new AssertionError("a fired timer is still held");
          }
          counted++;
        }
      }
    }
    if (counted != size) {
      throw new AssertionError("size " + size + " but " + counted + " nodes held");
    }
  }

  // ---- VarHandle accessors, named for their memory ordering ----

  private TimerEntry lvInbound() {
    return (TimerEntry) INBOUND.getVolatile(this);
  }

  private boolean casInbound(TimerEntry expected, TimerEntry next) {
    return INBOUND.compareAndSet(this, expected, next);
  }

  private TimerEntry xchgInbound() {
    return (TimerEntry) INBOUND.getAndSet(this, (TimerEntry) null);
  }

  private long lvPlannedTick() {
    return (long) PLANNED_TICK.getVolatile(this);
  }

  private void svPlannedTick(long tick) {
    PLANNED_TICK.setVolatile(this, tick);
  }

  private boolean casPlannedTick(long expected, long tick) {
    return PLANNED_TICK.compareAndSet(this, expected, tick);
  }

  private long lvZombies() {
    return (long) ZOMBIES.getVolatile(this);
  }

  private void addZombies(long delta) {
    if (delta != 0) {
      ZOMBIES.getAndAdd(this, delta);
    }
  }

  /**
   * Lowers the count by {@code dropped} cancelled nodes the engine met, but not below zero: a
   * sampled count may have counted fewer than were dropped, and must not owe the difference to
   * later cancels. Only the engine lowers the count, so it cannot fall below zero in between.
   */
  private void forgetZombies(long dropped) {
    addZombies(-Math.min(dropped, Math.max(0, lvZombies())));
  }

  private long lvSweepAt() {
    return (long) SWEEP_AT.getVolatile(this);
  }

  private void svSweepAt(long threshold) {
    SWEEP_AT.setVolatile(this, threshold);
  }

  /** Core's own entry: runs a Runnable (contexts, sleeps, timer channels, afterFunc). */
  private static final class ActionEntry extends TimerEntry {
    private Runnable action; // dropped once fired or cancelled, so the entry does not keep it alive

    ActionEntry(TimerWheel wheel, long deadline, Runnable action) {
      super(wheel, deadline);
      this.action = action;
    }

    @Override
    protected void fire() {
      Runnable a = action;
      action = null;
      a.run();
    }

    @Override
    protected void onCancel() {
      action = null;
    }
  }
}
