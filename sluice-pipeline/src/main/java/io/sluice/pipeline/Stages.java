package io.sluice.pipeline;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.Select;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;

/*
 * The sequential stages: one thread each, reading chunks from one edge and writing to one edge.
 * Every stage follows the same shape — receive a chunk (waiting), process it, send what it made,
 * flush before waiting again — so a stage holds at most one chunk in hand beyond its edges, and
 * memory is bounded by the edges' capacities whatever the input's length.
 */
final class Stages {
  private Stages() {}

  /**
   * map, filter and peek: one result or none per item, written back into the same chunk. Each kind
   * has its own loop that calls the user's function directly, so the JIT profiles (and usually
   * inlines) the functions of that kind only; failures leave the loop for {@link Stage#recover}.
   * What is left of a chunk goes out through {@link Out#gather}: a filter that keeps few items
   * sends full chunks while more input is ready, and whatever is pending before it waits.
   */
  abstract static class InPlace implements Node.Kind {
    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      st.start(
          () -> {
            Meter.Lane lane = st.meter.lane();
            Out o = new Out(st, out, ctx, lane);
            Chunk c = in.receive(ctx);
            while (c != null) {
              lane.begin(System.nanoTime());
              int n = c.size;
              int w = process(st, lane, c.items, n);
              if (w < n) {
                Arrays.fill(c.items, w, n, null);
              }
              c.size = w;
              o.gather(c);
              c = in.poll(ctx);
              if (c == Edge.EMPTY) {
                o.flush(); // before waiting: what is pending goes out now
              }
              lane.end(System.nanoTime()); // sends were left out: Out suspends the lane
              if (c == Edge.EMPTY) {
                c = in.receive(ctx);
              }
            }
            o.flush();
          },
          out,
          inputs);
      return out;
    }

