package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The in-flight body budget on its own; {@link HostileInputTest} has it over HTTP. */
@Timeout(60)
class BodyBudgetTest {

  @Test
  void reservationsFitUpToTheLimitAndNotABytePast() {
    BodyBudget budget = new BodyBudget(100);

    assertTrue(budget.tryReserve(60));
    assertTrue(budget.tryReserve(40));
    assertFalse(budget.tryReserve(1));
    assertEquals(100, budget.inFlight());
  }

  @Test
  void aRefusedReservationTakesNothing() {
    BodyBudget budget = new BodyBudget(100);
    budget.tryReserve(60);

    assertFalse(budget.tryReserve(41));

    assertEquals(60, budget.inFlight());
    assertTrue(budget.tryReserve(40));
  }

  @Test
  void releasedBytesFitAgain() {
    BodyBudget budget = new BodyBudget(100);
    budget.tryReserve(100);

    budget.release(30);

    assertEquals(70, budget.inFlight());
    assertTrue(budget.tryReserve(30));
    assertFalse(budget.tryReserve(1));
  }

  @Test
  void releasingMoreThanWasReservedIsAnError() {
    BodyBudget budget = new BodyBudget(100);
    budget.tryReserve(10);

    assertThrows(IllegalStateException.class, () -> budget.release(11));
  }

  @Test
  void aNegativeReservationOrANonPositiveLimitIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new BodyBudget(0));
    assertThrows(IllegalArgumentException.class, () -> new BodyBudget(10).tryReserve(-1));
  }

  @Test
  void concurrentReservationsNeverPassTheLimitAndAllComeBack() throws Exception {
    // given: 8 threads reserving and releasing random amounts against one budget
    BodyBudget budget = new BodyBudget(1_000);
    AtomicLong highest = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      threads.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    try {
                      start.await();
                    } catch (InterruptedException e) {
                      return;
                    }
                    for (int i = 0; i < 100_000; i++) {
                      long bytes = random.nextLong(1, 400);
                      if (budget.tryReserve(bytes)) {
                        highest.accumulateAndGet(budget.inFlight(), Math::max);
                        budget.checkInvariants();
                        budget.release(bytes);
                      }
                    }
                  }));
    }

    // when
    start.countDown();
    for (Thread t : threads) {
      t.join();
    }

    // then
    assertTrue(highest.get() <= 1_000, "reserved at once: " + highest.get());
    assertEquals(0, budget.inFlight());
    budget.checkInvariants();
  }
}
