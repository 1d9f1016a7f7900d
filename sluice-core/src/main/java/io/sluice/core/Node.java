package io.sluice.core;

/*
 * One waiting operation of a Waiter on one channel: Go's sudog. A plain blocking send or receive has
 * one node, which is its own waiter; a select has one per channel clause, all sharing the select's
 * Waiter (their own inherited state is unused).
 *
 * item: for a sender's node, the value offered (written before the node is queued); for a
 * receiver's node, the value delivered (written by the sender before it claims the waiter). After
 * a receive claims a sender's node, item may be reused to carry the value handed back to the
 * receiving caller. closed: set by close() before it claims the waiter.
 *
 * plain: a receiver's node whose wait only a value, close or interrupt can end -- a receive with no
 * timeout and no context, or a select with this one clause and no timeout or context. Written
 * before the node is queued; read under the channel's lock, by a timer's stop() and by a one-shot
 * timer's fire to tell a receiver that they leave waiting for ever from one that will give up by
 * itself (ChannelTimer).
 *
 * prev/next/queue: the intrusive links of WaitQueue, guarded by the channel's lock; queue is null
 * when the node is not linked.
 */
final class Node extends Waiter {
  final Waiter waiter;
  final int clause;
  Object item;
  boolean closed;
  boolean plain;
  Node prev;
  Node next;
  WaitQueue queue;

  /** A select's node for {@code clause}, decided through the select's {@code waiter}. */
  Node(Waiter waiter, int clause, Object item) {
    this.waiter = waiter;
    this.clause = clause;
    this.item = item;
  }

  /** A plain send's or receive's node: its own waiter, clause 0. */
  Node(Object item) {
    this.waiter = this;
    this.clause = 0;
    this.item = item;
  }

  /** Wakes the waiter after a successful {@link #claim()}. */
  void wakeWaiter() {
    waiter.wake();
  }

  /** Claims the node's waiter for this node's clause; false if the waiter was already decided. */
  boolean claim() {
    return waiter.casState(clause);
  }
}