    /**
     * Rewrites a[0..n) in place; returns how many items remain. Counts each item on {@code lane} as
     * it takes it (a plain field write), so a live report shows how far into the chunk it is.
     */
    abstract int process(Stage st, Meter.Lane lane, Object[] a, int n) throws InterruptedException;
  }

  /** map. */
  static final class MapKind extends InPlace {
    private final Pipeline.Fn<Object, Object> fn;

    MapKind(Pipeline.Fn<Object, Object> fn) {
      this.fn = fn;
    }

    @Override
    public String kind() {
      return "map";
    }

    @Override
    int process(Stage st, Meter.Lane lane, Object[] a, int n) throws InterruptedException {
      int w = 0;
      for (int i = 0; i < n; i++) {
        Object x = a[i];
        lane.took();
        Object r;
        try {
          r = fn.apply(x);
        } catch (Throwable t) {
          r = st.recover(x, t, fn);
        }
        if (r == null) {
          r = st.recover(x, st.nullResult(), fn);
        }
        if (r != Stage.SKIP) {
          a[w++] = r;
        }
      }
      return w;
    }
  }

  /** filter. */
  static final class FilterKind extends InPlace {
    private final Predicate<Object> test;

    FilterKind(Predicate<Object> test) {
      this.test = test;
    }

    @Override
    public String kind() {
      return "filter";
    }

    @Override
    int process(Stage st, Meter.Lane lane, Object[] a, int n) throws InterruptedException {
      int w = 0;
      for (int i = 0; i < n; i++) {
        Object x = a[i];
        lane.took();
        boolean keep;
        try {
          keep = test.test(x);
        } catch (Throwable t) {
          keep = st.recover(x, t, y -> test.test(y)) == Boolean.TRUE;
        }
        if (keep) {
          a[w++] = x;
        }
      }
      return w;
    }
  }

  /** peek. */
  static final class PeekKind extends InPlace {
    private final Consumer<Object> action;

    PeekKind(Consumer<Object> action) {
      this.action = action;
    }

    @Override
    public String kind() {
      return "peek";
    }

    @Override
    int process(Stage st, Meter.Lane lane, Object[] a, int n) throws InterruptedException {
      int w = 0;
      for (int i = 0; i < n; i++) {
        Object x = a[i];
        lane.took();
        try {
          action.accept(x);
          a[w++] = x;
        } catch (Throwable t) {
          if (st.recover(
                  x,
                  t,
                  y -> {
                    action.accept(y);
                    return y;
                  })
              != Stage.SKIP) {
            a[w++] = x;
          }
        }
      }
      return w;
    }
  }

  /**
   * flatMap: every item becomes zero or more. The outputs of one item are gathered into an array
   * inside the call the error policy guards — fn and the iteration of what it returned, which may
   * be lazy — and go on only when all are in hand: an item whose iteration fails or yields a null
   * is failed, skipped or retried as a whole, and never leaves part of its outputs behind.
   */
  record FlatMap(Pipeline.Fn<Object, Object> call) implements Node.Kind {
    /** The outputs of one item, read to the end; a null output fails the item. */
    static Object[] outputs(Stage st, Object r) {
      Object[] xs;
      if (r == null) {
        throw st.nullResult();
      } else if (r instanceof Collection<?> col) {
        xs = col.toArray();
      } else {
        List<Object> l = new ArrayList<>();
        for (Object x : (Iterable<?>) r) {
          l.add(x);
        }
        xs = l.toArray();
      }
      for (Object x : xs) {
        if (x == null) {
          throw new NullPointerException("stage '" + st.name + "' produced a null element");
        }
      }
      return xs;
    }

    @Override
    public String kind() {
      return "flatMap";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      Pipeline.Fn<Object, Object> gather = item -> outputs(st, call.apply(item));
      st.start(
          () -> {
            Meter.Lane lane = st.meter.lane();
            Out o = new Out(st, out, ctx, lane);
            Chunk c;
            while ((c = in.receive(ctx)) != null) {
              lane.begin(System.nanoTime());
              for (int i = 0; i < c.size; i++) {
                lane.took();
                Object r = st.apply(c.items[i], gather);
                if (r != Stage.SKIP) {
                  for (Object x : (Object[]) r) {
                    o.add(x);
                  }
                }
              }
              o.flush();
              lane.end(System.nanoTime());
            }
          },
          out,
          inputs);
      return out;
    }
  }

  /** buffer(n): a pass-through whose output edge holds n items. */
  record Buffer(int items) implements Node.Kind {
    @Override
    public String kind() {
      return "buffer";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge(items);
      Context ctx = st.ctx;
      st.start(
          () -> {
            Out o = new Out(st, out, ctx);
            Chunk c;
            while ((c = in.receive(ctx)) != null) {
              st.meter.in.add(c.size);
              o.sendWhole(c);
            }
          },
          out,
          inputs);
      return out;
    }
  }

  /**
   * take(n): passes the first n items, then closes its output (end of stream downstream) and its
   * input (the stages upstream see downstream gone and stop, up to the source).
   */
  record Take(long limit) implements Node.Kind {
    @Override
    public String kind() {
      return "take";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      st.start(
          () -> {
            Out o = new Out(st, out, ctx);
            long left = limit;
            Chunk c;
            while (left > 0 && (c = in.receive(ctx)) != null) {
              st.meter.in.add(c.size);
              if (c.size > left) {
                Arrays.fill(c.items, (int) left, c.size, null);
                c.size = (int) left;
              }
              left -= c.size;
              o.sendWhole(c);
            }
          },
          out,
          inputs);
      return out;
    }
  }

  /**
   * throttle(permits, per): the generic cell rate algorithm (a token bucket of `permits` tokens
   * refilled one per per/permits), on the clock of the run's context. Items allowed at once go out
   * together; the stage flushes before it waits. It waits with a child of the run's context that
   * its output's close cancels: when downstream is gone (a take after it has enough, a fan-out
   * branch that ended) it stops at once, as it would at its next send, instead of sleeping out the
   * rest of a period that may be minutes long while the stages upstream fill their buffers.
   */
  record Throttle(int permits, Duration per) implements Node.Kind {
    @Override
    public String kind() {
      return "throttle";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      Clock clock = ctx.clock();
      // A period too long for nanoseconds is "never" (Durations): the first burst passes, then
      // nothing. Times are compared by their difference, so no nanoTime reading makes them wrap.
      long interval = Math.max(1, Durations.cappedNanos(per) / permits);
      long tolerance = interval * (permits - 1);
      st.start(
          () -> {
            try (CancelableContext waits = ctx.withCancel()) {
              out.cancelAtClose(waits);
              Out o = new Out(st, out, ctx);
              long tat = clock.nanoTime();
              Chunk c;
              while ((c = in.receive(ctx)) != null) {
                st.meter.in.add(c.size);
                for (int i = 0; i < c.size; i++) {
                  long now = clock.nanoTime();
                  long allowedAt = tat - tolerance;
                  if (now - allowedAt < 0) {
                    o.flush();
                    if (!sleep(clock, ctx, waits, allowedAt - now)) {
                      return; // downstream is gone
                    }
                    now = clock.nanoTime();
                  }
                  tat = (now - tat > 0 ? now : tat) + interval;
                  o.add(c.items[i]);
                }
                o.flush();
              }
            }
          },
          out,
          inputs);
      return out;
    }

    /**
     * Sleeps {@code nanos} on {@code clock} with {@code waits}, a child of {@code ctx}; false if
     * the output's close cancelled {@code waits} (downstream gone). Throws as a sleep with {@code
     * ctx} does if {@code ctx} is done or the thread interrupted.
     */
    private static boolean sleep(Clock clock, Context ctx, CancelableContext waits, long nanos)
        throws InterruptedException {
      try {
        clock.sleep(waits, Duration.ofNanos(nanos));
        return true;
      } catch (ContextCancelledException e) {
        if (ctx.isDone()) {
          throw e;
        }
        return false;
      }
    }
  }

  /**
   * batch(size, maxWait): lists of up to `size` items; a list goes out when full, or `maxWait`
   * after its first item arrived (on the run context's clock), or at the end of the stream.
   */
  record Batch(int size, Duration maxWait) implements Node.Kind {
    private static final Chunk TIMEOUT = new Chunk(0);
    private static final Chunk END = new Chunk(0);

    @Override
    public String kind() {
      return "batch";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      Clock clock = ctx.clock();
      // A maxWait too long for nanoseconds is "never" (Durations); deadlines are compared by their
      // difference from now, so no nanoTime reading makes them wrap.
      long maxWaitNanos = Durations.cappedNanos(maxWait);
      st.start(
          () -> {
            Out o = new Out(st, out, ctx);
            List<Object> current = new ArrayList<>();
            long deadline = 0; // when `current` must go out
            boolean holding = false; // whether `o` holds full lists
            long heldUntil = 0; // if so, when the oldest of them must go out
            while (true) {
              if (holding && clock.nanoTime() - heldUntil >= 0) {
                o.flush(); // input keeps coming, but full lists are not held past their maxWait
                holding = false;
              }
              Chunk c;
              if (current.isEmpty()) {
                c = in.poll(ctx);
                if (c == Edge.EMPTY) {
                  o.flush(); // before waiting: the full lists made so far go out now
                  holding = false;
                  c = in.receive(ctx);
                }
              } else {
                long remaining = deadline - clock.nanoTime();
                c = remaining <= 0 ? TIMEOUT : in.tryReceive();
                if (c == Edge.EMPTY) {
                  o.flush();
                  holding = false;
                  c =
                      Select.select(
                          ctx,
                          in.channel()
                              .onReceiveOrClosed(
                                  r -> {
                                    Chunk x = in.taken(r);
                                    return x == null ? END : x;
                                  }),
                          clock.after(Duration.ofNanos(remaining)).onReceive(t -> TIMEOUT));
                  c = c == END ? null : c;
                }
              }
              if (c == null) {
                break;
              }
              if (c == TIMEOUT) {
                o.add(List.copyOf(current));
                current.clear();
                o.flush();
                holding = false;
                continue;
              }
              st.meter.in.add(c.size);
              for (int i = 0; i < c.size; i++) {
                if (current.isEmpty()) {
                  deadline = clock.nanoTime() + maxWaitNanos;
                }
                current.add(c.items[i]);
                if (current.size() == size) {
                  o.add(List.copyOf(current));
                  current.clear();
                  if (!holding) { // lists are made in deadline order: the first held is the oldest
                    holding = true;
                    heldUntil = deadline;
                  }
                }
              }
            }
            if (!current.isEmpty()) {
              o.add(List.copyOf(current));
            }
            o.flush();
          },
          out,
          inputs);
      return out;
    }
  }

  /** Fan-in: one forwarding thread per input; the last to finish closes the output. */
  record Merge() implements Node.Kind {
    @Override
    public String kind() {
      return "merge";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      AtomicInteger live = new AtomicInteger(inputs.size());
      if (inputs.isEmpty()) {
        out.close();
      }
      for (Edge in : inputs) {
        st.start(
            () -> {
              try {
                Out o = new Out(st, out, ctx);
                Chunk c;
                while ((c = in.receive(ctx)) != null) {
                  st.meter.in.add(c.size);
                  o.sendWhole(c);
                }
              } finally {
                if (live.decrementAndGet() == 0) {
                  out.close();
                }
              }
            },
            null,
            List.of(in));
      }
      return out;
    }
  }

  /**
   * partitionBy(key, n, fn): a dispatcher routes each item to lane hash(key) mod n; each lane has
   * one worker thread applying fn in arrival order, so items with equal keys keep their order; the
   * workers share the output edge and the last to finish closes it.
   */
  record Partition(Pipeline.Fn<Object, Object> key, int lanes, Pipeline.Fn<Object, Object> call)
      implements Node.Kind {
    @Override
    public String kind() {
      return "partitionBy";
    }

    @Override
    public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
      Edge in = inputs.getFirst();
      Edge out = st.run.newEdge();
      Context ctx = st.ctx;
      Edge[] lane = new Edge[lanes];
      AtomicInteger live = new AtomicInteger(lanes);
      for (int i = 0; i < lanes; i++) {
        Edge laneIn = lane[i] = st.run.newEdge();
        st.start(
            () -> {
              try {
                Out o = new Out(st, out, ctx);
                Meter.Lane worker = st.meter.lane();
                Chunk c;
                while ((c = laneIn.receive(ctx)) != null) {
                  worker.begin(System.nanoTime());
                  int w = 0;
                  for (int k = 0; k < c.size; k++) {
                    Object r = st.apply(c.items[k], call);
                    if (r != Stage.SKIP) {
                      c.items[w++] = r;
                    }
                  }
                  Arrays.fill(c.items, w, c.size, null);
                  c.size = w;
                  worker.end(System.nanoTime());
                  o.sendWhole(c);
                }
              } finally {
                if (live.decrementAndGet() == 0) {
                  out.close();
                }
              }
            },
            null,
            List.of(laneIn));
      }
      int size = st.run.options.chunkSize();
      // The key's hashCode is user code too: it runs under the error policy with the key function.
      Pipeline.Fn<Object, Object> laneOf =
          x -> {
            Object k = key.apply(x);
            if (k == null) {
              throw new NullPointerException("stage '" + st.name + "' produced a null key");
            }
            return Math.floorMod(k.hashCode(), lanes);
          };
      st.start(
          () -> {
            try {
              Chunk[] pending = new Chunk[lanes];
              Meter.Lane dispatcher = st.meter.lane();
              Chunk c;
              while ((c = in.receive(ctx)) != null) {
                dispatcher.begin(System.nanoTime());
                for (int i = 0; i < c.size; i++) {
                  Object item = c.items[i];
                  dispatcher.took();
                  Object k = st.apply(item, laneOf);
                  if (k == Stage.SKIP) {
                    continue;
                  }
                  int l = (Integer) k;
                  if (pending[l] == null) {
                    pending[l] = new Chunk(size);
                  }
                  pending[l].add(item);
                  if (pending[l].isFull()) {
                    long t = System.nanoTime();
                    dispatcher.suspend(t);
                    lane[l].send(ctx, pending[l]);
                    dispatcher.resume(System.nanoTime());
                    pending[l] = null;
                  }
                }
                dispatcher.end(System.nanoTime());
                for (int l = 0; l < lanes; l++) {
                  if (pending[l] != null) {
                    lane[l].send(ctx, pending[l]);
                    pending[l] = null;
                  }
                }
              }
            } finally {
              for (Edge e : lane) {
                e.close();
              }
            }
          },
          null,
          inputs);
      return out;
    }
  }
}
