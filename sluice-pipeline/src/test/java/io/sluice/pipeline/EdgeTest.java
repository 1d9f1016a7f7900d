package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An edge between two stages: a sender that finds it full waits until the receiver has taken it
 * down to half, and that wait ends like a channel send's on cancel, interrupt and close.
 */
@Timeout(30)
class EdgeTest {
  private static final Context CTX = Context.background();

  private static Chunk chunkOf(Object... items) {
    Chunk c = new Chunk(items.length);
    for (Object x : items) {
      c.add(x);
    }
    return c;
  }

  private static Edge full(int capacity) throws InterruptedException {
    Edge e = new Edge(capacity);
    for (int i = 0; i < capacity; i++) {
      e.send(CTX, chunkOf(i));
    }
    return e;
  }

  /** Starts a virtual thread sending {@code c}; what it threw, if anything, goes to {@code err}. */
  private static Thread sender(Edge e, Context ctx, Chunk c, AtomicReference<Throwable> err) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                e.send(ctx, c);
              } catch (Throwable t) {
                err.set(t);
              }
            });
  }

  private static void awaitParked(Thread t) {
    while (t.getState() != Thread.State.WAITING) {
      assertTrue(t.isAlive(), "the sender ended instead of waiting");
      Thread.onSpinWait();
    }
  }

  @Test
  void aSenderThatFindsTheEdgeFullWaitsUntilHalfOfItIsTaken() throws Exception {
    Edge e = full(4);
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread s = sender(e, CTX, chunkOf("last"), err);
    awaitParked(s);

    assertEquals(0, e.receive(CTX).items[0]);
    assertFalse(e.roomSignalled(), "signalled with 3 of 4 chunks left");
    assertTrue(s.isAlive());

    assertEquals(1, e.receive(CTX).items[0]);
    s.join();

    assertNull(err.get());
    for (Object expected : new Object[] {2, 3, "last"}) {
      assertEquals(expected, e.receive(CTX).items[0]);
    }
    assertSame(Edge.EMPTY, e.tryReceive());
  }

  @Test
  void anEdgeOfOneChunkTakesTheNextOnceTheFirstIsTaken() throws Exception {
    Edge e = full(1);
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread s = sender(e, CTX, chunkOf("second"), err);
    awaitParked(s);

    assertEquals(0, e.receive(CTX).items[0]);
    s.join();

    assertNull(err.get());
    assertEquals("second", e.receive(CTX).items[0]);
  }

  @Test
  void cancellingTheContextEndsAWaitForRoom() throws Exception {
    Edge e = full(4);
    CancelableContext ctx = CTX.withCancel();
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread s = sender(e, ctx, chunkOf("late"), err);
    awaitParked(s);

    ctx.cancel();
    s.join();

    assertInstanceOf(ContextCancelledException.class, err.get());
  }

  @Test
  void aDoneContextStopsASendEvenWithRoom() {
    Edge e = new Edge(4);
    CancelableContext ctx = CTX.withCancel();
    ctx.cancel();

    assertThrows(ContextCancelledException.class, () -> e.send(ctx, chunkOf(1)));
    assertSame(Edge.EMPTY, e.tryReceive());
  }

  @Test
  void interruptingASenderWaitingForRoomThrowsInterruptedException() throws Exception {
    Edge e = full(4);
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread s = sender(e, CTX, chunkOf("late"), err);
    awaitParked(s);

    s.interrupt();
    s.join();

    assertInstanceOf(InterruptedException.class, err.get());
  }

  @Test
  void anInterruptedSenderThrowsInterruptedExceptionEvenWithRoom() {
    Edge e = new Edge(4);
    Thread.currentThread().interrupt();
    try {
      assertThrows(InterruptedException.class, () -> e.send(CTX, chunkOf(1)));
    } finally {
      Thread.interrupted();
    }
    assertSame(Edge.EMPTY, e.tryReceive());
  }

  @Test
  void closingTheEdgeReleasesASenderWaitingForRoomAsDownstreamGone() throws Exception {
    Edge e = full(4);
    AtomicReference<Throwable> err = new AtomicReference<>();
    Thread s = sender(e, CTX, chunkOf("late"), err);
    awaitParked(s);

    e.close();
    s.join();

    assertInstanceOf(ChannelClosedException.class, err.get());
    assertTrue(Edge.isDownstreamGone(err.get()));
  }

  @Test
  void pollReportsNothingReadyOnceTheContextIsDoneSoThatTheNextReceiveThrows() throws Exception {
    Edge e = new Edge(4);
    e.send(CTX, chunkOf(1));
    CancelableContext ctx = CTX.withCancel();
    ctx.cancel();

    assertSame(Edge.EMPTY, e.poll(ctx));
    assertThrows(ContextCancelledException.class, () -> e.receive(ctx));
    assertEquals(1, e.poll(CTX).items[0]);
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 8})
  void severalSendersLoseNothingAndKeepTheirOwnOrder(int capacity) throws Exception {
    int senders = 4;
    int perSender = System.getenv("CI") != null ? 200_000 : 20_000;
    Edge e = new Edge(capacity);
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> err = new AtomicReference<>();
    for (int s = 0; s < senders; s++) {
      int id = s;
      long seed = new SplittableRandom().nextLong();
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    SplittableRandom rnd = new SplittableRandom(seed);
                    try {
                      int next = 0;
                      while (next < perSender) {
                        int n = Math.min(1 + rnd.nextInt(4), perSender - next);
                        Chunk c = new Chunk(n);
                        for (int k = 0; k < n; k++) {
                          c.add(new int[] {id, next++});
                        }
                        e.send(CTX, c);
                      }
                    } catch (Throwable t) {
                      err.set(t);
                    }
                  }));
    }
    Thread closer =
        Thread.ofVirtual()
            .start(
                () -> {
                  for (Thread t : threads) {
                    try {
                      t.join();
                    } catch (InterruptedException ex) {
                      err.set(ex);
                    }
                  }
                  e.close();
                });

    int[] expected = new int[senders];
    Chunk c;
    while ((c = e.receive(CTX)) != null) {
      for (int k = 0; k < c.size; k++) {
        int[] item = (int[]) c.items[k];
        assertEquals(expected[item[0]]++, item[1], "sender " + item[0] + " out of order");
      }
    }
    closer.join();

    assertNull(err.get());
    for (int s = 0; s < senders; s++) {
      assertEquals(perSender, expected[s], "items of sender " + s);
    }
    assertEquals(0, e.queued());
  }
}
