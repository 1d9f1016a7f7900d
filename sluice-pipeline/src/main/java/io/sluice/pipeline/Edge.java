package io.sluice.pipeline;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.Received;
import io.sluice.core.TryReceived;
import java.util.concurrent.atomic.AtomicLong;

/*
 * A bounded channel of chunks between two stages, counting the items inside it for the report's
 * queue depth.
 *
 * Closing runs both ways. The sender closes when it has nothing more (the receiver drains, then
 * sees null); the receiver closes when it wants nothing more (take has enough, a fan-out branch
 * stopped), and the sender's next send throws ChannelClosedException, which a stage takes as
 * "downstream is gone": it stops and closes its own inputs, so the signal travels up to the source.
 * Go would panic on that send; here it is the way a pipeline shuts down early without cancelling.
 */
final class Edge {
  private final Channel<Chunk> channel;
  private final AtomicLong queued = new AtomicLong();

  Edge(int capacityInChunks) {
    channel = Channel.buffered(capacityInChunks);
  }

  /** Sends, waiting for room; ChannelClosedException if the receiver closed the edge. */
  void send(Context ctx, Chunk chunk) throws InterruptedException {
    int n = chunk.size; // read before the handoff: the receiver owns the chunk after it
    channel.send(ctx, chunk);
    queued.addAndGet(n); // after: a sender blocked on a full edge does not count as queued
  }

  /** The next chunk, waiting for one; null at the end of the stream. */
  Chunk receive(Context ctx) throws InterruptedException {
    return taken(channel.receiveOrClosed(ctx));
  }

  /** The next chunk if one is ready; {@link #EMPTY} if none is; null at the end of the stream. */
  Chunk tryReceive() {
    TryReceived<Chunk> r = channel.tryReceive();
    return r instanceof TryReceived.WouldBlock<Chunk> ? EMPTY : taken((Received<Chunk>) r);
  }

  Channel<Chunk> channel() {
    return channel;
  }

  Chunk taken(Received<Chunk> r) {
    if (r instanceof Received.Value<Chunk>(Chunk c)) {
      queued.addAndGet(-c.size);
      return c;
    }
    return null;
  }

  void close() {
    channel.close();
  }

  boolean isClosed() {
    return channel.isClosed();
  }

  /** Items in the edge; the receiver may count a chunk down just before its sender counts it up. */
  long queued() {
    return Math.max(0, queued.get());
  }

  /** Marks "nothing ready right now" for {@link #tryReceive()}; never sent. */
  static final Chunk EMPTY = new Chunk(0);

  static boolean isDownstreamGone(Throwable t) {
    return t instanceof ChannelClosedException;
  }
}
