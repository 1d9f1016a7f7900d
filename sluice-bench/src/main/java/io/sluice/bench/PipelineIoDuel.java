package io.sluice.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@link PipelineIoBenchmark}'s contenders in interleaved rounds within one JVM, with Sluice's
 * ratio to Reactor taken round by round: the comparison of issue 3's I/O case, which the host's
 * swings cannot tilt.
 *
 * <p>Why: on this project's shared virtual machine the same {@code mapParallel} run took 136 ms in
 * one JMH benchmark and 284 ms in another half an hour later (see {@link HostProbe}). JMH runs each
 * contender for ten seconds or more in turn, so a swing between two of them reads as a difference
 * between the libraries. Here every round runs each contender once (100,000 items each, ~0.1–0.3
 * s), in an order that rotates from round to round, and Sluice's time is divided by Reactor's of
 * the same round.
 *
 * <p>How: the benchmark class's own methods and set-up, called directly. Three warm-up rounds, then
 * {@code --rounds} measured ones (default 20). Prints each contender's median and the median ratios
 * (with the middle half of them): Sluice ordered / Reactor {@code flatMapSequential}, Sluice
 * unordered / Reactor {@code flatMap}, and each against the bare floor.
 *
 * <p>{@code java -cp benchmarks.jar io.sluice.bench.PipelineIoDuel [--rounds 20]}
 */
public final class PipelineIoDuel {
  private static final int WARMUP_ROUNDS = 3;

  private PipelineIoDuel() {}

  /** One contender: a name and one run of the benchmark. */
  private record Contender(String name, Run run) {}

  @FunctionalInterface
  private interface Run {
    long run() throws Exception;
  }

  /**
   * Runs the duel and prints a table.
   *
   * @param args {@code --rounds}
   * @throws Exception if a run failed
   */
  public static void main(String[] args) throws Exception {
    int rounds = 20;
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].equals("--rounds")) {
        throw new IllegalArgumentException("unknown option " + args[i]);
      }
      rounds = Integer.parseInt(args[i + 1]);
    }
    PipelineIoBenchmark b = new PipelineIoBenchmark();
    b.setUp();
    List<Contender> contenders =
        List.of(
            new Contender("sluiceOrdered", b::io_sluiceOrdered),
            new Contender("reactorOrdered", b::io_reactorOrdered),
            new Contender("sluiceUnordered", b::io_sluiceUnordered),
            new Contender("reactor", b::io_reactor),
            new Contender("floor", b::io_floor),
            new Contender("floorReused", b::io_floorReused));
    int n = contenders.size();
    try {
      for (int r = 0; r < WARMUP_ROUNDS; r++) {
        round(contenders, r);
      }
      List<double[]> ms = new ArrayList<>();
      for (int r = 0; r < rounds; r++) {
        ms.add(round(contenders, r));
      }
      System.out.printf(Locale.ROOT, "%-16s %10s%n", "contender", "median ms");
      for (int c = 0; c < n; c++) {
        int column = c;
        System.out.printf(
            Locale.ROOT,
            "%-16s %10.1f%n",
            contenders.get(c).name(),
            Medians.median(ms.stream().mapToDouble(m -> m[column]).sorted().toArray()));
      }
      System.out.printf(
          Locale.ROOT, "%-34s %8s %22s%n", "ratio (round by round)", "median", "middle half");
      printRatio("sluiceOrdered / reactorOrdered", ms, 0, 1);
      printRatio("sluiceUnordered / reactor", ms, 2, 3);
      printRatio("sluiceOrdered / floor", ms, 0, 4);
      printRatio("sluiceUnordered / floor", ms, 2, 4);
      printRatio("reactorOrdered / floor", ms, 1, 4);
    } finally {
      b.tearDown();
    }
  }

  /** Runs every contender once, starting with a different one each round; ms of each. */
  private static double[] round(List<Contender> contenders, int round) throws Exception {
    int n = contenders.size();
    double[] ms = new double[n];
    for (int k = 0; k < n; k++) {
      int c = (round + k) % n;
      long start = System.nanoTime();
      contenders.get(c).run().run();
      ms[c] = (System.nanoTime() - start) / 1e6;
    }
    return ms;
  }

  private static void printRatio(String name, List<double[]> ms, int a, int b) {
    double[] ratios = ms.stream().mapToDouble(m -> m[a] / m[b]).sorted().toArray();
    System.out.printf(
        Locale.ROOT,
        "%-34s %8.2f %22s%n",
        name,
        Medians.median(ratios),
        Medians.middleHalf(ratios));
  }
}
