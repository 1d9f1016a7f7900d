package io.sluice.pipeline;

import io.sluice.core.Context;
import java.util.Arrays;

/*
 * A stage's writer: gathers items into a chunk and sends it when full or when flushed. Stages
 * flush whenever they would otherwise wait (their input has nothing ready, a timer, a throttle), so
 * chunking adds no latency: a chunk waits for more items only while more are already at hand.
 * Counts what it sends as the stage's "out", and suspends the busy period of the stage thread's
 * lane (if it has one) while it waits to send, so that time is not counted as busy.
 */
final class Out {
  private final Meter meter;
  private final Meter.Lane lane; // null: the stage does not track busy time through a lane
  private final Edge edge;
  private final Context ctx;
  private final int capacity;
  private Chunk current;

  Out(Stage stage, Edge edge, Context ctx) {
    this(stage.meter, edge, ctx, stage.run.options.chunkSize(), null);
  }

  /** A writer that suspends {@code lane}'s busy period while it waits to send. */
  Out(Stage stage, Edge edge, Context ctx, Meter.Lane lane) {
    this(stage.meter, edge, ctx, stage.run.options.chunkSize(), lane);
  }

  Out(Meter meter, Edge edge, Context ctx, int capacity) {
    this(meter, edge, ctx, capacity, null);
  }

  private Out(Meter meter, Edge edge, Context ctx, int capacity, Meter.Lane lane) {
    this.meter = meter;
    this.lane = lane;
    this.edge = edge;
    this.ctx = ctx;
    this.capacity = capacity;
  }

  void add(Object item) throws InterruptedException {
    Chunk c = current;
    if (c == null) {
      c = current = new Chunk(capacity);
    }
    c.add(item);
    if (c.isFull()) {
      flush();
    }
  }

  void flush() throws InterruptedException {
    Chunk c = current;
    if (c != null && c.size > 0) {
      current = null;
      send(c);
    }
  }

  /**
   * Passes on the items of {@code c}, a chunk the caller gives up. With nothing pending, a chunk at
   * least half full goes out as it is (no copy); a smaller one becomes the pending chunk. With a
   * chunk pending, the items are appended to it, and it goes out when full. So a stage that drops
   * items (a filter) sends full chunks, not a stream of small ones, while its input keeps coming;
   * the caller flushes before it waits.
   */
  void gather(Chunk c) throws InterruptedException {
    Chunk p = current;
    int n = c.size;
    if (p == null) {
      if (n * 2 >= capacity) {
        send(c);
      } else if (n > 0) {
        if (c.items.length < capacity) {
          c.items = Arrays.copyOf(c.items, capacity);
        }
        current = c;
      }
      return;
    }
    int k = Math.min(capacity - p.size, n);
    System.arraycopy(c.items, 0, p.items, p.size, k);
    p.size += k;
    if (p.size == capacity) {
      current = null;
      send(p);
      if (k < n) { // the rest of c, moved to its front, is handled as a chunk of its own
        System.arraycopy(c.items, k, c.items, 0, n - k);
        Arrays.fill(c.items, n - k, n, null);
        c.size = n - k;
        gather(c);
      }
    }
  }

  /** Flushes what is pending, then sends {@code c} as it is. */
  void sendWhole(Chunk c) throws InterruptedException {
    flush();
    if (c.size > 0) {
      send(c);
    }
  }

  private void send(Chunk c) throws InterruptedException {
    int n = c.size;
    if (lane == null) {
      edge.send(ctx, c);
    } else {
      lane.suspend(System.nanoTime()); // waiting for room is not busy time
      edge.send(ctx, c);
      lane.resume(System.nanoTime());
    }
    meter.out.add(n);
  }
}
