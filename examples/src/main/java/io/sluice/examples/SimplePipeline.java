package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import io.sluice.pipeline.Outlet;
import io.sluice.pipeline.Pipeline;
import java.io.PrintStream;
import java.util.List;

/**
 * The seed's first pipeline — producer, unbuffered channel, sink — without its deadlock.
 *
 * <p>In the Go original, {@code producer} sends on an unbuffered channel before anyone receives, so
 * the program stops with "all goroutines are asleep - deadlock!". The fix the notes give is the
 * rule this example follows: the producer runs on its own (virtual) thread, and whoever creates and
 * feeds the channel closes it, in a {@code finally} so it is closed even when the producer fails.
 * The sink's {@code for} loop then ends at the close instead of waiting for ever. {@link
 * #withPipeline} does the same with {@code sluice-pipeline}, which follows the rule for you.
 */
public final class SimplePipeline {
  private SimplePipeline() {}

  /**
   * Starts the producer and returns the channel it feeds, as the Go {@code producer} returns {@code
   * <-chan string}.
   *
   * @param strings the values to send
   * @return the receiving side; closed after the last value
   */
  static ReceiveChannel<String> producer(List<String> strings) {
    Channel<String> out = Channel.unbuffered();
    Thread.ofVirtual()
        .name("producer")
        .start(
            () -> {
              try {
                for (String s : strings) {
                  out.send(s);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                out.close();
              }
            });
    return out;
  }

  /**
   * Prints every value until the channel closes.
   *
   * @param values the channel to drain
   * @param log where to print
   */
  static void sink(ReceiveChannel<String> values, PrintStream log) {
    for (String value : values) {
      log.println(value);
    }
  }

  /**
   * The same producer as a pipeline: {@link Pipeline#open} runs it on a thread of its own and
   * returns its channel at once — here a rendezvous channel, like the seed's — so the sink reads it
   * on this thread. Leaving the {@code try} block, at the end or early, ends the run and waits for
   * its threads.
   *
   * @param strings the values to send
   * @param log where to print
   * @param options the run's options (its thread factory, say)
   * @return the number of values sent
   * @throws InterruptedException if interrupted
   */
  static long withPipeline(List<String> strings, PrintStream log, Pipeline.Options options)
      throws InterruptedException {
    try (Outlet<String> out =
        Pipeline.from(strings).withOptions(options).open(Context.background(), 0)) {
      sink(out.channel(), log);
      return out.result().value();
    }
  }

  /**
   * Runs the pipeline, by hand and then with {@code sluice-pipeline}.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    sink(producer(List.of("foo", "bar", "bax")), System.out);
    withPipeline(List.of("foo", "bar", "bax"), System.out, Pipeline.Options.defaults());
  }
}
