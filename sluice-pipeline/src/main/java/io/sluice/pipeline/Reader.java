package io.sluice.pipeline;

import io.sluice.core.Context;

/*
 * Item-at-a-time reading of an edge, for stages and terminals that regroup items (sinks' batches,
 * batch()). Counts each item on the stage thread's lane as it hands it out: the stage's "in".
 */
final class Reader {
  private final Meter.Lane lane;
  private final Edge edge;
  private final Context ctx;
  private Chunk current;
  private int pos;
  private boolean ended;

  Reader(Meter.Lane lane, Edge edge, Context ctx) {
    this.lane = lane;
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
    lane.took();
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
    lane.took();
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
      current = c;
      pos = 0;
    }
  }
}
