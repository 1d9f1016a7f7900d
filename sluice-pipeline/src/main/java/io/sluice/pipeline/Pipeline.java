package io.sluice.pipeline;

import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.SendChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;
import java.util.stream.Stream;

/**
 * A typed, cancellable data pipeline: a source, stages connected by bounded channels, and a
 * terminal that runs it. The seed's producer → stages → sink, with the pitfalls designed out.
 *
 * <pre>{@code
 * Result<List<String>> r =
 *     Pipeline.from(List.of("FOO", "BAR", "BAX"))
 *         .map(String::toLowerCase).named("to-lower")
 *         .mapParallel(16, s -> fetchTitle(s))          // virtual threads, at most 16 at once
 *         .toList(ctx);                                // runs; ctx cancels it
 * System.out.println(r.report());                      // per-stage table
 * }</pre>
 *
 * <p><b>A description, run by a terminal.</b> A {@code Pipeline} value is immutable and does
 * nothing by itself; every method that adds a stage returns a new value. A terminal — {@link
 * #forEach}, {@link #toList}, {@link #reduce}, {@link #toChannel}, {@link #to}, {@link #broadcast},
 * {@link #split} — starts the threads, consumes the output on the caller's thread, waits until
 * every thread it started has ended, and returns a {@link Result} (the value and a {@link Report}).
 * {@link #open} is the one terminal that returns at once: it runs the pipeline on a thread of its
 * own into a channel the caller reads, and its {@link Outlet} gives the result at the end. The same
 * description can be run again; each run reads its source afresh (a stream or an iterator can of
 * course be read only once).
 *
 * <p><b>Threads and channels.</b> Each stage runs on its own virtual thread (parallel stages: up to
 * one per item in flight) created by the options' thread factory; stages are connected by bounded
 * channels holding {@link Options#bufferSize()} items, passed in chunks of up to {@link
 * Options#chunkSize()} items to spread the cost of a handoff. A stage sends a partial chunk as soon
 * as its input has nothing ready, so chunking adds no latency. A slow stage or sink fills the
 * channels before it and the source waits: memory is bounded by the buffer sizes, whatever the
 * input's length. A stage that finds its output channel full goes on once the next stage has
 * emptied half of it (not as soon as one chunk is free), so that with more stages than cores each
 * stage thread runs for half a buffer between two waits.
 *
 * <p><b>What the seed's bugs become.</b> Within a run, every channel's reader starts with its
 * writer (the stages and the terminal start together), so no stage waits on a channel nobody will
 * read. A channel of the caller's is another matter: {@link #toChannel} blocks the caller until the
 * run ends, so its channel must be read by another thread or hold every item, or the caller waits
 * for ever — the seed's unbuffered deadlock; {@link #open} runs the pipeline on a thread of its own
 * and can be read on the caller's thread. The end of a stream is a typed end, not a stream of zero
 * values; a stage never sends on a closed channel — a stage that stops early ({@link #take}) makes
 * the stages before it stop, up to the source; errors are never lost (see {@link ErrorPolicy}); and
 * no thread outlives the terminal call (for {@link #open}, the outlet's {@link Outlet#close()} or
 * {@link Outlet#result()}), whether the run completes, fails or is cancelled.
 *
 * <p><b>Failures</b> follow the run's {@link ErrorPolicy} ({@link Options#withErrorPolicy}), which
 * one stage can override with {@link #onError}. Under the default fail-fast policy the terminal
 * throws a {@link PipelineException} naming the stage and the item.
 *
 * <p><b>Cancellation.</b> Every terminal takes a {@link Context}. When it is cancelled or reaches
 * its deadline the run stops as {@link Options#stopMode()} says — {@link StopMode#IMMEDIATE} (the
 * default) or {@link StopMode#GRACEFUL} — and the terminal returns normally with what it consumed
 * so far; {@link Result#outcome()} tells which stop happened. If the calling thread is interrupted,
 * the run stops immediately and the terminal throws {@link InterruptedException}. A function can
 * take the run's context with {@link #context()}, so that a blocking call ends when the run stops
 * or fails.
 *
 * <p>Memory consistency effects: actions of a stage on an item happen-before the next stage's
 * actions on what it produced; everything the run's threads did happens-before the terminal returns
 * or throws.
 *
 * @param <T> the type of the items leaving the last stage
 */
