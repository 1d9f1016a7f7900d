package io.sluice.server;

import java.util.concurrent.CountDownLatch;

/** Waits on latches in test code that must not give up on an interrupt. */
final class Latches {
  private Latches() {}

  /**
   * Waits for {@code latch} through interrupts, then restores the interrupt status: for a hook that
   * stands in for a disk or a client that holds until the test releases it.
   */
  static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (true) {
      try {
        latch.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
