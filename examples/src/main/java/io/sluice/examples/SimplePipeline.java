package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.ReceiveChannel;
import java.io.PrintStream;
import java.util.List;

/**
 * The seed's first pipeline — producer, unbuffered channel, sink — without its deadlock.
 *
 * <p>In the Go original, {@code producer} sends on an unbuffered channel before anyone receives, so
 * the program stops with "all goroutines are asleep - deadlock!". The fix the notes give is the
 * rule this example follows: the producer runs on its own (virtual) thread, and whoever creates and
 * feeds the channel closes it, in a {@code finally} so it is closed even when the producer fails.
 * The sink's {@code for} loop then ends at the close instead of waiting for ever.
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
   * Runs the pipeline.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    sink(producer(List.of("foo", "bar", "bax")), System.out);
  }
}
