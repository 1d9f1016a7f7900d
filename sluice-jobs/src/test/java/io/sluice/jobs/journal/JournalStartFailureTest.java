package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * An open that fails part way must leave nothing behind: no journal thread (writer, completer,
 * watchdog) and no lock on the directory. The completer and the watchdog are virtual threads,
 * which Thread.getAllStackTraces does not list, so the tests count the journal's threads in the
 * JVM's thread dump (HotSpotDiagnosticMXBean.dumpThreads, which lists virtual threads too).
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalStartFailureTest {
  private static final Pattern JOURNAL_THREAD =
      Pattern.compile("\"name\"\\s*:\\s*\"(sluice-journal-(?:writer|completer|watchdog))\"");

  @TempDir Path dir;
  @TempDir Path dumps;
  private int dumpsTaken;

  /** The names of the journal threads alive in this JVM, one entry per thread. */
  private List<String> journalThreads() throws IOException {
    Path dump = dumps.resolve("threads-" + dumpsTaken++ + ".json");
    ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
        .dumpThreads(dump.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
    Matcher m = JOURNAL_THREAD.matcher(Files.readString(dump));
    return m.results().map(r -> r.group(1)).sorted().toList();
  }

  @Test
  void anOpenWhoseWriterThreadCannotStartLeavesNoJournalThreadAndFreesTheDirectory()
      throws Exception {
    // given no journal open, and a writer thread factory that starts the thread it makes (so the
    // journal's own start of it fails, after the completer has started)
    List<String> before = journalThreads();
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
    assertEquals(before, journalThreads());
    try (Journal again = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      again.append(1, new byte[10]);
    }
    assertEquals(before, journalThreads());
  }

  @Test
  void anOpenWhoseSegmentCannotBeCreatedLeavesNoJournalThreadAndFreesTheDirectory()
      throws Exception {
    // given no journal open, and a disk that refuses to create segment files (a read-only or full
    // file system, as far as the journal can tell)
    List<String> before = journalThreads();
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
    assertEquals(before, journalThreads());
    try (Journal again = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      again.append(1, new byte[10]);
    }
    assertEquals(before, journalThreads());
  }
}
