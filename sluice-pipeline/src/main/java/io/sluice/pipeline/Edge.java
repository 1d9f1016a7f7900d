package io.sluice.pipeline;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.Received;
import io.sluice.core.TryReceived;
import java.util.concurrent.atomic.AtomicInteger;
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
 * A sender that waits for something else than the edge (a throttle, on its clock) has the close
 * cancel the context it waits with (cancelAtClose), so it stops at the close, not at its next send.
 *
 * Resuming a sender at half (hysteresis). A sender that finds the edge full does not wait in the
 * channel's send, which would wake it as soon as one chunk was taken: with more stage threads than
 * cores, the sender would then make one chunk, find the edge full again and park again — a park
 * and an unpark per chunk, which on two cores cost more than the stages' own work. It waits on
 * `room` instead, which the receiver signals once at most `resumeAt` (half the capacity) chunks are
 * left, so each wake-up of the sender is good for half an edge of chunks, and the receiver still
 * has half an edge to work on while the sender gets going again. Then it sends with the channel's
 * ordinary send, so the signal is only a hint: a stale or early one costs a normal blocking send,
 * never an item or the order.
 *
 * No lost wake-up: a sender increments `waitingSenders` and then reads `chunks`; a receiver
 * decrements `chunks` and then reads `waitingSenders` (all volatile read-modify-writes and reads,
 * so sequentially consistent). Either the sender sees the count at or below `resumeAt` and does not
 * wait, or the receiver's decrement that brings it there sees the waiter and signals. With several
 * senders (merge, partitionBy) one signal wakes one of them; the edge then holds a chunk at least,
 * whose receipt signals again. Closing the edge closes `room` too, so a waiting sender wakes and
 * its send reports the close. `chunks` is counted after the channel operations, so it may lag by
 * the chunks being sent or received right now; a lag only makes a signal early or late by those.
 */
final class Edge {
  private final Channel<Chunk> channel;
  private final AtomicLong queued = new AtomicLong();
  private final AtomicInteger chunks = new AtomicInteger();
  private final AtomicInteger waitingSenders = new AtomicInteger();
  private final Channel<Boolean> room = Channel.buffered(1);
  private final int resumeAt;
  private volatile CancelableContext cancelledAtClose;

  Edge(int capacityInChunks) {
    channel = Channel.buffered(capacityInChunks);
    resumeAt = capacityInChunks / 2;
  }

  /**
   * Sends, waiting for room; if the edge is full, waits until the receiver has taken it down to
   * half. ChannelClosedException if the receiver closed the edge; like a channel's send, throws if
   * {@code ctx} is done or the thread interrupted even when there is room.
   */
  void send(Context ctx, Chunk chunk) throws InterruptedException {
    int n = chunk.size; // read before the handoff: the receiver owns the chunk after it
    if (isStopping(ctx) || !channel.trySend(chunk)) {
      awaitRoom(ctx);
      channel.send(ctx, chunk); // throws if stopping
    }
    chunks.incrementAndGet();
    queued.addAndGet(n); // after: a sender blocked on a full edge does not count as queued
  }

  private void awaitRoom(Context ctx) throws InterruptedException {
    room.tryReceive(); // a signal left over from a wait that had already ended
    waitingSenders.incrementAndGet();
    try {
      if (chunks.get() > resumeAt) {
        room.receiveOrClosed(ctx);
      }
    } finally {
      waitingSenders.decrementAndGet();
    }
  }

  /** The next chunk, waiting for one; null at the end of the stream. */
  Chunk receive(Context ctx) throws InterruptedException {
    return taken(channel.receiveOrClosed(ctx));
  }

  /**
   * The next chunk if one is ready and the thread is not stopping; {@link #EMPTY} otherwise, so
   * that the caller's next blocking {@link #receive} waits or reports the stop; null at the end of
   * the stream.
   */
  Chunk poll(Context ctx) {
    return isStopping(ctx) ? EMPTY : tryReceive();
  }

  private static boolean isStopping(Context ctx) {
    return ctx.isDone() || Thread.currentThread().isInterrupted();
  }

  /** The next chunk if one is ready; {@link #EMPTY} if none is; null at the end of the stream. */
  Chunk tryReceive() {
    TryReceived<Chunk> r = channel.tryReceive();
    return r instanceof TryReceived.WouldBlock<Chunk> ? EMPTY : taken((Received<Chunk>) r);
  }

  Channel<Chunk> channel() {
    return channel;
  }

  /** Accounts for what a receive from {@link #channel()} got; every receive must pass here. */
  Chunk taken(Received<Chunk> r) {
    if (r instanceof Received.Value<Chunk>(Chunk c)) {
      queued.addAndGet(-c.size);
      if (chunks.decrementAndGet() <= resumeAt && waitingSenders.get() > 0) {
        room.trySend(Boolean.TRUE);
      }
      return c;
    }
    return null;
  }

  void close() {
    channel.close();
    room.close();
    CancelableContext c = cancelledAtClose;
    if (c != null) {
      c.cancel();
    }
  }

  /**
   * Cancels {@code waits} when this edge is closed, at once if it is closed already: for a sender
   * that waits on something else than the edge (a throttle on its clock), so that the receiver's
   * close (take has enough) ends that wait instead of the sender finding out at its next send. No
   * close is missed: this writes the field and then reads the channel's state under its lock;
   * close() changes that state under the lock and then reads the field.
   */
  void cancelAtClose(CancelableContext waits) {
    cancelledAtClose = waits;
    if (channel.isClosed()) {
      waits.cancel();
    }
  }

  boolean isClosed() {
    return channel.isClosed();
  }

  /** Items in the edge; the receiver may count a chunk down just before its sender counts it up. */
  long queued() {
    return Math.max(0, queued.get());
  }

  /** Whether a sender waiting for room has been told to go on; for tests. */
  boolean roomSignalled() {
    return room.len() > 0;
  }

  /** Marks "nothing ready right now" for {@link #tryReceive()}; never sent. */
  static final Chunk EMPTY = new Chunk(0);

  static boolean isDownstreamGone(Throwable t) {
    return t instanceof ChannelClosedException;
  }
}
