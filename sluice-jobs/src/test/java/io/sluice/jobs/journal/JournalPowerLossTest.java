package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.idOf;
import static io.sluice.jobs.journal.JournalTesting.seqOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/*
 * Power cuts, modelled: the journal writes real files through PowerLossDisk, which at a random write
 * freezes what the device holds (what forces made durable, plus every write since) and stops the
 * journal there; the crash image then tears every unforced write sector by sector at random, as a
 * device losing power mid-write may. Under ALWAYS every record acknowledged before the cut must be
 * replayed from that image, in order, whatever was torn: this covers what a SIGKILL cannot (the
 * page cache survives it), in particular the partial last block that each commit writes again with
 * the same prefix, and the commit spilling a small write buffer. Round after round on the image the
 * last one left, so a cut tail and a reopened partial block are torn again too. Seeded.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JournalPowerLossTest {
  private static final long SEED = 0x90E7_0FF5L;
  private static final int ROUNDS = 25;
  private static final int WRITERS = 8;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void everyRecordAcknowledgedBeforeAPowerCutIsReplayedWhateverSectorsWereTorn(IoMode mode)
      throws Exception {
    cutRounds(mode, ROUNDS, SEED);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  @Tag("stress-long")
  @Timeout(value = 30, unit = TimeUnit.MINUTES)
  void everyRecordAcknowledgedBeforeAPowerCutIsReplayedOverManyRounds(IoMode mode)
      throws Exception {
    cutRounds(mode, 150, SEED ^ System.nanoTime());
  }

  private void cutRounds(IoMode mode, int rounds, long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    JournalOptions base =
        JournalOptions.defaults(dir)
            .withIoMode(mode)
            .withMaxRecordBytes(9000)
            .withSegmentBytes(48 * 1024)
            .withWriteBufferBytes(8192);
    Path journal = dir.resolve("round-0");
    Map<Integer, Long> acked = new HashMap<>(); // writer id -> its last acknowledged seq
    for (int round = 0; round < rounds; round++) {
      JournalOptions options = base.withDirectory(journal);
      AtomicLongArray last = new AtomicLongArray(WRITERS);
      for (int w = 0; w < WRITERS; w++) {
        last.set(w, -1);
      }
      long[] atCut = new long[WRITERS];
      PowerLossDisk disk =
          new PowerLossDisk(
              1 + r.nextInt(120),
              () -> {
                for (int w = 0; w < WRITERS; w++) {
                  atCut[w] = last.get(w);
                }
              });
      int firstId = round * 100;
      Journal j = Journal.open(options, ReplayVisitor.IGNORE, disk.opener());
      List<Thread> writers = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int k = w;
        int id = firstId + w;
        long lengths = r.nextLong();
        writers.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      SplittableRandom sizes = new SplittableRandom(lengths);
                      try {
                        for (long seq = 0; ; seq++) {
                          j.append(id, JournalTesting.body(id, seq, sizes.nextInt(6000)));
                          last.set(k, seq);
                        }
                      } catch (JournalException | InterruptedException stopped) {
                        // the power is off
                      }
                    }));
      }
      JournalTesting.awaitCut(disk, writers);
      for (Thread t : writers) {
        t.join();
      }
      j.close();
      for (int w = 0; w < WRITERS; w++) {
        acked.put(firstId + w, atCut[w]);
      }

      Path image = dir.resolve("round-" + (round + 1));
      disk.crashImage(journal, image, r);
      JournalTest.deleteTree(journal); // (the rounds' images would fill the disk)
      journal = image;
      Recorded seen = new Recorded();
      Journal.open(base.withDirectory(journal), seen).close();
      check("seed " + seed + ", round " + round + " (" + mode + ")", seen, acked);
    }
  }

  /** Each writer's records are 0, 1, ... with no gap, at least up to its last acknowledged one. */
  private static void check(String name, Recorded seen, Map<Integer, Long> acked) {
    Map<Integer, Long> next = new HashMap<>();
    for (Recorded.Rec rec : seen.records) {
      int id = idOf(rec.body());
      long seq = seqOf(rec.body());
      assertEquals(id, rec.type(), name);
      long expected = next.getOrDefault(id, 0L);
      assertEquals(expected, seq, name + ": writer " + id + " replayed out of order or with a gap");
      next.put(id, seq + 1);
    }
    for (Map.Entry<Integer, Long> e : acked.entrySet()) {
      long replayedUpTo = next.getOrDefault(e.getKey(), 0L) - 1;
      assertTrue(
          replayedUpTo >= e.getValue(),
          name
              + ": writer "
              + e.getKey()
              + " had seq "
              + e.getValue()
              + " acknowledged, replay ends at "
              + replayedUpTo);
      assertTrue(
          replayedUpTo <= e.getValue() + 1,
          name + ": writer " + e.getKey() + " replayed more than it had in flight");
    }
  }
}
