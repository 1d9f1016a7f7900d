package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The scheduling example, driven by a manual clock: milliseconds of test time, no sleeps. */
@Timeout(30)
class SchedulingTest {
  private static final Instant T0 = Instant.parse("2026-03-29T00:00:00Z");
  private final ManualClock clock = Clock.manual(T0);

  /** Waits (without sleeping) until some thread waits on one of the clock's timers. */
  private void awaitWaiter() {
    long giveUp = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (clock.pendingTimers() == 0) {
      if (System.nanoTime() > giveUp) {
        throw new AssertionError("nobody started waiting on the clock");
      }
      Thread.yield();
    }
  }

  @Test
  void waitUntilReturnsTrueWhenTheInstantComes() throws Exception {
    CompletableFuture<Boolean> reached = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                reached.complete(
                    Scheduling.waitUntil(Context.background(), clock, T0.plusSeconds(5)));
              } catch (Throwable e) {
                reached.completeExceptionally(e);
              }
            });
    awaitWaiter();

    clock.advance(Duration.ofSeconds(5));

    assertTrue(reached.get(20, TimeUnit.SECONDS));
  }

  @Test
  void waitUntilReturnsFalseWhenTheContextEndsFirst() throws Exception {
    CancelableContext ctx = Context.background(clock).withCancel();
    CompletableFuture<Boolean> reached = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                reached.complete(Scheduling.waitUntil(ctx, clock, T0.plusSeconds(5)));
              } catch (Throwable e) {
                reached.completeExceptionally(e);
              }
            });
    awaitWaiter();

    ctx.cancel();

    assertFalse(reached.get(20, TimeUnit.SECONDS));
  }

  @Test
  void aPastStartMovesForwardToTheNextBoundary() {
    Duration hour = Duration.ofHours(1);
    Instant start = Instant.parse("2019-09-17T14:00:00Z");

    Instant next = Scheduling.nextBoundary(Instant.parse("2026-03-29T10:20:00Z"), start, hour);

    assertEquals(Instant.parse("2026-03-29T11:00:00Z"), next);
  }

  @Test
  void aStartOnABoundaryOrInTheFutureIsKept() {
    Instant now = Instant.parse("2026-03-29T10:00:00Z");

    assertEquals(now, Scheduling.nextBoundary(now, now.minusSeconds(7200), Duration.ofHours(1)));
    assertEquals(
        now.plusSeconds(5), Scheduling.nextBoundary(now, now.plusSeconds(5), Duration.ofHours(1)));
  }

  @Test
  void cronDeliversAlignedFireTimesAndClosesOnCancel() throws Exception {
    Duration period = Duration.ofSeconds(1);
    try (CancelableContext ctx = Context.background(clock).withCancel()) {
      ReceiveChannel<Instant> ticks = Scheduling.cron(ctx, clock, T0.minusMillis(2500), period);

      awaitWaiter();
      clock.advance(Duration.ofMillis(500));
      assertEquals(T0.plusMillis(500), ticks.receive());
      for (int i = 1; i <= 3; i++) {
        awaitWaiter();
        clock.advance(period);
        assertEquals(T0.plusMillis(500).plus(period.multipliedBy(i)), ticks.receive());
      }

      ctx.cancel();

      assertTrue(ticks.receiveOrClosed() instanceof Received.Closed<Instant>);
    }
  }

  @Test
  void drainUntilIdleStopsAtTheEndOfTheStream() throws Exception {
    Channel<String> values = Channel.buffered(3);
    values.send("a");
    values.send("b");
    values.close();

    assertEquals(2, Scheduling.drainUntilIdle(values, Duration.ofSeconds(10)));
  }

  @Test
  void drainUntilIdleStopsWhenTheProducerGoesQuiet() throws Exception {
    Channel<String> values = Channel.buffered(3);
    values.send("a");

    assertEquals(1, Scheduling.drainUntilIdle(values, Duration.ofMillis(1)));
  }
}
