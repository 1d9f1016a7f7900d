package io.sluice.jobs;

import io.sluice.jobs.journal.HookedChannel;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;

/**
 * A durable job store whose disk can hang: the journal's real segment files, behind a {@link
 * HookedChannel} gate that holds the next force (fsync) until the test releases it, as a stuck
 * fsync on a dying device would. For the service's tests (from this module's test jar), which open
 * the store through {@link #open}: this class lives in the store's package to reach its
 * package-private way of opening the journal through a channel opener.
 */
public final class HungDisk {
  private final HookedChannel.Gate gate = new HookedChannel.Gate();

  /** A disk that answers normally until {@link #hangNextForce()}. */
  public HungDisk() {}

  /**
   * Makes the next force of a journal file hang, through interrupts too, until the returned latch
   * is counted down.
   *
   * @return the latch that releases the force
   */
  public CountDownLatch hangNextForce() {
    return hangNextForce(new CountDownLatch(1));
  }

  /**
   * Makes the next force of a journal file hang, as {@link #hangNextForce()} does, and counts
   * {@code entered} down once the force has begun to hang.
   *
   * @param entered counted down when the force hangs
   * @return the latch that releases the force
   */
  public CountDownLatch hangNextForce(CountDownLatch entered) {
    return gate.armNextForce(entered, false);
  }

  /**
   * Opens a durable store over this disk, as {@link JobStore#open} does.
   *
   * @param options the store's settings
   * @return the store
   * @throws IOException as {@link JobStore#open}
   */
  public JobStore open(JobStoreOptions options) throws IOException {
    return JournalLog.openStore(options, gate.opener());
  }
}
