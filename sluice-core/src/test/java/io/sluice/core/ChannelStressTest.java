package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/*
 * Random operations of every family across hundreds of virtual threads and a few platform threads,
 * on four channels of one capacity, then invariants.
 *
 * Every value is unique: (actor, channel, sequence). An actor's sequence only grows, so for each
 * consumer the values it receives from one producer on one channel must arrive in increasing
 * sequence order (FIFO); the values received (by actors and by the final drain) must equal, as a
 * multiset, the values whose send returned normally (nothing lost, nothing duplicated), and so never
 * include a value whose send threw or timed out.
 *
 * Liveness without sleeps: "pump" actors only use operations that cannot block for ever (try,
 * timed, select with default or timeout), and also cancel contexts and interrupt actors at random.
 * The channels are closed when 90% of all operations are done or every pump has finished, whichever
 * comes first; close releases every blocked actor, so every thread must then end.
 */
class ChannelStressTest {
  private static final int CHANNELS = 4;
  private static final int CONTEXT_SLOTS = 4;
  private static final RuntimeException CLOSED_WITH_ERROR = new RuntimeException("stress close");

  /**
   * The operations that cannot block for ever: try, timed, and select (pumps add a default or
   * timeout).
   */
  private static final int[] PUMP_OPS = {1, 2, 6, 7, 9};

  static IntStream capacities() {
    return Arrays.stream(ChannelCase.CAPACITIES);
  }

  @ParameterizedTest(name = "capacity {0}")
  @MethodSource("capacities")
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void randomOperationsLoseNothingDuplicateNothingAndKeepOrder(int capacity) throws Exception {
    new Run(capacity, 200, 4, 300).execute();
  }

  @ParameterizedTest(name = "capacity {0}")
  @MethodSource("capacities")
  @Tag("stress-long")
  @Timeout(value = 20, unit = TimeUnit.MINUTES)
  void millionsOfRandomOperationsLoseNothingDuplicateNothingAndKeepOrder(int capacity)
      throws Exception {
    new Run(capacity, 200, 4, 5_000).execute();
  }

  /** One stress run. */
  private static final class Run {
    private final int capacity;
    private final int virtualActors;
    private final int platformActors;
    private final int opsPerActor;
    private final int pumps = 4;
    private final long seed = System.nanoTime();
    private final List<Channel<Long>> channels = new ArrayList<>();
    private final AtomicReferenceArray<CancelableContext> contexts =
        new AtomicReferenceArray<>(CONTEXT_SLOTS);
    private final ConcurrentLinkedQueue<CancelableContext> allContexts =
        new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    private final AtomicLong opsDone = new AtomicLong();
    private final CountDownLatch closeNow = new CountDownLatch(1);
    private final long closeThreshold;
    private final List<Actor> actors = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final AtomicReferenceArray<Thread> interruptible;

    Run(int capacity, int virtualActors, int platformActors, int opsPerActor) {
      this.capacity = capacity;
      this.virtualActors = virtualActors;
      this.platformActors = platformActors;
      this.opsPerActor = opsPerActor;
      this.closeThreshold = (long) (virtualActors + platformActors) * opsPerActor * 9 / 10;
      this.interruptible = new AtomicReferenceArray<>(virtualActors);
    }

    void execute() throws Exception {
      ChannelCase c = new ChannelCase(capacity, ThreadKind.VIRTUAL);
      for (int i = 0; i < CHANNELS; i++) {
        channels.add(c.newChannel());
      }
      for (int i = 0; i < CONTEXT_SLOTS; i++) {
        contexts.set(i, newContext());
      }
      int id = 0;
      for (int i = 0; i < virtualActors + platformActors + pumps; i++) {
        boolean pump = i >= virtualActors + platformActors;
        Actor a = new Actor(id++, pump, new SplittableRandom(seed + i));
        actors.add(a);
        ThreadKind kind =
            i < virtualActors
                ? ThreadKind.VIRTUAL
                : i < virtualActors + platformActors || i % 2 == 0
                    ? ThreadKind.PLATFORM
                    : ThreadKind.VIRTUAL;
        Thread t = kind.start(a);
        threads.add(t);
        if (i < virtualActors) {
          interruptible.set(i, t);
        }
      }

      // Close near the end; close releases every actor still blocked.
      closeNow.await();
      for (int i = 0; i < CHANNELS; i++) {
        if (i % 2 == 0) {
          channels.get(i).close();
        } else {
          channels.get(i).close(CLOSED_WITH_ERROR);
        }
      }
      for (Thread t : threads) {
        if (!t.join(Duration.ofMinutes(5))) {
          fail("a thread was never released: " + t + " " + Arrays.toString(t.getStackTrace()));
        }
      }
      if (!failures.isEmpty()) {
        AssertionError e = new AssertionError("actors failed (seed " + seed + ")");
        failures.forEach(e::addSuppressed);
        throw e;
      }
      check();
    }

    private CancelableContext newContext() {
      CancelableContext ctx = Context.background().withCancel();
      allContexts.add(ctx);
      return ctx;
    }

