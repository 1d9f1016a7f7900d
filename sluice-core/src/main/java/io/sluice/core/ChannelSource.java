package io.sluice.core;

/*
 * A lazily armed producer behind a timer's or ticker's channel (Go 1.23 timers): the channel asks it
 * for a due value when a receiver looks, and asks it to arm the timer engine only while a receiver
 * waits, so a timer nobody waits on holds no engine entry and is garbage once unreferenced.
 *
 * Every method is called with the channel's lock held: it must be quick, must not block, and must
 * not call back into the channel. When an armed entry fires, the source itself takes the channel
 * lock and hands the value to a waiting receiver with sendLocked (ChannelTimer's comment says why).
 */
interface ChannelSource<T> {
  /** Consumes and returns a value that is due now, or returns null. */
  T pollDue();

  /** A receiver is about to wait: arrange to hand it the next value when it is due. */
  void armForWaiter();

  /**
   * The last waiting receiver left without a value (it timed out, was interrupted, or its select
   * chose another clause): the engine entry is no longer needed (Go's unblockTimerChan).
   */
  void lastReceiverLeft();
}