public final class Pipeline<T> {
  private final Node node;
  private final Options options;

  Pipeline(Node node, Options options) {
    this.node = node;
    this.options = options != null ? options : Options.defaults();
  }

  Node node() {
    return node;
  }

  // ---------------------------------------------------------------- sources

  /**
   * A pipeline over the items of an iterable, read on the source's thread. Items are read in chunks
   * of {@link Options#chunkSize()}: an iterator whose {@code next()} blocks holds back the items
   * already read into the current chunk. For a source that pauses (a socket, a queue), use {@link
   * #generate} or {@link #from(ReceiveChannel)}, which pass every item on at once.
   *
   * @param items the items; none may be null
   * @param <T> the item type
   * @return the pipeline
   */
  public static <T> Pipeline<T> from(Iterable<? extends T> items) {
    Objects.requireNonNull(items, "items");
    return source(new Sources.IteratorSource(items::iterator, null));
  }

  /**
   * A pipeline over a stream's elements, read on the source's thread in chunks (see {@link
   * #from(Iterable)}); the stream is closed when the source ends, or when the run ends if it ended
   * before the source could start (a context already done). A stream can be consumed once, so the
   * pipeline can be run once.
   *
   * @param items the stream; no element may be null
   * @param <T> the item type
   * @return the pipeline
   */
  public static <T> Pipeline<T> from(Stream<? extends T> items) {
    Objects.requireNonNull(items, "items");
    return source(new Sources.IteratorSource(items::iterator, Sources.once(items::close)));
  }

  /**
   * A pipeline over what a channel delivers until it is closed. The pipeline never closes the
   * channel: whoever created it does (Go's rule). A channel closed with an error fails the source.
   *
   * @param channel the channel
   * @param <T> the item type
   * @return the pipeline
   */
  public static <T> Pipeline<T> from(ReceiveChannel<? extends T> channel) {
    return source(new Sources.ChannelSource(Objects.requireNonNull(channel, "channel")));
  }

  /**
   * A pipeline over what a generator emits: a function on its own thread that pushes items with
   * {@link Emitter#emit}, which blocks while the pipeline is full, and may block anywhere else. The
   * source ends when the generator returns; what it throws fails the source.
   *
   * @param generator the generator
   * @param <T> the item type
   * @return the pipeline
   */
  public static <T> Pipeline<T> generate(Generator<T> generator) {
    return source(new Sources.GeneratorSource(Objects.requireNonNull(generator, "generator")));
  }

  /**
   * The integers from {@code from} (inclusive) to {@code to} (exclusive).
   *
   * @param from the first
   * @param to one past the last
   * @return the pipeline
   * @throws IllegalArgumentException if {@code to < from}
   */
  public static Pipeline<Integer> range(int from, int to) {
    if (to < from) {
      throw new IllegalArgumentException("range end " + to + " is before its start " + from);
    }
    return source(new Sources.Range(from, to));
  }

  /**
   * The instants of a ticker of the given period, from the clock of the run's context (so a {@link
   * io.sluice.core.ManualClock} drives it in tests). Endless: stop it with {@link #take}, or by
   * cancelling the context. A slow pipeline skips ticks, as Go's ticker does. The first tick comes
   * one period after the run starts; for ticks aligned to a start instant, or a cron schedule, feed
   * the pipeline from {@code sluice-schedule}: {@code Pipeline.from(scheduler.fireTimes(ctx,
   * trigger))}.
   *
   * @param period the time between ticks; positive
   * @return the pipeline
   */
  public static Pipeline<Instant> ticks(Duration period) {
    if (!period.isPositive()) {
      throw new IllegalArgumentException("period must be positive, was " + period);
    }
    return generate(Sources.ticks(period)).named("ticks");
  }

  /**
   * Fan-in: the items of several pipelines, interleaved as they arrive. Each keeps its own order.
   * The merged pipeline takes the options of the first.
   *
   * @param pipelines the pipelines, at least one
   * @param <T> the item type
   * @return the merged pipeline
   */
  public static <T> Pipeline<T> merge(List<? extends Pipeline<? extends T>> pipelines) {
    if (pipelines.isEmpty()) {
      throw new IllegalArgumentException("nothing to merge");
    }
    List<Node> inputs = new ArrayList<>();
    for (Pipeline<? extends T> p : pipelines) {
      inputs.add(p.node);
    }
    return new Pipeline<>(new Node(new Stages.Merge(), inputs), pipelines.getFirst().options());
  }

