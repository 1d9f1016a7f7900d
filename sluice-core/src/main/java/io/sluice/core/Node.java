package io.sluice.core;

/*
 * One waiting operation of a Waiter on one channel: Go's sudog. A plain blocking send or receive has
 * one node; a select has one per channel clause, all sharing the select's Waiter.
 *
 * item: for a sender's node, the value offered (written before the node is queued); for a
 * receiver's node, the value delivered (written by the sender before it claims the waiter). After
 * a receive claims a sender's node, item may be reused to carry the value handed back to the
 * receiving caller. closed: set by close() before it claims the waiter.
 *
 * prev/next/queue: the intrusive links of WaitQueue, guarded by the channel's lock; queue is null
 * when the node is not linked.
 */
final class Node {
  final Waiter waiter;
  final int clause;
  Object item;
  boolean closed;
  Node prev;
  Node next;
  WaitQueue queue;

  Node(Waiter waiter, int clause, Object item) {
    this.waiter = waiter;
    this.clause = clause;
    this.item = item;
  }

  /** Claims the node's waiter for this node's clause; false if the waiter was already decided. */
  boolean claim() {
    return waiter.casState(clause);
  }
}
