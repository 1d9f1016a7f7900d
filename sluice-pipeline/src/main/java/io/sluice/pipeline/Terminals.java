package io.sluice.pipeline;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.SendChannel;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BiFunction;
import java.util.function.ToIntFunction;

/*
 * The terminals. Each consumes the last edge on the thread that called the terminal (the seed's
 * sink in main; for Pipeline.open, the outlet's own thread, running toChannel), as a stage of its own with a meter and the run's error policy. The fan-out terminals run each sink on
 * a thread of the run and wait for all of them before returning.
 */
final class Terminals {
  private Terminals() {}

  /** forEach: the action per item; the value is the number of items it accepted. */
  static final class ForEach implements Run.Terminal<Long> {
    private final Pipeline.Action<Object> action;
    private long count;

    ForEach(Pipeline.Action<Object> action) {
      this.action = action;
    }

    @Override
    public void consume(Stage st, Edge in) throws Exception {
      Meter.Lane lane = st.meter.lane();
      Chunk c;
      while ((c = in.receive(st.ctx)) != null) {
        lane.begin(System.nanoTime());
        int ok = 0;
        try {
          for (int i = 0; i < c.size; i++) {
            Object x = c.items[i];
            lane.took();
            try {
              action.accept(x);
              ok++;
            } catch (Throwable t) {
              if (st.recover(x, t, this::call) != Stage.SKIP) {
                ok++;
              }
            }
          }
        } finally { // a stop or a failure in the chunk: what the action accepted still counts
          count += ok;
          st.meter.out.add(ok);
        }
        lane.end(System.nanoTime());
      }
    }

    private Object call(Object x) throws Exception {
      action.accept(x);
      return x;
    }

    @Override
    public Long value() {
      return count;
    }
  }

  /** toList. */
  static final class ToList<T> implements Run.Terminal<List<T>> {
    private final List<Object> items = new ArrayList<>();

    @Override
    public void consume(Stage st, Edge in) throws Exception {
      Chunk c;
      while ((c = in.receive(st.ctx)) != null) {
        st.meter.in.add(c.size);
        for (int i = 0; i < c.size; i++) {
          items.add(c.items[i]);
        }
        st.meter.out.add(c.size);
      }
    }

    @Override
    @SuppressWarnings("unchecked")
    public List<T> value() {
      return (List<T>) Collections.unmodifiableList(items);
    }
  }

  /** reduce: a left fold from an identity. */
  static final class Reduce<R> implements Run.Terminal<R> {
    private final BiFunction<Object, Object, Object> fn;
    private Object acc;

    Reduce(Object identity, BiFunction<Object, Object, Object> fn) {
      this.acc = identity;
      this.fn = fn;
    }

    @Override
    public void consume(Stage st, Edge in) throws Exception {
      Meter.Lane lane = st.meter.lane();
      Chunk c;
      while ((c = in.receive(st.ctx)) != null) {
        lane.begin(System.nanoTime());
        int folded = 0;
        try {
          for (int i = 0; i < c.size; i++) {
            lane.took();
            Object r = st.apply(c.items[i], x -> fn.apply(acc, x));
            if (r != Stage.SKIP) {
              acc = r;
              folded++;
            }
          }
        } finally { // a stop or a failure in the chunk: what was folded still counts
          st.meter.out.add(folded);
        }
        lane.end(System.nanoTime());
      }
    }

    @Override
    @SuppressWarnings("unchecked")
    public R value() {
      return (R) acc;
    }
  }

  /**
   * toChannel: sends every item, then closes the channel with the run's verdict (Run.finish): the
   * failure, the parent's cause after a stop, a CancellationException caused by the caller's
   * interrupt, or normally — so a consumer ranging over it always ends and learns why.
   */
  static final class ToChannel<T> implements Run.Terminal<Long> {
    private final SendChannel<T> channel;
    private long count;

    ToChannel(SendChannel<T> channel) {
      this.channel = channel;
    }

