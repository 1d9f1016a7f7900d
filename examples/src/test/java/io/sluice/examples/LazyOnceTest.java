package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Once;
import io.sluice.core.OnceValue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The {@code sync.Once} pitfalls of the seed notes, each shown not to happen. */
@Timeout(30)
class LazyOnceTest {

  @Test
  void readersThatArriveWhileTheLoadRunsWaitForItAndTheLoaderRunsOnce() throws Exception {
    // given a load held until every reader has arrived
    AtomicInteger loads = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    OnceValue<String> config =
        LazyOnce.config(
            loads,
            () -> {
              release.await();
              return "endpoint=https://example.invalid";
            });

    // when twenty readers ask at the same time
    Thread[] readers = LazyOnce.startReaders(config, 20);
    for (Thread t : readers) {
      while (t.getState() != Thread.State.WAITING) {
        Thread.onSpinWait();
      }
    }

    // then one of them loads, the others wait for it, and none runs the loader again
    assertEquals(1, loads.get());
    assertFalse(config.isDone());
    release.countDown();
    for (Thread t : readers) {
      t.join();
    }
    assertEquals(1, loads.get());
    assertTrue(config.isDone());
    assertEquals("endpoint=https://example.invalid", config.get());
    assertEquals(1, loads.get());
  }

  @Test
  void aFailedLoadIsRememberedAndReportedToEveryLaterCallerWithoutRunningAgain() throws Exception {
    AtomicInteger attempts = new AtomicInteger();

    String[] failures = LazyOnce.rememberedFailure(attempts);

    assertArrayEquals(new String[] {"config file missing", "config file missing"}, failures);
    assertEquals(1, attempts.get());
  }

  @Test
  void aRetryingLoadRunsAgainAfterAFailureAndThenSucceeds() throws Exception {
    AtomicInteger attempts = new AtomicInteger();

    String value = LazyOnce.retriedFailure(attempts);

    assertEquals("connected", value);
    assertEquals(2, attempts.get());
  }

  @Test
  void runningTheOnceFromInsideItsOwnActionFailsAtOnceInsteadOfDeadlocking() throws Exception {
    Once once = Once.create();

    RuntimeException inner = LazyOnce.reenter(once);

    assertNotNull(inner, "the inner call should have thrown");
    assertTrue(inner instanceof IllegalStateException, inner.toString());
    assertTrue(once.isDone(), "the outer action should have completed");
  }
}
