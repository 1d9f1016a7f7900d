package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import io.sluice.core.Semaphore;
import io.sluice.core.TaskFailedException;
import io.sluice.core.TaskGroup;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The seed's ways to bound concurrency, with their traps removed.
 *
 * <ul>
 *   <li>{@link #step}: "Maximum Efficiency With Semaphores" — one virtual thread per item, at most
 *       {@code limit} at once. The Go step leaks goroutines blocked on an error channel nobody
 *       reads any more, its {@code break} only leaves the {@code select}, and when its final {@code
 *       Acquire(ctx, limit)} fails it closes the output while workers may still send on it (a
 *       panic). Here a {@link TaskGroup} with a limit runs the items, the first failure cancels the
 *       rest, every worker has ended before the output closes, and the failure travels to the
 *       consumer with {@code close(error)}.
 *   <li>{@link #weightedStep}: the same with an explicit {@link Semaphore}, for when items have
 *       different weights (e.g. bytes of memory).
 *   <li>{@link #fixedWorkers}: "how to limit goroutines" — a fixed number of workers ranging over
 *       an unbuffered channel, joined by the group instead of a {@code WaitGroup}.
 * </ul>
 */
public final class BoundedConcurrency {
  private BoundedConcurrency() {}

  /** A transformation that may fail. */
  @FunctionalInterface
  interface Fn<I, O> {
    O apply(I in) throws Exception;
  }

  /**
   * Applies {@code fn} to every input, at most {@code limit} at a time, each on its own virtual
   * thread; the output is closed after the last result, or with the first failure.
   *
   * @param ctx stops the step when done
   * @param in the inputs
   * @param limit the most items in flight
   * @param fn the work per item
   * @param <I> input type
   * @param <O> output type
   * @return the outputs, in completion order
   */
  static <I, O> ReceiveChannel<O> step(
      Context ctx, ReceiveChannel<I> in, int limit, Fn<? super I, ? extends O> fn) {
    Channel<O> out = Channel.unbuffered();
    Thread.ofVirtual()
        .name("step")
        .start(
            () -> {
              try (TaskGroup g =
                  TaskGroup.open(ctx, TaskGroup.Options.defaults().withLimit(limit))) {
                Throwable upstream = null;
                try {
                  while (in.receiveOrClosed(g.context()) instanceof Received.Value<I>(I item)) {
                    g.go(c -> out.send(c, fn.apply(item))); // waits while `limit` items run
                  }
                  upstream =
                      in.receiveOrClosed() instanceof Received.Closed<I> c
                          ? c.error().orElse(null)
                          : null;
                } catch (RuntimeException | InterruptedException stopFeeding) {
                  // the group's context ended (a worker failed): await reports why
                }
                g.await();
                if (upstream != null) {
                  out.close(upstream); // the producer's failure goes on downstream
                } else {
                  out.close();
                }
              } catch (TaskFailedException e) {
                out.close(e.getCause());
              } catch (InterruptedException | RuntimeException e) {
                out.close(e);
              }
            });
    return out;
  }

  /**
   * Like {@link #step}, but each item holds {@code weight(item)} units of a shared budget.
   *
   * @param ctx stops the work when done
   * @param items the inputs
   * @param budget the semaphore to draw from
   * @param weight each item's cost, at most the semaphore's size
   * @param work the work per item
   * @param <I> the item type
   * @throws Exception the first failure
   */
  static <I> void weightedStep(
      Context ctx,
      List<I> items,
      Semaphore budget,
      java.util.function.ToLongFunction<I> weight,
      Fn<? super I, ?> work)
      throws Exception {
    try (TaskGroup g = TaskGroup.open(ctx)) {
      try {
        for (I item : items) {
          long w = weight.applyAsLong(item);
          budget.acquire(g.context(), w); // waits for budget, in arrival order
          g.go(
              c -> {
                try {
                  work.apply(item);
                } finally {
                  budget.release(w);
                }
              });
        }
      } catch (ContextCancelledException stopped) {
        g.await(); // a task failed: this throws its failure rather than the cancellation
        throw stopped;
      }
      g.await();
    }
  }

  /**
   * What {@link #fixedWorkers} did: how many tasks, on how many distinct threads.
   *
   * @param done how many tasks were done
   * @param threads how many distinct threads did them (the seed printed {@code
   *     runtime.NumGoroutine()} for this)
   */
  record Workers(int done, int threads) {}

  /**
   * Runs {@code workers} workers that take tasks from one unbuffered channel until it closes. The
   * seed's {@code sendTask} does {@code wg.Add(1)} per task and each worker {@code wg.Done()}; here
   * the group joins the workers once the sender closes the channel, so no count can be forgotten
   * and the sender never waits on a worker that has gone.
   *
   * @param tasks how many tasks to hand out
   * @param workers the fixed number of workers
   * @return how many tasks were done, and on how many threads
   * @throws Exception if a worker failed
   */
  static Workers fixedWorkers(int tasks, int workers) throws Exception {
    Channel<Integer> ch = Channel.unbuffered();
    AtomicInteger done = new AtomicInteger();
    Set<Thread> threads = ConcurrentHashMap.newKeySet();
    try (TaskGroup g = TaskGroup.open(Context.background())) {
      for (int i = 0; i < workers; i++) {
        g.go(
            c -> {
              for (int task : ch) {
                threads.add(Thread.currentThread());
                done.incrementAndGet();
              }
            });
      }
      try {
        for (int t = 0; t < tasks; t++) {
          ch.send(g.context(), t);
        }
      } finally {
        ch.close(); // the workers' loops end; the group joins them
      }
      g.await();
    }
    return new Workers(done.get(), threads.size());
  }

  /**
   * Runs the seed's semaphore example: to-lower, then to-title failing on "foo".
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Channel<String> source = Channel.buffered(3);
    for (String s : List.of("FOO", "BAR", "BAX")) {
      source.send(s);
    }
    source.close();
    int cpus = Runtime.getRuntime().availableProcessors();
    Context ctx = Context.background();
    ReceiveChannel<String> lower = step(ctx, source, cpus, s -> s.toLowerCase(Locale.ROOT));
    ReceiveChannel<String> title =
        step(
            ctx,
            lower,
            cpus,
            s -> {
              if (s.equals("foo")) {
                throw new IllegalArgumentException("oh no");
              }
              return FanOutFanIn.title(s);
            });
    try {
      for (String s : title) {
        System.out.println("sink: " + s);
      }
      System.out.println("done");
    } catch (ChannelClosedException e) {
      System.out.println("error: " + e.getCause().getMessage());
    }
  }
}
