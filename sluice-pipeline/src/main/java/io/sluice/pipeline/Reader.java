package io.sluice.pipeline;

import io.sluice.core.Context;

/*
 * Item-at-a-time reading of an edge, for stages and terminals that regroup items (sinks' batches,
 * batch()). Counts chunks received as the stage's "in".
 */
final class Reader {
  private final Stage stage;
  private final Edge edge;
  private final Context ctx;
  private Chunk current;
  private int pos;
  private boolean ended;

  Reader(Stage stage, Edge edge, Context ctx) {
    this.stage = stage;
    this.edge = edge;
    this.ctx = ctx;
  }

  /** The next item, waiting for one; null at the end of the stream. */
  Object next() throws InterruptedException {
    while (current == null || pos == current.size) {
      if (ended) {
        return null;
      }
      accept(edge.receive(ctx));
    }
    return current.items[pos++];
  }

  /** The next item if one is at hand without waiting; null otherwise (see {@link #ended()}). */
  Object poll() {
    while (current == null || pos == current.size) {
      if (ended) {
        return null;
      }
      Chunk c = edge.tryReceive();
      if (c == Edge.EMPTY) {
        return null;
      }
      accept(c);
    }
    return current.items[pos++];
  }

  boolean ended() {
    return ended;
  }

  private void accept(Chunk c) {
    if (c == null) {
      ended = true;
      current = null;
    } else {
      stage.meter.in.add(c.size);
      current = c;
      pos = 0;
    }
  }
}
