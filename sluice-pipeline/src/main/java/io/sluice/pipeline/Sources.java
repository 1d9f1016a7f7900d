package io.sluice.pipeline;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Received;
import io.sluice.core.Ticker;
import io.sluice.core.TryReceived;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/*
 * The sources. Each runs on one thread of the run. A source stops *taking* items when sourceCtx is
 * done (a graceful stop cancels only that), but sends what it already took with the run's context,
 * which a graceful stop leaves alone: downstream keeps draining, so the send completes and no item
 * taken from a channel or a generator is lost. Pull sources (an
 * iterator, a range) fill whole chunks; push sources (a channel, a generator, a ticker) send what
 * they have as soon as nothing more is immediately available, so they add no latency.
 */
final class Sources {
  private Sources() {}

  /** {@code c}, closed the first time only. */
  static AutoCloseable once(AutoCloseable c) {
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) {
        c.close();
      }
    };
  }

  /**
   * Closes what the sources of {@code last}'s pipeline close when they end (a stream), for a run
   * that ended before some source's thread could run: a context already done, a failure while the
   * stages were being started. Called once every thread of the run has ended; a source that ran has
   * closed its own already (they close once). Such a close can fail nothing any more: the run is
   * over, so what it throws is dropped.
   */
  static void closeNotStarted(Node last) {
    if (last.kind instanceof IteratorSource s && s.onEnd() != null) {
      try {
        s.onEnd().close();
      } catch (Throwable t) {
        // the run has ended; see above
      }
    }
    for (Node n : last.inputs) {
      closeNotStarted(n);
    }
  }

  /** An iterator obtained on the source thread; closed (if AutoCloseable) at the end. */
  record IteratorSource(Supplier<? extends Iterator<?>> iterator, AutoCloseable onEnd)
      implements Node.Kind {
    @Override
    public String kind() {
      return "source";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge out = st.run.newEdge();
      Context sctx = st.run.sourceCtx;
      st.start(
          () -> {
            try {
              Meter.Lane lane = st.meter.lane();
              Out o = new Out(st, out, st.ctx, lane);
              Iterator<?> it = iterator.get();
              lane.begin(System.nanoTime());
              while (!sctx.isDone() && it.hasNext()) {
                o.add(Objects.requireNonNull(it.next(), "the source produced null"));
                lane.took();
              }
              o.flush();
              lane.end(System.nanoTime());
            } catch (ChannelClosedException e) {
              if (!out.isClosed()) {
                // Not "downstream gone": the iterator's own failure, such as a channel it reads
                // having been closed with an error. The stage's guard would take it for the first.
                st.run.fail(st.name, null, e);
                return;
              }
              throw e;
            } finally {
              if (onEnd != null) {
                onEnd.close();
              }
            }
          },
          out,
          inputs);
      return out;
    }
  }

  /** The integers [from, to), boxed straight into chunks. */
  record Range(int from, int to) implements Node.Kind {
    @Override
    public String kind() {
      return "source";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge out = st.run.newEdge();
      Context sctx = st.run.sourceCtx;
      int size = st.run.options.chunkSize();
      st.start(
          () -> {
            int i = from;
            while (i < to && !sctx.isDone()) {
              long t0 = System.nanoTime();
              int n = (int) Math.min(size, (long) to - i);
              Chunk c = new Chunk(n);
              Object[] a = c.items;
              for (int k = 0; k < n; k++) {
                a[k] = i + k;
              }
              c.size = n;
              i += n;
              st.meter.in.add(n);
              st.meter.busyNanos.add(System.nanoTime() - t0);
              out.send(st.ctx, c);
              st.meter.out.add(n);
            }
          },
          out,
          inputs);
      return out;
    }
  }

  /** A channel the caller owns: read until it is closed; never closed by the pipeline. */
  record ChannelSource(ReceiveChannel<?> channel) implements Node.Kind {
    @Override
    public String kind() {
      return "source";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge out = st.run.newEdge();
      st.start(() -> pump(st, channel, out, st.run.sourceCtx), out, inputs);
      return out;
    }
  }

  /**
   * Moves items from a channel into chunks: waits for one (with {@code ctx}), takes whatever else
   * is ready up to a chunk, sends (with the run's context). A channel closed with an error fails
   * the stage.
   */
  static <X> void pump(Stage st, ReceiveChannel<X> ch, Edge out, Context ctx)
      throws InterruptedException {
    int size = st.run.options.chunkSize();
    while (true) {
      Received<X> first = ch.receiveOrClosed(ctx);
      if (first instanceof Received.Closed<X> closed) {
        closed.error().ifPresent(e -> st.run.fail(st.name, null, e));
        return;
      }
      long t0 = System.nanoTime();
      Chunk c = new Chunk(size);
      c.add(((Received.Value<X>) first).value());
      Received.Closed<X> end = null;
      while (!c.isFull()) {
        TryReceived<X> r = ch.tryReceive();
        if (r instanceof Received.Value<X>(X v)) {
          c.add(v);
        } else {
          if (r instanceof Received.Closed<X> closed) {
            end = closed;
          }
          break;
        }
      }
      int n = c.size;
      st.meter.in.add(n);
      st.meter.busyNanos.add(System.nanoTime() - t0);
      out.send(st.ctx, c);
      st.meter.out.add(n);
      if (end != null) {
        end.error().ifPresent(e -> st.run.fail(st.name, null, e));
        return;
      }
    }
  }

  /**
   * A generator on a thread of its own, pushing items through a channel of one chunk's size into a
   * pump like a channel source's. The two threads keep the generator free to block anywhere: every
   * item it emits reaches the pipeline at once, with no chunk left half full behind a blocked
   * generator.
   */
  record GeneratorSource(Pipeline.Generator<?> generator) implements Node.Kind {
    @Override
    public String kind() {
      return "source";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge out = st.run.newEdge();
      Context sctx = st.run.sourceCtx;
      Channel<Object> items = Channel.buffered(st.run.options.chunkSize());
      st.start(
          () -> {
            try {
              runGenerator(generator, new ChannelEmitter<>(items, sctx));
            } catch (Throwable t) {
              if (!(t instanceof ContextCancelledException && (sctx.isDone() || items.isClosed()))
                  && !(Run.isStopSignal(t) && sctx.isDone())) {
                st.run.fail(st.name, null, t);
              }
            } finally {
              items.close();
            }
          },
          null,
          List.of());
      st.start(
          () -> {
            try {
              pump(st, items, out, st.ctx); // drains what the generator emitted before a stop
            } finally {
              items.close(); // downstream gone or stopping: the generator's next emit ends it
            }
          },
          out,
          inputs);
      return out;
    }

    @SuppressWarnings("unchecked")
    private static <T> void runGenerator(Pipeline.Generator<T> g, Emitter<?> e) throws Exception {
      g.generate((Emitter<T>) e);
    }
  }

  /** The emitter of a generator source. */
  static final class ChannelEmitter<T> implements Emitter<T> {
    private final Channel<Object> channel;
    private final Context ctx;

    ChannelEmitter(Channel<Object> channel, Context ctx) {
      this.channel = channel;
      this.ctx = ctx;
    }

    @Override
    public void emit(T item) throws InterruptedException {
      Objects.requireNonNull(item, "item");
      try {
        channel.send(ctx, item);
      } catch (ChannelClosedException e) {
        throw new ContextCancelledException("the pipeline takes no more items", e);
      }
    }

    @Override
    public Context context() {
      return ctx;
    }
  }

  /** A ticker's instants, from the clock of the run's context. */
  static Pipeline.Generator<Instant> ticks(Duration period) {
    return emitter -> {
      Ticker t = emitter.context().clock().newTicker(period);
      try {
        while (true) {
          emitter.emit(t.channel().receive(emitter.context()));
        }
      } finally {
        t.stop();
      }
    };
  }

  /** The start of a fan-out branch: an edge the fan-out already feeds. */
  record EdgeSource(Edge edge) implements Node.Kind {
    @Override
    public String kind() {
      return "branch";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) {
      return edge;
    }
  }
}