  /**
   * Fan-in of two or more pipelines; see {@link #merge(List)}.
   *
   * @param first a pipeline
   * @param others more pipelines
   * @param <T> the item type
   * @return the merged pipeline
   */
  @SafeVarargs
  public static <T> Pipeline<T> merge(
      Pipeline<? extends T> first, Pipeline<? extends T>... others) {
    List<Pipeline<? extends T>> all = new ArrayList<>();
    all.add(first);
    for (Pipeline<? extends T> p : others) {
      all.add(p);
    }
    return merge(all);
  }

  /**
   * Fan-in of channels: each read until it is closed, as {@link #from(ReceiveChannel)}.
   *
   * @param channels the channels, at least one
   * @param <T> the item type
   * @return the merged pipeline
   */
  public static <T> Pipeline<T> mergeChannels(
      List<? extends ReceiveChannel<? extends T>> channels) {
    List<Pipeline<? extends T>> all = new ArrayList<>();
    for (ReceiveChannel<? extends T> c : channels) {
      all.add(from(c));
    }
    return merge(all);
  }

  private static <T> Pipeline<T> source(Node.Kind kind) {
    return new Pipeline<>(new Node(kind, List.of()), Options.defaults());
  }

  // ---------------------------------------------------------------- stages

  /**
   * Applies {@code fn} to each item, in order.
   *
   * @param fn the function; must not return null
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> map(Fn<? super T, ? extends R> fn) {
    return then(new Stages.MapKind(erase(fn)));
  }

  /**
   * Keeps the items {@code test} accepts.
   *
   * @param test the predicate
   * @return the pipeline with the stage added
   */
  public Pipeline<T> filter(Predicate<? super T> test) {
    Objects.requireNonNull(test, "test");
    @SuppressWarnings("unchecked")
    Predicate<Object> t = (Predicate<Object>) test;
    return then(new Stages.FilterKind(t));
  }

  /**
   * Replaces each item by the items {@code fn} returns for it (none, one or many), in order.
   *
   * <p>An item's outputs go on all or none: the stage reads what {@code fn} returned to its end — a
   * lazy {@code Iterable} is iterated there — before it passes any on, and the error policy guards
   * both the call and the iteration. So an item whose iteration throws or yields a null fails
   * (naming the item), is skipped or is retried as a whole, and no part of its outputs is passed
   * on. The outputs of one item are therefore held in memory at once: {@code fn} must return a
   * finite {@code Iterable}; for an expansion too large to hold, emit it from a {@link #generate}
   * source instead.
   *
   * @param fn the function; must not return null, nor an iterable with a null element
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> flatMap(Fn<? super T, ? extends Iterable<? extends R>> fn) {
    return then(new Stages.FlatMap(erase(fn)));
  }

  /**
   * Calls {@code action} with each item and passes the item on.
   *
   * @param action the action
   * @return the pipeline with the stage added
   */
  public Pipeline<T> peek(Consumer<? super T> action) {
    Objects.requireNonNull(action, "action");
    @SuppressWarnings("unchecked")
    Consumer<Object> a = (Consumer<Object>) action;
    return then(new Stages.PeekKind(a));
  }

