package io.sluice.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;

/*
 * The callbacks a cancelable context runs when it becomes done: its children's cancellation, the
 * wake-up of threads blocked with it, select cases on it, and afterFunc registrations.
 *
 * A doubly linked list so that a waiter or child that finishes first removes its hook in O(1); the
 * owner (CancelContext) guards it with its monitor. detach() empties the list exactly once, at
 * cancellation; later add() calls are refused so the owner runs those actions itself.
 *
 * Invariants (checkInvariants): the list is acyclic, prev/next agree, every linked hook's owner is
 * this list, size matches the walk.
 */
final class ContextHooks {

  /** One registered action. {@code list == null} once removed or detached. */
  static final class Hook {
    final Runnable action;
    Hook prev;
    Hook next;
    ContextHooks list;

    Hook(Runnable action) {
      this.action = action;
    }
  }

  private Hook head;
  private Hook tail;
  private int size;
  private boolean detached;

  /** Appends {@code hook}; returns {@code false} if the list was already detached. */
  boolean add(Hook hook) {
    if (detached) {
      return false;
    }
    hook.list = this;
    hook.prev = tail;
    if (tail == null) {
      head = hook;
    } else {
      tail.next = hook;
    }
    tail = hook;
    size++;
    return true;
  }

  /** Unlinks {@code hook} if it is still here; returns whether it was. */
  boolean remove(Hook hook) {
    if (hook.list != this) {
      return false;
    }
    if (hook.prev == null) {
      head = hook.next;
    } else {
      hook.prev.next = hook.next;
    }
    if (hook.next == null) {
      tail = hook.prev;
    } else {
      hook.next.prev = hook.prev;
    }
    hook.prev = hook.next = null;
    hook.list = null;
    size--;
    return true;
  }

  /** Empties the list for good and returns its hooks in registration order. */
  List<Hook> detach() {
    detached = true;
    if (head == null) {
      return List.of();
    }
    List<Hook> all = new ArrayList<>(size);
    for (Hook h = head; h != null; ) {
      Hook next = h.next;
      h.prev = h.next = null;
      h.list = null;
      all.add(h);
      h = next;
    }
    head = tail = null;
    size = 0;
    return all;
  }

  int size() {
    return size;
  }

  void checkInvariants() {
    int n = 0;
    Hook prev = null;
    for (Hook h = head; h != null; h = h.next) {
      if (h.prev != prev || h.list != this) {
        throw new AssertionError("broken hook list at element " + n);
      }
      prev = h;
      n++;
    }
    if (prev != tail || n != size) {
      throw new AssertionError("hook list size " + size + " but walked " + n);
    }
  }

  /** {@link Context#afterFunc}: starts the action on a virtual thread unless stopped first. */
  static final class AfterFuncImpl implements Context.AfterFunc {
    private static final int PENDING = 0;
    private static final int STARTED = 1;
    private static final int STOPPED = 2;
    private static final VarHandle STATE;

    static {
      try {
        STATE = MethodHandles.lookup().findVarHandle(AfterFuncImpl.class, "state", int.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private final Runnable action;
    private final BaseContext context;
    private volatile int state;
    private volatile Hook hook;

    AfterFuncImpl(BaseContext context, Runnable action) {
      this.context = context;
      this.action = action;
    }

    void register() {
      hook = context.register(this::fire);
    }

    private void fire() {
      if (STATE.compareAndSet(this, PENDING, STARTED)) {
        Thread.ofVirtual().name("sluice-afterfunc").start(action);
      }
    }

    @Override
    public boolean stop() {
      if (!STATE.compareAndSet(this, PENDING, STOPPED)) {
        return false;
      }
      Hook h = hook;
      if (h != null) {
        context.unregister(h);
      }
      return true;
    }
  }
}
