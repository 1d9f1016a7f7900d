package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitTrue;
import static io.sluice.core.SyncTestSupport.scaled;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Many virtual threads acquiring random weights in every form, while a chaos thread cancels
 * contexts and interrupts workers; then: never over-allocated, grants in arrival order, everything
 * given back.
 */
class SemaphoreStressTest {

  /** Replays the semaphore's decisions and checks each grant goes to the longest waiter. */
  private static final class FifoChecker implements WeightedSemaphore.Probe {
    private final LinkedHashSet<Long> queue = new LinkedHashSet<>(); // guarded by the semaphore
    private final List<String> violations = new ArrayList<>();
    private long grants;

    @Override
    public void enqueued(long ticket, long n) {
      queue.add(ticket);
    }

    @Override
    public void granted(long ticket, long n) {
      long oldest = queue.iterator().next();
      if (oldest != ticket && violations.size() < 10) {
        violations.add("granted " + ticket + " while " + oldest + " waited longer");
      }
      queue.remove(ticket);
      grants++;
    }

    @Override
    public void abandoned(long ticket) {
      queue.remove(ticket);
    }
  }

  @Test
  @Timeout(120)
  void givenManyThreadsDoingRandomOperations_whenAllEnd_thenNeverOverAllocatedAndGrantedInOrder()
      throws Exception {
    stress(scaled(128, 256), scaled(1_000, 5_000), 16);
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void givenHundredsOfThreadsAndMillionsOfOperations_whenAllEnd_thenTheSameInvariantsHold()
      throws Exception {
    stress(500, 4_000, 64);
  }

  private void stress(int threads, int opsPerThread, long size) throws Exception {
    FifoChecker fifo = new FifoChecker();
    WeightedSemaphore sem = new WeightedSemaphore(size, fifo);
    AtomicLong held = new AtomicLong();
    AtomicLong maxHeld = new AtomicLong();
    AtomicInteger acquired = new AtomicInteger();
    AtomicInteger gaveUp = new AtomicInteger();
    AtomicReference<Throwable> unexpected = new AtomicReference<>();
    AtomicReference<CancelableContext> shared =
        new AtomicReference<>(Context.background().withCancel());
    List<Thread> workers = new ArrayList<>();

    for (int t = 0; t < threads; t++) {
      workers.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    ThreadLocalRandom rnd = ThreadLocalRandom.current();
                    for (int i = 0; i < opsPerThread; i++) {
                      long n = rnd.nextLong(size / 2 + 1) + (rnd.nextInt(20) == 0 ? size / 2 : 0);
                      try {
                        boolean ok =
                            switch (rnd.nextInt(4)) {
                              case 0 -> {
                                sem.acquire(n);
                                yield true;
                              }
                              case 1 -> {
                                sem.acquire(shared.get(), n);
                                yield true;
                              }
                              case 2 -> sem.tryAcquire(n);
                              default -> sem.tryAcquire(n, Duration.ofNanos(rnd.nextLong(200_000)));
                            };
                        if (!ok) {
                          gaveUp.incrementAndGet();
                          continue;
                        }
                        acquired.incrementAndGet();
                        long h = held.addAndGet(n);
                        maxHeld.accumulateAndGet(h, Math::max);
                        for (int y = rnd.nextInt(3); y > 0; y--) {
                          Thread.yield();
                        }
                        held.addAndGet(-n);
                        sem.release(n);
                      } catch (InterruptedException | ContextCancelledException e) {
                        gaveUp.incrementAndGet();
                      } catch (Throwable e) {
                        unexpected.compareAndSet(null, e);
                      }
                    }
                    Thread.interrupted();
                  }));
    }
    Thread chaos =
        Thread.ofVirtual()
            .start(
                () -> {
                  ThreadLocalRandom rnd = ThreadLocalRandom.current();
                  while (workers.stream().anyMatch(Thread::isAlive)) {
                    if (rnd.nextBoolean()) {
                      shared.getAndSet(Context.background().withCancel()).cancel();
                    } else {
                      workers.get(rnd.nextInt(workers.size())).interrupt();
                    }
                    Thread.yield();
                  }
                });
    for (Thread w : workers) {
      w.join();
    }
    chaos.join();

    if (unexpected.get() != null) {
      throw new AssertionError("a worker failed", unexpected.get());
    }
    assertTrue(maxHeld.get() <= size, "held " + maxHeld.get() + " of " + size);
    assertEquals(List.of(), fifo.violations);
    assertEquals(size, sem.available(), "everything acquired was released");
    assertEquals(0, sem.queueLength());
    assertEquals((long) threads * opsPerThread, acquired.get() + gaveUp.get());
    assertTrue(fifo.grants > 0, "some acquisitions waited in line");
    sem.checkInvariants();
  }

  @Test
  @Timeout(60)
  void givenManyWaitersOnOneContext_whenItIsCancelled_thenEveryWaiterIsReleasedHoldingNothing()
      throws Exception {
    int waiters = scaled(500, 5_000);
    WeightedSemaphore sem = new WeightedSemaphore(1);
    sem.acquire(1);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    AtomicInteger cancelled = new AtomicInteger();
    List<Thread> threads = new ArrayList<>();
    for (int i = 0; i < waiters; i++) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      sem.acquire(ctx, 1);
                    } catch (ContextCancelledException e) {
                      cancelled.incrementAndGet();
                    } catch (InterruptedException e) {
                      throw new AssertionError(e);
                    }
                  }));
    }
    awaitTrue(() -> sem.queueLength() == waiters);

    ctx.cancel();
    for (Thread t : threads) {
      t.join();
    }

    assertEquals(waiters, cancelled.get());
    assertEquals(0, sem.queueLength());
    assertEquals(0, sem.available());
    assertEquals(0, ctx.pendingHooks());
    sem.checkInvariants();
  }
}