  /**
   * Applies {@code fn} to up to {@code parallelism} items at once, on virtual threads, and passes
   * the results on in input order. The seed's semaphore-bounded step, with no fixed pool: an item
   * that finds fewer than {@code parallelism} items running gets a new thread; a thread whose item
   * is done takes the next waiting item if there is one and otherwise ends. So three items cost at
   * most three threads, a busy stage does not pay a thread start per item, and an idle stage holds
   * no thread. Because a thread may run several items in turn, {@code fn} should not rely on
   * thread-locals being fresh; the interrupt status is cleared between items. A bounded re-order
   * buffer holds results that finished before an earlier item: at most {@code 2 * parallelism}
   * items are between entering the stage and leaving it, so a slow item lets at most {@code 2 *
   * parallelism - 1} later ones finish (at most {@code parallelism - 1} at a time beside it) before
   * the stage waits for it.
   *
   * @param parallelism the most items in {@code fn} at once; at least 1
   * @param fn the function, typically blocking I/O
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> mapParallel(int parallelism, Fn<? super T, ? extends R> fn) {
    return then(new Parallel(checkPositive(parallelism, "parallelism"), true, erase(fn)));
  }

  /**
   * Like {@link #mapParallel(int, Fn)} with a parallelism of one item per available processor
   * ({@link Runtime#availableProcessors()}), the default where a number is needed. For
   * blocking I/O, where the right bound is the remote side's capacity rather than the cores, give
   * the parallelism explicitly.
   *
   * @param fn the function
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> mapParallel(Fn<? super T, ? extends R> fn) {
    return mapParallel(Runtime.getRuntime().availableProcessors(), fn);
  }

  /**
   * Like {@link #mapParallelUnordered(int, Fn)} with a parallelism of one item per available
   * processor; see {@link #mapParallel(Fn)}.
   *
   * @param fn the function
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> mapParallelUnordered(Fn<? super T, ? extends R> fn) {
    return mapParallelUnordered(Runtime.getRuntime().availableProcessors(), fn);
  }

  /**
   * Like {@link #mapParallel} but passes results on as they finish, in no particular order.
   *
   * @param parallelism the most items in {@code fn} at once; at least 1
   * @param fn the function
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> mapParallelUnordered(int parallelism, Fn<? super T, ? extends R> fn) {
    return then(new Parallel(checkPositive(parallelism, "parallelism"), false, erase(fn)));
  }

  /**
   * Applies {@code fn} on {@code workers} threads, routing each item by its key: items with equal
   * keys go to the same worker and keep their relative order; items with different keys may be
   * reordered. Each worker reads its own channel of {@link Options#bufferSize()} items, so the
   * stage may hold {@code workers × bufferSize} items besides its output channel: with many
   * workers, lower the buffer size ({@link Options#withBufferSize}) to bound the memory.
   *
   * @param key the key of an item, not null ({@code hashCode} picks the worker); what it or the
   *     key's {@code hashCode} throws is a failure of the item, under the stage's error policy
   * @param workers the number of worker threads; at least 1
   * @param fn the function
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> partitionBy(
      Function<? super T, ?> key, int workers, Fn<? super T, ? extends R> fn) {
    Objects.requireNonNull(key, "key");
    return then(
        new Stages.Partition(
            x -> key.apply(cast(x)), checkPositive(workers, "workers"), erase(fn)));
  }

  /**
   * Like {@link #partitionBy(Function, int, Fn)} with one worker per available processor.
   *
   * @param key the key of an item
   * @param fn the function
   * @param <R> the result type
   * @return the pipeline with the stage added
   */
  public <R> Pipeline<R> partitionBy(Function<? super T, ?> key, Fn<? super T, ? extends R> fn) {
    return partitionBy(key, Runtime.getRuntime().availableProcessors(), fn);
  }

