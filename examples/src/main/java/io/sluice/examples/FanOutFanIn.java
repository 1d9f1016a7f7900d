package io.sluice.examples;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.function.UnaryOperator;

/**
 * The seed's fan-out/fan-in pipeline: producer → N × to-lower → merge → N × to-title → merge →
 * sink, with a context for shutdown — and with errors that travel downstream instead of being lost.
 *
 * <p>What changes from the Go notes:
 *
 * <ul>
 *   <li>Every stage sends with {@code send(ctx, v)}, so a cancelled context unblocks a stage stuck
 *       on a full channel (the Go version's {@code select { case <-ctx.Done(): ... default: out <-
 *       s }} still blocks in {@code out <- s}).
 *   <li>A stage that fails closes its output with the error ({@code close(error)}), so the consumer
 *       learns why the stream ended: the seed's separate error channel, without the risk of nobody
 *       reading it.
 *   <li>Each stage closes only its own output, in {@code finally}; the merge closes its output once
 *       every forwarder ended (Go's WaitGroup), so nothing is sent on a closed channel.
 * </ul>
 */
public final class FanOutFanIn {
  private FanOutFanIn() {}

  static ReceiveChannel<String> producer(Context ctx, List<String> strings) {
    Channel<String> out = Channel.unbuffered();
    stage(
        out,
        () -> {
          for (String s : strings) {
            out.send(ctx, s);
          }
        });
    return out;
  }

  static ReceiveChannel<String> transform(
      Context ctx, ReceiveChannel<String> in, UnaryOperator<String> fn) {
    Channel<String> out = Channel.unbuffered();
    stage(
        out,
        () -> {
          for (String s : in) {
            out.send(ctx, fn.apply(s));
          }
        });
    return out;
  }

  /** Forwards every input to one output, closing it after the last input closes. */
  static <T> ReceiveChannel<T> merge(Context ctx, List<ReceiveChannel<T>> inputs) {
    Channel<T> out = Channel.unbuffered();
    CountDownLatch remaining = new CountDownLatch(inputs.size());
    for (ReceiveChannel<T> in : inputs) {
      Thread.ofVirtual()
          .name("merge")
          .start(
              () -> {
                try {
                  for (T v : in) {
                    out.send(ctx, v);
                  }
                } catch (ChannelClosedException e) {
                  out.close(e.error().orElse(e)); // an upstream failure ends the merged stream
                } catch (InterruptedException | ContextCancelledException e) {
                  // shutting down: fall through to the count-down
                } finally {
                  remaining.countDown();
                }
              });
    }
    Thread.ofVirtual()
        .name("merge-closer")
        .start(
            () -> {
              try {
                remaining.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                out.close();
              }
            });
    return out;
  }

  /** The body of one stage: sends until done. */
  interface StageBody {
    void run() throws InterruptedException;
  }

  /**
   * Runs {@code body} on a virtual thread and closes {@code out} after it, with its error if any.
   */
  static void stage(Channel<?> out, StageBody body) {
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                body.run();
                out.close();
              } catch (InterruptedException | ContextCancelledException e) {
                out.close(); // cancelled: end quietly, the canceller knows why
              } catch (RuntimeException | Error e) {
                out.close(e);
              }
            });
  }

  /**
   * Runs the pipeline over {@code source} with {@code workers} workers per stage.
   *
   * @param source the input strings
   * @param workers the fan-out per stage (the notes use NumCPU)
   * @param toTitle the second stage's function; may throw to show error propagation
   * @param log where the sink prints
   * @return the values the sink received
   * @throws InterruptedException if interrupted
   */
  static List<String> run(
      List<String> source, int workers, UnaryOperator<String> toTitle, PrintStream log)
      throws InterruptedException {
    List<String> got = new ArrayList<>();
    try (CancelableContext ctx = Context.background().withCancel()) {
      ReceiveChannel<String> produced = producer(ctx, source);
      List<ReceiveChannel<String>> lower = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        lower.add(transform(ctx, produced, s -> s.toLowerCase(Locale.ROOT)));
      }
      ReceiveChannel<String> stage1 = merge(ctx, lower);
      List<ReceiveChannel<String>> title = new ArrayList<>();
      for (int i = 0; i < workers; i++) {
        title.add(transform(ctx, stage1, toTitle));
      }
      try {
        for (String s : merge(ctx, title)) {
          log.println("sink: " + s);
          got.add(s);
        }
        log.println("done");
      } catch (ChannelClosedException e) {
        log.println("error: " + e.getCause().getMessage() + "; cancelling the pipeline");
        ctx.cancel(e.getCause()); // every stage still running stops at its next send
      }
    }
    return got;
  }

  static String title(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }

  /**
   * Runs the example twice: once cleanly, once with a stage that fails on "foo".
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    int cpus = Runtime.getRuntime().availableProcessors();
    run(List.of("FOO", "BAR", "BAX"), cpus, FanOutFanIn::title, System.out);
    run(
        List.of("FOO", "BAR", "BAX"),
        cpus,
        s -> {
          if (s.equals("foo")) {
            throw new IllegalArgumentException("oh no");
          }
          return title(s);
        },
        System.out);
  }
}
