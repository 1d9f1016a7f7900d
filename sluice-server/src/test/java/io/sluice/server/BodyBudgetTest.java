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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The in-flight body budget on its own; {@link HostileInputTest} has it over HTTP. */
@Timeout(120)
class BodyBudgetTest {

  /** A budget of 100 bytes whose requests are small up to 10 bytes: large ones may hold 75. */
  private final BodyBudget budget = new BodyBudget(100, 10);

  @Test
  void smallReservationsFillTheWholeLimitAndNotABytePast() {
    for (int i = 0; i < 10; i++) {
      assertTrue(budget.tryReserve(10, 10), "reservation " + i);
    }

    assertFalse(budget.tryReserve(1, 1));
    assertEquals(100, budget.inFlight());
  }

  @Test
  void largeReservationsStopAtThreeQuartersOfTheLimit() {
    assertTrue(budget.tryReserve(40, 40));
    assertTrue(budget.tryReserve(35, 35));

    assertFalse(budget.tryReserve(11, 11), "a large one past three quarters");
    assertEquals(75, budget.inFlight());
  }

  @Test
  void smallReservationsStillFitOnceLargeOnesHoldTheirThreeQuarters() {
    // given large requests holding their whole share
    assertTrue(budget.tryReserve(75, 75));
    assertFalse(budget.tryReserve(11, 11));

    // when small ones come, they get the rest
    for (int i = 0; i < 2; i++) {
      assertTrue(budget.tryReserve(10, 10), "small reservation " + i);
    }
    assertTrue(budget.tryReserve(5, 5));

    // then the whole limit is used, and no more
    assertEquals(100, budget.inFlight());
    assertFalse(budget.tryReserve(1, 1));
  }

  @Test
  void aReservationIsLargeByItsRequestsTotalNotByItsOwnSize() {
    // given large requests holding 60
    assertTrue(budget.tryReserve(60, 60));

    // when a chunked body grows in small steps: while its total is small it may pass 75 ...
    assertTrue(budget.tryReserve(6, 6));
    assertTrue(budget.tryReserve(4, 10));
    assertTrue(budget.tryReserve(10, 10), "another small request");
    assertEquals(80, budget.inFlight());

    // ... but once its total is large, its next steps are held to three quarters
    assertFalse(budget.tryReserve(1, 11));
    budget.release(10); // the other small request ends: 70 reserved
    assertTrue(budget.tryReserve(5, 15));
    assertFalse(budget.tryReserve(1, 16));
    assertEquals(75, budget.inFlight());
  }

  @Test
  void aRefusedReservationTakesNothing() {
    budget.tryReserve(60, 60);

    assertFalse(budget.tryReserve(16, 16));

    assertEquals(60, budget.inFlight());
    assertTrue(budget.tryReserve(15, 15));
  }

  @Test
  void releasedBytesFitAgain() {
    budget.tryReserve(75, 75);
    budget.tryReserve(10, 10);
    budget.tryReserve(10, 10);
    budget.tryReserve(5, 5);

    budget.release(30);

    assertEquals(70, budget.inFlight());
    assertTrue(budget.tryReserve(5, 50));
    assertFalse(budget.tryReserve(1, 50));
    assertTrue(budget.tryReserve(10, 10));
    assertTrue(budget.tryReserve(10, 10));
    assertTrue(budget.tryReserve(5, 5));
    assertFalse(budget.tryReserve(1, 1));
  }

  @Test
  void releasingMoreThanWasReservedIsAnError() {
    budget.tryReserve(10, 10);

    assertThrows(IllegalStateException.class, () -> budget.release(11));
  }

