package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.TaskFailedException;
import io.sluice.core.TaskGroup;
import io.sluice.core.UncheckedInterruptedException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

/**
 * The seed's fan-out/fan-in pipeline: producer → N × to-lower → merge → N × to-title → merge →
 * sink, with a context for shutdown — and with no goroutine left running, whatever way the run
 * ends.
 *
 * <p>The Go version starts every stage with a bare {@code go func()} and nothing waits for them:
 * when {@code main}'s sink returns early (an error, a cancelled context), the stages still blocked
 * on a send or a receive are left running. Here every thread belongs to one {@link TaskGroup}, and
 * {@link #run} returns only after the group has joined all of them — after success, after a failing
 * stage and after cancellation alike ({@code FanOutFanInTest} checks each with a thread factory
 * that remembers every thread).
 *
 * <p>What else changes from the Go notes:
 *
 * <ul>
 *   <li>Every stage sends with {@code send(ctx, v)}, so a cancelled context unblocks a stage stuck
 *       on a full channel (the Go version's {@code select { case <-ctx.Done(): ... default: out <-
 *       s }} still blocks in {@code out <- s}).
 *   <li>A stage that fails closes its output with the error ({@code close(error)}), so downstream
 *       learns why the stream ended, and rethrows it, so the group cancels every other stage at
 *       once and {@link TaskGroup#await()} reports it: the seed's separate error channel, without
 *       the risk of nobody reading it.
 *   <li>Each stage closes only its own output, in every path; the merge's last forwarder closes the
 *       merged output (Go's {@code wg.Wait(); close(out)}), so nothing is sent on a closed channel.
 * </ul>
 */
public final class FanOutFanIn {
  private FanOutFanIn() {}

  /** How a run ended. */
  enum End {
    /** Every value reached the sink. */
    DONE,
    /** A stage threw; the group cancelled the others. */
    FAILED,
    /** The caller's context was cancelled. */
    CANCELLED
  }

  /**
   * What the sink saw.
   *
   * @param values the values it received, in arrival order
   * @param end how the run ended
   * @param cause the failing stage's exception, or the cancellation; empty when done
   */
  record Outcome(List<String> values, End end, Optional<Throwable> cause) {}

  /** The body of one stage: sends until done. */
  interface StageBody {
    void run(Context ctx) throws InterruptedException;
  }

  /**
   * Runs {@code body} as a task of {@code g} and closes {@code out} after it, in every path.
   *
   * <p>A failure of this stage closes {@code out} with the error and is rethrown, so the group
   * cancels the other stages and reports it; an upstream failure is passed on downstream but not
   * rethrown (its own stage reports it); a cancellation ends the stage quietly.
   */
  static void stage(TaskGroup g, Channel<?> out, StageBody body) throws InterruptedException {
    g.go(
        ctx -> {
          try {
            body.run(ctx);
            out.close();
          } catch (ChannelClosedException upstream) {
            out.close(upstream.error().orElse(upstream));
          } catch (InterruptedException
              | UncheckedInterruptedException
              | ContextCancelledException cancelled) {
            out.close(); // cancelled: end quietly, the canceller knows why
          } catch (RuntimeException | Error e) {
            out.close(e);
            throw e;
          }
        });
  }

  static ReceiveChannel<String> producer(TaskGroup g, List<String> strings)
      throws InterruptedException {
    Channel<String> out = Channel.unbuffered();
    stage(
        g,
        out,
        ctx -> {
          for (String s : strings) {
            out.send(ctx, s);
          }
        });
    return out;
  }

  static ReceiveChannel<String> transform(
      TaskGroup g, ReceiveChannel<String> in, UnaryOperator<String> fn)
      throws InterruptedException {
    Channel<String> out = Channel.unbuffered();
    stage(
        g,
        out,
        ctx -> {
          for (String s : in) {
            out.send(ctx, fn.apply(s));
          }
        });
    return out;
  }

  /**
   * Forwards every input to one output on forwarders owned by {@code g}; the last forwarder to end
   * closes the output, with the first upstream error if there was one.
   */
  static <T> ReceiveChannel<T> merge(TaskGroup g, List<ReceiveChannel<T>> inputs)
      throws InterruptedException {
    Channel<T> out = Channel.unbuffered();
    AtomicInteger running = new AtomicInteger(inputs.size());
    AtomicReference<Throwable> upstream = new AtomicReference<>();
    for (ReceiveChannel<T> in : inputs) {
      g.go(
          ctx -> {
            try {
              for (T v : in) {
                out.send(ctx, v);
              }
            } catch (ChannelClosedException e) {
              upstream.compareAndSet(null, e.error().orElse(e));
            } catch (InterruptedException
                | UncheckedInterruptedException
                | ContextCancelledException cancelled) {
              // shutting down: the last forwarder still closes the output
            } finally {
              if (running.decrementAndGet() == 0) {
                Throwable error = upstream.get();
                if (error == null) {
                  out.close();
                } else {
                  out.close(error);
                }
              }
            }
          });
    }
    return out;
  }

