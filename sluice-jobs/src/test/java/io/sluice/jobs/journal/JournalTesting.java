package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BooleanSupplier;

/** Helpers shared by the journal tests. */
final class JournalTesting {
  private JournalTesting() {}

  /** Small segments so that tests roll often; buffered unless a test says otherwise. */
  static JournalOptions small(Path dir) {
    return JournalOptions.defaults(dir)
        .withMaxRecordBytes(4096)
        .withSegmentBytes(16 * 1024)
        .withWriteBufferBytes(8192);
  }

  static Recorded replay(JournalOptions options) throws IOException {
    Recorded r = new Recorded();
    Journal.open(options, r).close();
    return r;
  }

  /** A body that says which record it is: 4 bytes id, 8 bytes sequence, then filler. */
  static byte[] body(int id, long seq, int length) {
    ByteBuffer b = ByteBuffer.allocate(Math.max(12, length));
    b.putInt(id).putLong(seq);
    SplittableRandom r = new SplittableRandom(id * 31L + seq);
    while (b.hasRemaining()) {
      b.put((byte) r.nextInt());
    }
    return b.array();
  }

  static int idOf(byte[] body) {
    return ByteBuffer.wrap(body).getInt(0);
  }

  static long seqOf(byte[] body) {
    return ByteBuffer.wrap(body).getLong(4);
  }

  /**
   * Spins (yielding) until the condition holds: for waiting on thread states, never on time. Ends
   * with an AssertionError if the thread is interrupted, as a test's {@code @Timeout} does to it,
   * so a condition that never comes fails the test instead of hanging it.
   */
  static void awaitTrue(BooleanSupplier condition) {
    while (!condition.getAsBoolean()) {
      if (Thread.interrupted()) {
        throw new AssertionError("interrupted (the test's timeout?) before the condition held");
      }
      Thread.yield();
    }
  }

  /**
   * Waits until {@code disk}'s power is cut; fails at once if every one of {@code writers} stopped
   * before that (they stop only when the journal refuses appends), since then the journal failed on
   * its own and the cut would never come.
   */
  static void awaitCut(PowerLossDisk disk, List<Thread> writers) {
    awaitTrue(() -> disk.cut() || writers.stream().noneMatch(Thread::isAlive));
    if (!disk.cut()) {
      throw new AssertionError(
          "every writer stopped before the power cut: the journal failed on its own (its log"
              + " says why)");
    }
  }

  /** Whether a thread is parked (WAITING) — for a virtual thread in append, it has enqueued. */
  static boolean parked(Thread t) {
    return t.getState() == Thread.State.WAITING;
  }
}
