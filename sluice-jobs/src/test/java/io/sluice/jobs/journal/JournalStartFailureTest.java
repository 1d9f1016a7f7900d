package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * An open that fails part way must leave nothing behind: no journal thread (writer, completer,
 * watchdog) and no lock on the directory. The threads are counted in the JVM's thread dump
 * (JournalThreads), which lists the virtual ones too.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalStartFailureTest {
  @TempDir Path dir;

  @Test
  void anOpenWhoseWriterThreadCannotStartLeavesNoJournalThreadAndFreesTheDirectory()
      throws Exception {
    // given no journal open, and a writer thread factory that starts the thread it makes (so the
    // journal's own start of it fails, after the completer has started)
    List<String> before = JournalThreads.alive();
    ThreadFactory startsItsThreads =
        r -> {
          Thread t = Thread.ofPlatform().daemon().name("sluice-journal-writer").unstarted(r);
          t.start();
          return t;
        };

    // when the journal is opened with it, then the open fails
    assertThrows(
        IllegalThreadStateException.class,
        () ->
            Journal.open(
                small(dir).withWriterThreadFactory(startsItsThreads), ReplayVisitor.IGNORE));

    // and no journal thread is left, and the directory opens again
    assertEquals(before, JournalThreads.alive());
    try (Journal again = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      again.append(1, new byte[10]);
    }
    assertEquals(before, JournalThreads.alive());
  }

  @Test
  void anOpenWhoseSegmentCannotBeCreatedLeavesNoJournalThreadAndFreesTheDirectory()
      throws Exception {
    // given no journal open, and a disk that refuses to create segment files (a read-only or full
    // file system, as far as the journal can tell)
    List<String> before = JournalThreads.alive();
    ChannelOpener refusesSegments =
        (file, options) -> {
          if (file.getFileName().toString().endsWith(SegmentFormat.SUFFIX)) {
            throw new IOException("injected: Read-only file system");
          }
          return FileChannel.open(file, options);
        };

    // when the journal is opened over it, then the open fails with that
    IOException e =
        assertThrows(
            IOException.class,
            () -> Journal.open(small(dir), ReplayVisitor.IGNORE, refusesSegments));
    assertEquals("injected: Read-only file system", e.getMessage());

    // and no journal thread is left, and the directory opens again
    assertEquals(before, JournalThreads.alive());
    try (Journal again = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      again.append(1, new byte[10]);
    }
    assertEquals(before, JournalThreads.alive());
  }
}
