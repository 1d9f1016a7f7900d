package io.sluice.core;

import static io.sluice.core.ChannelTest.assertNoHooks;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.internal.WatchedDeadlines;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Contexts whose deadline their owner enforces, for the jobs engine's watchdog. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class WatchedDeadlinesTest {
  private final ManualClock clock = Clock.manual(Instant.EPOCH);
  private final Context root = Context.background(clock);

  private CancelableContext watchedFor(Duration d) {
    return WatchedDeadlines.withDeadline(root, clock.nanoTime() + d.toNanos());
  }

  @Test
  void itReportsItsDeadlineButOnlyExpireEndsIt() {
    CancelableContext ctx = watchedFor(Duration.ofSeconds(5));
    assertEquals(Optional.of(Instant.EPOCH.plusSeconds(5)), ctx.deadline());
    assertEquals(0, clock.pendingTimers(), "no timer of its own");

    clock.advance(Duration.ofSeconds(60));
    assertFalse(ctx.isDone());

    assertTrue(WatchedDeadlines.expire(ctx));
    assertTrue(ctx.isDone());
    assertInstanceOf(DeadlineExceededException.class, ctx.err().orElseThrow());
    assertFalse(WatchedDeadlines.expire(ctx), "a second expiry does nothing");
    assertNoHooks(ctx);
  }

  @Test
  void expiringRunsTheContextsHooksAndEndsItsChildren() throws Exception {
    CancelableContext ctx = watchedFor(Duration.ofSeconds(1));
    CancelableContext child = ctx.withCancel();
    CountDownLatch ran = new CountDownLatch(1);
    Context.AfterFunc hook = ctx.afterFunc(ran::countDown);

    WatchedDeadlines.expire(ctx);

    assertTrue(child.isDone());
    assertInstanceOf(DeadlineExceededException.class, child.err().orElseThrow());
    assertTrue(ran.await(10, TimeUnit.SECONDS));
    assertFalse(hook.stop(), "the action had started");
  }

  @Test
  void cancellingItOrItsParentEndsItAsCancelledAndExpiryThenDoesNothing() {
    CancelableContext parent = root.withCancel();
    CancelableContext ctx =
        WatchedDeadlines.withDeadline(parent, clock.nanoTime() + Duration.ofSeconds(1).toNanos());
    CancelableContext own = watchedFor(Duration.ofSeconds(1));

    parent.cancel();
    own.cancel();

    for (CancelableContext c : new CancelableContext[] {ctx, own}) {
      assertTrue(c.isDone());
      assertFalse(c.err().orElseThrow().isDeadlineExceeded());
      assertFalse(WatchedDeadlines.expire(c));
      assertNoHooks(c);
    }
  }

  @Test
  void itNeedsAParentWithoutADeadlineAndExpiresOnlyItsOwnKind() {
    CancelableContext timed = root.withTimeout(Duration.ofSeconds(1));

    var parentError =
        assertThrows(IllegalArgumentException.class, () -> WatchedDeadlines.withDeadline(timed, 0));
    assertTrue(parentError.getMessage().contains("without a deadline"), parentError.getMessage());
    assertThrows(IllegalArgumentException.class, () -> WatchedDeadlines.expire(timed));
    assertThrows(IllegalArgumentException.class, () -> WatchedDeadlines.expire(root.withCancel()));
    timed.cancel();
  }
}
