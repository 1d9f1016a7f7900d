package io.sluice.examples;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.TaskGroup;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * The seed's "graceful shutdown with context": a producer and a sink that both stop when the
 * context is cancelled or times out — with nothing leaked and no value lost between them.
 *
 * <p>The Go version has two leaks. Its producer checks {@code ctx.Done()} in a {@code select} with
 * a {@code default} and then sends with a plain {@code outChannel <- s}: once the sink has returned
 * on {@code ctx.Done()}, nobody receives, and the producer goroutine blocks in that send for ever.
 * And whatever was in flight when the sink returned is dropped without a word. Here:
 *
 * <ul>
 *   <li>The producer paces itself with {@code ctx.clock().sleep(ctx, pace)} ({@link
 *       io.sluice.core.Time#sleep(Context, Duration)} on the context's clock, so a test can use a
 *       {@link io.sluice.core.ManualClock}) and sends with {@code send(ctx, v)}: both end at once
 *       when the context is done (Go's {@code time.Sleep} does not), and a send that ends so has
 *       sent nothing. It closes its channel in every path: whoever creates the channel closes it.
 *   <li>The sink ranges with {@link ReceiveChannel#range(Context)}, which ends with {@link
 *       ContextCancelledException} when the context is done. It then drains the channel without the
 *       context until the producer's close, and reports those values as not handled instead of
 *       dropping them: everything the producer sent is handled or reported. (If the producer
 *       stopped first and its close reached the waiting sink before the cancellation did, the sink
 *       sees the end of the stream instead, with nothing left to drain.)
 *   <li>The producer is a task of a {@link TaskGroup}, so {@link #run} returns only after its
 *       thread has terminated.
 * </ul>
 */
public final class GracefulShutdown {
  private GracefulShutdown() {}

  /**
   * How a run went.
   *
   * @param sent the values the producer's sends delivered, in order
   * @param handled the values the sink handled, in order
   * @param drained the values the sink received after it stopped and reported instead of handling
   * @param stoppedBy the context's error if the context stopped the run (the sink, or the producer
   *     and so the stream); empty if the stream ran to its end
   */
  record Outcome(
      List<String> sent,
      List<String> handled,
      List<String> drained,
      Optional<ContextCancelledException> stoppedBy) {}

  /** What the sink did: the last three components of an {@link Outcome}. */
  record Sunk(
      List<String> handled, List<String> drained, Optional<ContextCancelledException> stoppedBy) {}

  /**
   * Starts the producer as a task of {@code g}: one value of {@code strings} every {@code pace},
   * until the list ends or the group's context is done; then it closes the channel.
   *
   * @param g owns the producer's thread; its context stops the producer
   * @param strings the values to send
   * @param pace the pause before each value (the seed's {@code time.Sleep})
   * @param sent receives each value once its send has returned, that is, once it was delivered
   * @param log where to print
   * @return the receiving side; closed when the producer stops
   * @throws InterruptedException if interrupted while starting the task
   */
  static ReceiveChannel<String> producer(
      TaskGroup g, List<String> strings, Duration pace, List<String> sent, PrintStream log)
      throws InterruptedException {
    Channel<String> out = Channel.buffered(2);
    g.go(
        ctx -> {
          try {
            for (String s : strings) {
              ctx.clock().sleep(ctx, pace);
              out.send(ctx, s);
              sent.add(s);
            }
            log.println("producer: sent all " + strings.size());
          } catch (ContextCancelledException e) {
            log.println(
                "producer: stopped after "
                    + sent.size()
                    + " of "
                    + strings.size()
                    + ": "
                    + e.getMessage());
          } finally {
            out.close();
          }
        });
    return out;
  }

  /**
   * Handles each value until the end of the stream or until {@code ctx} is done; then receives what
   * is left until the producer closes the channel, reporting it instead of handling it.
   *
   * @param ctx stops the handling when done
   * @param values the producer's channel, which the producer closes when it stops
   * @param work handles one value
   * @param log where to print
   * @return what was handled, what was drained, and the context's error if it ended the run
   */
  static Sunk sink(
      Context ctx, ReceiveChannel<String> values, Consumer<String> work, PrintStream log) {
    List<String> handled = new ArrayList<>();
    try {
      for (String v : values.range(ctx)) {
        log.println("sink: " + v);
        work.accept(v);
        handled.add(v);
      }
      // The producer may have stopped on the same cancellation and closed the stream before the
      // sink's receive saw the context done: both were ready, and either may win, as in a Go
      // select.
      Optional<ContextCancelledException> why = ctx.err();
      log.println(
          "sink: end of stream after "
              + handled.size()
              + why.map(e -> " (the producer stopped: " + e.getMessage() + ")").orElse(""));
      return new Sunk(handled, List.of(), why);
    } catch (ContextCancelledException e) {
      log.println("sink: stopped after " + handled.size() + ": " + e.getMessage());
      List<String> drained = new ArrayList<>();
      for (String v : values) { // ends: the producer stops on the same context and closes
        drained.add(v);
      }
      log.println("sink: drained, not handled: " + drained);
      return new Sunk(handled, drained, Optional.of(e));
    }
  }

  /**
   * Runs producer and sink until the stream ends or {@code parent} is done, and returns after the
   * producer's thread has terminated.
   *
   * @param parent cancelling it, or its deadline, stops both sides
   * @param source the values to send
   * @param pace the producer's pause before each value
   * @param work the sink's handling of one value
   * @param threads makes the producer's thread
   * @param log where both sides print
   * @return what was sent, handled and drained, and why the sink stopped
   * @throws InterruptedException if interrupted; the producer has ended by then too
   * @throws ContextCancelledException if {@code parent} is done already: nothing starts
   */
  static Outcome run(
      Context parent,
      List<String> source,
      Duration pace,
      Consumer<String> work,
      ThreadFactory threads,
      PrintStream log)
      throws InterruptedException {
    List<String> sent = new ArrayList<>(); // read after await: the task's writes happen-before it
    TaskGroup.Options options =
        TaskGroup.Options.defaults().withName("graceful-shutdown").withThreadFactory(threads);
    try (TaskGroup g = TaskGroup.open(parent, options)) {
      ReceiveChannel<String> values = producer(g, source, pace, sent, log);
      Sunk sunk = sink(g.context(), values, work, log);
      g.await();
      return new Outcome(List.copyOf(sent), sunk.handled(), sunk.drained(), sunk.stoppedBy());
    }
  }

  /**
   * Runs the example twice: with time to spare, and with the seed's timeout in the middle of the
   * stream (its 3 s pace and 5 s cancel, scaled down to 100 ms and 250 ms).
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    ThreadFactory threads = Thread.ofVirtual().name("graceful-shutdown-", 0).factory();
    List<String> source = List.of("foo", "bar", "bax");
    try (CancelableContext ctx = Context.background().withTimeout(Duration.ofSeconds(30))) {
      report(run(ctx, source, Duration.ofMillis(10), v -> {}, threads, System.out));
    }
    try (CancelableContext ctx = Context.background().withTimeout(Duration.ofMillis(250))) {
      report(run(ctx, source, Duration.ofMillis(100), v -> {}, threads, System.out));
    }
  }

  private static void report(Outcome o) {
    System.out.println(
        "sent "
            + o.sent()
            + ", handled "
            + o.handled()
            + ", drained "
            + o.drained()
            + o.stoppedBy().map(e -> ", stopped by: " + e.getMessage()).orElse(", to the end"));
  }
}
