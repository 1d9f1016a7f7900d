package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.core.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Skip-to-an-error-sink and retry-then-dead-letter on every kind of stage and terminal that calls
 * user code: the exact items out, the failures reported (item, stage, attempts) and the report's
 * counts. Items 3, 8, 13 and 18 of 0..19 always fail.
 */
@Timeout(30)
class ErrorPolicyStagesTest {
  private static final List<Integer> INPUT = IntStream.range(0, 20).boxed().toList();
  private static final List<Integer> BAD = List.of(3, 8, 13, 18);
  private static final List<Integer> GOOD = INPUT.stream().filter(x -> !BAD.contains(x)).toList();

  /** What a run gave: the items out (or the terminal's items), and its report. */
  private record Observed(List<Integer> items, Report report) {}

  /** A run of one stage or terminal under the options' policy, calling {@code f} per item. */
  private interface Shape {
    Observed run(Pipeline<Integer> source, Pipeline.Fn<Integer, Integer> f) throws Exception;
  }

  /**
   * One case: the stage's name, whether it keeps order, the run, what goes out, and how many items
   * the stage reports as passed on.
   */
  private record Case(
      String label, String stage, boolean ordered, Shape shape, List<Integer> out, long outCount) {
    Case(String stage, boolean ordered, Shape shape, List<Integer> out, long outCount) {
      this(stage, stage, ordered, shape, out, outCount);
    }

    @Override
    public String toString() {
      return label;
    }
  }

  private static final Context CTX = Context.background();