    private void check() {
      // the final drain is one more consumer
      LongList drained = new LongList();
      Map<Long, Long> drainOrder = new HashMap<>();
      for (int ch = 0; ch < CHANNELS; ch++) {
        while (true) {
          TryReceived<Long> r = channels.get(ch).tryReceive();
          if (r instanceof Received.Value<Long>(Long v)) {
            checkReceived(ch, v, drainOrder);
            drained.add(v);
          } else {
            assertTrue(r instanceof Received.Closed<Long>, "closed channel said " + r);
            break;
          }
        }
      }
      LongList sent = new LongList();
      LongList received = new LongList();
      long notSent = 0;
      for (Actor a : actors) {
        sent.addAll(a.sent);
        received.addAll(a.received);
        notSent += a.notSent;
      }
      received.addAll(drained);
      long[] s = assertReceivedExactlyOnce(sent, received, Run::describe, seed);
      assertTrue(s.length > 0 && notSent > 0, "the run exercised success and failure");
      System.out.printf(
          "capacity %d: %d operations, %d values sent and received (%d by the final drain),"
              + " %d sends failed, seed %d%n",
          capacity, opsDone.get(), s.length, drained.size, notSent, seed);
      for (Channel<Long> ch : channels) {
        ChannelTest.assertSound(ch);
        assertTrue(ch.isClosed());
        assertEquals(0, SelectTest.queuedNodes(ch), "nodes left on " + ch);
      }
      for (CancelableContext ctx : allContexts) {
        ChannelTest.assertNoHooks(ctx);
      }
      for (Thread t : threads) {
        assertFalse(t.isAlive());
      }
    }

    /** The value's channel must be the one it came from, and its producer's sequence must grow. */
    private void checkReceived(int ch, long v, Map<Long, Long> lastSeq) {
      if (channelOf(v) != ch) {
        throw new AssertionError(describe(v) + " received from channel " + ch);
      }
      long key = v >>> 40; // actor and channel
      Long previous = lastSeq.put(key, seqOf(v));
      if (previous != null && previous >= seqOf(v)) {
        throw new AssertionError(
            "FIFO broken on channel " + ch + ": seq " + seqOf(v) + " after " + previous);
      }
    }

    private static long encode(int actor, int ch, long seq) {
      return ((long) actor << 44) | ((long) ch << 40) | seq;
    }

    private static int channelOf(long v) {
      return (int) (v >>> 40) & 0xF;
    }

    private static long seqOf(long v) {
      return v & ((1L << 40) - 1);
    }

    private static String describe(long v) {
      return "value(actor " + (v >>> 44) + ", channel " + channelOf(v) + ", seq " + seqOf(v) + ")";
    }

    private final class Actor implements Runnable {
      private final int id;
      private final boolean pump;
      private final SplittableRandom rnd;
      private final LongList sent = new LongList();
      private final LongList received = new LongList();
      private final Map<Long, Long> lastSeq = new HashMap<>();
      private long notSent;
      private long seq;

      Actor(int id, boolean pump, SplittableRandom rnd) {
        this.id = id;
        this.pump = pump;
        this.rnd = rnd;
      }

      @Override
      public void run() {
        try {
          // Pumps never block for long, so they keep the count moving until the close.
          for (int i = 0; pump ? closeNow.getCount() > 0 : i < opsPerActor; i++) {
            step();
            if (opsDone.incrementAndGet() == closeThreshold) {
              closeNow.countDown();
            }
          }
        } catch (Throwable t) {
          failures.add(t);
        } finally {
          Thread.interrupted();
        }
      }

      private void step() throws Exception {
        if (pump) {
          chaos();
        }
        int ch = rnd.nextInt(CHANNELS);
        int op = pump ? PUMP_OPS[rnd.nextInt(PUMP_OPS.length)] : rnd.nextInt(10);
        try {
          switch (op) {
            case 0 ->
                sendWith(
                    ch,
                    v -> {
                      channel(ch).send(v);
                      return true;
                    });
            case 1 -> sendWith(ch, v -> channel(ch).trySend(v));
            case 2 -> sendWith(ch, v -> channel(ch).trySend(v, shortTimeout()));
            case 3 -> sendWith(ch, v -> sendWithContext(ch, v));
            case 4 -> receivedOrNot(ch, receive(ch));
            case 5 -> receivedOrNot(ch, channel(ch).receiveOrClosed());
            case 6 -> receivedOrNot(ch, channel(ch).tryReceive());
            case 7 -> receivedOrNot(ch, channel(ch).tryReceive(shortTimeout()));
            case 8 -> receivedOrNot(ch, channel(ch).receiveOrClosed(context()));
            default -> select();
          }
        } catch (InterruptedException | ContextCancelledException | ChannelClosedException e) {
          // an expected way for an operation to end; sends account for themselves
        }
      }