  @Test
  void aNegativeReservationOrOneAboveItsRequestsTotalOrANonPositiveLimitIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> new BodyBudget(0, 10));
    assertThrows(IllegalArgumentException.class, () -> new BodyBudget(10, -1));
    assertThrows(IllegalArgumentException.class, () -> budget.tryReserve(-1, 5));
    assertThrows(IllegalArgumentException.class, () -> budget.tryReserve(6, 5));
  }

  @Test
  void aBodyIsSmallUpTo64KibibytesOrASixteenthOfTheLargestBodyIfLess() {
    assertEquals(64 << 10, BodyBudget.smallBodyBytes(1 << 20));
    assertEquals(64 << 10, BodyBudget.smallBodyBytes(8 << 20));
    assertEquals(625, BodyBudget.smallBodyBytes(10_000));
    assertEquals(4, BodyBudget.smallBodyBytes(64));
  }

  @ParameterizedTest(name = "largest body {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 64, 625, 10_000, 65_536, 1_048_575, 1_048_576, 8_388_608})
  void theLeastLimitIsTheSmallestWhoseLargeShareHoldsTheLargestBody(long largest) {
    long least = BodyBudget.minimumLimit(largest);

    assertTrue(BodyBudget.largeShare(least) >= largest, "share of " + least);
    assertTrue(BodyBudget.largeShare(least - 1) < largest, "share of " + (least - 1));
    BodyBudget smallest = new BodyBudget(least, 0);
    assertTrue(smallest.tryReserve(largest, largest), "a body of the largest size fits");
  }

  @Test
  void concurrentRequestsNeverPassTheLimitLargeOnesNeverPassTheirShareAndAllComesBack()
      throws Exception {
    // given: threads that each run requests of random sizes, reserving each one's total in one to
    // three growing steps (as chunked bodies do) and then giving it all back
    long limit = 1_000;
    long small = 100;
    BodyBudget shared = new BodyBudget(limit, small);
    int threads = 8;
    int requests = System.getenv("CI") != null ? 1_000_000 : 200_000;
    // Bytes of large steps held: raised after a step is reserved and lowered before it is given
    // back, so it never reads above what the budget holds for large steps.
    AtomicLong largeHeld = new AtomicLong();
    AtomicLong highestLargeHeld = new AtomicLong();
    AtomicLong highest = new AtomicLong();
    AtomicLong smallAboveLargeShare = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      workers.add(
          Thread.ofPlatform()
              .start(
                  () -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    try {
                      start.await();
                    } catch (InterruptedException e) {
                      return;
                    }
                    for (int i = 0; i < requests; i++) {
                      long total =
                          random.nextBoolean() ? random.nextLong(1, 101) : random.nextLong(1, 400);
                      int steps = random.nextInt(1, 4);
                      long reserved = 0;
                      long large = 0;
                      for (int s = 1; s <= steps; s++) {
                        long upTo = s == steps ? total : total * s / steps;
                        if (upTo == reserved) {
                          continue;
                        }
                        if (!shared.tryReserve(upTo - reserved, upTo)) {
                          break;
                        }
                        long now = shared.inFlight();
                        highest.accumulateAndGet(now, Math::max);
                        if (upTo > small) {
                          large += upTo - reserved;
                          highestLargeHeld.accumulateAndGet(
                              largeHeld.addAndGet(upTo - reserved), Math::max);
                        } else if (now > BodyBudget.largeShare(limit)) {
                          smallAboveLargeShare.incrementAndGet();
                        }
                        reserved = upTo;
                        shared.checkInvariants();
                      }
                      largeHeld.addAndGet(-large);
                      if (reserved > 0) {
                        shared.release(reserved);
                      }
                    }
                  }));
    }

    // when
    start.countDown();
    for (Thread t : workers) {
      t.join();
    }

    // then
    assertTrue(highest.get() <= limit, "reserved at once: " + highest.get());
    assertTrue(
        highestLargeHeld.get() <= BodyBudget.largeShare(limit),
        "held by large steps at once: " + highestLargeHeld.get());
    assertTrue(
        smallAboveLargeShare.get() > 0, "small requests used the quarter kept for them at times");
    assertEquals(0, shared.inFlight());
    assertEquals(0, largeHeld.get());
    shared.checkInvariants();
  }
}
