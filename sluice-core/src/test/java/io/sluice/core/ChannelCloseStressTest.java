package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.sluice.core.ChannelStressTest.LongList;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/*
 * Channels closed at random moments, while hundreds of virtual threads and a few platform threads
 * send, receive, select, cancel contexts and interrupt each other on them; then invariants.
 * (ChannelStressTest closes its channels once, near the end; here closing is one more random
 * operation.)
 *
 * Four slots each hold the current "generation": a channel and what the run knows about its close.
 * Any actor may, at random, close the generation it holds for a slot (plainly or with an error);
 * the close that wins puts a fresh generation in the slot. Actors pick up a slot's current
 * generation only now and then, so they go on using a closed one for a while, as a producer that
 * has not heard of the close yet. Every value is unique: (actor, generation, sequence), the sequence growing per actor.
 *
 * Checked as the run goes, from flags written with volatile stores around the close call (the
 * channel's lock orders them with the operations they are compared with):
 * - a send that began after a close of its channel had returned did not succeed;
 * - a send, receive or select that failed with ChannelClosedException, or a receive that saw the
 *   end of the stream, did so only after a close of that channel had begun, and the cause it
 *   carried is the error of that channel's close or none;
 * - a receive that began after some receiver had seen the end of the stream got no value;
 * - each receiver gets each producer's values on one channel in sending order (FIFO).
 * Checked at the end, after every generation is closed and drained:
 * - the values received (by actors and by the drain) are, as a multiset, exactly those whose send
 *   returned normally: nothing lost, nothing duplicated, nothing made up; a generation whose end
 *   was seen has nothing left to drain;
 * - exactly one close of each generation won, a second close by the same thread returned false,
 *   and the error that receivers and senders saw is the winner's;
 * - every actor ended (close released every blocked one), each channel is sound with no node left
 *   in its queues, no context holds a hook, and the library started no thread: every virtual
 *   thread started during the run was an actor (JFR's count, see ThreadStarts), and the only new
 *   platform threads still alive are the JDK's carriers of virtual threads.
 *
 * Liveness without sleeps: "pump" actors use only operations that cannot block for ever, and keep
 * closing slots at random until every other actor has ended; a blocked actor is released when its
 * generation is closed, which happens while the pumps run.
 */
class ChannelCloseStressTest {
  private static final int SLOTS = 4;
  private static final int CONTEXT_SLOTS = 4;
  private static final int PUMPS = 4;
  private static final int CLOSE_ONE_IN = 500;
  private static final int MAX_GENERATIONS = 1 << 22;
  private static final int MAX_FAILURES = 20;
  private static final String ACTOR_NAME = "close-stress-";

  /** The operations that cannot block for ever (pumps add a default or timeout to selects). */
  private static final int[] PUMP_OPS = {1, 2, 6, 7, 9};

  static IntStream capacities() {
    return Arrays.stream(ChannelCase.CAPACITIES);
  }

  @ParameterizedTest(name = "capacity {0}")
  @MethodSource("capacities")
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void closesAtRandomMomentsLoseNothingDuplicateNothingAndReleaseEveryone(int capacity)
      throws Exception {
    new Run(capacity, 200, 4, 300, Duration.ofSeconds(30)).execute();
  }

  @ParameterizedTest(name = "capacity {0}")
  @MethodSource("capacities")
  @Tag("stress-long")
  @Timeout(value = 20, unit = TimeUnit.MINUTES)
  void millionsOfOperationsWithRandomClosesLoseNothingDuplicateNothingAndReleaseEveryone(
      int capacity) throws Exception {
    new Run(capacity, 200, 4, 5_000, Duration.ofMinutes(5)).execute();
  }

  /** One channel of a slot, from its creation to its close, and what the run saw of that close. */
  private static final class Generation {
    final int id;
    final Channel<Long> ch;
    final RuntimeException error;
    final AtomicInteger wins = new AtomicInteger();
    volatile boolean closeStarted;
    volatile boolean closeReturned;
    volatile boolean endSeen;
    volatile boolean wonWithError;
    volatile boolean sawPlainEnd;
    volatile boolean sawErrorEnd;

