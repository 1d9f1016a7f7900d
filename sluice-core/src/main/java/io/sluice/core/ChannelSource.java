package io.sluice.core;

/*
 * A lazily armed producer behind a timer's or ticker's channel (Go 1.23 timers): the channel asks it
 * for a due value when a receiver looks, and asks it to arm the timer engine only while a receiver
 * waits, so a timer nobody waits on holds no engine entry and is garbage once unreferenced.
 *
 * Every method but reportStrandedReceive is called with the channel's lock held: it must be quick, must not block, and must
 * not call back into the channel. When an armed entry fires, the source itself takes the channel
 * lock and hands the value to a waiting receiver with sendLocked (ChannelTimer's comment says why).
 */
interface ChannelSource<T> {
  /** Consumes and returns a value that is due now, or returns null. */
  T pollDue();

  /**
   * A receiver is about to wait: arrange to hand it the next value when it is due.
   *
   * @param plain the receiver can be ended only by a value or an interrupt (no timeout, no context,
   *     no other select clause)
   * @return true if such a plain receiver will wait until someone resets the source, which the
   *     caller then reports with {@link #reportStrandedReceive()} once it has released the lock
   */
  boolean armForWaiter(boolean plain);

  /**
   * Logs that the calling thread is about to wait, in a plain receive, for a value that only a
   * reset can make due. Called without the channel lock, after {@link #armForWaiter} said so.
   */
  void reportStrandedReceive();

  /**
   * The last waiting receiver left without a value (it timed out, was interrupted, or its select
   * chose another clause): the engine entry is no longer needed (Go's unblockTimerChan).
   */
  void lastReceiverLeft();
}
