package io.sluice.bench;

import java.util.Arrays;

/**
 * Measures how long one cache line takes to go from one core to another and back on this host right
 * now, so a benchmark run can say in what state it found the machine.
 *
 * <p>Why: on this project's 2-core virtual machine, a rendezvous hand-off between two virtual
 * threads on separate carriers costs a few cache-line transfers, and the same program measured 150
 * ns per hand-off in one minute and 900 ns in the next. The host decides, through where it places
 * the two virtual CPUs; this probe measured a round trip between 56 and 190 ns within one run.
 * Printing it next to the figures tells a reader which state a run was in.
 *
 * <p>How: two platform threads take turns incrementing one volatile field, each waiting (with
 * {@link Thread#onSpinWait()}) for the other's value; a round trip is two hand-overs of the field's
 * line. Five rounds of 1,000,000 round trips after one of warm-up; prints every round and the
 * median.
 *
 * <p>{@code java -cp benchmarks.jar io.sluice.bench.HostProbe}
 */
public final class HostProbe {
  private static final int ROUND_TRIPS = 1_000_000;
  private static final int ROUNDS = 5;

  private static volatile int turn;

  private HostProbe() {}

  /**
   * Runs the probe and prints one line.
   *
   * @param args none
   * @throws InterruptedException if interrupted while joining the other thread
   */
  public static void main(String[] args) throws InterruptedException {
    round(); // warm-up: both loops compiled
    double[] ns = new double[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
      ns[r] = round();
    }
    double[] sorted = ns.clone();
    Arrays.sort(sorted);
    StringBuilder rounds = new StringBuilder();
    for (double v : ns) {
      rounds.append(rounds.isEmpty() ? "" : ", ").append(Math.round(v));
    }
    System.out.printf(
        "host: cross-core round trip of one cache line %d ns (median of %d rounds: %s ns)%n",
        Math.round(sorted[ROUNDS / 2]), ROUNDS, rounds);
  }

  /** One round: nanoseconds per round trip. */
  private static double round() throws InterruptedException {
    turn = 0;
    Thread echo =
        Thread.ofPlatform()
            .name("host-probe-echo")
            .start(
                () -> {
                  for (int i = 0; i < ROUND_TRIPS; i++) {
                    int odd = 2 * i + 1;
                    while (turn != odd) {
                      Thread.onSpinWait();
                    }
                    turn = odd + 1;
                  }
                });
    long start = System.nanoTime();
    for (int i = 0; i < ROUND_TRIPS; i++) {
      int even = 2 * i + 2;
      turn = even - 1;
      while (turn != even) {
        Thread.onSpinWait();
      }
    }
    long elapsed = System.nanoTime() - start;
    echo.join();
    return (double) elapsed / ROUND_TRIPS;
  }
}