    Generation(int id, Channel<Long> ch) {
      this.id = id;
      this.ch = ch;
      this.error = new RuntimeException("close of generation " + id);
    }

    @Override
    public String toString() {
      return "generation " + id;
    }
  }

  /** What a select returned: the clause, and a value sent or received, or the end's cause. */
  private record Outcome(int clause, boolean end, long value, Throwable cause) {
    static final Outcome OTHER = new Outcome(-1, false, 0, null);
  }

  /** One stress run. */
  private static final class Run {
    private final int capacity;
    private final int virtualActors;
    private final int platformActors;
    private final int opsPerActor;
    private final Duration joinLimit;
    private final long seed = System.nanoTime();
    private final ChannelCase channels;
    private final AtomicReferenceArray<Generation> slots = new AtomicReferenceArray<>(SLOTS);
    private final ConcurrentLinkedQueue<Generation> generations = new ConcurrentLinkedQueue<>();
    private final AtomicInteger nextGeneration = new AtomicInteger();
    private final AtomicReferenceArray<CancelableContext> contexts =
        new AtomicReferenceArray<>(CONTEXT_SLOTS);
    private final ConcurrentLinkedQueue<CancelableContext> allContexts =
        new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicInteger failureCount = new AtomicInteger();
    private final List<Actor> actors = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReferenceArray<Thread> interruptible;
    private volatile boolean stopPumps;

    /** {@code joinLimit}: how long the run waits for a thread to end before calling it stuck. */
    Run(int capacity, int virtualActors, int platformActors, int opsPerActor, Duration joinLimit) {
      this.capacity = capacity;
      this.virtualActors = virtualActors;
      this.platformActors = platformActors;
      this.opsPerActor = opsPerActor;
      this.joinLimit = joinLimit;
      this.channels = new ChannelCase(capacity, ThreadKind.VIRTUAL);
      this.interruptible = new AtomicReferenceArray<>(virtualActors);
    }

    void execute() throws Exception {
      // The system clock's timer engine, one thread for the process, runs before threads are
      // counted: timeouts and deadlines start it on first use.
      Context.background().withTimeout(Duration.ofHours(1)).cancel();
      for (int i = 0; i < SLOTS; i++) {
        slots.set(i, newGeneration());
      }
      for (int i = 0; i < CONTEXT_SLOTS; i++) {
        contexts.set(i, newContext(new SplittableRandom(seed - i)));
      }
      ThreadStarts starts = ThreadStarts.begin();
      int workers = virtualActors + platformActors;
      int virtualStarted = 0;
      for (int i = 0; i < workers + PUMPS; i++) {
        Actor a = new Actor(i, i >= workers, new SplittableRandom(seed + i));
        actors.add(a);
        boolean virtual = i < virtualActors || (i >= workers && i % 2 == 0);
        Thread t =
            virtual
                ? Thread.ofVirtual().name(ACTOR_NAME + i).start(a)
                : Thread.ofPlatform().daemon().name(ACTOR_NAME + i).start(a);
        virtualStarted += virtual ? 1 : 0;
        threads.add(t);
        if (i < virtualActors) {
          interruptible.set(i, t);
        }
      }

      // Every worker ends: the pumps keep closing generations, which releases the blocked ones.
      for (Thread t : threads.subList(0, workers)) {
        awaitEnd(t);
      }
      stopPumps = true;
      for (Thread t : threads.subList(workers, threads.size())) {
        awaitEnd(t);
      }
      for (int i = 0; i < SLOTS; i++) {
        close(slots.get(i), i, false);
      }
      ThreadStarts.Counted started = starts.end();
      if (!failures.isEmpty()) {
        AssertionError e =
            new AssertionError(
                failureCount.get() + " violations, the first ones attached (seed " + seed + ")");
        failures.forEach(e::addSuppressed);
        throw e;
      }
      check(started, virtualStarted);
    }

