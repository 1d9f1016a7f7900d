package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Context;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Per-stage figures at the end and live; backpressure keeps a fast source within the buffers. */
@Timeout(30)
class ReportTest {
  private static final Context CTX = Context.background();

  @Test
  void theReportCountsItemsInAndOutOfEveryStage() throws Exception {
    Result<List<Integer>> r =
        Pipeline.range(0, 100).filter(x -> x % 2 == 0).named("evens").map(x -> x * 10).toList(CTX);

    Report report = r.report();
    assertEquals(
        List.of("source", "evens", "map", "toList"),
        report.stages().stream().map(StageStats::name).toList());
    assertEquals(
        List.of(100L, 100L, 50L, 50L), report.stages().stream().map(StageStats::in).toList());
    assertEquals(
        List.of(100L, 50L, 50L, 50L), report.stages().stream().map(StageStats::out).toList());
    assertTrue(report.stages().stream().allMatch(s -> s.failed() == 0 && s.queued() == 0));
    assertEquals(Outcome.COMPLETED, report.outcome());
  }

  @Test
  void repeatedStageNamesAreNumbered() throws Exception {
    Report report = Pipeline.range(0, 3).map(x -> x).map(x -> x).map(x -> x).toList(CTX).report();

    assertEquals(
        List.of("source", "map", "map#2", "map#3", "toList"),
        report.stages().stream().map(StageStats::name).toList());
  }

