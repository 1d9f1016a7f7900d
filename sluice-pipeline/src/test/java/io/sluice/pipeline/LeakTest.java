package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.core.Context;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Whatever the shape of the pipeline and however the run ends — success, failure, early end with
 * take — every thread it started has terminated when the terminal returns or throws.
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
            p -> p.batch(7, java.time.Duration.ofSeconds(10)),
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
}
