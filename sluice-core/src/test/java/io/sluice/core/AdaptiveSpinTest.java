package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Waits on a channel stop spinning for a while after a spin phase on it failed (the waiter parked
 * anyway), for longer the more failures come in a row, and spin again afterwards.
 */
@Timeout(30)
class AdaptiveSpinTest {

  @Test
  void aReceiverThatHadToParkMakesTheNextWaitsOnItsChannelParkAtOnce() throws Exception {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>unbuffered();
    Thread receiver =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    ch.receive();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    while (receiver.getState() != Thread.State.WAITING) { // parked: its spin phase is over
      Thread.yield();
    }
    assertEquals(-1, ch.spinBackoff(), "one failure: the next wait parks at once");
    ch.send(1);
    receiver.join();
  }

  @Test
  void failuresInARowDoubleTheBackoffUpToItsLimit() {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>buffered(1);

    for (int expected : new int[] {1, 2, 4, 8, 16, 32, Waiter.SPIN_BACKOFF, Waiter.SPIN_BACKOFF}) {
      ch.spinFailed();
      assertEquals(-expected, ch.spinBackoff());
    }
  }

  @Test
  void aWaitCompletedWhileSpinningEndsTheRow() {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>buffered(1);
    for (int i = 0; i < 5; i++) {
      ch.spinFailed();
    }

    ch.spinSucceeded();
    ch.spinFailed();

    assertEquals(-1, ch.spinBackoff());
  }

  @Test
  void afterTheBackoffWaitsSpinAgain() {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>buffered(1);
    assertTrue(ch.spinAllowed());

    for (int i = 0; i < 7; i++) {
      ch.spinFailed();
    }
    for (int i = 0; i < Waiter.SPIN_BACKOFF; i++) {
      assertFalse(ch.spinAllowed(), "wait " + i + " of the backoff");
    }

    assertTrue(ch.spinAllowed());
    assertTrue(ch.spinAllowed());
  }
}