    private void awaitEnd(Thread t) throws InterruptedException {
      if (!t.join(joinLimit)) {
        fail("a thread was never released: " + t + " " + Arrays.toString(t.getStackTrace()));
      }
    }

    private Generation newGeneration() {
      int id = nextGeneration.getAndIncrement();
      Generation g = new Generation(id, channels.newChannel());
      generations.add(g);
      return g;
    }

    private CancelableContext newContext(SplittableRandom rnd) {
      CancelableContext ctx =
          rnd.nextInt(4) == 0
              ? Context.background().withTimeout(Duration.ofNanos(rnd.nextInt(1_000_000)))
              : Context.background().withCancel();
      allContexts.add(ctx);
      return ctx;
    }

    /**
     * Closes {@code g}, a generation of {@code slot} (the current one or an older, closed one),
     * plainly or with its error; the close that wins puts a new generation in the slot.
     */
    private void close(Generation g, int slot, boolean withError) {
      g.closeStarted = true;
      boolean won = withError ? g.ch.close(g.error) : g.ch.close();
      if (won) {
        g.wonWithError = withError;
        g.wins.incrementAndGet();
      }
      if (g.ch.close()) {
        violation("a second close of " + g + " by the same thread closed it again");
      }
      g.closeReturned = true;
      // only the winning close replaces g, so the slot still holds it
      if (won && !stopPumps && nextGeneration.get() < MAX_GENERATIONS) {
        slots.compareAndSet(slot, g, newGeneration());
      }
    }

    private void violation(String what) {
      if (failureCount.incrementAndGet() <= MAX_FAILURES) {
        failures.add(new AssertionError(what + " (seed " + seed + ")"));
      }
    }

    /**
     * A ChannelClosedException or an end of stream on {@code g}: after its close, with its error.
     */
    private void closedSeen(Generation g, Throwable cause, String what) {
      if (!g.closeStarted) {
        violation(what + " on " + g + " before anyone closed it");
      }
      if (cause == null) {
        g.sawPlainEnd = true;
      } else if (cause == g.error) {
        g.sawErrorEnd = true;
      } else {
        violation(what + " on " + g + " carried a cause no close gave: " + cause);
      }
    }

