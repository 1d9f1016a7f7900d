package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Context;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The live report tells the truth about a stage that is stuck in its function: the items it has
 * taken, its busy time growing while the item is in progress, and the items in flight.
 */
@Timeout(30)
class LiveReportTest {
  private static final Context CTX = Context.background();

  /** Runs {@code p} with {@code monitor} on a thread of its own. */
  private static Thread run(Pipeline<?> p, Monitor monitor) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                p.withOptions(p.options().withMonitor(monitor)).toList(CTX);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  private static StageStats live(Monitor monitor, String stage) {
    Report r = monitor.snapshot();
    assertEquals(Outcome.RUNNING, r.outcome());
    return r.stage(stage).orElseThrow();
  }

  /** Waits until the stage's busy time is past {@code than}: it grows while an item is stuck. */
  private static void awaitBusyGrowsPast(Monitor monitor, String stage, StageStats than) {
    TrackingThreadFactory.awaitTrue(() -> live(monitor, stage).busy().compareTo(than.busy()) > 0);
  }

  @Test
  void aMapStuckOnAnItemShowsTheItemsTakenAndBusyTimeGrowing() throws Exception {
    Monitor monitor = Monitor.create();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Pipeline<Integer> p =
        Pipeline.range(0, 5000)
            .map(
                x -> {
                  if (x == 10) {
                    entered.countDown();
                    release.await();
                  }
                  return x;
                })
            .named("stuck");
    Thread runner = run(p, monitor);
    entered.await();

    StageStats first = live(monitor, "stuck");

    assertEquals(11, first.in(), "items 0..10 taken, one at a time");
    assertEquals(0, first.out());
    assertTrue(first.busy().isPositive(), "busy while stuck: " + first);
    assertEquals(1, first.inFlight());
    awaitBusyGrowsPast(monitor, "stuck", first);
    release.countDown();
    runner.join();
    StageStats end = monitor.snapshot().stage("stuck").orElseThrow();
    assertEquals(List.of(5000L, 5000L, 0L), List.of(end.in(), end.out(), end.inFlight()));
  }

  @Test
  void aMapParallelWithTwoStuckItemsShowsThemInFlight() throws Exception {
    for (boolean ordered : new boolean[] {true, false}) {
      Monitor monitor = Monitor.create();
      CountDownLatch entered = new CountDownLatch(2);
      CountDownLatch release = new CountDownLatch(1);
      Pipeline.Fn<Integer, Integer> fn =
          x -> {
            if (x < 2) {
              entered.countDown();
              release.await();
            }
            return x;
          };
      Pipeline<Integer> p =
          ordered
              ? Pipeline.range(0, 100).mapParallel(4, fn).named("par")
              : Pipeline.range(0, 100).mapParallelUnordered(4, fn).named("par");
      // Unordered, the other items flow out; ordered, they wait behind item 0 and fill the window.
      Function<StageStats, Boolean> settled =
          ordered ? s -> s.in() == 8 && s.inFlight() == 2 : s -> s.in() == 100 && s.out() == 98;
      Thread runner = run(p, monitor);
      entered.await();

      StageStats first = live(monitor, "par");

      assertTrue(first.in() >= 2 && first.in() <= (ordered ? 8 : 100), "taken: " + first);
      assertTrue(first.busy().isPositive(), "busy while stuck: " + first);
      TrackingThreadFactory.awaitTrue(() -> settled.apply(live(monitor, "par")));
      StageStats s = live(monitor, "par");
      assertEquals(2, s.inFlight(), s.toString());
      assertEquals(ordered ? 0 : 98, s.out());
      awaitBusyGrowsPast(monitor, "par", s);
      release.countDown();
      runner.join();
      StageStats end = monitor.snapshot().stage("par").orElseThrow();
      assertEquals(List.of(100L, 100L, 0L), List.of(end.in(), end.out(), end.inFlight()));
    }
  }

  @Test
  void theFailedCountIsLive() throws Exception {
    Monitor monitor = Monitor.create();
    List<Failure> errors = new CopyOnWriteArrayList<>();
    CountDownLatch third = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Pipeline<Integer> p =
        Pipeline.range(0, 100)
            .map(
                x -> {
                  if (x % 10 == 0) {
                    throw new IllegalArgumentException("bad " + x);
                  }
                  return x;
                })
            .named("check")
            .onError(
                ErrorPolicy.skip(
                    batch -> {
                      errors.addAll(batch);
                      if (errors.size() == 3) {
                        third.countDown();
                        release.await();
                      }
                    }));
    Thread runner = run(p, monitor);
    third.await();

    StageStats s = live(monitor, "check");

    assertEquals(3, s.failed());
    assertEquals(21, s.in(), "items 0..20 taken");
    assertEquals(0, s.out());
    release.countDown();
    runner.join();
    assertEquals(10, monitor.snapshot().stage("check").orElseThrow().failed());
  }

  @Test
  void theSinkOfABranchShowsWhatWaitsInItsOwnInputNotInTheBranchs() throws Exception {
    // given a branch whose stage is stuck on its first item, with the rest waiting before it
    Monitor monitor = Monitor.create();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Sink<Integer> branch =
        Sink.<Integer, Integer>through(
            p ->
                p.map(
                        x -> {
                          if (x == 0) {
                            entered.countDown();
                            release.await();
                          }
                          return x;
                        })
                    .named("stuck"),
            batch -> {});
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Pipeline.range(0, 100)
                        .withOptions(
                            Pipeline.Options.defaults().withMonitor(monitor).withChunkSize(1))
                        .to(CTX, branch);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    entered.await();
    TrackingThreadFactory.awaitTrue(() -> live(monitor, "stuck").queued() == 99);

    // when
    StageStats sink = live(monitor, "sink");

    // then
    assertEquals(0, sink.queued(), "the items wait before the branch's stage, not before its sink");
    release.countDown();
    runner.join();
  }
}
