package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
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

    // then the old records come first, then the new ones, and nothing was reported
    assertEquals(V1_RECORDS + 2, r.records.size());
    assertV1Records(r.records);
    assertArrayEquals(body(100, 100, 300), r.records.get(V1_RECORDS).body());
    assertArrayEquals(body(101, 101, 0), r.records.get(V1_RECORDS + 1).body());
  }
}
