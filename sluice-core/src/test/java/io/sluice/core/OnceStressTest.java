package io.sluice.core;

import static io.sluice.core.SyncTestSupport.scaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Rounds of many virtual threads racing on a fresh once, some of them interrupted or cancelled
 * while they wait; then: the action ran exactly once (Go's policy) or succeeded exactly once and
 * never ran after that (retrying), and every caller ended with an allowed outcome.
 */
class OnceStressTest {

  @Test
  @Timeout(120)
  void givenRoundsOfRacingCallers_whenAllEnd_thenEachActionRanExactlyOnce() throws Exception {
    stress(scaled(200, 2_000), scaled(32, 64), false);
  }

  @Test
  @Timeout(120)
  void givenRoundsOfRacingCallersOnARetryingOnce_whenAllEnd_thenItSucceededExactlyOnce()
      throws Exception {
    stress(scaled(200, 2_000), scaled(32, 64), true);
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void givenManyMoreRounds_whenAllEnd_thenTheSameInvariantsHold() throws Exception {
    stress(20_000, 128, false);
    stress(20_000, 128, true);
  }

  private void stress(int rounds, int callers, boolean retrying) throws Exception {
    for (int round = 0; round < rounds; round++) {
      oneRound(callers, retrying);
    }
  }

  private void oneRound(int callers, boolean retrying) throws Exception {
    OnceValue<Integer> once =
        retrying ? OnceValue.retrying(this::flakyComputation) : OnceValue.of(this::computation);
    runs.set(0);
    successes.set(0);
    ranAfterSuccess.set(0);
    CancelableContext ctx = Context.background().withCancel();
    CountDownLatch go = new CountDownLatch(1);
    AtomicInteger values = new AtomicInteger();
    AtomicReference<Throwable> unexpected = new AtomicReference<>();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < callers; i++) {
      boolean withContext = i % 2 == 0;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      go.await();
                      for (int y = ThreadLocalRandom.current().nextInt(8); y > 0; y--) {
                        Thread.yield(); // arrive around the moment the computation ends
                      }
                      Integer v = withContext ? once.get(ctx) : once.get();
                      if (v != 1) {
                        unexpected.compareAndSet(null, new AssertionError("value " + v));
                      }
                      values.incrementAndGet();
                    } catch (InterruptedException
                        | ContextCancelledException
                        | OnceFailedException e) {
                      // allowed: gave up waiting, or learned of a failed attempt
                    } catch (Throwable t) {
                      unexpected.compareAndSet(null, t);
                    }
                  }));
    }
    go.countDown();
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    for (int i = rnd.nextInt(4); i > 0; i--) {
      threads.get(rnd.nextInt(callers)).interrupt();
    }
    if (rnd.nextInt(4) == 0) {
      ctx.cancel();
    }
    for (Thread t : threads) {
      t.join();
    }

    if (unexpected.get() != null) {
      throw new AssertionError("a caller failed", unexpected.get());
    }
    if (values.get() > 0) {
      assertTrue(once.isDone());
    }
    assertEquals(1, getUntilSuccess(once), "a later caller gets the value");
    if (!retrying) {
      assertEquals(1, runs.get(), "the computation ran exactly once");
    } else {
      assertEquals(1, successes.get(), "the computation succeeded exactly once");
      assertEquals(0, ranAfterSuccess.get(), "it ran again after it had succeeded");
    }
    ((OnceValueImpl<Integer>) once).checkInvariants();
    ctx.cancel();
  }

  private static Integer getUntilSuccess(OnceValue<Integer> once) throws InterruptedException {
    while (true) {
      try {
        return once.get();
      } catch (OnceFailedException retryingAttemptFailed) {
        // the retrying computation fails one time in three; the next call tries again
      }
    }
  }

  private final AtomicInteger runs = new AtomicInteger();
  private final AtomicInteger successes = new AtomicInteger();
  private final AtomicInteger ranAfterSuccess = new AtomicInteger();

  private Integer computation() {
    runs.incrementAndGet();
    return 1;
  }

  private Integer flakyComputation() throws Exception {
    if (successes.get() > 0) {
      ranAfterSuccess.incrementAndGet();
    }
    runs.incrementAndGet();
    Thread.yield();
    if (ThreadLocalRandom.current().nextInt(3) == 0) {
      throw new Exception("flaky");
    }
    successes.incrementAndGet();
    return 1;
  }
}