    private void check(ThreadStarts.Counted started, int virtualStarted) {
      LongList drained = new LongList();
      long endsSeen = 0;
      long withError = 0;
      for (Generation g : generations) {
        Map<Long, Long> order = new HashMap<>();
        long before = drained.size();
        while (true) {
          TryReceived<Long> r = g.ch.tryReceive();
          if (r instanceof Received.Value<Long>(Long v)) {
            checkFifo(g, v, order);
            drained.add(v);
          } else {
            assertTrue(r instanceof Received.Closed<Long>, g + ", closed, said " + r);
            break;
          }
        }
        if (g.endSeen) {
          endsSeen++;
          assertEquals(before, drained.size(), g + ": values left after a receiver saw the end");
        }
        assertEquals(1, g.wins.get(), "closes of " + g + " that won");
        withError += g.wonWithError ? 1 : 0;
        assertFalse(
            g.wonWithError ? g.sawPlainEnd : g.sawErrorEnd,
            g + " closed " + (g.wonWithError ? "with" : "without") + " an error, seen otherwise");
        assertTrue(g.ch.isClosed());
        ChannelTest.assertSound(g.ch);
        assertEquals(0, SelectTest.queuedNodes(g.ch), "nodes left on " + g);
      }

      LongList sent = new LongList();
      LongList received = new LongList();
      long notSent = 0;
      long closedSends = 0;
      for (Actor a : actors) {
        sent.addAll(a.sent);
        received.addAll(a.received);
        notSent += a.notSent;
        closedSends += a.closedSends;
      }
      received.addAll(drained);
      long[] s = ChannelStressTest.assertReceivedExactlyOnce(sent, received, Run::describe, seed);

      // the run exercised what it claims to
      int generationCount = generations.size();
      assertTrue(generationCount > SLOTS * 4, generationCount + " generations");
      assertTrue(withError > 0 && withError < generationCount, withError + " closes with error");
      assertTrue(closedSends > 0 && endsSeen > 0, closedSends + " closed sends, " + endsSeen);
      assertTrue(s.length > 0 && notSent > 0, "the run exercised success and failure");
      System.out.printf(
          "capacity %d: %d generations (%d closed with an error), %d values sent and received"
              + " (%d by the final drain), %d sends failed (%d on a closed channel),"
              + " %d ends seen, seed %d%n",
          capacity,
          generationCount,
          withError,
          s.length,
          drained.size(),
          notSent,
          closedSends,
          endsSeen,
          seed);

      for (CancelableContext ctx : allContexts) {
        ChannelTest.assertNoHooks(ctx);
      }
      for (Thread t : threads) {
        assertFalse(t.isAlive());
      }
      assertEquals(virtualStarted, started.virtual().size(), "virtual threads started: " + started);
      assertTrue(
          started.virtual().stream().allMatch(n -> n.startsWith(ACTOR_NAME)),
          "virtual threads started: " + started.virtual());
      for (Thread t : started.newPlatform()) {
        assertTrue(
            !t.isAlive() || t.getName().startsWith(ACTOR_NAME) || isVirtualThreadCarrier(t),
            "a platform thread the run left behind: " + t);
      }
    }

    /**
     * The JDK's scheduler threads for virtual threads (carriers, the pool's delay scheduler, the
     * unblocker), started on demand and kept.
     */
    private static boolean isVirtualThreadCarrier(Thread t) {
      ThreadGroup group = t.getThreadGroup();
      return (group != null && group.getName().equals("CarrierThreads"))
          || t.getName().equals("VirtualThread-unblocker");
    }

    /** The value's generation must be {@code g}, and its producer's sequence must grow. */
    private void checkFifo(Generation g, long v, Map<Long, Long> lastSeq) {
      if (generationOf(v) != g.id) {
        violation(describe(v) + " received from " + g);
      }
      long key = v >>> 32; // actor and generation
      Long previous = lastSeq.put(key, seqOf(v));
      if (previous != null && previous >= seqOf(v)) {
        violation("FIFO broken on " + g + ": seq " + seqOf(v) + " after " + previous);
      }
    }

    private static long encode(int actor, int generation, long seq) {
      return ((long) actor << 54) | ((long) generation << 32) | seq;
    }

    private static int generationOf(long v) {
      return (int) (v >>> 32) & (MAX_GENERATIONS - 1);
    }

    private static long seqOf(long v) {
      return v & 0xFFFF_FFFFL;
    }

    private static String describe(long v) {
      return "value(actor "
          + (v >>> 54)
          + ", generation "
          + generationOf(v)
          + ", seq "
          + seqOf(v)
          + ")";
    }

    private final class Actor implements Runnable {
      private final int id;
      private final boolean pump;
      private final SplittableRandom rnd;
      private final LongList sent = new LongList();
      private final LongList received = new LongList();
      private final Map<Long, Long> lastSeq = new HashMap<>();
      private final Generation[] held = new Generation[SLOTS];
      private long notSent;
      private long closedSends;
      private long seq;

      Actor(int id, boolean pump, SplittableRandom rnd) {
        this.id = id;
        this.pump = pump;
        this.rnd = rnd;
      }

      @Override
      public void run() {
        try {
          for (int i = 0; pump ? !stopPumps : i < opsPerActor; i++) {
            step();
          }
        } catch (Throwable t) {
          failures.add(t);
          failureCount.incrementAndGet();
        } finally {
          Thread.interrupted();
        }
      }