    @Override
    @SuppressWarnings("unchecked")
    public void consume(Stage st, Edge in) throws Exception {
      InterruptedException interrupted = null;
      try {
        Chunk c;
        while ((c = in.receive(st.ctx)) != null) {
          st.meter.in.add(c.size);
          for (int i = 0; i < c.size; i++) {
            channel.send(st.ctx, (T) c.items[i]);
            count++;
            st.meter.out.increment();
          }
        }
      } catch (InterruptedException e) {
        interrupted = e;
        throw e;
      } finally {
        end(st.run, interrupted);
      }
    }

    @Override
    public void notConsumed(Run run, InterruptedException interrupted) {
      end(run, interrupted);
    }

    /** Closes the channel with the run's verdict, so that its reader always learns the end. */
    private void end(Run run, InterruptedException interrupted) {
      Throwable why = run.finish();
      if (interrupted != null) {
        CancellationException ce =
            new CancellationException("the thread running the pipeline was interrupted");
        ce.initCause(interrupted);
        channel.close(ce);
      } else if (why != null) {
        channel.close(why);
      } else {
        channel.close();
      }
    }

    @Override
    public Long value() {
      return count;
    }
  }

  /** to(sink): batches of up to sink.maxBatch(), written without lingering. */
  static final class ToSink implements Run.Terminal<Long> {
    private final Sink<?> sink;
    private long count;

    ToSink(Sink<?> sink) {
      this.sink = sink;
    }

    @Override
    public void consume(Stage st, Edge in) throws Exception {
      count = consumeWith(st, in, sink);
    }

    @Override
    public Long value() {
      return count;
    }
  }

  /**
   * Feeds {@code in} to {@code sink}: a branch's stages are compiled into the run and their end fed
   * to the branch's sink, recursively; a fan-out sink runs as the fan-out terminal; any other sink
   * is written in batches. Returns the items written (for a fan-out, its terminal's count).
   */
  static long consumeWith(Stage st, Edge in, Sink<?> sink) throws Exception {
    return switch (sink) {
      case BranchSink<?, ?> b -> FanOut.runBranch(st, in, b);
      case FanOutSink<?> f -> {
        FanOut t = new FanOut(f.sinks(), f.router());
        t.consume(st, in);
        yield t.value();
      }
      default -> drain(st, in, sink);
    };
  }

  static long drain(Stage st, Edge in, Sink<?> sink) throws Exception {
    Meter.Lane lane = st.meter.lane();
    Reader r = new Reader(lane, in, st.ctx);
    int max = Math.max(1, sink.maxBatch());
    long count = 0;
    Object x;
    while ((x = r.next()) != null) {
      lane.begin(System.nanoTime());
      List<Object> batch = new ArrayList<>(Math.min(max, 64));
      batch.add(x);
      Object y;
      while (batch.size() < max && (y = r.poll()) != null) {
        batch.add(y);
      }
      List<Object> view = Collections.unmodifiableList(batch);
      Object written;
      try {
        written = write(sink, view);
      } catch (Throwable t) {
        written = st.recover(view, view.size(), t, b -> write(sink, view));
      }
      if (written != Stage.SKIP) {
        count += view.size();
        st.meter.out.add(view.size());
      }
      lane.end(System.nanoTime());
    }
    return count;
  }

  @SuppressWarnings("unchecked")
  private static Object write(Sink<?> sink, List<Object> batch) throws Exception {
    ((Sink<Object>) sink).write(batch);
    return batch;
  }

  /**
   * broadcast and split. The caller's thread deals chunks to one edge per sink (every chunk to
   * every sink, or each item to the sink the router names); each sink drains its edge on its own
   * thread, as a stage of its own; a sink made by Sink.through first runs its branch's stages. A
   * sink whose edge is closed (its branch ended early, e.g. with take) is dropped; when none is
   * left the fan-out stops reading.
   */
  static final class FanOut implements Run.Terminal<Long> {
    private final List<? extends Sink<?>> sinks;
    private final ToIntFunction<Object> router; // null: broadcast
    private long count;

