package io.sluice.examples;

import io.sluice.core.CancelableContext;
import io.sluice.core.Context;
import io.sluice.pipeline.Emitter;
import io.sluice.pipeline.Pipeline;
import io.sluice.pipeline.PipelineException;
import io.sluice.pipeline.Result;
import io.sluice.pipeline.StopMode;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * The seed's data pipeline — producer → to-lower → to-title → sink, fanned out across the
 * processors, stopped by a context after a timeout, and cancelled by an injected error — written
 * with {@code sluice-pipeline} instead of hand-made channels and goroutines ({@link FanOutFanIn}
 * shows the hand-made version).
 *
 * <p>What the library takes care of: the stages and the sink are connected and started together (no
 * stage waits on a channel nobody reads), the end of the stream is typed (no busy loop), nothing is
 * sent on a closed channel, the first error cancels every stage and is reported once with the stage
 * and the item, and no thread outlives the run.
 */
public final class PipelineFanOut {
  private PipelineFanOut() {}

  /** The seed's producer: one string every {@code every}, on the clock of the run's context. */
  static Pipeline.Generator<String> producer(List<String> strings, Duration every) {
    return (Emitter<String> out) -> {
      for (String s : strings) {
        out.context().clock().sleep(out.context(), every);
        out.emit(s);
      }
    };
  }

  /**
   * Runs the pipeline under {@code ctx}: when the context is done, the producer stops and what it
   * already produced drains to the sink ({@link StopMode#GRACEFUL}).
   *
   * @param ctx stops the run (cancel, timeout)
   * @param source the strings
   * @param every the producer's pause before each string
   * @param toTitle the second stage; may throw
   * @param log where the sink prints
   * @return the number of strings the sink printed, and the report
   * @throws InterruptedException if interrupted
   * @throws PipelineException if a stage failed
   */
  static Result<Long> run(
      Context ctx,
      List<String> source,
      Duration every,
      UnaryOperator<String> toTitle,
      PrintStream log)
      throws InterruptedException {
    return run(ctx, source, every, toTitle, log, Pipeline.Options.defaults());
  }

  /**
   * {@link #run(Context, List, Duration, UnaryOperator, PrintStream)} with the run's other options
   * (its thread factory, say) taken from {@code options}; the stop mode is always graceful.
   *
   * @param ctx stops the run (cancel, timeout)
   * @param source the strings
   * @param every the producer's pause before each string
   * @param toTitle the second stage; may throw
   * @param log where the sink prints
   * @param options the run's options
   * @return the number of strings the sink printed, and the report
   * @throws InterruptedException if interrupted
   * @throws PipelineException if a stage failed
   */
  static Result<Long> run(
      Context ctx,
      List<String> source,
      Duration every,
      UnaryOperator<String> toTitle,
      PrintStream log,
      Pipeline.Options options)
      throws InterruptedException {
    int cpus = Runtime.getRuntime().availableProcessors();
    return Pipeline.generate(producer(source, every))
        .named("producer")
        .mapParallel(cpus, s -> s.toLowerCase(Locale.ROOT))
        .named("to-lower")
        .mapParallel(cpus, toTitle::apply)
        .named("to-title")
        .withOptions(options.withStopMode(StopMode.GRACEFUL))
        .forEach(ctx, s -> log.println("sink: " + s));
  }

  static String title(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /**
   * Runs it three times: to the end, stopped by a timeout, and failed by an injected error.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    List<String> source = List.of("FOO", "BAR", "BAX");
    Result<Long> r =
        run(Context.background(), source, Duration.ZERO, PipelineFanOut::title, System.out);
    System.out.println(r.outcome() + ", " + r.value() + " items\n" + r.report());

    try (CancelableContext ctx = Context.background().withTimeout(Duration.ofMillis(500))) {
      r = run(ctx, source, Duration.ofMillis(300), PipelineFanOut::title, System.out);
      System.out.println("timeout: " + r.outcome() + " after " + r.value() + " of 3 items");
    }

    try {
      run(
          Context.background(),
          source,
          Duration.ZERO,
          s -> {
            if (s.equals("foo")) {
              throw new IllegalArgumentException("oh no");
            }
            return title(s);
          },
          System.out);
    } catch (PipelineException e) {
      System.out.println("error: " + e.getMessage());
    }
  }
}