      private void step() throws Exception {
        if (pump) {
          chaos();
        }
        int slot = rnd.nextInt(SLOTS);
        Generation g = generation(slot);
        if (rnd.nextInt(CLOSE_ONE_IN) == 0) {
          close(g, slot, rnd.nextBoolean());
          return;
        }
        // read before the operation: a send that begins after a close returned must fail, and a
        // receive that begins after the end was seen must see it too
        boolean closedBefore = g.closeReturned;
        boolean endBefore = g.endSeen;
        int op = pump ? PUMP_OPS[rnd.nextInt(PUMP_OPS.length)] : rnd.nextInt(10);
        try {
          switch (op) {
            case 0 ->
                sendWith(
                    g,
                    closedBefore,
                    v -> {
                      g.ch.send(v);
                      return true;
                    });
            case 1 -> sendWith(g, closedBefore, v -> g.ch.trySend(v));
            case 2 -> sendWith(g, closedBefore, v -> g.ch.trySend(v, shortTimeout()));
            case 3 ->
                sendWith(
                    g,
                    closedBefore,
                    v -> {
                      g.ch.send(context(), v);
                      return true;
                    });
            case 4 -> receive(g, endBefore);
            case 5 -> received(g, endBefore, g.ch.receiveOrClosed());
            case 6 -> received(g, endBefore, g.ch.tryReceive());
            case 7 -> received(g, endBefore, g.ch.tryReceive(shortTimeout()));
            case 8 -> received(g, endBefore, g.ch.receiveOrClosed(context()));
            default -> select();
          }
        } catch (InterruptedException | ContextCancelledException e) {
          // an expected way for an operation to end; sends account for themselves
        }
      }

      private void chaos() {
        int dice = rnd.nextInt(100);
        if (dice < 3) {
          int slot = rnd.nextInt(CONTEXT_SLOTS);
          contexts.getAndSet(slot, newContext(rnd)).cancel(new RuntimeException("chaos"));
        } else if (dice < 4) {
          Thread t = interruptible.get(rnd.nextInt(virtualActors));
          if (t != null) {
            t.interrupt();
          }
        }
      }

      /**
       * The generation this actor uses in {@code slot}: the one it used last time, or now and then
       * the slot's current one; so actors go on using a channel for a while after it is closed.
       */
      private Generation generation(int slot) {
        Generation g = held[slot];
        if (g == null || rnd.nextInt(4) == 0) {
          g = slots.get(slot);
          held[slot] = g;
        }
        return g;
      }

      private Context context() {
        return contexts.get(rnd.nextInt(CONTEXT_SLOTS));
      }

      private Duration shortTimeout() {
        return Duration.ofNanos(rnd.nextInt(50_000));
      }

      private long next(Generation g) {
        return encode(id, g.id, ++seq);
      }

      /** Runs one send of a fresh value on {@code g} and books it as sent or not sent. */
      private void sendWith(Generation g, boolean closedBefore, SendOp send)
          throws InterruptedException {
        long v = next(g);
        boolean ok = false;
        try {
          ok = send.send(v);
        } catch (ChannelClosedException e) {
          closedSends++;
          closedSeen(g, e.getCause(), "a send failed as closed");
        } finally {
          if (ok) {
            if (closedBefore) {
              violation("a send that began after " + g + " was closed succeeded");
            }
            sent.add(v);
          } else {
            notSent++;
          }
        }
      }

      private void receive(Generation g, boolean endBefore) throws InterruptedException {
        long v;
        try {
          v = g.ch.receive();
        } catch (ChannelClosedException e) {
          end(g, e.getCause());
          return;
        }
        value(g, endBefore, v);
      }

      private void received(Generation g, boolean endBefore, TryReceived<Long> r) {
        switch (r) {
          case Received.Value<Long>(Long v) -> value(g, endBefore, v);
          case Received.Closed<Long>(var error) -> end(g, error.orElse(null));
          case TryReceived.WouldBlock<Long> nothing -> {}
        }
      }

