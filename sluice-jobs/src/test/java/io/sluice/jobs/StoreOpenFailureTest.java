package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import io.sluice.jobs.journal.ChannelOpener;
import io.sluice.jobs.journal.Journal;
import io.sluice.jobs.journal.JournalOptions;
import io.sluice.jobs.journal.JournalThreads;
import io.sluice.jobs.journal.ReplayVisitor;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * An open of the durable store that fails after its journal opened (while the store takes back
 * what the journal held, or compacts it) must close the journal again: no journal thread left, the
 * directory's lock released, so the store opens again at once. The threads are counted as the
 * journal's own start-failure tests count them (JournalThreads: the JVM's thread dump, which lists
 * the virtual ones too).
 */
@Timeout(60)
class StoreOpenFailureTest {
  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));

  private JobStoreOptions options() {
    return JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withCapacity(10);
  }

  @Test
  void anErrorWhileCompactingAtOpenClosesTheJournalAndTheDirectoryOpensAgain() throws Exception {
    // given a journal whose only job finished in its first segment, and which rolled to a second
    // one before the store stopped, without the compaction that would have released the first (as
    // after a crash): the open's compaction releases it, a rename then a sync of the directory, on
    // the opening thread, after the journal opened
    JobId id;
    try (LocalJobStore store = LocalJobStore.open(options())) {
      id = submit(store, "{\"n\": 1}");
      assertEquals(id, store.claim(t -> true).orElseThrow().id());
      store.succeeded(id);
    }
    rollWithRecordsThatChangeNothing(id);
    // and a disk whose sync of the directory after that rename fails with an Error (as an
    // OutOfMemoryError would, allocating the channel): not a RuntimeException, which compaction
    // logs and survives
    OutOfMemoryError injected = new OutOfMemoryError("injected: no memory for the directory sync");
    AtomicInteger thrown = new AtomicInteger();
    ChannelOpener failsTheSyncAfterARelease =
        (file, openOptions) -> {
          if (Files.isDirectory(file) && holdsAReleasedSegment(file)) {
            thrown.incrementAndGet();
            throw injected;
          }
          return FileChannel.open(file, openOptions);
        };
    List<String> before = JournalThreads.alive();

    // when the store is opened over that disk, then the open fails with that Error
    assertSame(
        injected,
        assertThrows(
            OutOfMemoryError.class,
            () -> JournalLog.openStore(options(), failsTheSyncAfterARelease)));
    assertEquals(1, thrown.get(), "the Error came from the compaction's directory sync");

    // and no journal thread is left, and the directory opens again at once (the finished job
    // not pending again) and takes jobs
    assertEquals(before, JournalThreads.alive());
    try (LocalJobStore again = LocalJobStore.open(options())) {
      assertEquals(0, again.counts().pending(), again.counts().toString());
      JobId next = submit(again, "{\"n\": 2}");
      assertEquals(next, again.claim(t -> true).orElseThrow().id());
    }
    assertEquals(before, JournalThreads.alive());
  }

  private static JobId submit(JobStore store, String payload) throws Exception {
    Admission admission =
        store.submit(List.of(JobSpec.of("t", payload.getBytes(UTF_8))), Duration.ZERO);
    return assertInstanceOf(Admission.Accepted.class, admission).ids().getFirst();
  }

  /**
   * Writes deletions of the finished job {@code id} (which replay ignores) through the journal
   * until it starts its second segment.
   */
  private void rollWithRecordsThatChangeNothing(JobId id) throws Exception {
    JournalOptions small =
        JournalOptions.defaults(dir)
            .withDurability(io.sluice.jobs.journal.Durability.NEVER)
            .withMaxRecordBytes(4096)
            .withSegmentBytes(16 << 10);
    try (Journal journal = Journal.open(small, ReplayVisitor.IGNORE)) {
      while (journal.append(JobRecords.DELETED, JobRecords.id(id)) == 1) {}
    }
  }

  private static boolean holdsAReleasedSegment(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files.anyMatch(f -> f.getFileName().toString().endsWith(".released"));
    }
  }
}
