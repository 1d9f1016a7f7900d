package io.sluice.pipeline;

import java.util.List;
import java.util.function.Function;

/*
 * A fan-out branch (Sink.through): stages applied to a pipeline that starts where the branch is
 * fed, and the sink they end in. The terminal that gets it (to, broadcast, split, or an enclosing
 * branch or FanOutSink) compiles the stages into the same run; its sink may be a branch or a
 * fan-out again. The pipeline never writes to a branch, and error policies refuse one up front
 * (requireWritable), since failures are written to their sink directly, outside any run of stages.
 */
record BranchSink<T, R>(
    Function<? super Pipeline<T>, ? extends Pipeline<R>> stages, Sink<? super R> sink)
    implements Sink<T> {

  @Override
  public void write(List<T> batch) {
    throw new UnsupportedOperationException(
        "a branch made by Sink.through cannot be written to directly: its stages run only inside"
            + " a pipeline. Give it to Pipeline.to, broadcast or split (or to Sink.through,"
            + " Sink.broadcast or Sink.split used there)");
  }

  Pipeline<R> build(Pipeline<T> head) {
    return stages.apply(head);
  }

  /** Whether the pipeline must run {@code sink} as stages rather than call its write. */
  static boolean runsStages(Sink<?> sink) {
    return sink instanceof BranchSink<?, ?> || sink instanceof FanOutSink<?> f && f.runsStages();
  }

  /**
   * {@code sink}, if the pipeline can write to it directly (as it does to an error or dead-letter
   * sink); otherwise an IllegalArgumentException saying what to use instead.
   */
  static <S extends Sink<?>> S requireWritable(S sink, String role) {
    if (runsStages(sink)) {
      throw new IllegalArgumentException(
          "a branch made by Sink.through cannot be "
              + role
              + ": the pipeline writes each failure to that sink directly, outside any run of"
              + " stages. Use a plain Sink instead (a lambda, Sink.each, or Sink.broadcast/Sink.split"
              + " of plain sinks); to process failures with stages, write them to a Channel and run"
              + " Pipeline.from(channel)");
    }
    return sink;
  }
}
