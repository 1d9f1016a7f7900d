package io.sluice.server.objects;

import java.util.concurrent.CountDownLatch;

/**
 * A flush listener that holds the writer in its {@code holdAt}-th flush (counted from when it is
 * installed) until released: puts are then at a known point of their way (written and flushed, or
 * renamed and being flushed), which makes cancellation testable without races.
 */
final class FlushGate implements FilesystemObjectStore.FlushListener {
  final CountDownLatch reached = new CountDownLatch(1);
  final CountDownLatch release = new CountDownLatch(1);
  private final int holdAt;
  private int seen; // writer threads only, one flush at a time while held

  FlushGate(int holdAt) {
    this.holdAt = holdAt;
  }

  @Override
  public synchronized void flushed(int written, int renamed, long nanos) {
    if (++seen == holdAt) {
      reached.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    }
  }
}