      private void value(Generation g, boolean endBefore, long v) {
        if (endBefore) {
          violation(describe(v) + " received after a receiver saw the end of " + g);
        }
        checkFifo(g, v, lastSeq);
        received.add(v);
      }

      private void end(Generation g, Throwable cause) {
        closedSeen(g, cause, "the end of the stream");
        g.endSeen = true;
      }

      /** A select over two or three clauses on random slots mixing sends and receives. */
      private void select() throws Exception {
        int n = 2 + rnd.nextInt(2);
        List<Clause<Outcome>> clauses = new ArrayList<>();
        Generation[] gens = new Generation[n];
        boolean[] closedBefore = new boolean[n];
        boolean[] endBefore = new boolean[n];
        long[] offered = new long[n];
        for (int k = 0; k < n; k++) {
          Generation g = generation(rnd.nextInt(SLOTS));
          gens[k] = g;
          closedBefore[k] = g.closeReturned;
          endBefore[k] = g.endSeen;
          int clause = k;
          if (rnd.nextBoolean()) {
            long v = next(g);
            offered[k] = v;
            clauses.add(g.ch.onSend(v, () -> new Outcome(clause, false, v, null)));
          } else if (rnd.nextInt(4) == 0) {
            clauses.add(g.ch.onReceive(v -> new Outcome(clause, false, v, null)));
          } else {
            clauses.add(
                g.ch.onReceiveOrClosed(
                    r ->
                        switch (r) {
                          case Received.Value<Long>(Long v) -> new Outcome(clause, false, v, null);
                          case Received.Closed<Long>(var error) ->
                              new Outcome(clause, true, 0, error.orElse(null));
                        }));
          }
        }
        switch (rnd.nextInt(pump ? 2 : 6)) {
          case 0 -> clauses.add(Select.onDefault(() -> Outcome.OTHER));
          case 1 -> clauses.add(Select.onTimeout(shortTimeout(), () -> Outcome.OTHER));
          case 2 -> clauses.add(context().onDone(() -> Outcome.OTHER));
          case 3 -> clauses.add(Select.never());
          default -> {}
        }
        Outcome result = null;
        try {
          result =
              rnd.nextInt(4) == 0
                  ? Select.select(context(), clauses)
                  : Select.select(null, clauses);
        } catch (ChannelClosedException e) {
          selectFailedAsClosed(gens, e.getCause());
        } finally {
          int chosen = result == null ? -1 : result.clause();
          for (int k = 0; k < n; k++) {
            if (offered[k] != 0) {
              if (k == chosen) {
                if (closedBefore[k]) {
                  violation("a select that began after " + gens[k] + " was closed sent on it");
                }
                sent.add(offered[k]);
              } else {
                notSent++;
              }
            }
          }
          if (chosen >= 0 && offered[chosen] == 0) {
            if (result.end()) {
              end(gens[chosen], result.cause());
            } else {
              value(gens[chosen], endBefore[chosen], result.value());
            }
          }
        }
      }

      /**
       * A select that threw ChannelClosedException: one of its channels was being closed, with the
       * error the exception carries.
       */
      private void selectFailedAsClosed(Generation[] gens, Throwable cause) {
        Generation closing = null;
        int closingCount = 0;
        for (Generation g : gens) {
          if (g.closeStarted && (cause == null || cause == g.error) && g != closing) {
            closing = g;
            closingCount++;
          }
        }
        if (closing == null) {
          violation(
              "a select failed as closed, with cause "
                  + cause
                  + ", though none of "
                  + Arrays.toString(gens)
                  + " was being closed with it");
        } else if (closingCount == 1) {
          closedSeen(closing, cause, "a select failed as closed");
        }
      }
    }
  }

  @FunctionalInterface
  private interface SendOp {
    boolean send(long value) throws InterruptedException;
  }
}