      private void chaos() {
        int dice = rnd.nextInt(100);
        if (dice < 3) {
          int slot = rnd.nextInt(CONTEXT_SLOTS);
          contexts.getAndSet(slot, newContext()).cancel(new RuntimeException("chaos"));
        } else if (dice < 4) {
          Thread t = interruptible.get(rnd.nextInt(virtualActors));
          if (t != null) {
            t.interrupt();
          }
        }
      }

      private Channel<Long> channel(int ch) {
        return channels.get(ch);
      }

      private Context context() {
        return contexts.get(rnd.nextInt(CONTEXT_SLOTS));
      }

      private Duration shortTimeout() {
        return Duration.ofNanos(rnd.nextInt(50_000));
      }

      private boolean sendWithContext(int ch, long v) throws InterruptedException {
        channel(ch).send(context(), v);
        return true;
      }

      private Received<Long> receive(int ch) throws InterruptedException {
        return new Received.Value<>(channel(ch).receive());
      }

      private long next(int ch) {
        return encode(id, ch, ++seq);
      }

      /** Runs one send of a fresh value and books it as sent or not sent. */
      private void sendWith(int ch, SendOp send) throws Exception {
        long v = next(ch);
        boolean ok = false;
        try {
          ok = send.send(v);
        } finally {
          if (ok) {
            sent.add(v);
          } else {
            notSent++;
          }
        }
      }

      private void receivedOrNot(int ch, TryReceived<Long> r) {
        if (r instanceof Received.Value<Long>(Long v)) {
          checkReceived(ch, v, lastSeq);
          received.add(v);
        }
      }

      /** A select over two or three clauses mixing sends and receives, sometimes more. */
      private void select() throws Exception {
        int n = 2 + rnd.nextInt(2);
        List<Clause<long[]>> clauses = new ArrayList<>();
        long[] offered = new long[n];
        for (int k = 0; k < n; k++) {
          int ch = rnd.nextInt(CHANNELS);
          int clause = k;
          if (rnd.nextBoolean()) {
            long v = next(ch);
            offered[k] = v;
            clauses.add(channel(ch).onSend(v, () -> new long[] {clause, 0}));
          } else if (rnd.nextInt(4) == 0) {
            clauses.add(channel(ch).onReceive(v -> new long[] {clause, v, ch}));
          } else {
            clauses.add(
                channel(ch)
                    .onReceiveOrClosed(
                        r ->
                            r instanceof Received.Value<Long>(Long v)
                                ? new long[] {clause, v, ch}
                                : new long[] {clause, -1, ch}));
          }
        }
        switch (rnd.nextInt(pump ? 2 : 6)) {
          case 0 -> clauses.add(Select.onDefault(() -> new long[] {-1}));
          case 1 -> clauses.add(Select.onTimeout(shortTimeout(), () -> new long[] {-1}));
          case 2 -> clauses.add(context().onDone(() -> new long[] {-1}));
          case 3 -> clauses.add(Select.never());
          default -> {}
        }
        long[] result = null;
        try {
          result =
              rnd.nextInt(4) == 0
                  ? Select.select(context(), clauses)
                  : Select.select(null, clauses);
        } finally {
          int chosen = result == null ? -1 : (int) result[0];
          for (int k = 0; k < n; k++) {
            if (offered[k] != 0) {
              if (k == chosen) {
                sent.add(offered[k]);
              } else {
                notSent++;
              }
            }
          }
          if (result != null && result.length == 3 && result[1] >= 0) {
            receivedOrNot((int) result[2], new Received.Value<>(result[1]));
          }
        }
      }
    }
  }

  @FunctionalInterface
  private interface SendOp {
    boolean send(long value) throws InterruptedException;
  }

  /**
   * Fails unless {@code received} holds exactly the values of {@code sent}, none twice: nothing
   * lost, duplicated or invented. {@code describe} names a value in the messages.
   *
   * @return the sent values, sorted
   */
  static long[] assertReceivedExactlyOnce(
      LongList sent,
      LongList received,
      java.util.function.LongFunction<String> describe,
      long seed) {
    long[] s = sent.sorted();
    long[] r = received.sorted();
    for (int i = 1; i < r.length; i++) {
      if (r[i] == r[i - 1]) {
        fail("value received twice: " + describe.apply(r[i]) + " (seed " + seed + ")");
      }
    }
    assertEquals(s.length, r.length, "sent vs received counts (seed " + seed + ")");
    assertArrayEquals(s, r, "the received values are exactly the sent ones (seed " + seed + ")");
    return s;
  }

  /** A growable array of longs, to keep millions of values unboxed; ChannelCloseStressTest too. */
  static final class LongList {
    private long[] a = new long[64];
    private int size;

    void add(long v) {
      if (size == a.length) {
        a = Arrays.copyOf(a, size * 2);
      }
      a[size++] = v;
    }

    int size() {
      return size;
    }

    void addAll(LongList other) {
      for (int i = 0; i < other.size; i++) {
        add(other.a[i]);
      }
    }

    long[] sorted() {
      long[] s = Arrays.copyOf(a, size);
      Arrays.sort(s);
      return s;
    }
  }
}
