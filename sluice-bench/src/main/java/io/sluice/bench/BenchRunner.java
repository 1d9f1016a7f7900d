package io.sluice.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Runs JMH with its usual command line ({@code -f}, {@code -wi}, {@code -rf json}, a benchmark
 * regex ...) and then prints, for every benchmark, Sluice's score next to each peer's and the ratio
 * Sluice/peer, with the targets of issue 2.
 *
 * <p>Conventions it relies on: a benchmark method is named {@code <what>_<library>}; methods with
 * the same {@code <what>} in one class, run with the same parameters, measure the same thing; a
 * library whose name starts with {@code sluice} is Sluice, the others are peers. All scores are
 * times per operation, so a ratio below 1 means Sluice is faster.
 */
public final class BenchRunner {
  private BenchRunner() {}

  /** Go's figures on this machine, from issue 2, in ns: for the "vs Go" column. */
  private static final Map<String, Double> GO_NS =
      Map.of(
          "ChannelHandoffBenchmark.handoff capacity=0", 150.0,
          "ChannelHandoffBenchmark.handoff capacity=16", 50.0,
          "ChannelHandoffBenchmark.handoff capacity=1024", 50.0,
          "SelectBenchmark.twoWay capacity=0", 120.0,
          "SelectBenchmark.twoWay capacity=16", 120.0);

  /**
   * Runs the benchmarks and prints the ratios.
   *
   * @param args JMH's command line
   * @throws Exception if JMH fails
   */
  public static void main(String[] args) throws Exception {
    CommandLineOptions cmd = new CommandLineOptions(args);
    Collection<RunResult> results = new Runner(new OptionsBuilder().parent(cmd).build()).run();
    System.out.println();
    System.out.println(ratios(results));
  }

  /** One score. */
  private record Score(String library, double score, double error, String unit) {}

  static String ratios(Collection<RunResult> results) {
    Map<String, List<Score>> groups = new LinkedHashMap<>();
    for (RunResult r : results) {
      String benchmark = r.getParams().getBenchmark();
      String method = benchmark.substring(benchmark.lastIndexOf('.') + 1);
      String simpleClass = benchmark.substring(0, benchmark.lastIndexOf('.'));
      simpleClass = simpleClass.substring(simpleClass.lastIndexOf('.') + 1);
      int us = method.indexOf('_');
      String what = us < 0 ? method : method.substring(0, us);
      String library = us < 0 ? method : method.substring(us + 1);
      StringBuilder key = new StringBuilder(simpleClass).append('.').append(what);
      for (String p : r.getParams().getParamsKeys()) {
        key.append(' ').append(p).append('=').append(r.getParams().getParam(p));
      }
      groups
          .computeIfAbsent(key.toString(), k -> new ArrayList<>())
          .add(
              new Score(
                  library,
                  r.getPrimaryResult().getScore(),
                  r.getPrimaryResult().getScoreError(),
                  r.getPrimaryResult().getScoreUnit()));
    }
    StringBuilder out =
        new StringBuilder("Sluice/peer (time per operation; < 1 means Sluice is faster)\n");
    out.append(
        String.format(
            "%-48s %-16s %22s %-22s %22s %11s  %s%n",
            "benchmark", "sluice", "score", "peer", "score", "Sluice/peer", "target"));
    for (Map.Entry<String, List<Score>> g : groups.entrySet()) {
      List<Score> sluice =
          g.getValue().stream().filter(s -> s.library.startsWith("sluice")).toList();
      List<Score> peers =
          g.getValue().stream().filter(s -> !s.library.startsWith("sluice")).toList();
      if (sluice.isEmpty()) {
        for (Score p : peers) {
          out.append(
              String.format(
                  "%-48s %-16s %22s %-22s %22s %11s  %s%n",
                  g.getKey(), "(missing)", "", p.library, fmt(p), "", "Sluice side failed"));
        }
      }
      for (Score s : sluice) {
        Double go = GO_NS.get(g.getKey());
        if (go != null) {
          double r = s.score / go;
          out.append(
              String.format(
                  "%-48s %-16s %22s %-22s %22s %11.2f  %s%n",
                  g.getKey(),
                  s.library,
                  fmt(s),
                  "Go (issue 2 figure)",
                  go + " ns/op",
                  r,
                  r <= 1.5 ? "met (<= 1.5)" : "NOT met (<= 1.5)"));
        }
        for (Score p : peers) {
          double r = s.score / p.score;
          out.append(
              String.format(
                  "%-48s %-16s %22s %-22s %22s %11.2f  %s%n",
                  g.getKey(),
                  s.library,
                  fmt(s),
                  p.library,
                  fmt(p),
                  r,
                  target(g.getKey(), p.library, r)));
        }
      }
    }
    return out.toString();
  }

  private static String fmt(Score s) {
    return Double.isNaN(s.error)
        ? String.format("%.1f %s", s.score, s.unit)
        : String.format("%.1f ± %.1f %s", s.score, s.error, s.unit);
  }

  /** The targets of issue 2, section 4. */
  private static String target(String group, String peer, double ratio) {
    if ((group.startsWith("ChannelHandoffBenchmark.") || group.startsWith("SelectBenchmark."))
        && peer.equals("jox")) {
      return ratio <= 0.5 ? "met (2x faster than Jox)" : "NOT met (2x faster than Jox)";
    }
    if (group.startsWith("TimerBenchmark.")) {
      return ratio < 1 ? "met (faster)" : "NOT met (faster)";
    }
    return "";
  }
}
