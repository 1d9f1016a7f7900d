package io.sluice.pipeline;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Received;
import io.sluice.core.Semaphore;
import io.sluice.core.TryReceived;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/*
 * mapParallel and mapParallelUnordered: the seed's semaphore-bounded step. One virtual thread per
 * item, at most `parallelism` running at once — no fixed pool, so three items cost three threads.
 *
 * Threads: a dispatcher reads the input and, for each item, takes a window permit. Unordered, it
 * then starts the item's thread. Ordered, it puts the item on `ready` and starts what the running
 * bound allows; an item's thread, when its function returns, gives its running permit back and
 * itself starts the next ready items. So the dispatcher never waits for a running item to end (it
 * waited on a semaphore before and was woken once per item: about a tenth of the stage's time at
 * parallelism 1,000), and nobody holds a lock for the bound: `running` counts the free permits,
 * taken by CAS. A ready item is never stranded: whoever adds to `ready` or frees a permit then
 * tries to start ready items, and the last of them to do so sees both. The item's thread applies
 * the function under the error policy and posts (seq, result) to `done`. A collector reads `done`
 * and writes results downstream.
 *
 * Order and memory: the window bounds the items dispatched but not yet passed downstream (ready,
 * running, finished and waiting for an earlier one, or queued in `done`). Unordered, the window is
 * `parallelism` and results go out as they come. Ordered, the window is 2 * parallelism: the
 * collector keeps finished results in a ring indexed by seq mod window and writes the contiguous
 * run from the head; the running bound keeps parallelism at its limit, and the extra window lets
 * the next items start while a slow one holds the head. `done` has room for the whole window plus
 * the end marker, so an item thread never waits to post.
 *
 * Shutdown: the dispatcher posts End(count) after its last item; the collector ends when it has
 * written (ordered) or received (unordered) that many. If the collector stops early (downstream
 * gone) it cancels `local`, which ends the dispatcher's waits.
 */
record Parallel(int parallelism, boolean ordered, Pipeline.Fn<Object, Object> call)
    implements Node.Kind {

  private record Done(long seq, Object result) {}

  private record End(long count) {}

  private record Pending(long seq, Object item) {}

  @Override
  public String kind() {
    return ordered ? "mapParallel" : "mapParallelUnordered";
  }

  @Override
  public Edge start(Stage st, List<Edge> inputs) throws InterruptedException {
    Edge in = inputs.getFirst();
    Edge out = st.run.newEdge();
    int window = ordered ? 2 * parallelism : parallelism;
    Semaphore slots = Semaphore.weighted(window);
    AtomicInteger running = ordered ? new AtomicInteger(parallelism) : null;
    ConcurrentLinkedQueue<Pending> ready = ordered ? new ConcurrentLinkedQueue<>() : null;
    Channel<Object> done = Channel.buffered(window + 1);
    CancelableContext local = st.ctx.withCancel();
    st.start(
        () -> {
          long seq = 0;
          try {
            Chunk c;
            while ((c = in.receive(local)) != null) {
              st.meter.in.add(c.size);
              for (int i = 0; i < c.size; i++) {
                Object item = c.items[i];
                c.items[i] = null;
                slots.acquire(local, 1);
                long s = seq++;
                if (ready != null) {
                  ready.add(new Pending(s, item));
                  startReady(st, running, ready, done);
                } else {
                  st.run.group.go(
                      x -> st.guard(() -> work(st, null, null, done, s, item), null, List.of()));
                }
              }
            }
            done.send(local, new End(seq));
          } catch (CancellationException e) {
            if (!local.isDone()) {
              throw e;
            }
          }
        },
        null,
        List.of());
    st.start(
        () -> {
          try {
            collect(st, slots, done, new Out(st, out, st.ctx), window);
          } finally {
            local.cancel();
          }
        },
        out,
        inputs);
    return out;
  }

  private void work(
      Stage st,
      AtomicInteger running,
      ConcurrentLinkedQueue<Pending> ready,
      Channel<Object> done,
      long seq,
      Object item)
      throws InterruptedException {
    long t0 = System.nanoTime();
    Object r;
    try {
      r = st.apply(item, call);
    } finally {
      st.meter.busyNanos.add(System.nanoTime() - t0);
      if (running != null) {
        running.incrementAndGet();
      }
    }
    done.send(st.ctx, new Done(seq, r)); // never waits: `done` has room for the whole window
    if (running != null) {
      // Only after the result is posted, so nothing thrown here can lose it. If apply threw, the
      // run is stopping (fail-fast, or stopped) and nothing more needs starting.
      startReady(st, running, ready, done);
    }
  }

  private void startReady(
      Stage st, AtomicInteger running, ConcurrentLinkedQueue<Pending> ready, Channel<Object> done)
      throws InterruptedException {
    while (!ready.isEmpty() && tryTake(running)) {
      Pending p = ready.poll();
      if (p == null) {
        running.incrementAndGet();
        continue;
      }
      st.run.group.go(
          x -> st.guard(() -> work(st, running, ready, done, p.seq(), p.item()), null, List.of()));
    }
  }

  private static boolean tryTake(AtomicInteger free) {
    for (int f = free.get(); f > 0; f = free.get()) {
      if (free.compareAndSet(f, f - 1)) {
        return true;
      }
    }
    return false;
  }

  private void collect(Stage st, Semaphore slots, Channel<Object> done, Out o, int window)
      throws InterruptedException {
    Object[] ring = new Object[window];
    long next = 0;
    long total = -1;
    while (total < 0 || next < total) {
      Object m = done.receive(st.ctx);
      while (m != null) {
        if (m instanceof End(long count)) {
          total = count;
        } else {
          Done d = (Done) m;
          if (ordered) {
            ring[(int) (d.seq() % window)] = d.result();
            int h;
            while (ring[h = (int) (next % window)] != null) {
              Object r = ring[h];
              ring[h] = null;
              next++;
              slots.release(1);
              if (r != Stage.SKIP) {
                o.add(r);
              }
            }
          } else {
            next++;
            slots.release(1);
            if (d.result() != Stage.SKIP) {
              o.add(d.result());
            }
          }
        }
        TryReceived<Object> more = done.tryReceive();
        m = more instanceof Received.Value<Object>(Object v) ? v : null;
      }
      o.flush();
    }
  }
}
