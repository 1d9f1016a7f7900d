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

    ch.spinSucceeded(0, false);
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

  @Test
  void quietSpinsHalveWhenWaitsEndOnlyAfterAYieldAndDoubleWhenTheyEndBefore() {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>buffered(1);
    assertEquals(0, ch.quietSpinsHint(), "a new channel yields early");
    ch.spinSucceeded(Waiter.MAX_QUIET_SPINS, true); // a probe that paid off
    assertEquals(Waiter.MAX_QUIET_SPINS, ch.quietSpinsHint());

    for (int expected : new int[] {256, 128, 64, 32, 16, 8, 4, 0, 0}) {
      ch.spinSucceeded(ch.quietSpinsHint(), false);
      assertEquals(expected, ch.quietSpinsHint());
    }
    for (int expected : new int[] {4, 8, 16}) {
      ch.spinSucceeded(ch.quietSpinsHint(), true);
      assertEquals(expected, ch.quietSpinsHint());
    }
    ch.spinSucceeded(Waiter.MAX_QUIET_SPINS, true); // a probe that paid off
    assertEquals(Waiter.MAX_QUIET_SPINS, ch.quietSpinsHint());
    ch.spinSucceeded(Waiter.MAX_QUIET_SPINS, true);
    assertEquals(Waiter.MAX_QUIET_SPINS, ch.quietSpinsHint(), "no more than the most");
  }

  @Test
  void aFailedSpinPhaseHalvesTheQuietSpins() {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>buffered(1);
    ch.spinSucceeded(Waiter.MAX_QUIET_SPINS, true);

    ch.spinFailed();

    assertEquals(Waiter.MAX_QUIET_SPINS / 2, ch.quietSpinsHint());
  }

  @Test
  void withoutQuietSpinsOneWaitInAProbePeriodTriesTheMost() {
    ChannelImpl<Integer> ch = (ChannelImpl<Integer>) Channel.<Integer>buffered(1);

    int probes = 0;
    for (int i = 0; i < 10 * Waiter.QUIET_PROBE; i++) {
      int quiet = ch.quietSpins();
      if (quiet != 0) {
        assertEquals(Waiter.MAX_QUIET_SPINS, quiet);
        probes++;
      }
    }

    assertEquals(10, probes);
  }

  @Test
  void aRendezvousPingPongKeepsWorkingWhateverItsSpinsLearn() throws Exception {
    ChannelImpl<Integer> ping = (ChannelImpl<Integer>) Channel.<Integer>unbuffered();
    ChannelImpl<Integer> pong = (ChannelImpl<Integer>) Channel.<Integer>unbuffered();
    int rounds = 200_000;
    Thread echo =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    for (int i = 0; i < rounds; i++) {
                      pong.send(ping.receive() + 1);
                    }
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    long sum = 0;
    for (int i = 0; i < rounds; i++) {
      ping.send(i);
      sum += pong.receive();
    }
    echo.join();

    assertEquals((long) rounds * (rounds + 1) / 2, sum);
    int quiet = ping.quietSpinsHint();
    assertTrue(quiet >= 0 && quiet <= Waiter.MAX_QUIET_SPINS, "quiet spins " + quiet);
    ping.checkInvariants();
    pong.checkInvariants();
  }
}
