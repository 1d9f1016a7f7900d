package io.sluice.core;

/*
 * A FIFO of Nodes waiting on one side of a channel (Go's waitq), guarded by the channel's lock.
 * Doubly linked so that a waiter that gives up removes its node in O(1).
 */
final class WaitQueue {
  private Node head;
  private Node tail;

  boolean isEmpty() {
    return head == null;
  }

  Node first() {
    return head;
  }

  void add(Node n) {
    n.queue = this;
    n.prev = tail;
    n.next = null;
    if (tail == null) {
      head = n;
    } else {
      tail.next = n;
    }
    tail = n;
  }

  /** Unlinks {@code n} if it is in this queue; returns whether it was. */
  boolean remove(Node n) {
    if (n.queue != this) {
      return false;
    }
    if (n.prev == null) {
      head = n.next;
    } else {
      n.prev.next = n.next;
    }
    if (n.next == null) {
      tail = n.prev;
    } else {
      n.next.prev = n.prev;
    }
    n.prev = n.next = null;
    n.queue = null;
    return true;
  }

  /**
   * Removes and claims the first node whose waiter is still undecided, dropping dead nodes on the
   * way. If {@code deliver} is not null it is written into the node's item before the claim, so the
   * claimed waiter sees it.
   */
  Node claimFirst(Object deliver) {
    for (Node n = head; n != null; n = head) {
      remove(n);
      if (deliver != null) {
        n.item = deliver;
      }
      if (n.claim()) {
        return n;
      }
    }
    return null;
  }

  /** Whether any queued node's waiter is still undecided. */
  boolean hasLiveNode() {
    for (Node n = head; n != null; n = n.next) {
      if (n.waiter.lvState() == Waiter.WAITING) {
        return true;
      }
    }
    return false;
  }

  /** Live (undecided) nodes, for invariants. */
  int countLive() {
    int live = 0;
    Node prev = null;
    for (Node n = head; n != null; n = n.next) {
      if (n.prev != prev || n.queue != this) {
        throw new AssertionError("broken wait queue");
      }
      if (n.waiter.lvState() == Waiter.WAITING) {
        live++;
      }
      prev = n;
    }
    if (prev != tail) {
      throw new AssertionError("wait queue tail mismatch");
    }
    return live;
  }
}
