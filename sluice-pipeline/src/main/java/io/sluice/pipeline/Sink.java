package io.sluice.pipeline;

import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Where a pipeline's items end up, written in batches: a bulk target such as a database, an object
 * store or a file. Used by {@link Pipeline#to(io.sluice.core.Context, Sink)}, the fan-out terminals
 * {@link Pipeline#broadcast} and {@link Pipeline#split}, and as the error and dead-letter sinks of
 * an {@link ErrorPolicy}.
 *
 * <p><b>Batches.</b> The pipeline calls {@link #write(List)} with up to {@link #maxBatch()} items,
 * in pipeline order, one call at a time. It does not linger to fill a batch: it writes what has
 * arrived as soon as no more items are immediately available (group commit), so a batch is large
 * when the sink is slow and small when items trickle in. The list is unmodifiable and holds no
 * nulls; it stays valid after the call.
 *
 * <p>Memory consistency effects: each call of {@code write} happens-before the next one, so a sink
 * needs no locking for state only it touches, even though calls may come from different threads.
 *
 * <p><b>Failures.</b> What {@code write} throws is a failure of the sink's stage, handled by the
 * stage's {@link ErrorPolicy}; under skip or retry the {@link Failure#item()} is the whole batch.
 *
 * @param <T> the item type
 */
@FunctionalInterface
public interface Sink<T> {

  /**
   * Writes a batch. Called from a pipeline thread, one call at a time.
   *
   * @param batch the items, at least one and at most {@link #maxBatch()}
   * @throws Exception if the batch could not be written
   */
  void write(List<T> batch) throws Exception;

  /**
   * The largest batch this sink takes; 256 unless overridden.
   *
   * @return at least 1
   */
  default int maxBatch() {
    return 256;
  }

  /**
   * A sink that writes item by item.
   *
   * @param writer called once per item
   * @param <T> the item type
   * @return the sink
   */
  static <T> Sink<T> each(ItemWriter<T> writer) {
    Objects.requireNonNull(writer, "writer");
    return batch -> {
      for (T item : batch) {
        writer.write(item);
      }
    };
  }

  /**
   * A branch: more stages, then a sink. Given to {@link Pipeline#to}, {@link Pipeline#broadcast} or
   * {@link Pipeline#split}, the branch's stages run as part of the same run (same context, error
   * policy, report and threads), fed by the terminal. Branches nest: {@code sink} may be a branch
   * again, or a {@link #broadcast} or {@link #split} whose sinks are branches.
   *
   * <p>A branch cannot be written to directly: {@link #write(List)} throws {@link
   * UnsupportedOperationException}, and {@link ErrorPolicy#skip} and {@link ErrorPolicy#retry}
   * refuse one (or a fan-out holding one) as an error or dead-letter sink with an {@link
   * IllegalArgumentException}, since failures are written to their sink outside any run of stages.
   *
   * @param stages adds stages to the pipeline it is given (which starts where the branch is fed)
   * @param sink where the branch ends: any sink, a branch or a fan-out
   * @param <T> the item type entering the branch
   * @param <R> the item type leaving the branch's stages
   * @return the branch, usable as a sink of a fan-out terminal
   */
  static <T, R> Sink<T> through(
      Function<? super Pipeline<T>, ? extends Pipeline<R>> stages, Sink<? super R> sink) {
    return new BranchSink<>(
        Objects.requireNonNull(stages, "stages"), Objects.requireNonNull(sink, "sink"));
  }

  /**
   * A fan-out as a sink: every item to every one of {@code sinks}, as {@link Pipeline#broadcast}
   * does. Lets a branch ({@link #through}) fan out again. Given to a terminal or as a branch's
   * sink, each of {@code sinks} runs on its own thread as a stage of the run, and may be a branch.
   * Written to directly (for instance as an error sink) it writes each batch to every sink in turn,
   * which works only if none of them is a branch.
   *
   * @param sinks the sinks, at least one
   * @param <T> the item type
   * @return the fan-out sink
   */
  static <T> Sink<T> broadcast(List<? extends Sink<? super T>> sinks) {
    return new FanOutSink<T>(List.copyOf(sinks), null);
  }

  /**
   * A fan-out as a sink: each item to the one of {@code sinks} that {@code router} chooses, as
   * {@link Pipeline#split} does; otherwise like {@link #broadcast(List)}. A router that fails or
   * chooses an index out of range fails the item under the error policy of the stage that feeds
   * this sink.
   *
   * @param router the index of the sink for an item
   * @param sinks the sinks, at least one
   * @param <T> the item type
   * @return the fan-out sink
   */
  static <T> Sink<T> split(ToIntFunction<? super T> router, List<? extends Sink<? super T>> sinks) {
    Objects.requireNonNull(router, "router");
    return new FanOutSink<T>(List.copyOf(sinks), x -> router.applyAsInt(cast(x)));
  }

  @SuppressWarnings("unchecked")
  private static <X> X cast(Object o) {
    return (X) o;
  }

  /**
   * Writes one item; see {@link #each(ItemWriter)}.
   *
   * @param <T> the item type
   */
  @FunctionalInterface
  interface ItemWriter<T> {
    /**
     * Writes one item.
     *
     * @param item the item
     * @throws Exception if it could not be written
     */
    void write(T item) throws Exception;
  }
}
