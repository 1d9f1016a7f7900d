package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Go 1.23: "the garbage collector can recover unreferenced, unstopped timers". The seed's pitfall,
 * time.After in a loop, must cost nothing durable: every timer below is dropped unstopped, and the
 * test polls System.gc() (with a bound, no timing assertion) until all are collected.
 */
@Timeout(60)
class TimerGcTest {
  private static final int N = 10_000;
  private static final Duration FAR = Duration.ofHours(1);

  @Test
  void givenAfterChannelsMadeInALoopAndDropped_whenCollected_thenEveryOneIsGarbage() {
    assertAllCollected(() -> Time.after(FAR));
  }

  @Test
  void givenTimersAndTickersDroppedUnstopped_whenCollected_thenEveryOneIsGarbage() {
    assertAllCollected(() -> Time.newTimer(FAR));
    assertAllCollected(() -> Time.newTicker(Duration.ofMillis(1)));
  }

  @Test
  void givenASelectLoopWithAnAfterClauseThatNeverWins_whenItsTimersAreDue_thenTheyAreGarbage()
      throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    Channel<Integer> work = Channel.buffered(N);
    for (int i = 0; i < N; i++) {
      work.send(i);
    }
    List<WeakReference<ReceiveChannel<Instant>>> refs = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      ReceiveChannel<Instant> timeout = clock.after(Duration.ofSeconds(30));
      refs.add(new WeakReference<>(timeout));
      Select.select(work.onReceive(w -> w), timeout.onReceive(t -> -1));
    }
    // The work was always ready, so no select waited and no timer entered the engine.
    assertEquals(0, clock.pendingTimers());
    awaitCollected(refs);
  }

  @Test
  void givenSelectsThatWaitedOnAnAfterClauseButGotWork_whenTheTimersAreDue_thenTheEngineDropsThem()
      throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    Channel<Integer> work = Channel.unbuffered();
    Thread producer =
        Thread.startVirtualThread(
            () -> {
              try {
                for (int i = 0; i < N; i++) {
                  work.send(i);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    List<WeakReference<ReceiveChannel<Instant>>> refs = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      ReceiveChannel<Instant> timeout = clock.after(Duration.ofSeconds(30));
      refs.add(new WeakReference<>(timeout));
      Select.select(work.onReceive(w -> w), timeout.onReceive(t -> -1));
    }
    producer.join();

    // Selects that waited armed their timer; with no "last receiver left" hook in the channel, an
    // armed entry stays until its time, then finds nobody and leaves. The cost is bounded by the
    // timeout, not by the loop.
    clock.advance(Duration.ofSeconds(30));

    assertEquals(0, clock.pendingTimers());
    awaitCollected(refs);
  }

  private static <T> void assertAllCollected(Supplier<T> make) {
    List<WeakReference<T>> refs = new ArrayList<>();
    for (int i = 0; i < N; i++) {
      refs.add(new WeakReference<>(make.get()));
    }
    awaitCollected(refs);
  }

  private static <T> void awaitCollected(List<WeakReference<T>> refs) {
    for (int attempt = 0; attempt < 100; attempt++) {
      if (refs.stream().allMatch(r -> r.get() == null)) {
        return;
      }
      System.gc();
      Thread.onSpinWait();
    }
    long alive = refs.stream().filter(r -> r.get() != null).count();
    assertTrue(alive == 0, alive + " of " + refs.size() + " timers are still reachable");
  }
}
