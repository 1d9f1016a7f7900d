package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import java.io.PrintStream;

/**
 * The seed's sink that flooded the terminal with empty lines, and its fix.
 *
 * <p>In Go, {@code case val, ok := <-values:} on a closed channel proceeds at once with the zero
 * value, so a {@code for}/{@code select} loop that ignores {@code ok} spins for ever. In Sluice a
 * receive never invents a value: {@link ReceiveChannel#receiveOrClosed(Context)} returns a {@link
 * Received.Value} or {@link Received.Closed}, and the {@code switch} below must handle both — the
 * compiler checks it is exhaustive, so forgetting the end of the stream does not compile.
 */
public final class ClosedChannelLoop {
  private ClosedChannelLoop() {}

  /**
   * Logs each value and returns at the end of the stream or when {@code ctx} is done.
   *
   * @param ctx stops the sink when done
   * @param values the stream
   * @param log where to print
   * @return how many values were logged
   * @throws InterruptedException if interrupted while waiting
   */
  static int sink(Context ctx, ReceiveChannel<String> values, PrintStream log)
      throws InterruptedException {
    int logged = 0;
    while (true) {
      Received<String> received;
      try {
        received = values.receiveOrClosed(ctx);
      } catch (ContextCancelledException e) {
        log.println("stopped: " + e.getMessage()); // the seed's log.Print(ctx.Err()); return
        return logged;
      }
      switch (received) {
        case Received.Value<String>(String val) -> {
          log.println(val);
          logged++;
        }
        case Received.Closed<String> closed -> {
          log.println("done" + closed.error().map(e -> " with error: " + e).orElse(""));
          return logged;
        }
      }
    }
  }

  /**
   * Runs the example.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Channel<String> ch = Channel.buffered(3);
    ch.send("foo");
    ch.send("bar");
    ch.close(); // buffered values are still received, then the loop ends: no busy loop
    sink(Context.background(), ch, System.out);
  }
}