  /**
   * Groups items into lists of {@code size}; a list that is not full goes out {@code maxWait} after
   * its first item arrived (on the clock of the run's context), and at the end of the stream.
   *
   * @param size the largest list; at least 1
   * @param maxWait how long the first item of a list may wait for the list to fill; not negative;
   *     one too long to count in nanoseconds (about 292 years) sets no time limit
   * @return the pipeline with the stage added
   */
  public Pipeline<List<T>> batch(int size, Duration maxWait) {
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative, was " + maxWait);
    }
    return then(new Stages.Batch(checkPositive(size, "size"), maxWait));
  }

  /**
   * Adds a buffer of {@code items} (rounded up to whole chunks) between the previous stage and the
   * next, so a bursty producer can run ahead of a steady consumer.
   *
   * @param items the buffer's size; at least 1
   * @return the pipeline with the stage added
   */
  public Pipeline<T> buffer(int items) {
    return then(new Stages.Buffer(checkPositive(items, "items")));
  }

  /**
   * Passes at most {@code permits} items per {@code per}, with bursts of up to {@code permits} (a
   * token bucket), on the clock of the run's context. While it waits for the next item's turn, it
   * stops as soon as the stages after it are gone (a {@link #take} after it has enough, a fan-out
   * branch that ended), not at the end of the wait.
   *
   * @param permits items per period; at least 1
   * @param per the period; positive; one too long to count in nanoseconds (about 292 years) lets
   *     the first burst pass and no item after it
   * @return the pipeline with the stage added
   */
  public Pipeline<T> throttle(int permits, Duration per) {
    if (!per.isPositive()) {
      throw new IllegalArgumentException("per must be positive, was " + per);
    }
    return then(new Stages.Throttle(checkPositive(permits, "permits"), per));
  }

  /**
   * Passes the first {@code n} items, then ends the stream; the stages before it stop, up to the
   * source. A run ended this way is {@link Outcome#COMPLETED}.
   *
   * @param n how many items; not negative
   * @return the pipeline with the stage added
   */
  public Pipeline<T> take(long n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must not be negative, was " + n);
    }
    return then(new Stages.Take(n));
  }

  /**
   * The same as {@link #take(long)}.
   *
   * @param n how many items; not negative
   * @return the pipeline with the stage added
   */
  public Pipeline<T> limit(long n) {
    return take(n).named("limit");
  }

  /**
   * Names the last stage (the source, for a bare source) in reports and failures. Names repeated in
   * one pipeline get {@code #2}, {@code #3} ... appended.
   *
   * @param name the name
   * @return the pipeline with its last stage renamed
   */
  public Pipeline<T> named(String name) {
    return new Pipeline<>(node.named(Objects.requireNonNull(name, "name")), options);
  }

  /**
   * Sets the error policy of the last stage, overriding the run's.
   *
   * @param policy the policy
   * @return the pipeline with its last stage's policy set
   */
  public Pipeline<T> onError(ErrorPolicy policy) {
    return new Pipeline<>(node.withPolicy(Objects.requireNonNull(policy, "policy")), options);
  }

  /**
   * Sets the options of runs of this pipeline. The options of the pipeline a terminal is called on
   * apply to the whole run.
   *
   * @param options the options
   * @return the pipeline with the options
   */
  public Pipeline<T> withOptions(Options options) {
    return new Pipeline<>(node, Objects.requireNonNull(options, "options"));
  }

  /**
   * The options of runs of this pipeline.
   *
   * @return the options
   */
  public Options options() {
    return options;
  }

  private <R> Pipeline<R> then(Node.Kind kind) {
    return new Pipeline<>(new Node(kind, List.of(node)), options);
  }

  // ---------------------------------------------------------------- terminals

  /**
   * Runs the pipeline, calling {@code action} with each item on the caller's thread. Waits for the
   * end of the run: the source ran out, the context stopped it, or a stage failed.
   *
   * @param ctx cancels the run; see the class comment
   * @param action the action; its failures are handled by the run's error policy
   * @return the number of items the action accepted, and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted; the run is then stopped and
   *     its threads have ended
   */
  public Result<Long> forEach(Context ctx, Action<? super T> action) throws InterruptedException {
    Objects.requireNonNull(action, "action");
    return run(ctx, "forEach", new Terminals.ForEach(eraseAction(action)));
  }

  /**
   * Runs the pipeline and collects the items, in the order they reach the end.
   *
   * @param ctx cancels the run
   * @return an unmodifiable list of the items, and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted
   */
  public Result<List<T>> toList(Context ctx) throws InterruptedException {
    return run(ctx, "toList", new Terminals.ToList<T>());
  }

  /**
   * Runs the pipeline and folds the items from the left: {@code fn(...fn(fn(identity, a), b)...)}.
   *
   * @param ctx cancels the run
   * @param identity the starting value
   * @param fn combines the value so far with the next item; must not return null
   * @param <R> the result type
   * @return the folded value, and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted
   */
  public <R> Result<R> reduce(Context ctx, R identity, BiFunction<R, ? super T, R> fn)
      throws InterruptedException {
    Objects.requireNonNull(identity, "identity");
    Objects.requireNonNull(fn, "fn");
    return run(
        ctx, "reduce", new Terminals.Reduce<R>(identity, (a, x) -> fn.apply(cast(a), cast(x))));
  }

  /**
   * Starts the pipeline on a thread of its own, sending its items to a new channel of {@code
   * capacity} that the caller reads, and returns at once: Go's producer that returns a {@code
   * <-chan}, without its deadlock. Read the channel on any thread, this one included; it is closed
   * when the run ends, as {@link #toChannel} closes its channel. Close the outlet (try with
   * resources) to stop a run whose items are no longer wanted and to wait for its threads:
   *
   * <pre>{@code
   * try (Outlet<String> out = pipeline.open(ctx, 16)) {
   *   for (String s : out.channel()) {
   *     use(s);
   *   }
   * }
   * }</pre>
   *
   * <p>The run's thread is made by {@link Options#threadFactory()}, like every other thread of the
   * run; cancelling {@code ctx} stops the run as for any terminal.
   *
   * @param ctx cancels the run
   * @param capacity the items the channel holds before the run waits for the reader; 0 for a
   *     rendezvous channel
   * @return the running pipeline, its channel and, once it has ended, its result
   * @throws IllegalArgumentException if {@code capacity} is negative
   */
  public Outlet<T> open(Context ctx, int capacity) {
    Objects.requireNonNull(ctx, "ctx");
    if (capacity < 0) {
      throw new IllegalArgumentException("capacity must not be negative, was " + capacity);
    }
    return new Outlet<>(this, ctx, capacity);
  }

  /**
   * Runs the pipeline on the caller's thread, sending each item to {@code channel} (waiting while
   * it is full), and returns when the run has ended. <b>The channel must be read by another
   * thread</b> (or hold every item): a caller that means to read it itself would wait in this call
   * for ever once the channel is full — the seed's unbuffered deadlock. To read on the same thread,
   * use {@link #open}. The run closes the channel at the end, so that a consumer ranging over it
   * always ends and learns why:
   *
   * <ul>
   *   <li>{@link Outcome#COMPLETED}: closed normally, after the last item;
   *   <li>{@link Outcome#FAILED}: closed with the {@link PipelineException} the terminal throws;
   *   <li>{@link Outcome#STOPPED_IMMEDIATELY} or {@link Outcome#STOPPED_GRACEFULLY}: closed with
   *       the cause of {@code ctx} ({@link io.sluice.core.Context#cause()}) after the items that
   *       reached the terminal — under a graceful stop, every item drained — so the consumer learns
   *       that the stream ended early and why. A context found done when the stream ended counts as
   *       a stop under {@link StopMode#GRACEFUL}; the channel and the {@link Result} always agree;
   *   <li>the calling thread interrupted: closed with a {@link
   *       java.util.concurrent.CancellationException} whose cause is the {@link
   *       InterruptedException} this method then throws.
   * </ul>
   *
   * <p>A consumer sees the cause as the {@link io.sluice.core.ChannelClosedException#error()} of
   * the exception its receive throws once it has taken every item. If the consumer closes the
   * channel, the run ends early as with {@link #take}.
   *
   * @param ctx cancels the run
   * @param channel where the items go; the run closes it
   * @return the number of items sent, and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted
   */
  public Result<Long> toChannel(Context ctx, SendChannel<? super T> channel)
      throws InterruptedException {
    return run(ctx, "toChannel", new Terminals.ToChannel<>(Objects.requireNonNull(channel)));
  }

  /**
   * Runs the pipeline, writing the items to {@code sink} in batches (see {@link Sink}).
   *
   * @param ctx cancels the run
   * @param sink the sink
   * @return the number of items written, and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted
   */
  public Result<Long> to(Context ctx, Sink<? super T> sink) throws InterruptedException {
    return run(ctx, "sink", new Terminals.ToSink(Objects.requireNonNull(sink, "sink")));
  }

  /**
   * Fan-out: runs the pipeline and writes every item to every sink. Each sink drains its own buffer
   * on its own thread, so a slow sink slows the others only once its buffer is full. A sink made
   * with {@link Sink#through} runs more stages first (a branch); a branch that ends early (with
   * {@link #take}) is dropped and the others go on.
   *
   * @param ctx cancels the run
   * @param sinks the sinks, at least one
   * @return the number of items broadcast (given to at least one sink), and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted
   */
  public Result<Long> broadcast(Context ctx, List<? extends Sink<? super T>> sinks)
      throws InterruptedException {
    if (sinks.isEmpty()) {
      throw new IllegalArgumentException("no sinks");
    }
    return run(ctx, "broadcast", new Terminals.FanOut(sinks, null));
  }

  /**
   * Fan-out into branches: runs the pipeline and writes each item to the one sink {@code router}
   * chooses (an index into {@code sinks}). A router that fails or returns an index out of range
   * fails the item, under the run's error policy.
   *
   * @param ctx cancels the run
   * @param router the index of the sink for an item
   * @param sinks the sinks, at least one; a sink made with {@link Sink#through} is a branch with
   *     stages of its own
   * @return the number of items routed to a branch (not counting items the router failed on, nor
   *     items for a branch that had already ended), and the report
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted
   */
  public Result<Long> split(
      Context ctx, ToIntFunction<? super T> router, List<? extends Sink<? super T>> sinks)
      throws InterruptedException {
    Objects.requireNonNull(router, "router");
    if (sinks.isEmpty()) {
      throw new IllegalArgumentException("no sinks");
    }
    return run(ctx, "split", new Terminals.FanOut(sinks, x -> router.applyAsInt(cast(x))));
  }

  private <R> Result<R> run(Context ctx, String name, Run.Terminal<R> terminal)
      throws InterruptedException {
    return Run.execute(Objects.requireNonNull(ctx, "ctx"), options, node, name, terminal);
  }

  // ---------------------------------------------------------------- the run's context

  /** The run's context, bound on every thread of a run that calls user code. */
  static final ScopedValue<Context> CONTEXT = ScopedValue.newInstance();

  /**
   * The context of the run that is calling the current function: for a stage's function, a
   * terminal's action, a sink's write, a router or a key function, so that a blocking call inside
   * it can take the context ({@code channel.receive(Pipeline.context())}, {@code
   * ctx.clock().sleep(ctx, d)}, {@code ctx.awaitDone()}) and end when the run stops, rather than
   * only by interruption.
   *
   * <p>The context is done — with the cause as its {@link Context#cause()} — when the run fails
   * (the {@link PipelineException}), when it stops immediately (the cause of the context given to
   * the terminal), and when the run ends (after the terminal has consumed its last item, for
   * instance after a {@link #take}). A {@link StopMode#GRACEFUL} stop leaves it <em>not</em> done
   * while the pipeline drains, so that functions finish the items already taken; if the stop has a
   * limit ({@link Options#withGracefulStopTimeout}) and the drain outlasts it, the context is then
   * cancelled as for an immediate stop. Its clock is the clock of the terminal's context.
   *
   * @return the run's context
   * @throws IllegalStateException if the current thread is not running a pipeline's function
   */
  public static Context context() {
    if (!CONTEXT.isBound()) {
      throw new IllegalStateException(
          "Pipeline.context() is for functions a pipeline run calls: stages, terminals, sinks");
    }
    return CONTEXT.get();
  }

  // ---------------------------------------------------------------- helpers

  @SuppressWarnings("unchecked")
  private static <X> X cast(Object o) {
    return (X) o;
  }

  @SuppressWarnings("unchecked")
  private static Action<Object> eraseAction(Action<?> action) {
    return (Action<Object>) Objects.requireNonNull(action, "action");
  }

  @SuppressWarnings("unchecked")
  private static Fn<Object, Object> erase(Fn<?, ?> fn) {
    return (Fn<Object, Object>) Objects.requireNonNull(fn, "fn");
  }

  private static int checkPositive(int n, String what) {
    if (n < 1) {
      throw new IllegalArgumentException(what + " must be at least 1, was " + n);
    }
    return n;
  }

  /**
   * A stage's function, which may throw checked exceptions (I/O, interruption).
   *
   * @param <A> the argument type
   * @param <B> the result type
   */
  @FunctionalInterface
  public interface Fn<A, B> {
    /**
     * Applies the function.
     *
     * @param item the item
     * @return the result; not null
     * @throws Exception on failure, handled by the stage's error policy
     */
    B apply(A item) throws Exception;
  }

  /**
   * A terminal's action per item, which may throw checked exceptions.
   *
   * @param <A> the item type
   */
  @FunctionalInterface
  public interface Action<A> {
    /**
     * Acts on an item.
     *
     * @param item the item
     * @throws Exception on failure, handled by the run's error policy
     */
    void accept(A item) throws Exception;
  }

  /**
   * The body of a generator source; see {@link #generate(Generator)}.
   *
   * @param <A> the item type
   */
  @FunctionalInterface
  public interface Generator<A> {
    /**
     * Emits items until done; returning ends the source.
     *
     * @param emitter where the items go; its {@link Emitter#context()} is done when the run stops
     * @throws Exception on failure, which fails the source
     */
    void generate(Emitter<A> emitter) throws Exception;
  }

  /**
   * How runs of a pipeline are set up; immutable, with {@code withX} methods over the {@link
   * #defaults()}.
   *
   * @param chunkSize the most items passed between stages in one handoff (default 1024)
   * @param bufferSize the items a channel between two stages holds, rounded up to whole chunks
   *     (default 32768)
   * @param errorPolicy the run's error policy (default {@link ErrorPolicy#failFast()})
   * @param stopMode what cancelling the run's context does (default {@link StopMode#IMMEDIATE})
   * @param threadFactory makes every thread the run starts; null (the default) for virtual threads
   *     named {@code sluice-pipeline-N}
   * @param monitor a live view of the run, or null (the default)
   * @param gracefulStopTimeout how long a {@link StopMode#GRACEFUL} stop may drain before it
   *     becomes immediate, on the clock of the run's context; null (the default) for no limit
   */
  public record Options(
      int chunkSize,
      int bufferSize,
      ErrorPolicy errorPolicy,
      StopMode stopMode,
      ThreadFactory threadFactory,
      Monitor monitor,
      Duration gracefulStopTimeout) {

    /**
     * Checks the components.
     *
     * @param chunkSize at least 1
     * @param bufferSize at least 1
     * @param errorPolicy not null
     * @param stopMode not null
     * @param threadFactory may be null
     * @param monitor may be null
     * @param gracefulStopTimeout not negative; may be null
     */
    public Options {
      checkPositive(chunkSize, "chunkSize");
      checkPositive(bufferSize, "bufferSize");
      Objects.requireNonNull(errorPolicy, "errorPolicy");
      Objects.requireNonNull(stopMode, "stopMode");
      if (gracefulStopTimeout != null && gracefulStopTimeout.isNegative()) {
        throw new IllegalArgumentException(
            "gracefulStopTimeout must not be negative, was " + gracefulStopTimeout);
      }
    }

    /**
     * The defaults: chunks of 1024, buffers of 32768 items, fail fast, stop immediately, virtual
     * threads, no monitor, no limit on a graceful stop.
     *
     * @return the default options
     */
    public static Options defaults() {
      return new Options(1024, 32768, ErrorPolicy.failFast(), StopMode.IMMEDIATE, null, null, null);
    }

    /**
     * These options with another chunk size.
     *
     * @param chunkSize the most items per handoff; at least 1
     * @return the new options
     */
    public Options withChunkSize(int chunkSize) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          threadFactory,
          monitor,
          gracefulStopTimeout);
    }

    /**
     * These options with another buffer size.
     *
     * @param bufferSize items per channel between stages; at least 1
     * @return the new options
     */
    public Options withBufferSize(int bufferSize) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          threadFactory,
          monitor,
          gracefulStopTimeout);
    }

    /**
     * These options with another error policy.
     *
     * @param errorPolicy the run's policy
     * @return the new options
     */
    public Options withErrorPolicy(ErrorPolicy errorPolicy) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          threadFactory,
          monitor,
          gracefulStopTimeout);
    }

    /**
     * These options with another stop mode.
     *
     * @param stopMode what cancelling the context does
     * @return the new options
     */
    public Options withStopMode(StopMode stopMode) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          threadFactory,
          monitor,
          gracefulStopTimeout);
    }

    /**
     * These options with a thread factory for every thread the run starts.
     *
     * @param threadFactory the factory
     * @return the new options
     */
    public Options withThreadFactory(ThreadFactory threadFactory) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          Objects.requireNonNull(threadFactory, "threadFactory"),
          monitor,
          gracefulStopTimeout);
    }

    /**
     * These options with a monitor.
     *
     * @param monitor the live view to attach to each run
     * @return the new options
     */
    public Options withMonitor(Monitor monitor) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          threadFactory,
          Objects.requireNonNull(monitor, "monitor"),
          gracefulStopTimeout);
    }

    /**
     * These options with a limit on a graceful stop: if the pipeline has not drained {@code
     * timeout} after the run's context was done (on the context's clock), the stop becomes
     * immediate — every stage stops, {@link Pipeline#context()} is cancelled, the items still in
     * flight are dropped — and the run reports {@link Outcome#STOPPED_IMMEDIATELY}. Without a
     * limit, a function that never returns holds a graceful stop open for ever.
     *
     * @param timeout how long a graceful stop may drain; not negative
     * @return the new options
     */
    public Options withGracefulStopTimeout(Duration timeout) {
      return new Options(
          chunkSize,
          bufferSize,
          errorPolicy,
          stopMode,
          threadFactory,
          monitor,
          Objects.requireNonNull(timeout, "timeout"));
    }
  }
}
