package io.sluice.pipeline;

import io.sluice.core.Context;

/**
 * What a generator source ({@link Pipeline#generate(Pipeline.Generator)}) pushes its items into.
 *
 * <p>{@link #emit} blocks while the pipeline is full — backpressure reaches the generator. It is
 * meant for the generator's own thread only.
 *
 * <p>Memory consistency effects: actions of the generator before {@code emit(x)} happen-before the
 * first stage's actions on {@code x}.
 *
 * @param <T> the item type
 */
public interface Emitter<T> {

  /**
   * Hands one item to the pipeline, waiting while its first buffer is full.
   *
   * @param item the item; not null
   * @throws InterruptedException if the thread is interrupted before or while waiting; the item was
   *     then not emitted
   * @throws io.sluice.core.ContextCancelledException when the run stops (its context is cancelled,
   *     a stage failed, or a downstream {@code take} has what it needs): the generator should then
   *     return; letting the exception escape is fine and is not reported as a failure
   */
  void emit(T item) throws InterruptedException;

  /**
   * The context of the source: done when the generator should stop. Pass it to blocking calls the
   * generator makes so they end when the run stops.
   *
   * @return the source's context
   */
  Context context();
}
