package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static io.sluice.jobs.journal.JournalTesting.seqOf;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Replay of damaged journals: torn tails, flipped bytes, zeros, headers, future versions. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalRecoveryTest {
  @TempDir Path dir;

  private static final int RECORDS = 6;
  private static final int[] LENGTHS = {100, 37, 0, 250, 1000, 90};

  /** One segment of 6 records; returns the offsets where each frame starts (plus the end). */
  private long[] writeSixRecords(Path journal, IoMode mode) throws Exception {
    try (Journal j = Journal.open(options(journal).withIoMode(mode), ReplayVisitor.IGNORE)) {
      for (int i = 0; i < RECORDS; i++) {
        j.append(i, body(i, i, LENGTHS[i]));
      }
    }
    long[] starts = new long[RECORDS + 1];
    starts[0] = SegmentFormat.HEADER_BYTES;
    for (int i = 0; i < RECORDS; i++) {
      starts[i + 1] = starts[i] + SegmentFormat.FRAME_HEADER_BYTES + Math.max(12, LENGTHS[i]);
    }
    return starts;
  }

  private static JournalOptions options(Path journal) {
    return JournalOptions.defaults(journal).withMaxRecordBytes(64 * 1024).withSegmentBytes(1 << 20);
  }

  private static Path seg(Path journal, long n) {
    return SegmentFormat.file(journal, n);
  }

  private static List<Long> seqs(Recorded r) {
    return r.records.stream().map(x -> seqOf(x.body())).toList();
  }

  @Test
  void aTornTailAtEveryByteOffsetOfTheLastRecordIsCutWithOneWarning() throws Exception {
    // given a segment whose last record is cut at each of its byte offsets in turn
    Path original = dir.resolve("original");
    long[] starts = writeSixRecords(original, IoMode.DIRECT);
    byte[] bytes = Files.readAllBytes(seg(original, 1));
    long last = starts[RECORDS - 1];
    for (long cut = last + 1; cut < starts[RECORDS]; cut++) {
      Path copy = dir.resolve("cut" + cut);
      Files.createDirectories(copy);
      Files.write(seg(copy, 1), Arrays.copyOf(bytes, (int) cut));
      // when it is replayed
      Recorded r = new Recorded();
      try (Journal j = Journal.open(options(copy), r)) {
        // then the earlier records are intact, the tail is cut where the record began, once
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), seqs(r), "cut at " + cut);
        ReplayReport report = j.replayReport();
        if (allZero(bytes, (int) last, (int) cut)) {
          // the high bytes of a small length field are zeros, indistinguishable from padding
          assertTrue(report.clean() && report.warnings().isEmpty(), "cut at " + cut);
        } else {
          assertEquals(last, report.truncatedTail().orElseThrow().offset(), "cut at " + cut);
          assertEquals(1, report.truncatedTail().orElseThrow().segment());
          assertEquals(1, report.warnings().size(), report.warnings().toString());
          assertTrue(report.warnings().getFirst().contains("offset " + last));
          assertTrue(report.corruptRegions().isEmpty());
        }
        // and appends continue where the good data ended
        if (cut % 16 == 0) {
          j.append(9, body(9, 99, 10));
        }
      }
      if (cut % 4 == 0) {
        // the cut is for good: a second replay is clean (and has the appended record)
        Recorded again = new Recorded();
        try (Journal j = Journal.open(options(copy), again)) {
          assertTrue(j.replayReport().clean(), j.replayReport().toString());
        }
        List<Long> expected = cut % 16 == 0 ? List.of(0L, 1L, 2L, 3L, 4L, 99L) : seqs(r);
        assertEquals(expected, seqs(again));
      }
      JournalTest.deleteTree(copy);
    }
  }

  @Test
  void aCutExactlyBetweenRecordsIsNoDamage() throws Exception {
    Path original = dir.resolve("original");
    long[] starts = writeSixRecords(original, IoMode.BUFFERED);
    byte[] bytes = Files.readAllBytes(seg(original, 1));
    Files.write(seg(original, 1), Arrays.copyOf(bytes, (int) starts[4]));
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(original), r)) {
      assertTrue(j.replayReport().clean());
      assertTrue(j.replayReport().warnings().isEmpty());
    }
    assertEquals(List.of(0L, 1L, 2L, 3L), seqs(r));
  }

  static IntStream flippedOffsets() {
    // every header byte of the middle record, and body bytes at its start, middle and end
    return IntStream.concat(IntStream.range(0, 16), IntStream.of(16, 17, 100, 200, 265));
  }

  @ParameterizedTest(name = "byte {0} of record 3")
  @MethodSource("flippedOffsets")
  void aFlippedByteInAMiddleRecordIsReportedWithSegmentAndOffsetAndLaterRecordsRecovered(int at)
      throws Exception {
    // given record 3 of 6 with one byte flipped
    long[] starts = writeSixRecords(dir, IoMode.DIRECT);
    flip(seg(dir, 1), starts[3] + at);
    // when the journal is replayed
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      // then records 0-2 and 4-5 are there, and the damaged region is reported where record 3 was
      assertEquals(List.of(0L, 1L, 2L, 4L, 5L), seqs(r));
      ReplayReport report = j.replayReport();
      assertEquals(1, report.corruptRegions().size(), report.toString());
      ReplayReport.CorruptRegion region = report.corruptRegions().getFirst();
      assertEquals(1, region.segment());
      assertEquals(starts[3], region.offset());
      assertEquals(starts[4] - starts[3], region.length());
      assertTrue(report.truncatedTail().isEmpty());
      assertEquals(1, report.warnings().size());
      assertTrue(report.warnings().getFirst().contains(SegmentFormat.fileName(1)));
      assertTrue(report.warnings().getFirst().contains("offset " + starts[3]));
      // and new records go after the last good one
      j.append(7, body(7, 7, 10));
    }
    assertEquals(List.of(0L, 1L, 2L, 4L, 5L, 7L), seqs(JournalTesting.replay(options(dir))));
  }

  @Test
  void aFlippedByteInTheLastRecordIsATornTail() throws Exception {
    long[] starts = writeSixRecords(dir, IoMode.DIRECT);
    flip(seg(dir, 1), starts[5] + 20);
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      assertEquals(starts[5], j.replayReport().truncatedTail().orElseThrow().offset());
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L), seqs(r));
  }

  @Test
  void zeroFilledPreallocatedSpaceIsTheEndOfDataNotDamage() throws Exception {
    // given a segment followed by 1 MiB of zeros, as pre-allocation leaves it
    long[] starts = writeSixRecords(dir, IoMode.DIRECT);
    Files.write(seg(dir, 1), new byte[1 << 20], java.nio.file.StandardOpenOption.APPEND);
    // when replayed, then all records and no warning
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      assertTrue(j.replayReport().clean());
      assertTrue(j.replayReport().warnings().isEmpty());
      j.append(8, body(8, 8, 10));
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), seqs(r));
    // and appends went right after the data, not after the zeros
    assertEquals(starts[RECORDS] + 16 + 12, Files.size(seg(dir, 1)) > 0 ? dataEnd(dir) : -1);
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 8L), seqs(JournalTesting.replay(options(dir))));
  }

  @Test
  void zerosOverMiddleRecordsWithDataAfterThemAreDamage() throws Exception {
    long[] starts = writeSixRecords(dir, IoMode.BUFFERED);
    byte[] b = Files.readAllBytes(seg(dir, 1));
    Arrays.fill(b, (int) starts[1], (int) starts[3], (byte) 0);
    Files.write(seg(dir, 1), b);
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      ReplayReport.CorruptRegion region = j.replayReport().corruptRegions().getFirst();
      assertEquals(starts[1], region.offset());
      assertEquals(starts[3] - starts[1], region.length());
    }
    assertEquals(List.of(0L, 3L, 4L, 5L), seqs(r));
  }

  @Test
  void aSegmentFromAFutureFormatVersionRefusesToStartNamingTheFile() throws Exception {
    // given segment 1 valid and segment 2 written by a future version
    writeSixRecords(dir, IoMode.DIRECT);
    ByteBuffer header = ByteBuffer.allocate(SegmentFormat.BLOCK);
    SegmentFormat.putHeader(header, 2, 0, SegmentFormat.newSalt());
    header.putInt(8, SegmentFormat.VERSION + 1);
    header.putInt(60, SegmentFormat.crc(header, 0, 60));
    Files.write(seg(dir, 2), header.array());
    // when opened, then a typed exception names the file and what to do
    JournalFormatException e =
        assertThrows(
            JournalFormatException.class, () -> Journal.open(options(dir), ReplayVisitor.IGNORE));
    assertEquals(seg(dir, 2), e.file());
    assertTrue(e.getMessage().contains(SegmentFormat.fileName(2)), e.getMessage());
    assertTrue(e.getMessage().contains("version " + (SegmentFormat.VERSION + 1)), e.getMessage());
    assertTrue(e.getMessage().contains("newer"), e.getMessage());
    // and nothing was changed: the file is still there and the directory is not locked
    assertEquals(SegmentFormat.BLOCK, Files.size(seg(dir, 2)));
    assertThrows(
        JournalFormatException.class, () -> Journal.open(options(dir), ReplayVisitor.IGNORE));
  }

  @Test
  void aFileThatIsNotASegmentRefusesToStart() throws Exception {
    Files.createDirectories(dir);
    Files.writeString(seg(dir, 1), "this is not a journal segment, it is a text file");
    JournalFormatException e =
        assertThrows(
            JournalFormatException.class, () -> Journal.open(options(dir), ReplayVisitor.IGNORE));
    assertTrue(e.getMessage().contains("magic"), e.getMessage());
  }

  @Test
  void aDamagedSegmentHeaderIsReportedAndItsFramesStillRead() throws Exception {
    writeSixRecords(dir, IoMode.DIRECT);
    flip(seg(dir, 1), 30); // inside the creation time
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      ReplayReport.CorruptRegion region = j.replayReport().corruptRegions().getFirst();
      assertEquals(0, region.offset());
      assertEquals(SegmentFormat.HEADER_BYTES, region.length());
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), seqs(r));
  }

  @ParameterizedTest(name = "header byte {0}")
  @MethodSource("headerOffsets")
  void aFlippedByteAnywhereInASegmentHeaderIsReportedAsDamageAndEveryRecordRead(int at)
      throws Exception {
    // given the last segment, six records, with one byte of its header flipped (the version too)
    writeSixRecords(dir, IoMode.DIRECT);
    flip(seg(dir, 1), at);

    // when replayed
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      // then: every record, and one damaged region where the header is, named in one warning
      ReplayReport report = j.replayReport();
      assertEquals(1, report.corruptRegions().size(), report.toString());
      ReplayReport.CorruptRegion region = report.corruptRegions().getFirst();
      assertEquals(1, region.segment());
      assertEquals(0, region.offset());
      assertEquals(SegmentFormat.HEADER_BYTES, region.length());
      assertTrue(region.reason().contains("header damaged"), region.reason());
      assertEquals(1, report.warnings().size(), report.toString());
      assertTrue(report.warnings().getFirst().contains(SegmentFormat.fileName(1)));
      assertTrue(report.warnings().getFirst().contains("offset 0"));
      assertFalse(report.warnings().getFirst().contains("newer"));
      assertTrue(report.truncatedTail().isEmpty(), "nothing is cut");
      j.append(6, body(6, 6, 10));
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L), seqs(r));
    // and appends went on after the records: the next replay reads all seven
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L), seqs(JournalTesting.replay(options(dir))));
  }

  static IntStream headerOffsets() {
    return IntStream.range(0, SegmentFormat.HEADER_BYTES);
  }

  @Test
  void aHeaderWithBothCopiesOfItsSaltDamagedLosesItsRecordsButKeepsTheFileAndTheJournalGoesOn()
      throws Exception {
    // given a last segment whose two copies of the salt are both damaged
    writeSixRecords(dir, IoMode.DIRECT);
    flip(seg(dir, 1), SegmentFormat.SALT_AT + 3);
    flip(seg(dir, 1), SegmentFormat.SALT_COPY_AT + 5);
    byte[] before = Files.readAllBytes(seg(dir, 1));

    // when replayed
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      // then no frame is replayed (none can be verified), the header and the frames are reported
      ReplayReport report = j.replayReport();
      assertEquals(2, report.corruptRegions().size(), report.toString());
      assertTrue(report.corruptRegions().getFirst().reason().contains("header damaged"));
      ReplayReport.CorruptRegion frames = report.corruptRegions().getLast();
      assertEquals(SegmentFormat.HEADER_BYTES, frames.offset());
      assertTrue(frames.reason().contains("salt"), frames.reason());
      assertTrue(report.truncatedTail().isEmpty(), "nothing is cut");
      // and appends go to a new segment
      assertEquals(2, j.append(6, body(6, 6, 10)));
    }
    assertEquals(List.of(), seqs(r));
    assertArrayEquals(before, Files.readAllBytes(seg(dir, 1)), "the file is left as it was");
    assertEquals(List.of(6L), seqs(JournalTesting.replay(options(dir))));
  }

  @Test
  void aZeroedHeaderOfAVersion2SegmentLosesItsRecordsAndTheNextSegmentTakesAppends()
      throws Exception {
    // given a last segment whose header was zeroed: its salt is gone
    writeSixRecords(dir, IoMode.DIRECT);
    byte[] b = Files.readAllBytes(seg(dir, 1));
    Arrays.fill(b, 0, SegmentFormat.HEADER_BYTES, (byte) 0);
    Files.write(seg(dir, 1), b);

    // when replayed, then nothing is replayed, and appends go to segment 2
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      assertEquals(2, j.replayReport().corruptRegions().size(), j.replayReport().toString());
      assertEquals(2, j.append(6, body(6, 6, 10)));
    }
    assertEquals(List.of(), seqs(r));
    assertEquals(List.of(6L), seqs(JournalTesting.replay(options(dir))));
  }

  @Test
  void aDamagedHeaderClaimingAFutureVersionBeforeUnreadableDataRefusesAsDamageNotAsNewer()
      throws Exception {
    // given a last segment whose header claims a future version but fails its check, before bytes
    // that are no record of this version
    writeSixRecords(dir, IoMode.DIRECT);
    ByteBuffer header = ByteBuffer.allocate(SegmentFormat.BLOCK);
    SegmentFormat.putHeader(header, 2, 0, SegmentFormat.newSalt());
    header.putInt(8, SegmentFormat.VERSION + 1); // the check is not recomputed
    header.put(SegmentFormat.HEADER_BYTES, (byte) 1);
    Files.write(seg(dir, 2), header.array());

    // when opened, then refused, saying it cannot tell damage from another version
    JournalFormatException e =
        assertThrows(
            JournalFormatException.class, () -> Journal.open(options(dir), ReplayVisitor.IGNORE));

    assertEquals(seg(dir, 2), e.file());
    assertTrue(e.getMessage().contains("damaged header"), e.getMessage());
    assertTrue(
        e.getMessage().contains("claims format version " + (SegmentFormat.VERSION + 1)),
        e.getMessage());
    assertFalse(e.getMessage().contains("newer than this Sluice reads"), e.getMessage());
    assertEquals(SegmentFormat.BLOCK, Files.size(seg(dir, 2)), "nothing was cut");
  }

  @Test
  void aBlankLastSegmentFromAnInterruptedCreationGetsItsHeaderAgain() throws Exception {
    // given segment 2 created but its header never written (all zeros)
    writeSixRecords(dir, IoMode.DIRECT);
    Files.write(seg(dir, 2), new byte[SegmentFormat.BLOCK]);
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(dir), r)) {
      // then replay warns once, and appends go to segment 2
      assertEquals(1, j.replayReport().warnings().size());
      assertTrue(j.replayReport().clean());
      assertEquals(2, j.append(1, body(1, 42, 10)));
    }
    Recorded again = new Recorded();
    try (Journal j = Journal.open(options(dir), again)) {
      assertTrue(j.replayReport().warnings().isEmpty());
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 42L), seqs(again));
    assertEquals(2, again.records.getLast().segment());
  }

  @Test
  void damageAtTheEndOfAnEarlierSegmentIsReportedAndLaterSegmentsRead() throws Exception {
    // given two segments; the end of segment 1 overwritten with garbage
    JournalOptions options =
        JournalOptions.defaults(dir).withMaxRecordBytes(1024).withSegmentBytes(4096);
    List<Long> written = new ArrayList<>();
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int i = 0; j.currentSegment() < 3; i++) {
        j.append(1, body(1, i, 500));
        written.add((long) i);
      }
    }
    long inFirst =
        JournalTesting.replay(options).records.stream().filter(x -> x.segment() == 1).count();
    int dataEnd = (int) (SegmentFormat.HEADER_BYTES + inFirst * (16 + 500));
    byte[] b = Files.readAllBytes(seg(dir, 1));
    for (int i = dataEnd - 300; i < dataEnd; i++) {
      b[i] = (byte) (i * 7 + 1);
    }
    Files.write(seg(dir, 1), b);
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options, r)) {
      ReplayReport report = j.replayReport();
      assertEquals(1, report.corruptRegions().size(), report.toString());
      assertEquals(1, report.corruptRegions().getFirst().segment());
      assertTrue(report.truncatedTail().isEmpty());
    }
    // the damaged record is lost; every record of segments 2 and 3 is there
    assertTrue(r.records.stream().anyMatch(x -> x.segment() == 3));
    assertEquals(written.size() - 1, r.records.size());
  }

  @Test
  void aMissingSegmentIsWarnedAboutAndTheRestReplayed() throws Exception {
    JournalOptions options =
        JournalOptions.defaults(dir).withMaxRecordBytes(1024).withSegmentBytes(4096);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int i = 0; j.currentSegment() < 4; i++) {
        j.append(1, body(1, i, 500));
      }
    }
    Files.delete(seg(dir, 2));
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options, r)) {
      assertTrue(j.replayReport().warnings().getFirst().contains("missing"));
    }
    assertFalse(r.records.stream().anyMatch(x -> x.segment() == 2));
    assertTrue(r.records.stream().anyMatch(x -> x.segment() == 3));
  }

  @Test
  void aVisitorExceptionAbortsTheOpenAndUnlocksTheDirectory() throws Exception {
    writeSixRecords(dir, IoMode.DIRECT);
    IllegalStateException boom = new IllegalStateException("engine refuses");
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                Journal.open(
                    options(dir),
                    (segment, type, body) -> {
                      throw boom;
                    }));
    assertEquals(boom, e);
    Recorded r = JournalTesting.replay(options(dir));
    assertEquals(RECORDS, r.records.size());
    assertArrayEquals(body(5, 5, LENGTHS[5]), r.records.getLast().body());
  }

  private static boolean allZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }

  private static long dataEnd(Path journal) throws IOException {
    return Files.size(seg(journal, 1)) < SegmentFormat.BLOCK
        ? Files.size(seg(journal, 1))
        : lastNonZero(Files.readAllBytes(seg(journal, 1))) + 1;
  }

  private static int lastNonZero(byte[] b) {
    int i = b.length - 1;
    while (i >= 0 && b[i] == 0) {
      i--;
    }
    return i;
  }

  static void flip(Path file, long at) throws IOException {
    byte[] b = Files.readAllBytes(file);
    b[(int) at] ^= (byte) 0x5A;
    Files.write(file, b);
  }
}
