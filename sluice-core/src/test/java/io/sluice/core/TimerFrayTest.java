package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.extension.ExtendWith;
import org.pastalab.fray.junit.junit5.FrayTestExtension;
import org.pastalab.fray.junit.junit5.annotations.FrayTest;

/**
 * Timers under Fray (see {@link ChannelFrayTest} for what Fray does and how it is run): the races a
 * stress test reaches only by luck, explored interleaving by interleaving. A {@link ManualClock}
 * drives the engine, so the only threads are the test's.
 */
@ExtendWith(FrayTestExtension.class)
class TimerFrayTest {
  private static final Duration HOUR = Duration.ofHours(1);

  /**
   * An afterFunc's {@code stop()} takes no lock while {@code reset()} does. Stop first: stop true,
   * reset false, and the reset's new entry pending. Reset first: both true, nothing pending. No
   * other outcome is linearizable; a final stop tells whether an entry is pending.
   */
  @FrayTest(iterations = 2_000)
  void afterFuncStopRacingResetReportsOneOfTheTwoOrders() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    Timer warm = clock.afterFunc(HOUR, () -> {}); // loads every class the race touches
    warm.reset(HOUR);
    warm.stop();
    Timer timer = clock.afterFunc(HOUR, () -> {});
    boolean[] reset = new boolean[1];
    Thread resetter = new Thread(() -> reset[0] = timer.reset(HOUR));
    resetter.start();
    boolean stopped = timer.stop();
    resetter.join();
    boolean pending = timer.stop();

    boolean stopFirst = stopped && !reset[0] && pending;
    boolean resetFirst = stopped && reset[0] && !pending;
    assertTrue(
        stopFirst || resetFirst,
        "stop " + stopped + ", reset " + reset[0] + ", pending after " + pending);
  }
}
