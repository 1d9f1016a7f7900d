package io.sluice.pipeline;

import io.sluice.core.Context;

/*
 * A stage's writer: gathers items into a chunk and sends it when full or when flushed. Stages
 * flush whenever they would otherwise wait (their input has nothing ready, a timer, a throttle), so
 * chunking adds no latency: a chunk waits for more items only while more are already at hand.
 * Counts what it sends as the stage's "out", and the time spent blocked in send so the stage can
 * leave it out of its busy time.
 */
final class Out {
  private final Stage stage;
  private final Edge edge;
  private final Context ctx;
  private final int capacity;
  private Chunk current;
  private long sendNanos;

  Out(Stage stage, Edge edge, Context ctx) {
    this.stage = stage;
    this.edge = edge;
    this.ctx = ctx;
    this.capacity = stage.run.options.chunkSize();
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

  /** Flushes what is pending, then sends {@code c} as it is. */
  void sendWhole(Chunk c) throws InterruptedException {
    flush();
    if (c.size > 0) {
      send(c);
    }
  }

  private void send(Chunk c) throws InterruptedException {
    int n = c.size;
    long t0 = System.nanoTime();
    edge.send(ctx, c);
    sendNanos += System.nanoTime() - t0;
    stage.meter.out.add(n);
  }

  /** Time blocked in send since the last call. */
  long takeSendNanos() {
    long n = sendNanos;
    sendNanos = 0;
    return n;
  }
}
