package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random pipelines against the same computation done sequentially on a list: the same items in the
 * same order while every stage so far keeps order, the same multiset after one that does not (and
 * per-key order after partitionBy). The functions of parallel stages pause at random so their items
 * finish out of order; some stages fail on some items under a skip policy, and the model drops
 * those items. Sources are the input as a list, a stream, a generator, a range, a closed channel,
 * or a merge of its halves; the terminal is any of toList, forEach, toChannel, reduce, broadcast
 * and split (each split lane against the model's items for it). Random chunk and buffer sizes, down
 * to one item, so every boundary case of chunking is exercised. Each case prints its seed on
 * failure.
 */
@Timeout(120)
class PipelinePropertyTest {
  private static final int CASES = Integer.getInteger("sluice.propertyCases", 150);

  /** One random step, applied to the pipeline and to the model. */
  private record Step(
      String name,
      Function<Pipeline<Integer>, Pipeline<Integer>> stage,
      Function<List<Integer>, List<Integer>> model,
      boolean keepsOrder) {}

  private static Step randomStep(Random rnd, boolean ordered) {
    int a = rnd.nextInt(7) + 1;
    int b = rnd.nextInt(100);
    int k = rnd.nextInt(4) + 2;
    int n = rnd.nextInt(20) + 1;
    int q = rnd.nextInt(7) + 3;
    Function<Integer, Integer> f = x -> x * a + b;
    Function<Integer, Integer> slow = jittered(f); // for parallel stages: out-of-order completion
    // kinds 0-11 keep or drop order as they say; 12 (partitionBy) and 13 (take) only while ordered
    int kind = rnd.nextInt(ordered ? 14 : 12);
    if (kind >= 8 && kind < 12) {
      return skipping(kind - 8, rnd, n, q, f);
    }
    if (kind >= 12) {
      kind -= 4;
    }
    return switch (kind) {
      case 0 -> new Step("map", p -> p.map(f::apply), l -> l.stream().map(f).toList(), true);
      case 1 ->
          new Step(
              "filter",
              p -> p.filter(x -> x % k != 0),
              l -> l.stream().filter(x -> x % k != 0).toList(),
              true);
      case 2 ->
          new Step(
              "flatMap",
              p -> p.flatMap(x -> Collections.nCopies(Math.floorMod(x, 3), x)),
              l ->
                  l.stream()
                      .flatMap(x -> Collections.nCopies(Math.floorMod(x, 3), x).stream())
                      .toList(),
              true);
      case 3 ->
          new Step(
              "mapParallel(" + n + ")",
              p -> p.mapParallel(n, slow::apply),
              l -> l.stream().map(f).toList(),
              true);
      case 4 -> new Step("buffer(" + n + ")", p -> p.buffer(n), l -> l, true);
      case 5 ->
          new Step(
              "batch(" + n + ")",
              p -> p.batch(n, Duration.ofSeconds(30)).flatMap(x -> x),
              l -> l,
              true);
      case 6 ->
          new Step(
              "mapParallelUnordered(" + n + ")",
              p -> p.mapParallelUnordered(n, slow::apply),
              l -> l.stream().map(f).toList(),
              false);
      case 7 -> new Step("peek", p -> p.peek(x -> {}), l -> l, true);
      case 8 ->
          new Step(
              "partitionBy(" + k + ")",
              p -> p.partitionBy(x -> Math.floorMod(x, 7), k, slow::apply),
              l -> l.stream().map(f).toList(),
              false);
      default ->
          new Step(
              "take(" + n * 10 + ")",
              p -> p.take(n * 10L),
              l -> l.subList(0, Math.min(l.size(), n * 10)),
              true);
    };
  }

  /**
   * A stage whose function fails on the items divisible by {@code q}, under a skip policy of its
   * own: its output is the model's without those items.
   */
  private static Step skipping(int which, Random rnd, int n, int q, Function<Integer, Integer> f) {
    Function<Integer, Integer> failing =
        x -> {
          if (Math.floorMod(x, q) == 0) {
            throw new IllegalStateException("injected on " + x);
          }
          return f.apply(x);
        };
    Function<Integer, Integer> slow = jittered(failing);
    Function<List<Integer>, List<Integer>> model =
        l -> l.stream().filter(x -> Math.floorMod(x, q) != 0).map(f).toList();
    ErrorPolicy skip = ErrorPolicy.skip(failures -> {});
    return switch (which) {
      case 0 ->
          new Step("map skipping %" + q, p -> p.map(failing::apply).onError(skip), model, true);
      case 1 ->
          new Step(
              "mapParallel(" + n + ") skipping %" + q,
              p -> p.mapParallel(n, slow::apply).onError(skip),
              model,
              true);
      case 2 ->
          rnd.nextBoolean()
              ? new Step(
                  "mapParallelUnordered(" + n + ") skipping %" + q,
                  p -> p.mapParallelUnordered(n, slow::apply).onError(skip),
                  model,
                  false)
              : new Step(
                  "partitionBy(" + n + ") skipping %" + q,
                  p -> p.partitionBy(x -> Math.floorMod(x, 7), n, slow::apply).onError(skip),
                  model,
                  false);
      default ->
          new Step(
              "flatMap (lazy, fails after one output) skipping %" + q,
              p ->
                  p.flatMap(
                          x ->
                              (Iterable<Integer>)
                                  () ->
                                      Stream.of(0, 1)
                                          .map(i -> i == 0 ? f.apply(x) : failing.apply(x))
                                          .iterator())
                      .onError(skip),
              l ->
                  l.stream()
                      .filter(x -> Math.floorMod(x, q) != 0)
                      .flatMap(x -> Stream.of(f.apply(x), f.apply(x)))
                      .toList(),
              true);
    };
  }

  /**
   * {@code f} after a random pause — a few yields, or now and then a park of up to half a
   * millisecond — so that the items of a parallel stage finish out of order and the re-order buffer
   * has work to do. Only the order of completion is random, never a result.
   */
  private static Function<Integer, Integer> jittered(Function<Integer, Integer> f) {
    return x -> {
      ThreadLocalRandom r = ThreadLocalRandom.current();
      int d = r.nextInt(16);
      if (d == 0) {
        LockSupport.parkNanos(r.nextLong(20_000, 500_000));
      } else {
        for (int i = 0; i < d % 4; i++) {
          Thread.yield();
        }
      }
      return f.apply(x);
    };
  }

  private static Map<Integer, Long> multiset(List<Integer> l) {
    return l.stream().collect(Collectors.groupingBy(x -> x, TreeMap::new, Collectors.counting()));
  }

  @Test
  void randomPipelinesComputeWhatASequentialLoopComputes() throws Exception {
    long base = new Random().nextLong();
    for (int c = 0; c < CASES; c++) {
      long seed = base + c;
      Random rnd = new Random(seed);
      int size = rnd.nextInt(3000);
      List<Integer> input =
          IntStream.range(0, size).map(i -> rnd.nextInt(1000) - 500).boxed().toList();
      int[] chunks = {1, 2, 3, 16, 1024};
      int[] buffers = {1, 5, 64, 8192};
      Pipeline.Options o =
          Pipeline.Options.defaults()
              .withChunkSize(chunks[rnd.nextInt(chunks.length)])
              .withBufferSize(buffers[rnd.nextInt(buffers.length)]);

      Source source = Source.values()[rnd.nextInt(Source.values().length)];
      Pipeline<Integer> p = source.of(input);
      List<Integer> model = input;
      boolean ordered = source != Source.MERGE;
      List<String> names = new ArrayList<>();
      names.add(source.name());
      int steps = rnd.nextInt(5) + 1;
      for (int s = 0; s < steps; s++) {
        Step step = randomStep(rnd, ordered);
        p = step.stage().apply(p);
        model = step.model().apply(model);
        ordered &= step.keepsOrder();
        names.add(step.name());
      }
      Terminal t = Terminal.values()[rnd.nextInt(Terminal.values().length)];
      String what =
          "seed " + seed + ", " + o.chunkSize() + "/" + o.bufferSize() + ": " + names + " " + t;
      t.check(p.withOptions(o), model, ordered, what);
    }
  }

  /** The sources, each delivering the input (a merge: its two halves, interleaved). */
  private enum Source {
    LIST {
      @Override
      Pipeline<Integer> of(List<Integer> input) {
        return Pipeline.from(input);
      }
    },
    MERGE {
      @Override
      Pipeline<Integer> of(List<Integer> input) {
        int half = input.size() / 2;
        return Pipeline.merge(
            Pipeline.from(input.subList(0, half)),
            Pipeline.from(input.subList(half, input.size())));
      }
    },
    STREAM {
      @Override
      Pipeline<Integer> of(List<Integer> input) {
        return Pipeline.from(input.stream());
      }
    },
    GENERATE {
      @Override
      Pipeline<Integer> of(List<Integer> input) {
        return Pipeline.generate(
            e -> {
              for (int x : input) {
                e.emit(x);
              }
            });
      }
    },
    RANGE {
      @Override
      Pipeline<Integer> of(List<Integer> input) {
        return Pipeline.range(0, input.size()).map(input::get);
      }
    },
    CHANNEL {
      @Override
      Pipeline<Integer> of(List<Integer> input) {
        Channel<Integer> ch = Channel.unlimited();
        for (int x : input) {
          ch.trySend(x);
        }
        ch.close();
        return Pipeline.from(ch);
      }
    };

    abstract Pipeline<Integer> of(List<Integer> input);
  }

  /** The terminals, each checked against the model. */
  private enum Terminal {
    TO_LIST {
      @Override
      void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
          throws Exception {
        assertSame(model, p.toList(Context.background()).value(), ordered, what);
      }
    },
    FOR_EACH {
      @Override
      void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
          throws Exception {
        List<Integer> got = new ArrayList<>();
        Result<Long> r = p.forEach(Context.background(), got::add);
        assertEquals(model.size(), r.value(), what);
        assertSame(model, got, ordered, what);
      }
    },
    TO_CHANNEL {
      @Override
      void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
          throws Exception {
        Channel<Integer> ch = Channel.unlimited();
        Result<Long> r = p.toChannel(Context.background(), ch);
        List<Integer> got = new ArrayList<>();
        for (Integer x : ch) { // ends cleanly: the run completed
          got.add(x);
        }
        assertEquals(model.size(), r.value(), what);
        assertSame(model, got, ordered, what);
      }
    },
    REDUCE {
      @Override
      void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
          throws Exception {
        // An order-sensitive fold where order is promised, a sum where it is not.
        long expected = 17;
        for (int x : model) {
          expected = ordered ? expected * 31 + x : expected + x;
        }
        long got =
            p.reduce(Context.background(), 17L, (a, x) -> ordered ? a * 31 + x : a + x).value();
        assertEquals(expected, got, what);
      }
    },
    BROADCAST {
      @Override
      void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
          throws Exception {
        List<Integer> a = new CopyOnWriteArrayList<>();
        List<Integer> b = new CopyOnWriteArrayList<>();
        Result<Long> r = p.broadcast(Context.background(), List.of(a::addAll, b::addAll));
        assertEquals(model.size(), r.value(), what);
        assertSame(model, a, ordered, what);
        assertSame(model, b, ordered, what);
      }
    },
    SPLIT {
      @Override
      void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
          throws Exception {
        List<List<Integer>> lanes =
            List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        Result<Long> r =
            p.split(
                Context.background(),
                x -> Math.floorMod(x, 3),
                List.of(lanes.get(0)::addAll, lanes.get(1)::addAll, lanes.get(2)::addAll));
        assertEquals(model.size(), r.value(), what);
        for (int i = 0; i < 3; i++) {
          int lane = i;
          List<Integer> expected = model.stream().filter(x -> Math.floorMod(x, 3) == lane).toList();
          assertSame(expected, lanes.get(i), ordered, what + " lane " + i);
        }
      }
    };

    abstract void check(Pipeline<Integer> p, List<Integer> model, boolean ordered, String what)
        throws Exception;
  }

  /** The same items in the same order where order is promised, else the same multiset. */
  private static void assertSame(
      List<Integer> model, List<Integer> got, boolean ordered, String what) {
    if (ordered) {
      assertEquals(model, got, what);
    } else {
      assertEquals(multiset(model), multiset(got), what);
    }
  }

  @Test
  void partitionByKeepsTheOrderOfEachKeyOnRandomInputs() throws Exception {
    long base = new Random().nextLong();
    for (int c = 0; c < 30; c++) {
      long seed = base + c;
      Random rnd = new Random(seed);
      List<Integer> input = IntStream.range(0, 2000).map(i -> rnd.nextInt(50)).boxed().toList();
      List<int[]> indexed = new ArrayList<>();
      for (int i = 0; i < input.size(); i++) {
        indexed.add(new int[] {input.get(i), i});
      }

      List<int[]> got =
          Pipeline.from(indexed)
              .partitionBy(x -> x[0], rnd.nextInt(6) + 1, x -> x)
              .withOptions(Pipeline.Options.defaults().withChunkSize(rnd.nextInt(20) + 1))
              .toList(Context.background())
              .value();

      assertEquals(input.size(), got.size(), "seed " + seed);
      Map<Integer, List<Integer>> positions = new TreeMap<>();
      for (int[] x : got) {
        positions.computeIfAbsent(x[0], key -> new ArrayList<>()).add(x[1]);
      }
      for (List<Integer> pos : positions.values()) {
        assertEquals(pos.stream().sorted().toList(), pos, "seed " + seed);
      }
    }
  }

  @Test
  void batchWithoutATimeLimitGroupsRandomStreamsAsASequentialLoopWould() throws Exception {
    // With no time limit, where a batch ends depends on its size only: full lists in input order,
    // then the rest, whatever the chunking and however the generator pauses.
    long base = new Random().nextLong();
    for (int c = 0; c < 60; c++) {
      long seed = base + c;
      Random rnd = new Random(seed);
      int n = rnd.nextInt(3000);
      int size = rnd.nextInt(40) + 1;
      int chunk = rnd.nextInt(50) + 1;
      List<Integer> input = IntStream.range(0, n).boxed().toList();
      Pipeline<Integer> source =
          rnd.nextBoolean()
              ? Pipeline.from(input)
              : Pipeline.generate(
                  out -> {
                    for (int x : input) {
                      if (x % 97 == 0) {
                        Thread.yield(); // the stage sees its input run dry now and then
                      }
                      out.emit(x);
                    }
                  });

      List<List<Integer>> got =
          source
              .batch(size, ChronoUnit.FOREVER.getDuration())
              .withOptions(
                  Pipeline.Options.defaults()
                      .withChunkSize(chunk)
                      .withBufferSize(chunk * (rnd.nextInt(4) + 1)))
              .toList(Context.background())
              .value();

      List<List<Integer>> model = new ArrayList<>();
      for (int i = 0; i < n; i += size) {
        model.add(input.subList(i, Math.min(n, i + size)));
      }
      assertEquals(model, got, "seed " + seed + ", size " + size + ", chunk " + chunk);
    }
  }
}