  /**
   * The seed's warning "sending values to a closed channel is a panic", done on purpose: a send on
   * a channel its owner has already closed. In Go that panic ends the whole process unless the
   * sender recovers it. Here {@code send} throws {@link ChannelClosedException} ("send on closed
   * channel") to that sender alone, the value is not delivered, and the receivers still see a clean
   * end of the stream. The stages above never reach it: each closes only its own output, after its
   * last send, and the merge closes when its last forwarder ends.
   *
   * @param closed a channel that has been closed
   * @return what the late send threw, or {@code null} if it was sent
   * @throws InterruptedException if interrupted
   */
  static ChannelClosedException sendAfterClose(Channel<String> closed) throws InterruptedException {
    try {
      closed.send("late");
      return null;
    } catch (ChannelClosedException e) {
      return e;
    }
  }

  /** Starts producer → N × to-lower → merge → N × to-title → merge, every stage a task of g. */
  static ReceiveChannel<String> stages(
      TaskGroup g, List<String> source, int workers, UnaryOperator<String> toTitle)
      throws InterruptedException {
    ReceiveChannel<String> produced = producer(g, source);
    List<ReceiveChannel<String>> lower = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      lower.add(transform(g, produced, s -> s.toLowerCase(Locale.ROOT)));
    }
    ReceiveChannel<String> stage1 = merge(g, lower);
    List<ReceiveChannel<String>> title = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      title.add(transform(g, stage1, toTitle));
    }
    return merge(g, title);
  }

  /**
   * Runs the pipeline over {@code source} with {@code workers} workers per stage, every thread made
   * by {@code threads} and joined before this returns.
   *
   * @param parent cancelling it stops the run
   * @param source the input strings
   * @param workers the fan-out per stage (the notes use NumCPU), at least 1
   * @param toTitle the second stage's function; may throw to show error propagation
   * @param threads makes every thread of the run
   * @param log where the sink prints
   * @return what the sink received and how the run ended
   * @throws InterruptedException if interrupted; the stages have ended by then too
   */
  static Outcome run(
      Context parent,
      List<String> source,
      int workers,
      UnaryOperator<String> toTitle,
      ThreadFactory threads,
      PrintStream log)
      throws InterruptedException {
    if (workers < 1) {
      throw new IllegalArgumentException("workers must be at least 1, was " + workers);
    }
    List<String> got = new ArrayList<>();
    TaskGroup.Options options =
        TaskGroup.Options.defaults().withName("fan-out-fan-in").withThreadFactory(threads);
    try (TaskGroup g = TaskGroup.open(parent, options)) {
      try {
        for (String s : stages(g, source, workers, toTitle)) {
          log.println("sink: " + s);
          got.add(s);
        }
      } catch (ChannelClosedException | ContextCancelledException stopped) {
        // A stage failed (or the parent was cancelled) and the group's context is done: the other
        // stages stop, and starting a stage throws. await says which.
      } catch (UncheckedInterruptedException e) {
        Thread.interrupted(); // reported by the exception; close() below cancels and joins
        throw e.getCause();
      }
      try {
        g.await(); // every stage has ended and its thread terminated
      } catch (TaskFailedException e) {
        log.println(
            "error: " + e.getCause().getMessage() + "; the group cancelled the other stages");
        return new Outcome(got, End.FAILED, Optional.of(e.getCause()));
      }
    }
    if (parent.isDone()) {
      log.println("cancelled after " + got.size() + " value(s)");
      return new Outcome(got, End.CANCELLED, parent.cause());
    }
    log.println("done");
    return new Outcome(got, End.DONE, Optional.empty());
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
    ThreadFactory threads = Thread.ofVirtual().name("fan-out-fan-in-", 0).factory();
    List<String> source = List.of("FOO", "BAR", "BAX");
    run(Context.background(), source, cpus, FanOutFanIn::title, threads, System.out);
    run(
        Context.background(),
        source,
        cpus,
        s -> {
          if (s.equals("foo")) {
            throw new IllegalArgumentException("oh no");
          }
          return title(s);
        },
        threads,
        System.out);
    Channel<String> closed = Channel.buffered(1);
    closed.close();
    System.out.println("a late send: " + sendAfterClose(closed).getMessage());
  }
}
