package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static io.sluice.jobs.journal.JournalTesting.replay;
import static io.sluice.jobs.journal.JournalTesting.small;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Appending, reading back, segments, policies, I/O modes and the typed failures of the API. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class JournalTest {
  @TempDir Path dir;

  private static final Path SHM = Path.of("/dev/shm");

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void recordsComeBackInOrderAcrossSegmentRolls(IoMode mode) throws Exception {
    // given a journal with 16 KiB segments
    JournalOptions options = small(dir).withIoMode(mode);
    List<byte[]> written = new ArrayList<>();
    long lastSegment;
    // when 500 records of varied sizes are appended
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      assertEquals(mode, j.stats().ioMode());
      for (int i = 0; i < 500; i++) {
        byte[] b = body(i % 7, i, (i * 37) % 1500);
        written.add(b);
        long segment = j.append(i % 7, b);
        assertEquals(j.currentSegment(), segment);
      }
      lastSegment = j.currentSegment();
      j.checkInvariants();
    }
    // then replay returns all of them, in order, with their types and segments
    Recorded r = replay(options);
    assertEquals(500, r.records.size());
    for (int i = 0; i < 500; i++) {
      assertArrayEquals(written.get(i), r.records.get(i).body());
      assertEquals(i % 7, r.records.get(i).type());
    }
    assertTrue(lastSegment > 5, "rolled over several segments: " + lastSegment);
    assertEquals(lastSegment, r.records.getLast().segment());
    try (Stream<Path> files = Files.list(dir)) {
      assertEquals(lastSegment, files.filter(f -> f.toString().endsWith(".seg")).count());
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void reopenedJournalContinuesAfterTheLastRecord(IoMode mode) throws Exception {
    // given a journal closed after 3 records (the last block is partial)
    JournalOptions options = small(dir).withIoMode(mode);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int i = 0; i < 3; i++) {
        j.append(1, body(1, i, 100));
      }
    }
    // when it is reopened (replaying the 3) and 3 more are appended, twice
    for (int round = 1; round <= 2; round++) {
      Recorded seen = new Recorded();
      try (Journal j = Journal.open(options, seen)) {
        assertEquals(3 * round, seen.records.size());
        assertTrue(j.replayReport().clean(), j.replayReport().toString());
        for (int i = 0; i < 3; i++) {
          j.append(1, body(1, 3 * round + i, 100));
        }
      }
    }
    // then all 9 are there, in order, and nothing was reported damaged
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options, r)) {
      assertTrue(j.replayReport().clean());
      assertEquals(9, j.replayReport().records());
    }
    for (int i = 0; i < 9; i++) {
      assertEquals(i, JournalTesting.seqOf(r.records.get(i).body()));
    }
  }

  @Test
  void autoModeUsesDirectIoWhereTheFilesystemTakesIt() throws Exception {
    Path probe = dir.resolve("probe");
    try (FileChannel ch =
        FileChannel.open(
            probe, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, SegmentWriter.DIRECT)) {
      assertTrue(ch.isOpen());
    } catch (IOException | UnsupportedOperationException e) {
      Assumptions.abort("the test directory's filesystem refuses O_DIRECT: " + e);
    } finally {
      Files.deleteIfExists(probe);
    }
    try (Journal j = Journal.open(JournalOptions.defaults(dir), ReplayVisitor.IGNORE)) {
      assertEquals(IoMode.DIRECT, j.stats().ioMode());
    }
  }

  /**
   * Opens files like a filesystem that refuses O_DIRECT (EINVAL), as tmpfs did before Linux 6.6.
   */
  private static final ChannelOpener REFUSES_DIRECT =
      (file, options) -> {
        if (options.contains(SegmentWriter.DIRECT)) {
          throw new IOException(file + ": Invalid argument");
        }
        return FileChannel.open(file, options);
      };

  @Test
  void autoModeFallsBackToBufferedWhereDirectIoIsRefusedAndStillRoundTrips() throws Exception {
    // given a filesystem that refuses O_DIRECT
    JournalOptions options = small(dir);
    // when a journal is opened there with AUTO
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE, REFUSES_DIRECT)) {
      // then it writes buffered (and forces), and records round-trip
      assertEquals(IoMode.BUFFERED, j.stats().ioMode());
      for (int i = 0; i < 100; i++) {
        j.append(2, body(2, i, 300));
      }
      // one force per commit, plus one per segment roll
      assertTrue(j.stats().forces() >= j.stats().commits(), j.stats().toString());
    }
    assertEquals(100, replay(options).records.size());
  }

  @Test
  void theFallbackToBufferedWritesIsLoggedOnceAcrossOpenAndSegmentRolls() throws Exception {
    // given a filesystem that refuses O_DIRECT, and log records captured
    try (io.sluice.jobs.LogCapture log = io.sluice.jobs.LogCapture.of(Journal.class)) {
      // when a journal is opened there with AUTO and written past two segment rolls
      try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE, REFUSES_DIRECT)) {
        for (int i = 0; j.stats().segmentsCreated() < 2; i++) {
          j.append(2, body(2, i, 3000));
        }
        assertEquals(IoMode.BUFFERED, j.stats().ioMode());
      }

      // then exactly one warning, the fallback's
      List<String> warnings = log.warnings();
      assertEquals(1, warnings.size(), warnings.toString());
      assertTrue(warnings.getFirst().contains("refuses direct I/O"), warnings.getFirst());
    }
  }

  @Test
  void directModeIsRefusedWithAClearMessageWhereTheFilesystemRefusesIt() throws Exception {
    IOException e =
        assertThrows(
            IOException.class,
            () ->
                Journal.open(
                    small(dir).withIoMode(IoMode.DIRECT), ReplayVisitor.IGNORE, REFUSES_DIRECT));
    assertTrue(e.getMessage().contains("direct I/O"), e.getMessage());
    // and the directory is not left locked
    Journal.open(small(dir), ReplayVisitor.IGNORE).close();
  }

  @Test
  void journalOnTmpfsRoundTrips() throws Exception {
    // /dev/shm is tmpfs; Linux 6.6+ tmpfs accepts O_DIRECT, older kernels refuse it (AUTO then
    // falls back): either way the journal works there.
    Path shm = Files.createTempDirectory(SHM, "sluice-journal-test");
    try {
      JournalOptions options = small(shm);
      try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
        for (int i = 0; i < 100; i++) {
          j.append(2, body(2, i, 300));
        }
      }
      assertEquals(100, replay(options).records.size());
    } finally {
      deleteTree(shm);
    }
  }

  @Test
  void aRecordLargerThanTheMaximumIsRejectedBeforeAnythingIsWritten() throws Exception {
    JournalOptions options = small(dir);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      assertThrows(IllegalArgumentException.class, () -> j.append(1, new byte[4097]));
      assertThrows(IllegalArgumentException.class, () -> j.appendAsync(1, new byte[4097]));
      j.append(1, new byte[4096]); // the maximum itself is fine
      assertEquals(1, j.stats().recordsAppended());
    }
    assertEquals(1, replay(options).records.size());
  }

  @Test
  void emptyBodiesAndAnyTypeRoundTrip() throws Exception {
    JournalOptions options = small(dir);
    int[] types = {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 42};
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int t : types) {
        j.append(t, new byte[0]);
      }
    }
    Recorded r = replay(options);
    assertEquals(types.length, r.records.size());
    for (int i = 0; i < types.length; i++) {
      assertEquals(types[i], r.records.get(i).type());
      assertEquals(0, r.records.get(i).body().length);
    }
  }

  @Test
  void defaultsAllowMultiMebibyteBatchRecords() throws Exception {
    // the engine packs ~1000 payloads x 1 KiB into one record
    JournalOptions options = JournalOptions.defaults(dir);
    assertTrue(options.maxRecordBytes() >= 8 << 20);
    assertTrue(options.segmentBytes() >= options.maxRecordBytes());
    byte[] big = body(9, 9, 3 << 20);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      j.append(9, big);
      j.append(9, body(9, 10, 10));
    }
    Recorded r = replay(options);
    assertArrayEquals(big, r.records.getFirst().body());
    assertEquals(2, r.records.size());
  }

  @Test
  void asyncAppendsCompleteWithTheirSegment() throws Exception {
    JournalOptions options = small(dir);
    List<CompletableFuture<Long>> futures = new ArrayList<>();
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int i = 0; i < 200; i++) {
        futures.add(j.appendAsync(3, body(3, i, 200)));
      }
      for (CompletableFuture<Long> f : futures) {
        long s = f.get();
        assertTrue(s >= 1 && s <= j.currentSegment());
      }
    }
    Recorded r = replay(options);
    assertEquals(200, r.records.size());
    for (int i = 0; i < 200; i++) {
      assertEquals(futures.get(i).join(), r.records.get(i).segment());
      assertEquals(i, JournalTesting.seqOf(r.records.get(i).body()));
    }
  }

  @Test
  void releaseDeletesOnlyClosedSegmentsBeforeTheGivenOne() throws Exception {
    JournalOptions options = small(dir);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      // given records spread over at least 5 segments
      int i = 0;
      while (j.currentSegment() < 5) {
        j.append(1, body(1, i++, 1000));
      }
      long current = j.currentSegment();
      // when segments before 3 are released
      j.releaseSegmentsBefore(3);
      // then 1 and 2 are gone and 3.. remain
      assertFalse(Files.exists(SegmentFormat.file(dir, 1)));
      assertFalse(Files.exists(SegmentFormat.file(dir, 2)));
      assertTrue(Files.exists(SegmentFormat.file(dir, 3)));
      // and releasing beyond the current segment never deletes the one being written
      j.releaseSegmentsBefore(Long.MAX_VALUE);
      assertTrue(Files.exists(SegmentFormat.file(dir, current)));
      assertEquals(current - 1, j.stats().segmentsDeleted());
      j.append(1, body(1, i, 10));
      j.checkInvariants();
    }
    Recorded r = replay(options);
    assertTrue(r.records.stream().allMatch(x -> x.segment() >= r.records.getFirst().segment()));
    assertFalse(r.records.isEmpty());
  }

  @Test
  void appendsAfterCloseFailWithATypedException() throws Exception {
    Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE);
    j.append(1, new byte[1]);
    j.close();
    j.close(); // idempotent
    assertThrows(JournalClosedException.class, () -> j.append(1, new byte[1]));
    ExecutionException e =
        assertThrows(ExecutionException.class, () -> j.appendAsync(1, new byte[1]).get());
    assertTrue(e.getCause() instanceof JournalClosedException);
    assertThrows(JournalClosedException.class, () -> j.releaseSegmentsBefore(1));
    j.checkInvariants();
  }

  @Test
  void aSecondOpenOfTheSameDirectoryIsRefused() throws Exception {
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      IOException e =
          assertThrows(IOException.class, () -> Journal.open(small(dir), ReplayVisitor.IGNORE));
      assertTrue(e.getMessage().contains("in use"), e.getMessage());
      j.append(1, new byte[1]);
    }
    Journal.open(small(dir), ReplayVisitor.IGNORE).close();
  }

  @Test
  void alwaysForcesEveryCommitNeverForcesOnlyOnClose() throws Exception {
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      for (int i = 0; i < 10; i++) {
        j.append(1, new byte[10]);
      }
      assertEquals(j.stats().commits(), j.stats().forces());
    }
    Path other = dir.resolve("never");
    Journal j = Journal.open(small(other).withDurability(Durability.NEVER), ReplayVisitor.IGNORE);
    for (int i = 0; i < 10; i++) {
      j.append(1, new byte[10]);
    }
    assertEquals(0, j.stats().forces());
    j.close();
    assertEquals(1, j.stats().forces());
    assertEquals(10, replay(small(other)).records.size());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void closeUnderNeverForcesEverySegmentWrittenSinceOpenNotOnlyTheLastOne(IoMode mode)
      throws Exception {
    // given a journal that never forces, written past three segment rolls, through channels that
    // note which files hold writes no force has covered yet
    HookedChannel.Gate gate = new HookedChannel.Gate();
    JournalOptions options = small(dir).withDurability(Durability.NEVER).withIoMode(mode);
    Journal j = Journal.open(options, ReplayVisitor.IGNORE, gate.opener());
    for (int i = 0; j.currentSegment() < 4; i++) {
      j.append(1, body(1, i, 1000));
    }
    // and as many again pending at close, so that the last commit rolls too
    List<CompletableFuture<Long>> pending = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      pending.add(j.appendAsync(1, body(1, 1000 + i, 1000)));
    }

    // when it is closed ("close forces")
    j.close();

    // then every segment file was forced after its last write, the rolled ones included
    CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get();
    assertTrue(j.currentSegment() >= 6, "rolled at close too: " + j.currentSegment());
    List<Path> unforced =
        gate.writtenNotForced().stream()
            .filter(f -> f.getFileName().toString().endsWith(".seg"))
            .sorted()
            .toList();
    assertEquals(List.of(), unforced);
    // and the stats count those forces, one per segment
    assertEquals(j.currentSegment(), j.stats().forces(), j.stats().toString());
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"never", "interval"})
  void aForcedAppendIsForcedBeforeItCompletesWhateverThePolicy(String kind) throws Exception {
    // given a policy that forces no commit (an interval that never comes, or never)
    Durability policy =
        kind.equals("never") ? Durability.NEVER : Durability.interval(Duration.ofHours(1));
    try (Journal j = Journal.open(small(dir).withDurability(policy), ReplayVisitor.IGNORE)) {
      j.append(1, new byte[10]);
      assertEquals(0, j.stats().forces());

      // when a forced append completes
      long segment = j.appendForcedAsync(2, new byte[10]).get();

      // then its commit was forced, and a plain append after it is not
      assertEquals(1, j.stats().forces());
      assertEquals(j.currentSegment(), segment);
      j.append(1, new byte[10]);
      assertEquals(1, j.stats().forces());
    }
  }

  @Test
  void aForcedAppendAmongOthersThatRollTheSegmentIsForced() throws Exception {
    // given a journal that never forces, not even at a roll
    AtomicInteger forces = new AtomicInteger();
    JournalOptions options =
        small(dir)
            .withDurability(Durability.NEVER)
            .withListener(
                new JournalListener() {
                  @Override
                  public void onForce(long nanos) {
                    forces.incrementAndGet();
                  }
                });
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      // when a forced record goes out with enough plain ones to roll the segment more than once
      List<CompletableFuture<Long>> futures = new ArrayList<>();
      for (int k = 0; k < 40; k++) {
        futures.add(j.appendAsync(1, body(1, k, 1000)));
      }
      CompletableFuture<Long> forced = j.appendForcedAsync(2, body(2, 0, 1000));
      for (int k = 40; k < 80; k++) {
        futures.add(j.appendAsync(1, body(1, k, 1000)));
      }
      forced.get();

      // then it was forced, in its own commit or at the roll after it
      assertTrue(forces.get() >= 1, forces.get() + " forces");
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get();
      assertTrue(j.currentSegment() >= 3, "the segment rolled: " + j.currentSegment());
    }
  }

  @Test
  void aReleaseThatFailsPartWayStillForcesTheDirectoryForTheSegmentsItDeleted() throws Exception {
    // given a journal with three closed segments, the second of which cannot be released (a
    // directory with a file in it has taken the name it is renamed to)
    HookedChannel.Gate gate = new HookedChannel.Gate();
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE, gate.opener())) {
      for (int i = 0; j.currentSegment() < 4; i++) {
        j.append(1, body(1, i, 1000));
      }
      Path blocker = SegmentFormat.releasedFile(dir, 2);
      Files.createDirectory(blocker);
      Files.createFile(blocker.resolve("keep"));
      int forcedBefore = gate.forced().size();

      // when all three are released
      assertThrows(java.io.UncheckedIOException.class, () -> j.releaseSegmentsBefore(4));

      // then the first is gone, and its release was made durable: the directory was forced
      assertFalse(Files.exists(SegmentFormat.file(dir, 1)));
      assertFalse(Files.exists(SegmentFormat.releasedFile(dir, 1)));
      assertTrue(Files.exists(SegmentFormat.file(dir, 2)), "the one that failed stays whole");
      List<Path> forced = gate.forced();
      assertTrue(
          forced.subList(forcedBefore, forced.size()).contains(dir.toAbsolutePath()),
          "forced after the release: " + forced.subList(forcedBefore, forced.size()));
      Files.delete(blocker.resolve("keep"));
      Files.delete(blocker);
    }
  }

  @Test
  void aReleasedSegmentIsEmptiedFromItsEndInStepsThenDeleted() throws Exception {
    // given a journal whose first segment, 10 MiB, is closed, behind an opener that records
    // every truncation
    List<String> truncations = new java.util.concurrent.CopyOnWriteArrayList<>();
    ChannelOpener recording =
        (file, options) ->
            new ForwardingFileChannel(FileChannel.open(file, options)) {
              @Override
              public FileChannel truncate(long size) throws IOException {
                truncations.add(file.getFileName() + " " + size);
                d.truncate(size);
                return this;
              }
            };
    JournalOptions options =
        JournalOptions.defaults(dir)
            .withMaxRecordBytes(64 * 1024)
            .withSegmentBytes(10L << 20)
            .withDurability(Durability.NEVER);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE, recording)) {
      List<CompletableFuture<Long>> appends = new ArrayList<>();
      for (int i = 0; j.currentSegment() < 2; i++) {
        appends.add(j.appendAsync(1, body(1, i, 64 * 1024)));
        if (appends.size() == 64) {
          CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get();
          appends.clear();
        }
      }
      CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get();
      long size = Files.size(SegmentFormat.file(dir, 1));
      assertTrue(size > 8L << 20, "a segment of " + size + " bytes");

      // when it is released
      j.releaseSegmentsBefore(2);

      // then its file was cut back 4 MiB at a time under its released name, and is gone
      String name = SegmentFormat.releasedFile(dir, 1).getFileName().toString();
      List<String> expected = new ArrayList<>();
      for (long left = size; left > Journal.RELEASE_CHUNK_BYTES; ) {
        left -= Journal.RELEASE_CHUNK_BYTES;
        expected.add(name + " " + left);
      }
      assertEquals(expected, truncations);
      assertFalse(Files.exists(SegmentFormat.file(dir, 1)));
      assertFalse(Files.exists(SegmentFormat.releasedFile(dir, 1)));
      assertEquals(1, j.stats().segmentsDeleted());
    }
  }

  @Test
  void aReleasedSegmentACrashLeftHalfEmptiedIsDeletedAtOpenAndNotReplayed() throws Exception {
    // given a journal of three segments, closed
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      for (int i = 0; j.currentSegment() < 3; i++) {
        j.append(1, body(1, i, 1000));
      }
    }
    // and the first one as a crash during its release leaves it: renamed, and cut short
    Path released = SegmentFormat.releasedFile(dir, 1);
    Files.move(SegmentFormat.file(dir, 1), released);
    try (FileChannel ch = FileChannel.open(released, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2 + 7);
    }

    // when the journal is opened again
    Recorded r = new Recorded();
    try (Journal j = Journal.open(small(dir), r)) {
      // then the leftover is deleted, and replay read the other segments without a warning
      assertFalse(Files.exists(released));
      assertTrue(j.replayReport().warnings().isEmpty(), j.replayReport().warnings().toString());
      assertTrue(j.replayReport().corruptRegions().isEmpty());
    }
    assertFalse(r.records.isEmpty());
    assertTrue(r.records.stream().allMatch(x -> x.segment() >= 2), "nothing from segment 1");
  }

  @Test
  void nothingInTheDirectoryChangesOnceCloseHasReturnedThoughAReleaseWasEmptyingAFile()
      throws Exception {
    // given a journal with a closed segment, whose release is held as it opens the renamed file
    // to empty it
    CountDownLatch opening = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    ChannelOpener held =
        (file, options) -> {
          if (file.getFileName().toString().endsWith(SegmentFormat.RELEASED_SUFFIX)) {
            opening.countDown();
            try {
              proceed.await();
            } catch (InterruptedException e) {
              throw new IOException(e);
            }
          }
          return FileChannel.open(file, options);
        };
    Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE, held);
    for (int i = 0; j.currentSegment() < 2; i++) {
      j.append(1, body(1, i, 1000));
    }
    Thread releasing = Thread.ofPlatform().start(() -> j.releaseSegmentsBefore(2));
    opening.await();

    // when the journal is closed meanwhile
    Thread closing = Thread.ofPlatform().start(j::close);

    // then close waits for that step: it is blocked on a lock the release holds, not returned
    java.lang.management.ThreadMXBean threads =
        java.lang.management.ManagementFactory.getThreadMXBean();
    boolean waitedForRelease = false;
    while (!waitedForRelease && closing.isAlive()) {
      java.lang.management.ThreadInfo info = threads.getThreadInfo(closing.threadId());
      waitedForRelease =
          info != null
              && info.getThreadState() == Thread.State.BLOCKED
              && info.getLockOwnerId() == releasing.threadId();
      Thread.onSpinWait();
    }
    proceed.countDown();
    closing.join();
    List<String> atClose = listing(dir);
    releasing.join();
    assertTrue(waitedForRelease, "close returned while a release step was in flight");
    // and the release does nothing more once close has returned
    assertEquals(atClose, listing(dir));
  }

  private static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.map(f -> f.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aReleaseWhoseDirectoryForceFailsLeavesTheRenamedFilesWholeUntilTheNextOpen()
      throws Exception {
    // given a journal with two closed segments, forcing only when asked (so that the next force
    // is the release's own, of the directory)
    HookedChannel.Gate gate = new HookedChannel.Gate();
    JournalOptions options = small(dir).withDurability(Durability.NEVER);
    Journal j = Journal.open(options, ReplayVisitor.IGNORE, gate.opener());
    for (int i = 0; j.currentSegment() < 3; i++) {
      j.append(1, body(1, i, 1000));
    }
    long first = Files.size(SegmentFormat.file(dir, 1));

    // when the release's force of the directory fails
    gate.armNextForce(new CountDownLatch(1), true).countDown();
    assertThrows(java.io.UncheckedIOException.class, () -> j.releaseSegmentsBefore(3));

    // then the renamed files are left whole: their renames may not be durable, and a crash now
    // could bring them back as segments
    assertEquals(first, Files.size(SegmentFormat.releasedFile(dir, 1)));
    assertTrue(Files.exists(SegmentFormat.releasedFile(dir, 2)));
    j.close();

    // and the next open deletes the renamed file
    Journal.open(options, ReplayVisitor.IGNORE).close();
    assertFalse(Files.exists(SegmentFormat.releasedFile(dir, 1)));
    assertFalse(Files.exists(SegmentFormat.releasedFile(dir, 2)));
  }

  @Test
  void aSegmentBelowAReleasedFileIsReleasedAgainAtOpenAndNotReplayed() throws Exception {
    // given segments 1 and 2 closed and released in one call, and a crash before the directory's
    // force that undid the rename of 1 but kept that of 2 (POSIX orders neither before the force)
    JournalOptions options = small(dir).withDurability(Durability.NEVER);
    Journal j = Journal.open(options, ReplayVisitor.IGNORE);
    for (int i = 0; j.currentSegment() < 3; i++) {
      j.append(1, body(1, i, 1000));
    }
    j.close();
    Files.move(SegmentFormat.file(dir, 2), SegmentFormat.releasedFile(dir, 2));

    // when it is opened
    List<Long> replayed = new ArrayList<>();
    Journal.open(options, (segment, type, body) -> replayed.add(segment)).close();

    // then segment 1, below the released segment 2, is not replayed (3 is), and neither file is
    // left
    assertFalse(replayed.contains(1L), "replayed segments " + new TreeSet<>(replayed));
    assertTrue(replayed.contains(3L), "replayed segments " + new TreeSet<>(replayed));
    assertFalse(Files.exists(SegmentFormat.file(dir, 1)));
    assertFalse(Files.exists(SegmentFormat.releasedFile(dir, 1)));
    assertFalse(Files.exists(SegmentFormat.releasedFile(dir, 2)));
  }

  @Test
  void aTimeoutTooLongForNanosecondsWaitsAsAnUnboundedOneDoes() throws Exception {
    // given an open journal
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      Duration forever = Duration.ofSeconds(Long.MAX_VALUE);

      // when appends wait at most a duration that no long holds in nanoseconds
      long plain = j.appendUninterruptibly(1, new byte[10], forever);
      long forced = j.appendForcedUninterruptibly(2, new byte[10], forever);

      // then they are acknowledged as any append is
      assertEquals(j.currentSegment(), plain);
      assertEquals(j.currentSegment(), forced);
    }
    assertEquals(2, replay(small(dir)).records.size());
  }

  @Test
  void aStallThresholdAndAnIntervalTooLongForNanosecondsAreValidOptions() throws Exception {
    // given options that JournalOptions and Durability accept: durations beyond 292 years
    Duration forever = Duration.ofSeconds(Long.MAX_VALUE);
    JournalOptions options =
        small(dir).withStallThreshold(forever).withDurability(Durability.interval(forever));

    // when a journal is opened with them and appended to
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      j.append(1, new byte[10]);

      // then it works, and the interval (never due) forces nothing before close
      assertEquals(1, j.stats().recordsAppended());
      assertFalse(j.stalled());
    }
    assertEquals(1, replay(small(dir)).records.size());
  }

  @Test
  void closedSegmentBytesCountsTheClosedSegmentsStillOnDisk() throws Exception {
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      int i = 0;
      while (j.currentSegment() < 4) {
        j.append(1, body(1, i++, 1000));
      }
      long one = Files.size(SegmentFormat.file(dir, 1));
      long two = Files.size(SegmentFormat.file(dir, 2));
      long three = Files.size(SegmentFormat.file(dir, 3));
      assertEquals(one + two + three, j.closedSegmentBytes(1, 4));
      assertEquals(two, j.closedSegmentBytes(2, 3));
      assertEquals(
          one + two + three, j.closedSegmentBytes(0, 100), "the current one is not counted");
      assertEquals(0, j.closedSegmentBytes(3, 3));

      j.releaseSegmentsBefore(2);
      assertEquals(two + three, j.closedSegmentBytes(1, 4));
    }
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      assertEquals(
          Files.size(SegmentFormat.file(dir, 2)) + Files.size(SegmentFormat.file(dir, 3)),
          j.closedSegmentBytes(1, 100),
          "read from the files at open");
    }
  }

  @Test
  void intervalForcesWhenDueWithoutFurtherAppends() throws Exception {
    // given an interval policy and a listener that counts forces
    CountDownLatch forced = new CountDownLatch(1);
    AtomicInteger commits = new AtomicInteger();
    JournalListener listener =
        new JournalListener() {
          @Override
          public void onForce(long nanos) {
            forced.countDown();
          }

          @Override
          public void onCommit(int records, long bytes, long writeNanos, long forceNanos) {
            commits.incrementAndGet();
          }
        };
    JournalOptions options =
        small(dir).withDurability(Durability.interval(Duration.ofMillis(5))).withListener(listener);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      // when one record is appended (completing once written)
      j.append(1, new byte[10]);
      // then the writer forces it on its own once the interval has passed
      assertTrue(forced.await(20, TimeUnit.SECONDS));
      assertTrue(j.stats().forces() >= 1);
      assertEquals(1, commits.get());
    }
  }

  @Test
  void listenerSeesCommitsForcesAndAcknowledgements() throws Exception {
    AtomicInteger acks = new AtomicInteger();
    AtomicInteger recordsCommitted = new AtomicInteger();
    AtomicInteger forces = new AtomicInteger();
    AtomicInteger created = new AtomicInteger();
    JournalListener listener =
        new JournalListener() {
          @Override
          public void onCommit(int records, long bytes, long writeNanos, long forceNanos) {
            recordsCommitted.addAndGet(records);
            assertTrue(bytes >= 16L * records && writeNanos >= 0 && forceNanos >= 0);
          }

          @Override
          public void onForce(long nanos) {
            forces.incrementAndGet();
          }

          @Override
          public void onAcknowledge(long latencyNanos) {
            assertTrue(latencyNanos >= 0);
            acks.incrementAndGet();
          }

          @Override
          public void onSegmentCreated(long segment) {
            created.incrementAndGet();
          }
        };
    Journal j = Journal.open(small(dir).withListener(listener), ReplayVisitor.IGNORE);
    for (int i = 0; i < 50; i++) {
      j.append(1, new byte[1000]);
    }
    // the writer calls onAcknowledge just after completing, so wait for it by closing
    j.close();
    assertEquals(50, acks.get());
    assertEquals(50, recordsCommitted.get());
    assertEquals(j.stats().forces(), forces.get());
    assertEquals(j.stats().segmentsCreated() - 1, created.get());
  }

  @Test
  void replayReportsProgressUpToTheTotal() throws Exception {
    JournalOptions options = small(dir);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      for (int i = 0; i < 100; i++) {
        j.append(1, new byte[1000]);
      }
    }
    Recorded r = replay(options);
    assertFalse(r.progress.isEmpty());
    long[] last = r.progress.getLast();
    assertEquals(last[1], last[0]);
    for (int i = 1; i < r.progress.size(); i++) {
      assertTrue(r.progress.get(i)[0] >= r.progress.get(i - 1)[0]);
    }
  }

  @Test
  void optionsValidateSizes() {
    JournalOptions d = JournalOptions.defaults(dir);
    assertThrows(IllegalArgumentException.class, () -> d.withMaxRecordBytes(-1));
    assertThrows(IllegalArgumentException.class, () -> d.withSegmentBytes(1000));
    assertThrows(IllegalArgumentException.class, () -> d.withSegmentBytes(2L << 30));
    assertThrows(IllegalArgumentException.class, () -> d.withWriteBufferBytes(10_000));
    assertThrows(IllegalArgumentException.class, () -> Durability.interval(Duration.ZERO));
    assertEquals(Durability.ALWAYS, d.durability());
    assertEquals(IoMode.AUTO, d.ioMode());
  }

  static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
