package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A ticker on a {@link ManualClock} that one thread advances in random steps while another stops
 * and resets it and three receive from it (a plain receive with a context, and a select with a done
 * clause). Time is exact, so the invariants are too: no tick is delivered before its time or twice;
 * each receiver sees its ticks in order; a receive that starts while the ticker is stopped gets
 * only a tick of a later reset; and once the ticker is stopped for good, nobody gets anything.
 * Short by default, five times longer when {@code CI} is set, a hundred times under the {@code
 * stress-long} tag.
 */
class TickerStressTest {
  private static final int RECEIVERS = 3;

  private static int scale() {
    return System.getenv("CI") == null || System.getenv("CI").isBlank() ? 1 : 5;
  }

  @Test
  @Timeout(120)
  void givenAdvancesStopsAndResetsRacingReceivers_whenTheyMeet_thenEveryTickIsDueUniqueAndInOrder()
      throws Exception {
    for (int round = 0; round < 20 * scale(); round++) {
      round(round, 2_000);
    }
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void longRun() throws Exception {
    for (int round = 0; round < 2_000; round++) {
      round(round, 2_000);
    }
  }

  private static long nanosOf(Instant tick) {
    return Duration.between(Instant.EPOCH, tick).toNanos();
  }

  private static void round(long seed, int steps) throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    Ticker ticker = clock.newTicker(Duration.ofNanos(10));
    // gen is odd while the ticker is stopped; resumedAt[g] is the clock's reading just before the
    // reset that made gen g (even), written before gen moves to g; MAX_VALUE until then.
    AtomicLongArray resumedAt = new AtomicLongArray(2 * steps + 4);
    for (int i = 0; i < resumedAt.length(); i++) {
      resumedAt.set(i, Long.MAX_VALUE);
    }
    long[] gen = new long[1];
    Object genLock = new Object();
    Set<Long> delivered = ConcurrentHashMap.newKeySet();
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    CancelableContext end = Context.background().withCancel();
    AtomicBoolean stoppedForGood = new AtomicBoolean();

    List<Thread> threads = new ArrayList<>();
    for (int r = 0; r < RECEIVERS; r++) {
      boolean viaSelect = r == 0;
      threads.add(
          Thread.startVirtualThread(
              () -> {
                long previous = Long.MIN_VALUE;
                while (!end.isDone()) {
                  boolean afterTheEnd = stoppedForGood.get();
                  long g;
                  synchronized (genLock) {
                    g = gen[0];
                  }
                  Instant tick;
                  try {
                    tick =
                        viaSelect
                            ? Select.select(
                                ticker.channel().onReceive(t -> t), end.onDone(() -> null))
                            : ticker.channel().receive(end);
                  } catch (ContextCancelledException | InterruptedException e) {
                    return;
                  }
                  if (tick == null) {
                    return;
                  }
                  long at = nanosOf(tick);
                  long now = clock.nanoTime();
                  if (afterTheEnd) {
                    violations.add("a tick at " + at + " after the ticker was stopped for good");
                  }
                  if (!delivered.add(at)) {
                    violations.add("the tick at " + at + " was delivered twice");
                  }
                  if (at <= previous) {
                    violations.add("tick " + at + " after tick " + previous);
                  }
                  if (at > now) {
                    violations.add("tick " + at + " delivered early, at " + now);
                  }
                  if (g % 2 == 1 && at <= resumedAt.get((int) g + 1)) {
                    violations.add(
                        "a receive begun while stopped got "
                            + at
                            + ", not after the reset at "
                            + resumedAt.get((int) g + 1));
                  }
                  previous = at;
                }
              }));
    }
    Thread advancer =
        Thread.startVirtualThread(
            () -> {
              SplittableRandom rnd = new SplittableRandom(seed);
              while (!stoppedForGood.get()) {
                clock.advance(Duration.ofNanos(rnd.nextInt(1, 25)));
                Thread.yield();
              }
            });

    SplittableRandom rnd = new SplittableRandom(~seed);
    for (int i = 0; i < steps; i++) {
      synchronized (genLock) {
        if (gen[0] % 2 == 0 && rnd.nextInt(4) == 0) {
          ticker.stop();
          gen[0]++;
        } else if (rnd.nextInt(3) == 0) {
          long period = rnd.nextInt(1, 40);
          int next = (int) (gen[0] % 2 == 0 ? gen[0] + 2 : gen[0] + 1);
          resumedAt.set(next, clock.nanoTime());
          gen[0] = next;
          ticker.reset(Duration.ofNanos(period));
        }
      }
      Thread.yield();
    }
    ticker.stop();
    stoppedForGood.set(true);
    advancer.join();
    clock.advance(Duration.ofSeconds(1)); // nothing may come of this
    assertInstanceOf(TryReceived.WouldBlock.class, ticker.channel().tryReceive());
    end.cancel();
    for (Thread t : threads) {
      t.join();
    }
    assertEquals(List.of(), List.copyOf(violations));
    assertTrue(clock.pendingTimers() == 0, "the engine holds nothing for a stopped ticker");
  }
}
