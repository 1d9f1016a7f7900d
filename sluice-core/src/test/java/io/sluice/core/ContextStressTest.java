package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Random context trees grown, cancelled and ended by short deadlines of the system clock from many
 * virtual threads at once, with afterFuncs registered and stopped on them; then, once every short
 * deadline has passed and the timer engine is past it, the invariants: a context whose parent is
 * done is done, a live context holds exactly one hook per live child and per pending afterFunc (no
 * finished child or stopped afterFunc left behind), a done one holds none; and after the root is
 * cancelled, every afterFunc that was not stopped ran exactly once, no stopped one ran. Short by
 * default, five times longer when {@code CI} is set, a hundred times under the {@code stress-long}
 * tag.
 */
class ContextStressTest {
  private static final int THREADS = 16;
  private static final Context.Key<Integer> KEY = Context.Key.named("stress");

  private static int scale() {
    return System.getenv("CI") == null || System.getenv("CI").isBlank() ? 1 : 5;
  }

  @Test
  @Timeout(120)
  void givenRandomTreesCancelledWhileTheyGrow_whenAllIsQuiet_thenDoneSpreadsDownAndNoHookIsLeft()
      throws Exception {
    run(5_000 * scale());
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void longRun() throws Exception {
    for (int round = 0; round < 100; round++) {
      run(5_000);
    }
  }

  /** One context of the tree and how it hangs from its parent. */
  private record Entry(Context ctx, Entry parent, boolean shortDeadline) {
    /** The cancelable context whose hook list this one's registrations join, or null. */
    CancelContext anchor() {
      for (Entry e = this; e != null; e = e.parent) {
        if (e.ctx instanceof CancelContext c) {
          return c;
        }
        if (e.ctx instanceof WithoutCancelContext || e.ctx instanceof BackgroundContext) {
          return null;
        }
      }
      return null;
    }

    /** The anchor of the parent: where this context, if cancelable, registered itself. */
    CancelContext parentAnchor() {
      return parent == null ? null : parent.anchor();
    }
  }

  /** An afterFunc and what was reported about it. */
  private record Probe(Entry on, Context.AfterFunc handle, AtomicInteger runs, boolean[] stopped) {}

  private static void run(int opsPerThread) throws Exception {
    int capacity = THREADS * opsPerThread + 1;
    AtomicReferenceArray<Entry> entries = new AtomicReferenceArray<>(capacity);
    AtomicInteger size = new AtomicInteger();
    CancelableContext root = Context.background().withCancel();
    entries.set(
        size.getAndIncrement(),
        new Entry(root, new Entry(Context.background(), null, false), false));
    ConcurrentLinkedQueue<Probe> probes = new ConcurrentLinkedQueue<>();
    Semaphore ran = new Semaphore(0);

    List<Thread> threads = new ArrayList<>();
    ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
    for (int t = 0; t < THREADS; t++) {
      long seed = t;
      threads.add(
          Thread.startVirtualThread(
              () -> {
                try {
                  SplittableRandom rnd = new SplittableRandom(seed);
                  List<Probe> mine = new ArrayList<>();
                  for (int i = 0; i < opsPerThread; i++) {
                    Entry parent = pick(entries, size, rnd);
                    int op = rnd.nextInt(100);
                    if (op < 30) {
                      add(entries, size, new Entry(parent.ctx.withCancel(), parent, false));
                    } else if (op < 40) {
                      boolean quick = rnd.nextBoolean();
                      Duration d =
                          quick ? Duration.ofNanos(rnd.nextLong(0, 500_000)) : Duration.ofHours(1);
                      add(entries, size, new Entry(parent.ctx.withTimeout(d), parent, quick));
                    } else if (op < 50) {
                      add(entries, size, new Entry(parent.ctx.withValue(KEY, i), parent, false));
                    } else if (op < 53) {
                      add(entries, size, new Entry(parent.ctx.withoutCancel(), parent, false));
                    } else if (op < 68) {
                      if (parent.ctx instanceof CancelableContext c && parent.ctx != root) {
                        c.cancel(new RuntimeException("cancel " + i));
                      }
                    } else if (op < 88) {
                      AtomicInteger runs = new AtomicInteger();
                      Context.AfterFunc f =
                          parent.ctx.afterFunc(
                              () -> {
                                runs.incrementAndGet();
                                ran.release();
                              });
                      Probe p = new Probe(parent, f, runs, new boolean[1]);
                      mine.add(p);
                      probes.add(p);
                    } else if (!mine.isEmpty()) {
                      Probe p = mine.get(rnd.nextInt(mine.size()));
                      if (p.handle.stop()) {
                        assertFalse(p.stopped[0], "stop reported true twice");
                        p.stopped[0] = true;
                      }
                    }
                  }
                } catch (Throwable e) {
                  failures.add(e);
                }
              }));
    }
    for (Thread t : threads) {
      t.join();
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError(failures.size() + " threads failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }

    // Quiet: every short deadline has passed and the engine has finished ending those contexts.
    int n = size.get();
    for (int i = 0; i < n; i++) {
      Entry e = entries.get(i);
      if (e.shortDeadline) {
        e.ctx.awaitDone();
      }
    }
    Clock.system().wheel().onEngine(() -> null);

    // Done spreads down; hooks are exactly the live children and the pending afterFuncs.
    Map<CancelContext, Integer> expectedHooks = new IdentityHashMap<>();
    for (int i = 0; i < n; i++) {
      Entry e = entries.get(i);
      CancelContext up = e.parentAnchor();
      if (up != null && up.isDone() && !(e.ctx instanceof WithoutCancelContext)) {
        assertTrue(e.ctx.isDone(), "a context whose parent is done is live");
      }
      if (e.ctx instanceof CancelContext c && up != null && !c.isDone()) {
        expectedHooks.merge(up, 1, Integer::sum);
      }
    }
    for (Probe p : probes) {
      CancelContext anchor = p.on.anchor();
      if (anchor != null && !anchor.isDone() && !p.stopped[0]) {
        expectedHooks.merge(anchor, 1, Integer::sum);
      }
    }
    for (int i = 0; i < n; i++) {
      if (entries.get(i).ctx instanceof CancelContext c) {
        c.checkInvariants();
        assertEquals(
            c.isDone() ? 0 : expectedHooks.getOrDefault(c, 0),
            c.pendingHooks(),
            "hooks of a " + (c.isDone() ? "done" : "live") + " context");
      }
    }

    // End it all: every afterFunc not stopped runs once, on a context that ends.
    for (int i = n - 1; i >= 0; i--) {
      if (entries.get(i).ctx instanceof CancelableContext c) {
        c.cancel();
      }
    }
    int expectedRuns = 0;
    for (Probe p : probes) {
      if (!p.stopped[0] && p.on.anchor() != null) {
        expectedRuns++;
      }
    }
    ran.acquire(expectedRuns); // the @Timeout catches one that never runs
    for (Probe p : probes) {
      if (p.stopped[0] || p.on.anchor() == null) {
        assertEquals(0, p.runs.get(), "an afterFunc stopped, or on a context never done, ran");
      } else {
        assertEquals(1, p.runs.get(), "an afterFunc that was not stopped");
      }
    }
  }

  private static Entry pick(
      AtomicReferenceArray<Entry> entries, AtomicInteger size, SplittableRandom rnd) {
    int n = size.get();
    for (; ; ) {
      Entry e = entries.get(rnd.nextInt(n));
      if (e != null) {
        return e; // a slot claimed but not yet written is skipped
      }
    }
  }

  private static void add(AtomicReferenceArray<Entry> entries, AtomicInteger size, Entry e) {
    entries.set(size.getAndIncrement(), e);
  }
}
