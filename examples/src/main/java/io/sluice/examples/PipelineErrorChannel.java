package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.pipeline.ErrorPolicy;
import io.sluice.pipeline.Failure;
import io.sluice.pipeline.Pipeline;
import io.sluice.pipeline.Result;
import io.sluice.pipeline.Sink;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The seed's separate error channel, as an error policy: a failing item goes to an error sink (here
 * a channel the caller drains after the run) and the rest go on; a flaky call is retried with
 * backoff and sent to a dead-letter sink when it keeps failing. In the seed, nobody reading the
 * error channel blocks the stage forever; here the error sink is part of the run and its failure
 * fails the run.
 */
public final class PipelineErrorChannel {
  private PipelineErrorChannel() {}

  /**
   * Lower-cases, then title-cases; "foo" fails the second step and is reported, not fatal.
   *
   * @param source the strings
   * @param log where the sink prints
   * @return the strings that made it
   * @throws InterruptedException if interrupted
   */
  static List<String> skipAndReport(List<String> source, PrintStream log)
      throws InterruptedException {
    Channel<Failure> errors = Channel.unlimited();
    Result<List<String>> r =
        Pipeline.from(source)
            .map(s -> s.toLowerCase(Locale.ROOT))
            .named("transformA")
            .map(
                s -> {
                  if (s.equals("foo")) {
                    throw new IllegalArgumentException("oh no");
                  }
                  return PipelineFanOut.title(s);
                })
            .named("transformB")
            .onError(ErrorPolicy.skip(Sink.each(errors::send)))
            .toList(Context.background());
    errors.close();
    for (Failure f : errors) {
      log.println("error: " + f.stage() + " on " + f.item() + ": " + f.error().getMessage());
    }
    for (String s : r.value()) {
      log.println("sink: " + s);
    }
    return r.value();
  }

  /**
   * Uploads with retries: "bar" fails once and succeeds on the second attempt; "bax" always fails
   * and ends up in the dead letters.
   *
   * @param source the keys
   * @param log where the results go
   * @return the dead letters' items
   * @throws InterruptedException if interrupted
   */
  static List<Object> retryThenDeadLetter(List<String> source, PrintStream log)
      throws InterruptedException {
    Map<String, Integer> attempts = new ConcurrentHashMap<>();
    List<Object> dead = new ArrayList<>();
    Result<Long> r =
        Pipeline.from(source)
            .mapParallel(
                4,
                key -> {
                  int n = attempts.merge(key, 1, Integer::sum);
                  if (key.equals("bax") || (key.equals("bar") && n == 1)) {
                    throw new IOException("upload of " + key + " failed (attempt " + n + ")");
                  }
                  return key + " uploaded after " + n + " attempt(s)";
                })
            .named("upload")
            .onError(
                ErrorPolicy.retry(
                    3,
                    Duration.ofMillis(10),
                    Sink.each(
                        f -> {
                          log.println("dead letter: " + f.item() + " after " + f.attempts());
                          dead.add(f.item());
                        })))
            .forEach(Context.background(), log::println);
    log.println(r.value() + " uploaded, " + dead.size() + " dead-lettered");
    return dead;
  }

  /**
   * Runs both.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    skipAndReport(List.of("FOO", "BAR", "BAX"), System.out);
    retryThenDeadLetter(List.of("foo", "bar", "bax"), System.out);
  }
}
