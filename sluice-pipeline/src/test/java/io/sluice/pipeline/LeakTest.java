package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Context;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whatever the shape of the pipeline and however the run ends — success, failure (before the shape,
 * inside it, in a sink or a branch), cancellation, early end with take — and whatever the source,
 * every thread it started has terminated when the terminal returns or throws.
 */
@Timeout(60)
class LeakTest {
  private static final Context CTX = Context.background();

  static Stream<Arguments> shapes() {
    List<Function<Pipeline<Integer>, Pipeline<?>>> shapes =
        List.of(
            p -> p.map(x -> x + 1).filter(x -> x % 2 == 0),
            p -> p.flatMap(x -> List.of(x, x)).peek(x -> {}),
            p -> p.mapParallel(16, x -> x * 2),
            p -> p.mapParallelUnordered(16, x -> x * 2),
            p -> p.partitionBy(x -> x % 5, 3, x -> x),
            p -> p.batch(7, Duration.ofSeconds(10)),
            p -> p.buffer(100).map(x -> x),
            p -> Pipeline.merge(p, Pipeline.range(0, 1000)));
    return shapes.stream().map(Arguments::of);
  }

  private static <T> T failAt(T x, int at) {
    if (x instanceof Integer i && i == at) {
      throw new IllegalStateException("injected at " + at);
    }
    return x;
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void noThreadOutlivesASuccessfulRun(Function<Pipeline<Integer>, Pipeline<?>> shape)
      throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    shape.apply(Pipeline.range(0, 5000)).withOptions(threads.options()).toList(CTX);

    threads.assertAllEnded();
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void noThreadOutlivesAFailedRun(Function<Pipeline<Integer>, Pipeline<?>> shape) {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    assertThrows(
        PipelineException.class,
        () ->
            shape
                .apply(Pipeline.range(0, 5000).map(x -> failAt(x, 3000)))
                .withOptions(threads.options())
                .toList(CTX));

    threads.assertAllEnded();
  }

  @ParameterizedTest
  @MethodSource("shapes")
  void noThreadOutlivesARunEndedEarlyByTake(Function<Pipeline<Integer>, Pipeline<?>> shape)
      throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    Result<? extends List<?>> r =
        shape
            .apply(Pipeline.range(0, 1_000_000))
            .take(10)
            .withOptions(threads.options())
            .toList(CTX);

    assertEquals(10, r.value().size());
    threads.assertAllEnded();
  }

  @Test
  void noThreadOutlivesAFanOutWithABranchThatEndsEarly() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    List<Integer> all = new CopyOnWriteArrayList<>();
    List<Integer> few = new CopyOnWriteArrayList<>();

    Pipeline.range(0, 100_000)
        .withOptions(threads.options())
        .broadcast(
            CTX, List.of(all::addAll, Sink.<Integer, Integer>through(p -> p.take(3), few::addAll)));

