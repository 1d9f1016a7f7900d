package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The next segment's file written ahead with zeros (JournalOptions.preallocate): taken at the roll
 * when complete, replayed like any segment, its zeros never cut, its files never left behind.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class SegmentPreallocationTest {
  private static final long SEGMENT = 64 * 1024;
  private static final String LOCK = "journal.lock";

  @TempDir Path dir;

  private JournalOptions options(IoMode mode) {
    return JournalOptions.defaults(dir)
        .withMaxRecordBytes(4096)
        .withSegmentBytes(SEGMENT)
        .withWriteBufferBytes(8192)
        .withIoMode(mode);
  }

  private Path ready(long segment) {
    return SegmentPreallocator.readyFile(dir, segment);
  }

  /** Waits, without a time limit of its own (the class's timeout bounds it), for a file. */
  private static void awaitFile(Path file) {
    JournalTesting.awaitTrue(() -> Files.exists(file));
  }

  /** What a reopen replays, and its report. */
  private record Replayed(Recorded recorded, ReplayReport report) {}

  private static Replayed reopen(JournalOptions options) throws IOException {
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options, r)) {
      return new Replayed(r, j.replayReport());
    }
  }

  private static void assertReplaysAll(List<byte[]> written, Replayed replayed) {
    List<byte[]> read = replayed.recorded().bodies();
    assertEquals(written.size(), read.size());
    for (int i = 0; i < written.size(); i++) {
      assertArrayEquals(written.get(i), read.get(i), "record " + i);
    }
    assertTrue(replayed.report().truncatedTail().isEmpty(), replayed.report().toString());
    assertTrue(replayed.report().corruptRegions().isEmpty(), replayed.report().toString());
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  /** Appends records of 1 KiB until the journal has moved on to segment {@code target}. */
  private static void fillUntil(Journal j, long target, List<byte[]> written)
      throws InterruptedException {
    while (j.currentSegment() < target) {
      byte[] b = body(1, written.size(), 1024);
      j.append(1, b);
      written.add(b);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void aRollTakesTheFileWrittenAheadAndItsRecordsReplayWithoutACut(IoMode mode) throws Exception {
    List<byte[]> written = new ArrayList<>();
    long last;
    try (Journal j = Journal.open(options(mode), ReplayVisitor.IGNORE)) {
      // given the file of segment 2 written ahead while segment 1 fills
      awaitFile(ready(2));
      assertEquals(SEGMENT, Files.size(ready(2)));
      // when the records roll the journal over to segment 2, and then to 3 once its file is ready
      fillUntil(j, 2, written);
      awaitFile(ready(3));
      fillUntil(j, 3, written);
      last = j.currentSegment();
      // then both rolls took the prepared files: segments of the full size, zeros after the data
      JournalStats stats = j.stats();
      assertEquals(3, stats.segmentsCreated(), stats.toString());
      assertEquals(2, stats.segmentsPreallocated(), stats.toString());
      assertEquals(SEGMENT, Files.size(SegmentFormat.file(dir, 2)));
      assertEquals(SEGMENT, Files.size(SegmentFormat.file(dir, 3)));
      j.checkInvariants();
    }
    // and closing deleted the file written ahead for segment 4
    assertEquals(
        List.of(
            SegmentFormat.fileName(1), SegmentFormat.fileName(2), SegmentFormat.fileName(3), LOCK),
        names(dir));
    // and replay reads every record back, in order, with no torn tail and no damage reported
    Replayed r = reopen(options(mode));
    assertReplaysAll(written, r);
    assertEquals(last, r.recorded().records.getLast().segment());
    // and the zeros after the last segment's data were kept for the writer to overwrite
    assertEquals(SEGMENT, Files.size(SegmentFormat.file(dir, last)));
  }

  @Test
  void appendsAfterAReopenContinueInTheKeptZerosAndReplayWhole() throws Exception {
    JournalOptions options = options(IoMode.AUTO);
    List<byte[]> written = new ArrayList<>();
    // given a journal whose last segment is a preallocated one, closed part way through it
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      awaitFile(ready(2));
      fillUntil(j, 2, written);
      for (int i = 0; i < 5; i++) {
        byte[] b = body(2, written.size(), 100 + i);
        j.append(2, b);
        written.add(b);
      }
    }
    // when it is opened again (three times), each time appending a few records
    for (int round = 0; round < 3; round++) {
      Recorded seen = new Recorded();
      try (Journal j = Journal.open(options, seen)) {
        assertEquals(written.size(), seen.records.size(), "round " + round);
        for (int i = 0; i < 7; i++) {
          byte[] b = body(3, written.size(), 1 + 300 * i);
          j.append(3, b);
          written.add(b);
        }
      }
    }
    // then every record is read back in order and the segment kept its size
    assertReplaysAll(written, reopen(options));
    assertEquals(SEGMENT, Files.size(SegmentFormat.file(dir, 2)));
  }

  @Test
  void filesACrashLeftAreDeletedAtOpenAndNeverReplayed() throws Exception {
    JournalOptions options = options(IoMode.AUTO).withPreallocate(false);
    List<byte[]> written = new ArrayList<>();
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int i = 0; i < 10; i++) {
        byte[] b = body(1, i, 200);
        j.append(1, b);
        written.add(b);
      }
    }
    // given a half-written file and a complete one, as a crash leaves them, holding bytes that
    // are not zeros (a copy of the segment, frames and all)
    byte[] segment = Files.readAllBytes(SegmentFormat.file(dir, 1));
    Files.write(SegmentPreallocator.preparingFile(dir, 2), segment);
    Files.write(ready(3), segment);
    // when the journal opens
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options, r)) {
      // then both are gone, and only the segment's own records were replayed
      assertEquals(List.of(SegmentFormat.fileName(1), LOCK), names(dir));
      assertEquals(written.size(), r.records.size());
      assertEquals(0, j.stats().segmentsPreallocated());
    }
  }

  @Test
  void withoutPreallocationNoFileIsWrittenAheadAndNoThreadRuns() throws Exception {
    List<byte[]> written = new ArrayList<>();
    // (other tests' journals may still be ending in this JVM: their threads are not counted)
    long before = JournalThreads.preallocators();
    try (Journal j =
        Journal.open(options(IoMode.AUTO).withPreallocate(false), ReplayVisitor.IGNORE)) {
      assertTrue(JournalThreads.preallocators() <= before, JournalThreads.alive().toString());
      fillUntil(j, 3, written);
      assertEquals(0, j.stats().segmentsPreallocated());
      assertTrue(
          names(dir).stream().noneMatch(n -> n.contains(".prealloc")), names(dir).toString());
    }
  }

  @Test
  void closingWhileAFileIsWrittenLeavesNoThreadAndNoFile() throws Exception {
    // given segments of 1 GiB, whose file takes a while to write ahead
    JournalOptions options =
        options(IoMode.AUTO).withSegmentBytes(1L << 30).withMaxRecordBytes(4096);
    List<String> before = JournalThreads.alive();
    Journal j = Journal.open(options, ReplayVisitor.IGNORE);
    assertTrue(JournalThreads.alive().contains("sluice-journal-preallocator"));
    // when the journal closes while the file for segment 2 is being written
    awaitFile(SegmentPreallocator.preparingFile(dir, 2));
    j.close();
    // then the thread has ended and neither file is left
    assertEquals(before, JournalThreads.alive());
    assertEquals(List.of(SegmentFormat.fileName(1), LOCK), names(dir));
  }

  @Test
  void aFailureToWriteAheadIsSurvivedAndTheNextRollTriesAgain() throws Exception {
    // given segment 2's file cannot be written ahead: a directory holds its name (as a full disk
    // or a permission would refuse it, the open fails)
    Path blocker = SegmentPreallocator.preparingFile(dir, 2);
    Files.createDirectories(blocker);
    Files.writeString(blocker.resolve("keep"), "so that the directory cannot be deleted");
    List<byte[]> written = new ArrayList<>();
    try (Journal j = Journal.open(options(IoMode.AUTO), ReplayVisitor.IGNORE)) {
      // when the journal rolls to segment 2, and then to 3 once its file is written ahead
      fillUntil(j, 2, written);
      awaitFile(ready(3));
      fillUntil(j, 3, written);
      // then segment 2 was created as records came, segment 3 from its file written ahead
      JournalStats stats = j.stats();
      assertEquals(3, stats.segmentsCreated(), stats.toString());
      assertEquals(1, stats.segmentsPreallocated(), stats.toString());
    }
    Files.delete(blocker.resolve("keep"));
    Files.delete(blocker);
    assertReplaysAll(written, reopen(options(IoMode.AUTO)));
  }

  @Test
  void aRollBeforeTheFileIsFinishedTakesItAsFarAsItGotAndLosesNothing() throws Exception {
    // given the file of a 1 GiB segment being written ahead
    long big = 1L << 30;
    try (SegmentPreallocator preallocator =
        new SegmentPreallocator(dir, big, false, "preallocator-handed-off")) {
      preallocator.start();
      preallocator.prepare(2);
      Path preparing = SegmentPreallocator.preparingFile(dir, 2);
      JournalTesting.awaitTrue(() -> sizeOf(preparing) > 0);
      // when the writer asks for it before it is finished
      Path taken = preallocator.take(2);
      // then it gets the file as far as it got: whole chunks of zeros, and the thread has let go
      assertEquals(preparing, taken);
      long size = Files.size(taken);
      assertTrue(size > 0 && size < big && size % SegmentPreallocator.CHUNK_BYTES == 0, "" + size);
      byte[] bytes = Files.readAllBytes(taken);
      for (byte b : bytes) {
        assertEquals(0, b);
      }
      // and the thread goes idle without touching it again: it neither begins that segment's file
      // anew under the same name (which the writer is about to rename) nor deletes it
      Thread thread = thread("preallocator-handed-off");
      JournalTesting.awaitTrue(() -> thread.getState() == Thread.State.WAITING);
      assertEquals(size, Files.size(taken));
      assertEquals(null, preallocator.take(2));
      assertEquals(List.of(taken.getFileName().toString()), names(dir));
    }
    // and closing leaves the taken file to its taker
    assertEquals(
        List.of(SegmentPreallocator.preparingFile(dir, 2).getFileName().toString()), names(dir));
  }

  /** The one platform thread of this name alive in this JVM. */
  private static Thread thread(String name) {
    List<Thread> found =
        Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals(name)).toList();
    assertEquals(1, found.size(), found.toString());
    return found.getFirst();
  }

  private static long sizeOf(Path file) {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return 0; // not created yet
    }
  }
}
