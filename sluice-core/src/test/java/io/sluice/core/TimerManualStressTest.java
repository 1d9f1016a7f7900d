package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A timer on a {@link ManualClock} that one thread advances in random steps while another stops and
 * resets it and three receive from it. Go 1.23's accounting must hold exactly: each setting of the
 * timer (its creation and every reset) ends in one of three ways -- its value is received, a {@code
 * stop} returns {@code true}, or a {@code reset} returns {@code true} -- so the values received are
 * the settings less the calls that returned {@code true}, none received twice or before its time.
 * Short by default, five times longer when {@code CI} is set, a hundred times under the {@code
 * stress-long} tag.
 */
class TimerManualStressTest {
  private static final int RECEIVERS = 3;

  private static int scale() {
    return System.getenv("CI") == null || System.getenv("CI").isBlank() ? 1 : 5;
  }

  @Test
  @Timeout(120)
  void givenAdvancesStopsAndResetsRacingReceivers_whenAllEnds_thenEachSettingEndedExactlyOnce()
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

  private static void round(long seed, int steps) throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    Timer timer = clock.newTimer(Duration.ofNanos(10));
    Set<Instant> received = ConcurrentHashMap.newKeySet();
    AtomicInteger receivedCount = new AtomicInteger();
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    CancelableContext end = Context.background().withCancel();
    AtomicBoolean over = new AtomicBoolean();

    List<Thread> threads = new ArrayList<>();
    for (int r = 0; r < RECEIVERS; r++) {
      boolean viaSelect = r == 0;
      threads.add(
          Thread.startVirtualThread(
              () -> {
                while (!end.isDone()) {
                  Instant value;
                  try {
                    value =
                        viaSelect
                            ? Select.select(
                                timer.channel().onReceive(t -> t), end.onDone(() -> null))
                            : timer.channel().receive(end);
                  } catch (ContextCancelledException | InterruptedException e) {
                    return;
                  }
                  if (value == null) {
                    return;
                  }
                  receivedCount.incrementAndGet();
                  if (!received.add(value)) {
                    violations.add("the value " + value + " was received twice");
                  }
                  if (value.isAfter(clock.now())) {
                    violations.add("the value " + value + " came before its time");
                  }
                }
              }));
    }
    Thread advancer =
        Thread.startVirtualThread(
            () -> {
              SplittableRandom rnd = new SplittableRandom(seed);
              while (!over.get()) {
                clock.advance(Duration.ofNanos(rnd.nextInt(1, 25)));
                Thread.yield();
              }
            });

    SplittableRandom rnd = new SplittableRandom(~seed);
    int settings = 1;
    int endedByACall = 0;
    for (int i = 0; i < steps; i++) {
      int op = rnd.nextInt(4);
      if (op == 0) {
        endedByACall += timer.stop() ? 1 : 0;
      } else if (op == 1) {
        endedByACall += timer.reset(Duration.ofNanos(rnd.nextInt(1, 40))) ? 1 : 0;
        settings++;
      }
      Thread.yield();
    }
    endedByACall += timer.stop() ? 1 : 0;
    over.set(true);
    advancer.join();
    clock.advance(Duration.ofSeconds(1)); // nothing may come of this
    assertInstanceOf(TryReceived.WouldBlock.class, timer.channel().tryReceive());
    end.cancel();
    for (Thread t : threads) {
      t.join();
    }

    assertEquals(List.of(), List.copyOf(violations));
    assertEquals(settings - endedByACall, receivedCount.get(), "values received");
    assertEquals(0, clock.pendingTimers(), "the engine holds nothing for a stopped timer");
    ((TimerImpl) timer).core().checkInvariants();
  }
}
