package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/*
 * Where frames fall against the writer's blocks, its buffer and the segment size: random record
 * sizes (frame headers split by the end of the buffer, records longer than the buffer, records that
 * just fit or just miss a segment), random batch sizes (one commit spilling the buffer several
 * times and rolling), and reopens in between (appends continuing in a partial block read back from
 * disk). Seeded and reproducible; whatever the layout, replay gives back every record, in order,
 * with its segment, and reports nothing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JournalLayoutPropertyTest {
  private static final long SEED = 0x1A40_7B10L;
  private static final int CASES = 12;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void everyLayoutOfFramesOverBlocksBuffersAndSegmentsReplaysWhole(IoMode mode) throws Exception {
    SplittableRandom cases = new SplittableRandom(SEED);
    for (int c = 0; c < CASES; c++) {
      long seed = cases.nextLong();
      runCase(dir.resolve("case-" + c), mode, seed);
    }
  }

  private static void runCase(Path journal, IoMode mode, long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    int maxRecord = 4096 + r.nextInt(20_000);
    long segmentBytes = maxRecord + 80 + r.nextInt(60_000);
    int buffer = 4096 * (2 + r.nextInt(4));
    JournalOptions options =
        JournalOptions.defaults(journal)
            .withIoMode(mode)
            .withMaxRecordBytes(maxRecord)
            .withSegmentBytes(segmentBytes)
            .withWriteBufferBytes(buffer);
    String name = "seed " + seed + " (" + options + ")";
    List<byte[]> written = new ArrayList<>();
    List<Long> segments = new ArrayList<>();
    int rounds = 1 + r.nextInt(4);
    for (int round = 0; round < rounds; round++) {
      Recorded seen = new Recorded();
      try (Journal j = Journal.open(options, seen)) {
        check(name + ", round " + round, seen, written, segments);
        assertTrue(j.replayReport().clean(), name + ": " + j.replayReport());
        int batches = 1 + r.nextInt(6);
        for (int b = 0; b < batches; b++) {
          List<CompletableFuture<Long>> futures = new ArrayList<>();
          int n = 1 + r.nextInt(40);
          for (int k = 0; k < n; k++) {
            byte[] body = body(written.size(), written.size(), size(r, maxRecord, buffer));
            written.add(body);
            futures.add(j.appendAsync(written.size() % 5, body));
          }
          for (CompletableFuture<Long> f : futures) {
            segments.add(f.get());
          }
        }
        j.checkInvariants();
      }
    }
    Recorded seen = new Recorded();
    Journal.open(options, seen).close();
    check(name + ", at the end", seen, written, segments);
    for (long s : segments) {
      assertTrue(
          Files.size(SegmentFormat.file(journal, s))
              <= SegmentFormat.alignUp(Math.max(segmentBytes, maxRecord + 80L)),
          name + ": segment " + s + " grew past its size (and the zeros to its block's end)");
    }
  }

  /** Sizes near the edges that matter, and anything else. */
  private static int size(SplittableRandom r, int maxRecord, int buffer) {
    return switch (r.nextInt(6)) {
      case 0 -> r.nextInt(16); // tiny, header-sized frames
      case 1 -> Math.max(0, 4096 - 16 - 8 + r.nextInt(16)); // around one block
      case 2 -> Math.min(maxRecord, buffer - 16 + r.nextInt(32) - 16); // around the buffer
      case 3 -> maxRecord - r.nextInt(16); // the largest
      default -> r.nextInt(maxRecord + 1);
    };
  }

  private static void check(String name, Recorded seen, List<byte[]> written, List<Long> segments) {
    assertEquals(written.size(), seen.records.size(), name + ": records replayed");
    for (int i = 0; i < written.size(); i++) {
      Recorded.Rec rec = seen.records.get(i);
      assertArrayEquals(written.get(i), rec.body(), name + ": record " + i);
      assertEquals((i + 1) % 5, rec.type(), name + ": type of record " + i);
      assertEquals(segments.get(i), rec.segment(), name + ": segment of record " + i);
    }
  }
}
