package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/*
 * "A context costs no thread" (Context's class comment), measured: a tree of a hundred thousand
 * cancellable and deadline contexts, each with an afterFunc, is built, ended by its deadlines and by
 * cancellation, while ThreadStarts counts every platform and virtual thread the JVM starts.
 *
 * Go's AfterFunc runs its function on a goroutine of its own, so the afterFuncs that fire do start
 * one virtual thread each. The test stops all but a thousand of them before the tree ends, and
 * fires those last, alone: that they show up as exactly a thousand virtual thread starts proves the
 * witness sees the threads the library starts, so its zero counts before mean something.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ContextThreadsTest {
  private static final int CONTEXTS = 100_000;
  private static final int LATE = 1_000;

  @Test
  void aHundredThousandContextsWithDeadlinesAndAfterFuncsStartNoThreadUntilAnAfterFuncRuns()
      throws Exception {
    // given the system clock's timer engine, one thread for all its timers, already running
    Context.background().withTimeout(Duration.ofHours(1)).cancel();
    ManualClock clock = Clock.manual(Instant.EPOCH);
    SplittableRandom rnd = new SplittableRandom(1);
    AtomicInteger ran = new AtomicInteger();
    CountDownLatch lateRan = new CountDownLatch(LATE);
    List<Context.AfterFunc> early = new ArrayList<>();

    // when a tree is built: half on the manual clock, half on the system clock, a thousand late
    ThreadStarts building = ThreadStarts.begin();
    CancelableContext manualRoot = Context.background(clock).withCancel();
    CancelableContext systemRoot = Context.background().withCancel();
    CancelableContext lateRoot = Context.background().withCancel();
    int half = (CONTEXTS - LATE) / 2;
    List<CancelableContext> all = new ArrayList<>();
    all.addAll(grow(manualRoot, half, rnd, Duration.ofSeconds(1000)));
    all.addAll(grow(systemRoot, CONTEXTS - LATE - half, rnd, Duration.ofHours(1)));
    for (CancelableContext ctx : all) {
      early.add(ctx.afterFunc(ran::incrementAndGet));
    }
    List<CancelableContext> late = grow(lateRoot, LATE, rnd, Duration.ofHours(1));
    for (CancelableContext ctx : late) {
      ctx.afterFunc(
          () -> {
            ran.incrementAndGet();
            lateRan.countDown();
          });
    }
    ThreadStarts.Counted built = building.end();

    // then
    assertEquals(0, built.platformStarted(), "building the tree: " + built);
    assertEquals(List.of(), built.virtual(), "building the tree: " + built);

    // when the early afterFuncs are stopped and the tree ends by deadlines and cancellation
    ThreadStarts ending = ThreadStarts.begin();
    for (Context.AfterFunc f : early) {
      assertTrue(f.stop());
    }
    clock.advance(Duration.ofSeconds(1000));
    manualRoot.cancel();
    systemRoot.cancel();
    ThreadStarts.Counted ended = ending.end();

    // then every context is done, and ending them started nothing either
    for (CancelableContext ctx : all) {
      assertTrue(ctx.isDone());
      ChannelTest.assertNoHooks(ctx);
    }
    assertEquals(0, ended.platformStarted(), "ending the tree: " + ended);
    assertEquals(List.of(), ended.virtual(), "ending the tree: " + ended);

    // when the late afterFuncs fire
    ThreadStarts firing = ThreadStarts.begin();
    lateRoot.cancel();
    lateRan.await();
    ThreadStarts.Counted fired = firing.end();

    // then each started one virtual thread, which the witness saw: its zeros above were real
    assertEquals(LATE, ran.get(), "only the late afterFuncs ran");
    assertEquals(LATE, fired.virtual().size(), "firing the late afterFuncs: " + fired);
    assertTrue(
        fired.virtual().stream().allMatch("sluice-afterfunc"::equals),
        "firing the late afterFuncs: " + fired.virtual());
    assertEquals(0, clock.pendingTimers(), "timers left on the manual clock");
  }

  /**
   * Adds {@code n} contexts under {@code root}, each under a random earlier one: a third plain
   * cancellable, a third with a timeout, a third with a deadline, both in the second half of {@code
   * horizon} (so none passes while the tree is built on the system clock).
   */
  private static List<CancelableContext> grow(
      CancelableContext root, int n, SplittableRandom rnd, Duration horizon) {
    List<CancelableContext> made = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Context parent =
          made.isEmpty() || rnd.nextInt(8) == 0 ? root : made.get(rnd.nextInt(made.size()));
      Duration within = horizon.dividedBy(2).plusNanos(1 + rnd.nextLong(horizon.toNanos() / 2));
      made.add(
          switch (i % 3) {
            case 0 -> parent.withCancel();
            case 1 -> parent.withTimeout(within);
            default -> parent.withDeadline(root.clock().now().plus(within));
          });
    }
    return made;
  }
}
