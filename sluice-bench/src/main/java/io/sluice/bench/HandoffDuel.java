package io.sluice.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Sluice's and Jox's channels hand over the same values in alternating rounds within one JVM, and
 * the ratio is taken round by round: a comparison that the host's swings cannot tilt.
 *
 * <p>Why: on this project's shared 2-core virtual machine, a rendezvous hand-off costs 150 ns in
 * one minute and 900 ns in the next, for Sluice and Jox alike ({@link HostProbe} shows the
 * machine's side of it). {@link ChannelHandoffBenchmark} runs each library for ten seconds or more
 * in turn, so a swing between two of its benchmarks reads as a difference between the libraries.
 * Here a Sluice round and a Jox round of 1,000,000 hand-offs each (a fraction of a second) run back
 * to back, first one then the other, and each pair gives one ratio; the median of the ratios is the
 * figure, with the middle half of them as its spread.
 *
 * <p>How: as in {@link ChannelHandoffBenchmark}: one virtual-thread producer and one virtual-thread
 * consumer, fresh for every round, pre-boxed values, the consumer's sum checked. Five warm-up
 * pairs, then {@code --rounds} measured pairs (default 20) per capacity.
 *
 * <p>With {@code --select}, each round is instead {@link SelectBenchmark}'s two-way select (two
 * producers, one consumer selecting over both channels, 1,000,000 selects), Sluice's and Jox's in
 * alternating rounds: the JMH benchmark's error bars on this host are as large as its scores.
 *
 * <p>{@code java -cp benchmarks.jar io.sluice.bench.HandoffDuel [--capacities 0,16,1024] [--rounds
 * 20] [--select]}
 */
public final class HandoffDuel {
  private static final int N = 1_000_000;
  private static final int WARMUP_PAIRS = 5;
  private static final Integer[] VALUES = Values.boxed(1024);
  private static final long EXPECTED_SUM = Values.sumOfCycle(VALUES, N);

  private HandoffDuel() {}

  /**
   * Runs the duel and prints a table.
   *
   * @param args {@code --capacities} and {@code --rounds}
   * @throws Exception if a round failed
   */
  public static void main(String[] args) throws Exception {
    int[] capacities = {0, 16, 1024};
    int rounds = 20;
    boolean select = false;
    for (int i = 0; i < args.length; i += 2) {
      if (args[i].equals("--select")) {
        select = true;
        i--; // a flag without a value
        continue;
      }
      if (i + 1 == args.length) {
        throw new IllegalArgumentException(args[i] + " needs a value");
      }
      switch (args[i]) {
        case "--capacities" ->
            capacities =
                Arrays.stream(args[i + 1].split(",")).mapToInt(Integer::parseInt).toArray();
        case "--rounds" -> rounds = Integer.parseInt(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    System.out.printf(
        "%-9s %8s %12s %12s %14s %22s%n",
        "capacity",
        "pairs",
        select ? "Sluice ns/sel" : "Sluice ns",
        select ? "Jox ns/sel" : "Jox ns",
        "Sluice/Jox",
        "middle half of ratios");
    for (int capacity : capacities) {
      for (int i = 0; i < WARMUP_PAIRS; i++) {
        pair(capacity, i, select);
      }
      List<double[]> pairs = new ArrayList<>();
      for (int i = 0; i < rounds; i++) {
        pairs.add(pair(capacity, i, select));
      }
      double[] sluice = pairs.stream().mapToDouble(p -> p[0]).sorted().toArray();
      double[] jox = pairs.stream().mapToDouble(p -> p[1]).sorted().toArray();
      double[] ratios = pairs.stream().mapToDouble(p -> p[0] / p[1]).sorted().toArray();
      System.out.printf(
          Locale.ROOT,
          "%-9d %8d %12.0f %12.0f %14.2f %22s%n",
          capacity,
          rounds,
          Medians.median(sluice),
          Medians.median(jox),
          Medians.median(ratios),
          Medians.middleHalf(ratios));
    }
  }

  /**
   * One Sluice round and one Jox round, in an order that alternates; ns per hand-off (or per
   * select) of each.
   */
  private static double[] pair(int capacity, int index, boolean select) throws Exception {
    double sluice;
    double jox;
    if (index % 2 == 0) {
      sluice = select ? sluiceSelectRound(capacity) : sluiceRound(capacity);
      jox = select ? joxSelectRound(capacity) : joxRound(capacity);
    } else {
      jox = select ? joxSelectRound(capacity) : joxRound(capacity);
      sluice = select ? sluiceSelectRound(capacity) : sluiceRound(capacity);
    }
    return new double[] {sluice, jox};
  }

  private static double sluiceSelectRound(int capacity) throws Exception {
    return selectRound(capacity, SelectBenchmark::twoWay_sluice);
  }

  private static double joxSelectRound(int capacity) throws Exception {
    return selectRound(capacity, SelectBenchmark::twoWay_jox);
  }

  /** One of {@link SelectBenchmark}'s two-way rounds, which checks its own sum. */
  @FunctionalInterface
  private interface SelectRound {
    void run(SelectBenchmark benchmark, SelectBenchmark.Capacity capacity) throws Exception;
  }

  /** Runs {@code round} once over channels of {@code capacity}; ns per select. */
  private static double selectRound(int capacity, SelectRound round) throws Exception {
    SelectBenchmark.Capacity c = new SelectBenchmark.Capacity();
    c.capacity = capacity;
    long start = System.nanoTime();
    round.run(new SelectBenchmark(), c);
    return (double) (System.nanoTime() - start) / SelectBenchmark.N;
  }

  /** A channel of either library, as the round's two threads use it. */
  private record Lane(Send send, Receive receive) {}

  @FunctionalInterface
  private interface Send {
    void send(Integer value) throws InterruptedException;
  }

  @FunctionalInterface
  private interface Receive {
    Integer receive() throws InterruptedException;
  }

  private static double sluiceRound(int capacity) throws Exception {
    io.sluice.core.Channel<Integer> ch =
        capacity == 0
            ? io.sluice.core.Channel.unbuffered()
            : io.sluice.core.Channel.buffered(capacity);
    return round(new Lane(ch::send, ch::receive));
  }

  private static double joxRound(int capacity) throws Exception {
    com.softwaremill.jox.Channel<Integer> ch =
        capacity == 0
            ? com.softwaremill.jox.Channel.newRendezvousChannel()
            : com.softwaremill.jox.Channel.newBufferedChannel(capacity);
    return round(new Lane(ch::send, ch::receive));
  }

  /** Hands over {@link #N} values through {@code lane}; ns per hand-off. */
  private static double round(Lane lane) throws Exception {
    long start = System.nanoTime();
    long sum =
        Pair.run(
            () -> {
              for (int i = 0; i < N; i++) {
                lane.send().send(VALUES[i & 1023]);
              }
            },
            () -> {
              long s = 0;
              for (int i = 0; i < N; i++) {
                s += lane.receive().receive();
              }
              return s;
            });
    long elapsed = System.nanoTime() - start;
    Values.check(EXPECTED_SUM, sum);
    return (double) elapsed / N;
  }
}