    FanOut(List<? extends Sink<?>> sinks, ToIntFunction<Object> router) {
      this.sinks = List.copyOf(sinks);
      this.router = router;
    }

    @Override
    public void consume(Stage st, Edge in) throws Exception {
      int k = sinks.size();
      Edge[] branch = new Edge[k];
      boolean[] gone = new boolean[k];
      // One token per sink that ended. Waited for with the run's context, not a latch: a failure or
      // an immediate stop must end the wait even while a sink is blocked in its write, so that the
      // run's close interrupts that sink as it does every stage thread.
      Channel<Boolean> ended = Channel.buffered(k);
      try {
        for (int i = 0; i < k; i++) {
          Edge e = branch[i] = st.run.newEdge();
          Sink<?> sink = sinks.get(i);
          Stage sinkStage = st.run.stage("sink", null, List.of(e));
          Run.Terminal<Long> t = new ToSink(sink);
          st.run.group.go(
              c -> {
                try {
                  sinkStage.guard(() -> t.consume(sinkStage, e), null, List.of(e));
                } finally {
                  ended.trySend(Boolean.TRUE);
                }
              });
        }
        int alive = k;
        int size = st.run.options.chunkSize();
        Chunk c;
        while (alive > 0 && (c = in.receive(st.ctx)) != null) {
          long t0 = System.nanoTime();
          st.meter.in.add(c.size);
          Chunk[] dealt = new Chunk[k];
          if (router == null) {
            for (int i = 0; i < k; i++) {
              dealt[i] = c.copy();
            }
          } else {
            for (int j = 0; j < c.size; j++) {
              Object item = c.items[j];
              Object l = st.apply(item, x -> route(x, k));
              if (l != Stage.SKIP) {
                int lane = (Integer) l;
                if (dealt[lane] == null) {
                  dealt[lane] = new Chunk(size);
                }
                dealt[lane].add(item);
              }
            }
          }
          st.meter.busyNanos.add(System.nanoTime() - t0);
          boolean taken = false; // by a sink: a chunk that found every sink gone was not broadcast
          for (int i = 0; i < k; i++) {
            if (!gone[i] && dealt[i] != null) {
              int n = dealt[i].size;
              try {
                branch[i].send(st.ctx, dealt[i]);
                st.meter.out.add(n);
                taken = true;
                if (router != null) {
                  count += n;
                }
              } catch (ChannelClosedException e) {
                gone[i] = true;
                alive--;
              }
            }
          }
          if (router == null && taken) {
            count += c.size;
          }
        }
        for (Edge e : branch) {
          e.close();
        }
        for (int i = 0; i < k; i++) {
          ended.receive(st.ctx);
        }
      } finally {
        for (Edge e : branch) {
          if (e != null) {
            e.close();
          }
        }
      }
    }

    private Object route(Object item, int k) {
      int lane = router.applyAsInt(item);
      if (lane < 0 || lane >= k) {
        throw new IndexOutOfBoundsException("router chose branch " + lane + " of " + k);
      }
      return lane;
    }

    @Override
    public Long value() {
      return count;
    }

    /** Compiles a Sink.through branch fed by {@code in} and drains it into the branch's sink. */
    static <T, R> long runBranch(Stage st, Edge in, BranchSink<T, R> b) throws Exception {
      Pipeline<T> head = new Pipeline<>(new Node(new Sources.EdgeSource(in), List.of()), null);
      // Not `in` even while the branch's stages start: they take from it, and a live report read
      // before the line below would count their queue as the sink's.
      st.meter.measure(List.of());
      Edge end = st.run.compile(b.build(head).node());
      st.meter.measure(List.of(end));
      try {
        return consumeWith(st, end, b.sink());
      } finally {
        end.close();
      }
    }
  }
}
