package io.sluice.jobs;

import java.util.concurrent.CountDownLatch;

/** A store observer that hears the journal's first stall and its first resume, for stall tests. */
final class StallObserver implements StoreObserver {
  final CountDownLatch stalled = new CountDownLatch(1);
  final CountDownLatch resumed = new CountDownLatch(1);

  @Override
  public void journalStalled(long runningNanos, int waiting) {
    stalled.countDown();
  }

  @Override
  public void journalResumed(long stalledNanos) {
    resumed.countDown();
  }
}
