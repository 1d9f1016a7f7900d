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
 * mapParallel and mapParallelUnordered: the seed's semaphore-bounded step. At most `parallelism`
 * items run at once, each on a virtual thread, and no thread waits for work — no fixed pool, so
 * three items cost at most three threads.
 *
 * Threads: a dispatcher reads the input and, for each item, takes a window permit, puts the item on
 * `ready` and starts a thread if the running bound allows. A thread takes ready items one after
 * the other: for each it applies the function under the error policy and posts (seq, result) to
 * `done`; when `ready` is empty it gives its running permit back and ends. So a busy stage starts a
 * thread per `parallelism`-th item or so rather than per item (a virtual thread's start and end
 * cost about a fifth of a 1 ms call's overhead on this project's machine), and an idle stage holds
 * no thread. The dispatcher never waits for a running item to end, and nobody holds a lock for the
 * bound: `running` counts the free permits, taken by CAS. A ready item is never stranded: the
 * dispatcher adds to `ready` and then tries to take permits for threads; a thread frees its permit
 * and then looks at `ready` again, taking the permit back if an item is there; whichever of the two
 * comes last sees the other's step. The dispatcher starts a thread per item it added, not per free
 * permit (a started thread has not taken its item yet). Between items a thread clears its interrupt status (an item's function may leave it
 * set; with a thread per item that status died with the thread) and stops if the run is stopping.
 * A collector reads `done` and writes results downstream.
 *
 * Order and memory: the window, 2 * parallelism, bounds the items dispatched but not yet passed
 * downstream (ready, running, finished and waiting for an earlier one, or queued in `done`). The
 * running bound keeps parallelism at its limit, and the extra window keeps items ready for the
 * threads that finish while a slow one holds the head (ordered) or while the collector catches up.
 * Unordered, results go out as they come; ordered, the collector keeps finished results in a ring
 * indexed by seq mod its length, which doubles (up to the window) when a result comes too far
 * ahead of the head, and writes the contiguous run from the head. `done` has room for the whole
 * window plus the end marker, so a thread never waits to post; like the ring, it grows only as
 * results fill it, so nothing is sized by the limit up front (the window is capped to an int, for
 * a parallelism meant as "no limit").
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
    // 2 * parallelism, within an int (`done` holds the window and the end marker): a very large
    // limit, as "no limit", must not overflow.
    int window = (int) Math.min(2L * parallelism, Integer.MAX_VALUE - 1);
    Semaphore slots = Semaphore.weighted(window);
    AtomicInteger running = new AtomicInteger(parallelism);
    ConcurrentLinkedQueue<Pending> ready = new ConcurrentLinkedQueue<>();
    Channel<Object> done = Channel.buffered(window + 1);
    CancelableContext local = st.ctx.withCancel();
    st.start(
        () -> {
          long seq = 0;
          Meter.Lane taken = st.meter.lane(); // counts `in` as items are dispatched, never busy
          try {
            Chunk c;
            while ((c = in.receive(local)) != null) {
              for (int i = 0; i < c.size; ) {
                // Permits for as many of the chunk's items as the window has room for, so a wake-up
                // dispatches a batch. Only this thread acquires: what it sees available stays so.
                slots.acquire(local, 1);
                int n = 1 + (int) Math.min(slots.available(), c.size - i - 1);
                if (n > 1 && !slots.tryAcquire(n - 1)) {
                  n = 1;
                }
                for (int end = i + n; i < end; i++) {
                  ready.add(new Pending(seq++, c.items[i]));
                  c.items[i] = null;
                }
                taken.took(n);
                startReady(st, running, ready, done, n);
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

  /** A thread's life: ready items one after the other, then its permit back. */
  private void drain(
      Stage st, AtomicInteger running, ConcurrentLinkedQueue<Pending> ready, Channel<Object> done)
      throws InterruptedException {
    boolean holding = true; // the running permit this thread was started with
    Meter.Lane lane = st.meter.borrow(); // at most `parallelism` lanes: one per running thread
    try {
      do {
        Pending p;
        while ((p = ready.poll()) != null) {
          work(st, lane, done, p.seq(), p.item());
          Thread.interrupted(); // clear first: a stop interrupts only after it cancels st.ctx
          if (st.ctx.isDone()) {
            return;
          }
        }
        running.incrementAndGet();
        holding = false;
      } while (!ready.isEmpty() && (holding = tryTake(running)));
    } finally {
      st.meter.giveBack(lane); // before the permit: a new thread then finds it idle
      if (holding) {
        running.incrementAndGet();
      }
    }
  }

  private void work(Stage st, Meter.Lane lane, Channel<Object> done, long seq, Object item)
      throws InterruptedException {
    lane.begin(System.nanoTime()); // a live report counts the item in flight from here
    Object r;
    try {
      r = st.apply(item, call);
    } finally {
      lane.end(System.nanoTime());
    }
    // Never waits: `done` has room for the whole window. Not send(): it would throw if the function
    // left the thread's interrupt status set, and lose the result.
    if (!done.trySend(new Done(seq, r))) {
      throw new IllegalStateException("mapParallel's result channel is full: a Sluice bug");
    }
  }

  /**
   * Starts a thread for each of the {@code added} items just made ready, while the running bound
   * allows; threads already running take the rest. Not one per free permit: a started thread has
   * not taken its item yet, so `ready` would still look non-empty to the next check.
   */
  private void startReady(
      Stage st,
      AtomicInteger running,
      ConcurrentLinkedQueue<Pending> ready,
      Channel<Object> done,
      int added)
      throws InterruptedException {
    for (int k = 0; k < added && !ready.isEmpty() && tryTake(running); k++) {
      st.run.group.go(x -> st.guard(() -> drain(st, running, ready, done), null, List.of()));
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

  /**
   * {@code ring}, holding the results of seq {@code next} onwards at seq mod its length, copied
   * into one at least {@code needed} long (a doubling, at most {@code window}).
   */
  private static Object[] grown(Object[] ring, long next, long needed, int window) {
    int n = ring.length;
    while (n < needed) {
      n = (int) Math.min(2L * n, window);
    }
    Object[] bigger = new Object[n];
    for (long s = next; s < next + ring.length; s++) {
      bigger[(int) (s % n)] = ring[(int) (s % ring.length)];
    }
    return bigger;
  }

  private void collect(Stage st, Semaphore slots, Channel<Object> done, Out o, int window)
      throws InterruptedException {
    // Grows by doubling up to the window, as results come out of order: sized by what is held,
    // not by the limit, so a very large parallelism costs nothing up front.
    Object[] ring = new Object[Math.min(window, 64)];
    long next = 0;
    long total = -1;
    while (total < 0 || next < total) {
      Object m = done.receive(st.ctx);
      long passed = next;
      while (m != null) {
        if (m instanceof End(long count)) {
          total = count;
        } else {
          Done d = (Done) m;
          if (ordered) {
            long ahead = d.seq() - next; // below the window: the dispatcher holds a permit for it
            if (ahead >= ring.length) {
              ring = grown(ring, next, ahead + 1, window);
            }
            ring[(int) (d.seq() % ring.length)] = d.result();
            int h;
            while (ring[h = (int) (next % ring.length)] != null) {
              Object r = ring[h];
              ring[h] = null;
              next++;
              if (r != Stage.SKIP) {
                o.add(r);
              }
            }
          } else {
            next++;
            if (d.result() != Stage.SKIP) {
              o.add(d.result());
            }
          }
        }
        TryReceived<Object> more = done.tryReceive();
        m = more instanceof Received.Value<Object>(Object v) ? v : null;
      }
      // Window permits back once per batch: the dispatcher wakes once for the lot, not per item.
      if (next > passed) {
        slots.release(next - passed);
      }
      o.flush();
    }
  }
}
