package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random pipelines against the same computation done sequentially on a list: the same items in the
 * same order while every stage so far keeps order, the same multiset after one that does not (and
 * per-key order after partitionBy). Sources are the input or a merge of its halves; the terminal is
 * any of toList, forEach, toChannel, reduce, broadcast and split (each split lane against the
 * model's items for it). Random chunk and buffer sizes, down to one item, so every boundary case of
 * chunking is exercised. Each case prints its seed on failure.
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
    Function<Integer, Integer> f = x -> x * a + b;
    int kind = rnd.nextInt(ordered ? 10 : 8);
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
              p -> p.mapParallel(n, f::apply),
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
              p -> p.mapParallelUnordered(n, f::apply),
              l -> l.stream().map(f).toList(),
              false);
      case 7 -> new Step("peek", p -> p.peek(x -> {}), l -> l, true);
      case 8 ->
          new Step(
              "partitionBy(" + k + ")",
              p -> p.partitionBy(x -> Math.floorMod(x, 7), k, f::apply),
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

      // The source: the input, or (a merge) its two halves interleaved as they arrive.
      boolean merged = rnd.nextInt(4) == 0;
      Pipeline<Integer> p =
          merged
              ? Pipeline.merge(
                  Pipeline.from(input.subList(0, size / 2)),
                  Pipeline.from(input.subList(size / 2, size)))
              : Pipeline.from(input);
      List<Integer> model = input;
      boolean ordered = !merged;
      List<String> names = new ArrayList<>();
      names.add(merged ? "merge" : "from");
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
}
