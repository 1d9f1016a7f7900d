package io.sluice.core;

import io.sluice.core.internal.Nanos;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;

/*
 * Go's selectgo, in three steps.
 *
 * 1. Poll: visit the channel and done clauses in a uniformly random order (a Fisher-Yates
 *    permutation, as Go's pollorder), taking one channel lock at a time; the first that can complete
 *    does, and its handler's result is returned. A default clause, or a timeout that has already
 *    passed, is taken when nothing is ready.
 * 2. Register: lock every distinct channel in id order (Go's lockorder, so two selects never
 *    deadlock), poll once more in the same random order — nobody can complete this select meanwhile,
 *    since it is not queued anywhere — and if still nothing is ready, queue one Node per channel
 *    clause, all sharing one Waiter, then unlock. Done clauses register a context hook.
 * 3. Wait: the first counterpart to CAS the Waiter decides the clause (Waiter's comment); a deadline,
 *    an interrupt or the select's own context decide otherwise. Then every other Node is unlinked
 *    and hook removed, and the chosen clause's handler runs.
 *
 * Fairness: step 1 and step 2 choose uniformly among the clauses ready at that moment. Among
 * counterparts arriving while the select waits, the first one wins, as in Go.
 */
final class SelectImpl {
  private SelectImpl() {}

  /** Runs a select; every element of {@code clauses} is a {@code Clause<? extends R>}. */
  @SuppressWarnings("unchecked") // the array's element type is erased by the varargs entry points
  static <R> R run(Context context, Clause<?>[] clauses) throws InterruptedException {
    int n = clauses.length;
    if (n == 0) {
      throw new IllegalArgumentException("select needs at least one clause");
    }
    BaseContext ctx = (BaseContext) context;
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    if (ctx != null && ctx.isDone()) {
      throw ctx.failure();
    }

    SelectClause.Default<? extends R> dflt = null;
    SelectClause.Timeout<? extends R> timeout = null;
    long timeoutNanos = Long.MAX_VALUE;
    int[] order = new int[n];
    int active = 0;
    for (int i = 0; i < n; i++) {
      SelectClause<? extends R> c =
          (SelectClause<? extends R>) Objects.requireNonNull(clauses[i], "clause");
      switch (c) {
        case SelectClause.Default<? extends R> d -> {
          if (dflt != null) {
            throw new IllegalArgumentException("select has more than one default clause");
          }
          dflt = d;
        }
        case SelectClause.Timeout<? extends R> t -> {
          long nanos = Nanos.of(t.timeout); // saturated: too long to count means never
          if (timeout == null || nanos < timeoutNanos) {
            timeout = t;
            timeoutNanos = nanos;
          }
        }
        case SelectClause.Never<? extends R> never -> {}
        default -> order[active++] = i;
      }
    }
    shuffle(order, active);
    long start = timeout != null ? System.nanoTime() : 0;

    // 1. Poll.
    for (int k = 0; k < active; k++) {
      SelectClause<? extends R> c = (SelectClause<? extends R>) clauses[order[k]];
      Object r = pollOne(c);
      if (r != ChannelImpl.EMPTY) {
        return complete(c, r);
      }
    }
    if (dflt != null) {
      return dflt.handler.get();
    }
    if (timeout != null && timeoutNanos <= 0) {
      return timeout.handler.get();
    }
    if (active == 0 && timeout == null && ctx == null) {
      throw new IllegalArgumentException(
          "select has no clause that can ever fire (only never()): it would block forever");
    }

    // 2. Register.
    ChannelImpl<?>[] locks = lockOrder(clauses, order, active);
    lockAll(locks);
    for (int k = 0; k < active; k++) {
      SelectClause<? extends R> c = (SelectClause<? extends R>) clauses[order[k]];
      Object r = pollLocked(c);
      if (r != ChannelImpl.EMPTY) {
        unlockAll(locks);
        return complete(c, ChannelImpl.finish(r));
      }
    }
    Waiter w = new Waiter();
    Node[] nodes = new Node[n];
    boolean plain = active == 1 && timeout == null && ctx == null; // only a value can end it
    ChannelImpl<?> stranded = null;
    for (int k = 0; k < active; k++) {
      int i = order[k];
      switch ((SelectClause<? extends R>) clauses[i]) {
        case SelectClause.Receive<?, ? extends R> rc -> {
          nodes[i] = new Node(w, i, null);
          nodes[i].plain = plain;
          if (rc.channel.addReceiver(nodes[i])) {
            stranded = rc.channel;
          }
        }
        case SelectClause.Send<?, ? extends R> sc -> {
          nodes[i] = new Node(w, i, sc.value);
          sc.channel.addSender(nodes[i]);
        }
        default -> {}
      }
    }
    unlockAll(locks);
    if (stranded != null) {
      stranded.reportStrandedReceive();
    }
    ContextHooks.Hook[] hooks = null;
    for (int k = 0; k < active; k++) {
      int i = order[k];
      if (clauses[i] instanceof SelectClause.Done<?> d) {
        if (hooks == null) {
          hooks = new ContextHooks.Hook[n];
        }
        hooks[i] = d.context.register(() -> w.claimAndWake(i));
      }
    }

    // 3. Wait.
    int outcome = w.await(timeout != null, start + timeoutNanos, ctx, "select over", clauses);
    for (int i = 0; i < n; i++) {
      if (i == outcome) {
        continue;
      }
      if (nodes[i] != null) {
        channelOf(clauses[i]).removeNode(nodes[i]);
      }
      if (hooks != null && hooks[i] != null) {
        ((SelectClause.Done<?>) clauses[i]).context.unregister(hooks[i]);
      }
    }
    switch (outcome) {
      case Waiter.INTERRUPTED -> throw new InterruptedException();
      case Waiter.CANCELLED -> throw ctx.failure();
      case Waiter.TIMED_OUT -> {
        return timeout.handler.get();
      }
      default -> {
        SelectClause<? extends R> c = (SelectClause<? extends R>) clauses[outcome];
        Node node = nodes[outcome];
        Object r = node == null ? null : node.closed ? ChannelImpl.CLOSED : node.item;
        return complete(c, r);
      }
    }
  }

