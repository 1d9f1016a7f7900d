package io.sluice.pipeline;

import java.util.List;
import java.util.function.Function;

/*
 * A fan-out branch (Sink.through): stages applied to a pipeline that starts at the fan-out, and the
 * sink they end in. The fan-out terminal compiles the stages into the same run; the branch is never
 * written to directly.
 */
record BranchSink<T, R>(
    Function<? super Pipeline<T>, ? extends Pipeline<R>> stages, Sink<? super R> sink)
    implements Sink<T> {

  @Override
  public void write(List<T> batch) {
    throw new UnsupportedOperationException(
        "a branch made by Sink.through runs only as a sink of a pipeline terminal");
  }

  Pipeline<R> build(Pipeline<T> head) {
    return stages.apply(head);
  }
}