  @Test
  void stageNamesStayUniqueWhenBranchesAreBuiltAtTheSameTime() throws Exception {
    // Each branch's stages are compiled on the thread of its sink, all at once (a barrier lines
    // them up): the numbering of repeated names must not lose a count between them. A race, so
    // many rounds; a single duplicate fails the test.
    int branches = 8;
    for (int round = 0; round < 100; round++) {
      CyclicBarrier together = new CyclicBarrier(branches);
      List<Sink<Integer>> sinks = new ArrayList<>();
      for (int i = 0; i < branches; i++) {
        sinks.add(
            Sink.through(
                p -> {
                  try {
                    together.await();
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                  Pipeline<Integer> q = p;
                  for (int j = 0; j < 50; j++) {
                    q = q.map(x -> x);
                  }
                  return q;
                },
                b -> {}));
      }

      Report report = Pipeline.range(0, 10).broadcast(CTX, sinks).report();

      Set<String> names = new HashSet<>();
      for (StageStats s : report.stages()) {
        assertTrue(names.add(s.name()), "round " + round + ": two stages named " + s.name());
      }
      assertEquals(1 + 1 + branches * 51, names.size()); // source, broadcast, per branch 50 + sink
    }
  }

  @Test
  void aMonitorKeepsTheFinalReportOfARunWhoseCallerWasInterrupted() throws Exception {
    Monitor monitor = Monitor.create();
    CountDownLatch inside = new CountDownLatch(1);
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Pipeline.range(0, 10)
                        .withOptions(Pipeline.Options.defaults().withMonitor(monitor))
                        .forEach(
                            CTX,
                            x -> {
                              inside.countDown();
                              new CountDownLatch(1).await(); // until the interrupt
                            });
                  } catch (Throwable t) {
                    thrown.set(t);
                  }
                });
    inside.await();

    caller.interrupt();
    caller.join();

    assertInstanceOf(InterruptedException.class, thrown.get());
    Report last = monitor.snapshot();
    assertEquals(Outcome.STOPPED_IMMEDIATELY, last.outcome()); // the run stopped at once
    assertTrue(last.stages().stream().allMatch(s -> s.inFlight() == 0), last.toString());
    assertEquals(last, monitor.snapshot()); // final: no longer moving
  }

  @Test
  void toStringIsATableWithOneRowPerStage() throws Exception {
    String table =
        Pipeline.range(0, 10).map(x -> x).named("double").toList(CTX).report().toString();

    List<String> lines = table.lines().toList();
    assertTrue(lines.get(0).startsWith("COMPLETED in "), table);
    assertTrue(
        lines.get(1).matches("stage\\s+in\\s+out\\s+failed\\s+busy ms\\s+queued\\s+in-flight"),
        table);
    assertTrue(lines.get(3).matches("double\\s+10\\s+10\\s+0\\s+[0-9.]+\\s+0\\s+0"), table);
    assertEquals(5, lines.size(), table);
  }

  @Test
  void aMonitorShowsTheRunLiveAndKeepsTheFinalReport() throws Exception {
    Monitor monitor = Monitor.create();
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch sinkBlocked = new CountDownLatch(1);
    AtomicReference<Result<Long>> result = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(
                        Pipeline.range(0, 100_000)
                            .withOptions(
                                Pipeline.Options.defaults()
                                    .withMonitor(monitor)
                                    .withChunkSize(10)
                                    .withBufferSize(100))
                            .forEach(
                                CTX,
                                x -> {
                                  if (x == 0) {
                                    sinkBlocked.countDown();
                                    release.await();
                                  }
                                }));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    sinkBlocked.await();
    // The input buffer fills up, but for the chunk the sink holds if it took it from a full
    // buffer: the source waits until half the buffer is free again before it sends more.
    TrackingThreadFactory.awaitTrue(
        () -> monitor.snapshot().stage("forEach").map(s -> s.queued() >= 90).orElse(false));

    Report live = monitor.snapshot();
    assertEquals(Outcome.RUNNING, live.outcome());
    long queued = live.stage("forEach").orElseThrow().queued();
    assertTrue(queued == 90 || queued == 100, queued + " queued");
    assertTrue(live.stage("forEach").orElseThrow().in() <= 10);
    release.countDown();
    runner.join();

    assertEquals(Outcome.COMPLETED, monitor.snapshot().outcome());
    assertEquals(result.get().report(), monitor.snapshot());
  }

  @Test
  void aBlockedSinkStopsTheSourceWithinTheBuffers() throws Exception {
    AtomicLong emitted = new AtomicLong();
    AtomicReference<Thread> generatorThread = new AtomicReference<>();
    CountDownLatch release = new CountDownLatch(1);
    Pipeline.Options o = Pipeline.Options.defaults().withChunkSize(16).withBufferSize(64);
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    Pipeline.<Long>generate(
                            out -> {
                              generatorThread.set(Thread.currentThread());
                              for (long i = 0; i < 1_000_000; i++) {
                                out.emit(i);
                                emitted.incrementAndGet();
                              }
                            })
                        .map(x -> x + 1)
                        .map(x -> x + 1)
                        .withOptions(o)
                        .forEach(CTX, x -> release.await());
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    TrackingThreadFactory.awaitTrue(
        () ->
            generatorThread.get() != null
                && generatorThread.get().getState() == Thread.State.WAITING);

    // source's own channel (one chunk), then per edge 64 items, plus a chunk in hand per thread
    long bound = 16 + 3 * 64 + 4 * 16;
    assertTrue(emitted.get() <= bound, emitted.get() + " emitted, more than the buffers hold");
    release.countDown();
    runner.join();
    assertEquals(1_000_000, emitted.get());
  }

  @Test
  void takeCountsTheWholeChunkItReceivedAsInAndOnlyWhatItPassedOnAsOut() throws Exception {
    // given chunks of ten items and a take of three: take receives a whole chunk and drops seven
    Result<List<Integer>> r =
        Pipeline.range(0, 100)
            .withOptions(Pipeline.Options.defaults().withChunkSize(10).withBufferSize(10))
            .take(3)
            .toList(CTX);

    // then, as for a filter, in - out is what it dropped, and no item is lost between the stages:
    // what the source sent is what take received plus what was left in its input
    StageStats source = r.report().stage("source").orElseThrow();
    StageStats take = r.report().stage("take").orElseThrow();
    assertEquals(List.of(0, 1, 2), r.value());
    assertEquals(List.of(10L, 3L, 0L), List.of(take.in(), take.out(), take.failed()));
    assertEquals(source.out(), take.in() + take.queued(), r.report().toString());
  }

  @Test
  void broadcastCountsOnlyTheItemsSomeSinkTook() throws Exception {
    // given one branch that ends after five items, and far more items than the buffers hold, so
    // the fan-out goes on dealing until a chunk finds the branch gone
    List<Integer> got = new CopyOnWriteArrayList<>();
    Sink<Integer> fiveOnly = Sink.<Integer, Integer>through(p -> p.take(5), got::addAll);

    // when
    Result<Long> r =
        Pipeline.range(0, 1_000_000)
            .withOptions(Pipeline.Options.defaults().withChunkSize(10).withBufferSize(10))
            .broadcast(CTX, List.of(fiveOnly));

    // then the chunk no sink took is not counted as broadcast
    assertEquals(List.of(0, 1, 2, 3, 4), got);
    StageStats broadcast = r.report().stage("broadcast").orElseThrow();
    assertEquals(broadcast.out(), r.value(), r.report().toString());
  }

  @Test
  void splitCountsTheItemsRoutedNotTheItemsReceived() throws Exception {
    List<Failure> errors = new CopyOnWriteArrayList<>();
    List<Integer> routed = new CopyOnWriteArrayList<>();

    Result<Long> r =
        Pipeline.range(0, 10)
            .withOptions(
                Pipeline.Options.defaults().withErrorPolicy(ErrorPolicy.skip(errors::addAll)))
            .split(
                CTX,
                x -> {
                  if (x % 2 == 1) {
                    throw new IllegalArgumentException("no branch for " + x);
                  }
                  return 0;
                },
                List.of(routed::addAll));

    assertEquals(5L, r.value());
    assertEquals(List.of(0, 2, 4, 6, 8), routed);
    assertEquals(5, errors.size());
    StageStats split = r.report().stage("split").orElseThrow();
    assertEquals(List.of(10L, 5L, 5L), List.of(split.in(), split.out(), split.failed()));
  }

  @Test
  void reduceCountsWhatItFoldedBeforeAFailureInTheSameChunk() {
    // given ten items in one chunk, the sixth of which fails the fold
    Pipeline<Integer> p = Pipeline.range(0, 10);

    // when
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                p.reduce(
                    CTX,
                    0,
                    (acc, x) -> {
                      if (x == 5) {
                        throw new IllegalArgumentException("bad " + x);
                      }
                      return acc + x;
                    }));

    // then the report counts the five items folded before it
    StageStats reduce = e.report().stage("reduce").orElseThrow();
    assertEquals(List.of(6L, 5L, 1L), List.of(reduce.in(), reduce.out(), reduce.failed()));
  }

  @Test
  void reduceDoesNotCountASkippedItemAsPassedOn() throws Exception {
    List<Failure> errors = new CopyOnWriteArrayList<>();

    Result<Integer> r =
        Pipeline.range(0, 10)
            .withOptions(
                Pipeline.Options.defaults().withErrorPolicy(ErrorPolicy.skip(errors::addAll)))
            .reduce(
                CTX,
                0,
                (acc, x) -> {
                  if (x == 4) {
                    throw new IllegalArgumentException("bad " + x);
                  }
                  return acc + x;
                });

    assertEquals(45 - 4, r.value());
    StageStats reduce = r.report().stage("reduce").orElseThrow();
    assertEquals(List.of(10L, 9L, 1L), List.of(reduce.in(), reduce.out(), reduce.failed()));
  }

  @Test
  void aSinkCountsEveryItemOfAFailedBatchAsFailed() throws Exception {
    List<Failure> errors = new CopyOnWriteArrayList<>();

    Result<Long> r =
        Pipeline.range(0, 10)
            .withOptions(
                Pipeline.Options.defaults().withErrorPolicy(ErrorPolicy.skip(errors::addAll)))
            .to(
                CTX,
                batch -> {
                  throw new java.io.IOException("bulk insert failed");
                });

    assertEquals(0L, r.value());
    StageStats sink = r.report().stage("sink").orElseThrow();
    assertEquals(List.of(10L, 0L, 10L), List.of(sink.in(), sink.out(), sink.failed()));
  }
}