  /** Step 1 for one clause: a result, or EMPTY when it is not ready. */
  private static Object pollOne(SelectClause<?> c) {
    ChannelImpl<?> ch = channelOf(c);
    if (ch == null) {
      return pollLocked(c); // a done clause: no channel to lock
    }
    ch.lock();
    Object r = pollLocked(c);
    ch.unlock();
    return ChannelImpl.finish(r);
  }

  /** Completes a channel clause under its channel's lock if it can; EMPTY otherwise. */
  private static Object pollLocked(SelectClause<?> c) {
    return switch (c) {
      case SelectClause.Receive<?, ?> rc -> rc.channel.receiveLocked();
      case SelectClause.Send<?, ?> sc -> sc.channel.sendLocked(sc.value);
      case SelectClause.Done<?> d -> d.context.isDone() ? null : ChannelImpl.EMPTY;
      default -> ChannelImpl.EMPTY;
    };
  }

  /** Runs the chosen clause's handler for result {@code r} (a value, CLOSED, SENT or null). */
  private static <R> R complete(SelectClause<? extends R> c, Object r) {
    return switch (c) {
      case SelectClause.Receive<?, ? extends R> rc -> rc.complete(r);
      case SelectClause.Send<?, ? extends R> sc -> {
        if (r == ChannelImpl.CLOSED) {
          throw sc.channel.closedForSend();
        }
        yield sc.onSent.get();
      }
      case SelectClause.Done<? extends R> d -> d.handler.get();
      default -> throw new AssertionError("clause cannot complete: " + c);
    };
  }

  private static ChannelImpl<?> channelOf(Clause<?> c) {
    return switch ((SelectClause<?>) c) {
      case SelectClause.Receive<?, ?> rc -> rc.channel;
      case SelectClause.Send<?, ?> sc -> sc.channel;
      default -> null;
    };
  }

  /** The distinct channels of the active clauses, sorted by id. */
  private static ChannelImpl<?>[] lockOrder(Clause<?>[] clauses, int[] order, int active) {
    ChannelImpl<?>[] chans = new ChannelImpl<?>[active];
    int m = 0;
    for (int k = 0; k < active; k++) {
      ChannelImpl<?> ch = channelOf(clauses[order[k]]);
      if (ch != null) {
        chans[m++] = ch;
      }
    }
    Arrays.sort(chans, 0, m, (a, b) -> Long.compare(a.id, b.id));
    int distinct = 0;
    for (int k = 0; k < m; k++) {
      if (distinct == 0 || chans[distinct - 1] != chans[k]) {
        chans[distinct++] = chans[k];
      }
    }
    return Arrays.copyOf(chans, distinct);
  }

  private static void lockAll(ChannelImpl<?>[] chans) {
    for (int k = 0; k < chans.length; k++) {
      if (k == 0) {
        chans[k].lock();
      } else {
        chans[k].lockHoldingOthers();
      }
    }
  }

  private static void unlockAll(ChannelImpl<?>[] chans) {
    for (int k = chans.length - 1; k >= 0; k--) {
      chans[k].unlock();
    }
  }

  /** Shuffles the first {@code n} entries uniformly (Fisher-Yates). */
  private static void shuffle(int[] a, int n) {
    if (n < 2) {
      return;
    }
    ThreadLocalRandom rnd = ThreadLocalRandom.current();
    for (int i = n - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }
}