    assertEquals(100_000, all.size());
    assertEquals(List.of(0, 1, 2), few);
    threads.assertAllEnded();
  }

  // ------------------------------------------------------------ failures inside the shape

  /** Shapes whose own function (or the stage right after a batch) fails on item 3000. */
  static Stream<Arguments> failingShapes() {
    List<Named<Function<Pipeline<Integer>, Pipeline<?>>>> shapes =
        List.of(
            Named.of("mapParallel", p -> p.mapParallel(16, x -> failAt(x, 3000))),
            Named.of("mapParallelUnordered", p -> p.mapParallelUnordered(16, x -> failAt(x, 3000))),
            Named.of("partitionBy", p -> p.partitionBy(x -> x % 5, 3, x -> failAt(x, 3000))),
            Named.of(
                "batch, then a stage failing on a batch while the next one fills",
                p ->
                    p.batch(7, Duration.ofHours(1))
                        .map(
                            b -> {
                              if (b.contains(3000)) {
                                throw new IllegalStateException("injected in a batch");
                              }
                              return b;
                            })),
            Named.of(
                "flatMap over a lazy iterable",
                p ->
                    p.flatMap(
                        x ->
                            (Iterable<Integer>)
                                () -> Stream.of(x).map(y -> failAt(y, 3000)).iterator())));
    return shapes.stream().map(Arguments::of);
  }

  @ParameterizedTest
  @MethodSource("failingShapes")
  void noThreadOutlivesARunThatFailsInsideTheShape(Function<Pipeline<Integer>, Pipeline<?>> shape) {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    assertThrows(
        PipelineException.class,
        () -> shape.apply(Pipeline.range(0, 5000)).withOptions(threads.options()).toList(CTX));

    threads.assertAllEnded();
  }

  /** Terminals whose sink, or a branch of a fan-out, fails on item 3000. */
  static Stream<Arguments> failingTerminals() {
    List<Named<Terminal>> terminals =
        List.of(
            Named.of("a sink", p -> p.to(CTX, batch -> batch.forEach(x -> failAt(x, 3000)))),
            Named.of(
                "a broadcast sink",
                p ->
                    p.broadcast(
                        CTX,
                        List.<Sink<Integer>>of(
                            batch -> {}, batch -> batch.forEach(x -> failAt(x, 3000))))),
            Named.of(
                "a broadcast branch's stage",
                p ->
                    p.broadcast(
                        CTX,
                        List.<Sink<Integer>>of(
                            batch -> {},
                            Sink.<Integer, Integer>through(
                                q -> q.map(x -> failAt(x, 3000)), batch -> {})))),
            Named.of(
                "a split branch's stage",
                p ->
                    p.split(
                        CTX,
                        x -> x % 2,
                        List.<Sink<Integer>>of(
                            batch -> {},
                            Sink.<Integer, Integer>through(
                                q -> q.mapParallel(4, x -> failAt(x, 3001)), batch -> {})))));
    return terminals.stream().map(Arguments::of);
  }

  /** A terminal call on a pipeline. */
  private interface Terminal {
    Result<?> run(Pipeline<Integer> p) throws Exception;
  }

  @ParameterizedTest
  @MethodSource("failingTerminals")
  void noThreadOutlivesARunWhoseSinkOrBranchFails(Terminal terminal) {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    assertThrows(
        PipelineException.class,
        () -> terminal.run(Pipeline.range(0, 100_000).withOptions(threads.options())));

    threads.assertAllEnded();
  }

  // ------------------------------------------------------------ sources and clocked stages

  /**
   * A source (or a clocked stage on one): a run of {@code n} items that ends by itself, and one
   * that does not end until the run stops it. The clocked ones run on the system clock with short
   * periods: no assertion depends on how long anything takes.
   */
  private record Source(
      String name, IntFunction<Pipeline<Integer>> finite, Supplier<Pipeline<Integer>> endless) {
    @Override
    public String toString() {
      return name;
    }
  }

  private static Pipeline<Integer> counting(int n) {
    return Pipeline.generate(
        e -> {
          for (int i = 0; i < n; i++) {
            e.emit(i);
          }
        });
  }

  private static Pipeline<Integer> channelOf(int n, boolean close) {
    Channel<Integer> ch = Channel.unlimited();
    for (int i = 0; i < n; i++) {
      ch.trySend(i);
    }
    if (close) {
      ch.close();
    }
    return Pipeline.from(ch);
  }

  private static Pipeline<Integer> numbered(Pipeline<?> p) {
    AtomicInteger next = new AtomicInteger();
    return p.map(x -> next.getAndIncrement());
  }

  static List<Source> sources() {
    return List.of(
        new Source("generate", LeakTest::counting, () -> counting(Integer.MAX_VALUE)),
        new Source(
            "channel (the endless one never closed)",
            n -> channelOf(n, true),
            () -> channelOf(1000, false)),
        new Source(
            "ticks",
            n -> numbered(Pipeline.ticks(Duration.ofMillis(1)).take(n)),
            () -> numbered(Pipeline.ticks(Duration.ofMillis(1)))),
        new Source(
            "throttle",
            n -> counting(n).throttle(10, Duration.ofMillis(10)),
            () -> counting(Integer.MAX_VALUE).throttle(10, Duration.ofMillis(10))),
        new Source(
            "batch flushed by its timer",
            n -> counting(n).batch(1000, Duration.ofMillis(1)).flatMap(b -> b),
            () -> counting(Integer.MAX_VALUE).batch(1000, Duration.ofMillis(1)).flatMap(b -> b)));
  }

  @ParameterizedTest
  @MethodSource("sources")
  void noThreadOutlivesASuccessfulRunFromTheSource(Source source) throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    Result<List<Integer>> r = source.finite().apply(50).withOptions(threads.options()).toList(CTX);

    assertEquals(IntStream.range(0, 50).boxed().toList(), r.value());
    threads.assertAllEnded();
  }

  @ParameterizedTest
  @MethodSource("sources")
  void noThreadOutlivesAFailedRunFromTheSource(Source source) {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                source
                    .endless()
                    .get()
                    .map(x -> failAt(x, 40))
                    .withOptions(threads.options())
                    .toList(CTX));

    assertEquals(40, e.item().orElseThrow());
    threads.assertAllEnded();
  }

  static Stream<Arguments> sourcesAndStopModes() {
    return sources().stream()
        .flatMap(s -> Stream.of(StopMode.values()).map(m -> Arguments.of(s, m)));
  }

  @ParameterizedTest(name = "{0}, {1}")
  @MethodSource("sourcesAndStopModes")
  void noThreadOutlivesACancelledRunFromTheSource(Source source, StopMode mode) throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CancelableContext ctx = Context.background().withCancel();
    AtomicInteger seen = new AtomicInteger();

    Result<List<Integer>> r =
        source
            .endless()
            .get()
            .peek(
                x -> {
                  if (seen.incrementAndGet() == 40) {
                    ctx.cancel();
                  }
                })
            // small buffers: a graceful stop drains them, through the throttle at its rate
            .withOptions(threads.options().withStopMode(mode).withChunkSize(16).withBufferSize(64))
            .toList(ctx);

    assertEquals(
        mode == StopMode.GRACEFUL ? Outcome.STOPPED_GRACEFULLY : Outcome.STOPPED_IMMEDIATELY,
        r.outcome());
    threads.assertAllEnded();
  }
}
