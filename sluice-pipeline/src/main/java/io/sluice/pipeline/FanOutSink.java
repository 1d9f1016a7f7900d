package io.sluice.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToIntFunction;

/*
 * A fan-out as a sink (Sink.broadcast, Sink.split): given to a terminal or as a branch's sink, the
 * pipeline runs it as the fan-out terminals do (Terminals.FanOut: a thread and a stage per sink,
 * branches compiled into the run). Written to directly — as an error sink, or by user code — it
 * writes each batch to every sink or to the sinks the router picks, which works only when none of
 * its sinks is a branch.
 */
record FanOutSink<T>(List<Sink<? super T>> sinks, ToIntFunction<Object> router) implements Sink<T> {

  FanOutSink {
    sinks = List.copyOf(sinks);
    if (sinks.isEmpty()) {
      throw new IllegalArgumentException("no sinks");
    }
  }

  boolean runsStages() {
    for (Sink<?> s : sinks) {
      if (BranchSink.runsStages(s)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void write(List<T> batch) throws Exception {
    if (runsStages()) {
      throw new UnsupportedOperationException(
          "a fan-out with a branch made by Sink.through cannot be written to directly: give it to"
              + " Pipeline.to, broadcast or split");
    }
    if (router == null) {
      for (Sink<? super T> s : sinks) {
        writeTo(s, batch);
      }
      return;
    }
    List<List<T>> dealt = new ArrayList<>();
    for (int i = 0; i < sinks.size(); i++) {
      dealt.add(new ArrayList<>());
    }
    for (T item : batch) {
      int lane = router.applyAsInt(item);
      if (lane < 0 || lane >= sinks.size()) {
        throw new IndexOutOfBoundsException("router chose sink " + lane + " of " + sinks.size());
      }
      dealt.get(lane).add(item);
    }
    for (int i = 0; i < sinks.size(); i++) {
      if (!dealt.get(i).isEmpty()) {
        writeTo(sinks.get(i), List.copyOf(dealt.get(i)));
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static <X> void writeTo(Sink<? super X> sink, List<X> batch) throws Exception {
    ((Sink<X>) sink).write(batch);
  }
}
