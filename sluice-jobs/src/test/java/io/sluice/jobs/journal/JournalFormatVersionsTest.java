package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * Journals written by earlier format versions. The fixture v1-journal/ holds the two segments that
 * the version 1 writer (commit 9635384) made of 20 appends, record i being type i % 7 and
 * body(i, i, (i * 97) % 700), with 4096-byte segments, 1024-byte records and buffered I/O.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalFormatVersionsTest {
  static final int V1_RECORDS = 20;
  static final List<String> V1_SEGMENTS =
      List.of("00000000000000000001.seg", "00000000000000000002.seg");

  @TempDir Path dir;

  static JournalOptions v1Options(Path journal) {
    return JournalOptions.defaults(journal)
        .withMaxRecordBytes(1024)
        .withSegmentBytes(4096)
        .withIoMode(IoMode.BUFFERED);
  }

  /** Copies the version 1 fixture into {@code journal}. */
  static void copyV1Journal(Path journal) throws IOException {
    Files.createDirectories(journal);
    for (String name : V1_SEGMENTS) {
      try (InputStream in =
          JournalFormatVersionsTest.class.getResourceAsStream("v1-journal/" + name)) {
        Files.copy(in, journal.resolve(name));
      }
    }
  }

  static void assertV1Records(List<Recorded.Rec> records) {
    assertTrue(records.size() >= V1_RECORDS, records.size() + " records");
    for (int i = 0; i < V1_RECORDS; i++) {
      Recorded.Rec r = records.get(i);
      assertEquals(i % 7, r.type(), "record " + i);
      assertArrayEquals(body(i, i, (i * 97) % 700), r.body(), "record " + i);
    }
    assertEquals(2, records.get(V1_RECORDS - 1).segment(), "the last one is in segment 2");
  }

  @Test
  void aJournalWrittenByVersion1IsReplayedWholeAndInOrder() throws Exception {
    // given the two segments of a version 1 journal
    copyV1Journal(dir);

    // when it is opened
    Recorded r = new Recorded();
    try (Journal j = Journal.open(v1Options(dir), r)) {
      // then every record is replayed, in order, without a warning
      assertTrue(j.replayReport().clean(), j.replayReport().toString());
      assertTrue(j.replayReport().warnings().isEmpty(), j.replayReport().toString());
    }
    assertEquals(V1_RECORDS, r.records.size());
    assertV1Records(r.records);
  }

  @Test
  void aVersion1JournalTakesAppendsAndReplaysThemAfterItsOwnRecords() throws Exception {
    // given a version 1 journal, opened and appended to
    copyV1Journal(dir);
    try (Journal j = Journal.open(v1Options(dir), ReplayVisitor.IGNORE)) {
      j.append(3, body(100, 100, 300));
      j.append(4, body(101, 101, 0));
    }

    // when it is replayed again
    Recorded r = JournalTesting.replay(v1Options(dir));

    // then the old records come first, then the new ones
    assertEquals(V1_RECORDS + 2, r.records.size());
    assertV1Records(r.records);
    assertArrayEquals(body(100, 100, 300), r.records.get(V1_RECORDS).body());
    assertArrayEquals(body(101, 101, 0), r.records.get(V1_RECORDS + 1).body());
    // in a new segment of this version: a segment never mixes versions
    assertEquals(3, r.records.get(V1_RECORDS).segment());
    assertEquals(SegmentFormat.VERSION, header(dir, 3).getInt(8));
    assertEquals(SegmentFormat.VERSION_1, header(dir, 2).getInt(8));
  }

  @Test
  void aNewSegmentHasARandomSaltTwiceInItsHeaderAndTheOldVersionIsNeverWritten() throws Exception {
    // given two new journals
    Path a = dir.resolve("a");
    Path b = dir.resolve("b");
    for (Path journal : List.of(a, b)) {
      try (Journal j = Journal.open(JournalTesting.small(journal), ReplayVisitor.IGNORE)) {
        j.append(1, body(1, 1, 20));
      }
    }
    // then each header says version 2 and holds its salt twice, and the salts differ
    ByteBuffer ha = header(a, 1);
    ByteBuffer hb = header(b, 1);
    assertEquals(SegmentFormat.VERSION, ha.getInt(8));
    assertEquals(ha.getLong(SegmentFormat.SALT_AT), ha.getLong(SegmentFormat.SALT_COPY_AT));
    assertNotEquals(0, ha.getLong(SegmentFormat.SALT_AT));
    assertNotEquals(ha.getLong(SegmentFormat.SALT_AT), hb.getLong(SegmentFormat.SALT_AT));
  }

  @Test
  void aFlippedByteInAVersion1SegmentIsReportedAndTheRecordsAfterItRead() throws Exception {
    // given the version 1 journal with a byte of record 1's body flipped
    copyV1Journal(dir);
    int start = SegmentFormat.HEADER_BYTES + SegmentFormat.FRAME_HEADER_BYTES + 12; // record 0: 12
    flip(dir.resolve(V1_SEGMENTS.getFirst()), start + SegmentFormat.FRAME_HEADER_BYTES + 20);

    // when it is replayed
    Recorded r = new Recorded();
    try (Journal j = Journal.open(v1Options(dir), r)) {
      // then the damage is reported where record 1 starts, and resynchronisation found record 2
      ReplayReport.CorruptRegion region = j.replayReport().corruptRegions().getFirst();
      assertEquals(1, region.segment());
      assertEquals(start, region.offset());
      assertEquals(SegmentFormat.FRAME_HEADER_BYTES + 97, region.length());
    }
    assertEquals(V1_RECORDS - 1, r.records.size());
    assertArrayEquals(body(0, 0, 0), r.records.get(0).body());
    assertArrayEquals(body(2, 2, 194), r.records.get(1).body());
  }

  @Test
  void aTornTailOfAVersion1LastSegmentIsCutAndAppendsGoToANewSegment() throws Exception {
    // given the version 1 journal whose last segment ends in the middle of its last record
    copyV1Journal(dir);
    Path last = dir.resolve(V1_SEGMENTS.getLast());
    int dataEnd = lastNonZero(Files.readAllBytes(last)) + 1;
    byte[] torn = Arrays.copyOf(Files.readAllBytes(last), dataEnd - 5);
    Files.write(last, torn);

    // when it is opened and appended to
    Recorded r = new Recorded();
    try (Journal j = Journal.open(v1Options(dir), r)) {
      // then the torn record is cut off, and the append goes to segment 3
      assertTrue(j.replayReport().truncatedTail().isPresent(), j.replayReport().toString());
      assertEquals(3, j.append(1, body(7, 7, 7)));
    }
    assertEquals(V1_RECORDS - 1, r.records.size());

    // and a second replay is clean: the cut was for good
    Recorded again = new Recorded();
    try (Journal j = Journal.open(v1Options(dir), again)) {
      assertTrue(j.replayReport().clean(), j.replayReport().toString());
      assertTrue(j.replayReport().warnings().isEmpty(), j.replayReport().toString());
    }
    assertEquals(V1_RECORDS, again.records.size());
    assertArrayEquals(body(7, 7, 7), again.records.getLast().body());
  }

  @Test
  void version1ChecksAreNeverTriedOnAVersion2Segment() throws Exception {
    // given a version 2 segment holding a record, a frame with version 1 checks in a body, and a
    // record after it, the frame carrying it damaged
    byte[] planted = version1Frame(77, body(77, 77, 30));
    byte[] carrier = new byte[100];
    System.arraycopy(planted, 0, carrier, 40, planted.length);
    try (Journal j = Journal.open(JournalTesting.small(dir), ReplayVisitor.IGNORE)) {
      j.append(1, body(1, 1, 20));
      j.append(2, carrier);
      j.append(3, body(3, 3, 20));
    }
    int carrierAt = SegmentFormat.HEADER_BYTES + SegmentFormat.FRAME_HEADER_BYTES + 20;
    flip(SegmentFormat.file(dir, 1), carrierAt + 3);

    // when it is replayed
    Recorded r = JournalTesting.replay(JournalTesting.small(dir));

    // then the planted frame is not a record; those around the carrier are
    assertEquals(List.of(1, 3), r.records.stream().map(Recorded.Rec::type).toList());
  }

  /** A frame with the plain CRC32C checks of version 1. */
  static byte[] version1Frame(int type, byte[] body) {
    ByteBuffer f = ByteBuffer.allocate(SegmentFormat.FRAME_HEADER_BYTES + body.length);
    int crc = SegmentFormat.frameCrc(type, body);
    f.putInt(body.length).putInt(type).putInt(crc);
    f.putInt(SegmentFormat.headerCrc(body.length, type, crc)).put(body);
    return f.array();
  }

  static ByteBuffer header(Path journal, long segment) throws IOException {
    byte[] b = Files.readAllBytes(SegmentFormat.file(journal, segment));
    return ByteBuffer.wrap(Arrays.copyOf(b, SegmentFormat.HEADER_BYTES));
  }

  private static void flip(Path file, int at) throws IOException {
    byte[] b = Files.readAllBytes(file);
    b[at] ^= 0x5A;
    Files.write(file, b);
  }

  private static int lastNonZero(byte[] b) {
    int i = b.length - 1;
    while (i >= 0 && b[i] == 0) {
      i--;
    }
    return i;
  }
}