  /** A partition key whose {@code hashCode}, which picks the worker, calls {@code f}. */
  private record Key(int x, Pipeline.Fn<Integer, Integer> f) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Key k && k.x == x;
    }

    @Override
    public int hashCode() {
      return uncheck(f, x) % 3;
    }
  }

  static List<Case> cases() {
    List<Integer> times10 = GOOD.stream().map(x -> x * 10).toList();
    List<Integer> evens = GOOD.stream().filter(x -> x % 2 == 0).toList();
    List<Integer> twice = GOOD.stream().flatMap(x -> Stream.of(x, x)).toList();
    return List.of(
        new Case(
            "mapParallel",
            true,
            (p, f) -> listed(p.mapParallel(3, x -> f.apply(x) * 10)),
            times10,
            times10.size()),
        new Case(
            "mapParallelUnordered",
            false,
            (p, f) -> listed(p.mapParallelUnordered(3, x -> f.apply(x) * 10)),
            times10,
            times10.size()),
        new Case(
            "partitionBy",
            false,
            (p, f) -> listed(p.partitionBy(x -> x % 3, 3, x -> f.apply(x) * 10)),
            times10,
            times10.size()),
        new Case(
            "partitionBy with a key whose hashCode fails",
            "partitionBy",
            false,
            (p, f) -> listed(p.partitionBy(x -> new Key(x, f), 3, x -> x * 10)),
            times10,
            times10.size()),
        new Case(
            "filter",
            true,
            (p, f) -> listed(p.filter(x -> uncheck(f, x) % 2 == 0)),
            evens,
            evens.size()),
        new Case(
            "flatMap",
            true,
            (p, f) -> listed(p.flatMap(x -> List.of(f.apply(x), x))),
            twice,
            twice.size()),
        new Case(
            "flatMap over a lazy iterable that fails after one output",
            "flatMap",
            true,
            (p, f) -> listed(p.flatMap(x -> lazily(x, () -> f.apply(x)))),
            twice,
            twice.size()),
        new Case(
            "reduce",
            true,
            (p, f) -> {
              List<Integer> folded = new ArrayList<>();
              Result<Integer> r =
                  p.reduce(
                      CTX,
                      0,
                      (acc, x) -> {
                        int y = uncheck(f, x);
                        folded.add(y);
                        return acc + y;
                      });
              assertEquals(GOOD.stream().mapToInt(x -> x).sum(), r.value());
              return new Observed(folded, r.report());
            },
            GOOD,
            GOOD.size()),
        new Case(
            "forEach",
            true,
            (p, f) -> {
              List<Integer> got = new ArrayList<>();
              Result<Long> r = p.forEach(CTX, x -> got.add(f.apply(x)));
              assertEquals(GOOD.size(), r.value());
              return new Observed(got, r.report());
            },
            GOOD,
            GOOD.size()),
        new Case(
            "split", // two sinks on two threads: no order between them
            false,
            (p, f) -> {
              List<Integer> got = new CopyOnWriteArrayList<>();
              Result<Long> r =
                  p.split(CTX, x -> uncheck(f, x) % 2, List.of(got::addAll, got::addAll));
              assertEquals(GOOD.size(), r.value());
              return new Observed(got, r.report());
            },
            GOOD,
            GOOD.size()));
  }

  static Stream<Arguments> casesAndPolicies() {
    return cases().stream().flatMap(c -> Stream.of(Arguments.of(c, 1), Arguments.of(c, 3)));
  }

  /**
   * An iterable that yields {@code first}, then calls {@code second} for its second element — so
   * the stage sees a failure of {@code second} only while iterating, after one output.
   */
  private static Iterable<Integer> lazily(int first, Callable<Integer> second) {
    return () ->
        new Iterator<>() {
          private int next;

          @Override
          public boolean hasNext() {
            return next < 2;
          }

          @Override
          public Integer next() {
            if (next++ == 0) {
              return first;
            }
            try {
              return second.call();
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        };
  }

  private static Observed listed(Pipeline<Integer> p) throws InterruptedException {
    Result<List<Integer>> r = p.toList(CTX);
    return new Observed(r.value(), r.report());
  }

  private static int uncheck(Pipeline.Fn<Integer, Integer> f, int x) {
    try {
      return f.apply(x);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * @param attempts 1: skip to an error sink; more: retry that many calls, then dead-letter
   */
  @ParameterizedTest(name = "{0}, attempts {1}")
  @MethodSource("casesAndPolicies")
  void failingItemsAreReportedAndTheRestGoOn(Case c, int attempts) throws Exception {
    List<Failure> failures = new CopyOnWriteArrayList<>();
    ErrorPolicy policy =
        attempts == 1
            ? ErrorPolicy.skip(failures::addAll)
            : ErrorPolicy.retry(attempts, Duration.ZERO, failures::addAll).withoutJitter();
    Map<Integer, AtomicInteger> calls = new ConcurrentHashMap<>();
    Pipeline.Fn<Integer, Integer> f =
        x -> {
          calls.computeIfAbsent(x, k -> new AtomicInteger()).incrementAndGet();
          if (BAD.contains(x)) {
            throw new IOException("bad " + x);
          }
          return x;
        };
    Pipeline<Integer> source =
        Pipeline.from(INPUT)
            .withOptions(Pipeline.Options.defaults().withChunkSize(4).withErrorPolicy(policy));

    Observed o = c.shape().run(source, f);

    if (c.ordered()) {
      assertEquals(c.out(), o.items());
    } else {
      assertEquals(c.out().stream().sorted().toList(), o.items().stream().sorted().toList());
    }
    assertEquals(BAD, failures.stream().map(x -> (Integer) x.item()).sorted().toList());
    for (Failure x : failures) {
      assertEquals(c.stage(), x.stage());
      assertEquals(attempts, x.attempts());
      assertEquals("bad " + x.item(), x.error().getMessage().replace("java.io.IOException: ", ""));
    }
    for (int x : INPUT) {
      assertEquals(BAD.contains(x) ? attempts : 1, calls.get(x).get(), "calls with " + x);
    }
    StageStats s = o.report().stage(c.stage()).orElseThrow();
    assertEquals(
        List.of((long) INPUT.size(), c.outCount(), (long) BAD.size()),
        List.of(s.in(), s.out(), s.failed()),
        s.toString());
    assertEquals(Outcome.COMPLETED, o.report().outcome());
  }

  @Test
  void aLazyFlatMapFailingWhileIteratedFailsTheRunNamingTheStageAndTheItem() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.from(INPUT)
                    .flatMap(
                        x ->
                            lazily(
                                x,
                                () -> {
                                  if (x == 8) {
                                    throw new IOException("bad 8");
                                  }
                                  return x;
                                }))
                    .toList(CTX));

    assertEquals("flatMap", e.stage());
    assertEquals(8, e.item().orElseThrow());
    assertEquals(IOException.class, e.getCause().getCause().getClass());
  }

  @Test
  void anItemWithANullOutputIsSkippedWholeUnderSkip() throws Exception {
    List<Failure> failures = new CopyOnWriteArrayList<>();

    List<Integer> out =
        Pipeline.from(INPUT)
            .flatMap(x -> x == 8 ? Arrays.asList(x, x, null, x) : List.of(x, x))
            .withOptions(
                Pipeline.Options.defaults()
                    .withChunkSize(4)
                    .withErrorPolicy(ErrorPolicy.skip(failures::addAll)))
            .toList(CTX)
            .value();

    List<Integer> expected =
        INPUT.stream().filter(x -> x != 8).flatMap(x -> Stream.of(x, x)).toList();
    assertEquals(expected, out); // none of 8's outputs, not even the two before the null
    assertEquals(1, failures.size());
    assertEquals(8, failures.getFirst().item());
    assertInstanceOf(NullPointerException.class, failures.getFirst().error());
  }
}
