package io.sluice.jobs.journal;

import com.sun.management.HotSpotDiagnosticMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The journal threads (writer, completer, watchdog, preallocator) alive in this JVM, for tests that
 * check a failed open or close leaves none behind. The completer and the watchdog are virtual
 * threads, which Thread.getAllStackTraces does not list, so they are counted in the JVM's thread
 * dump (HotSpotDiagnosticMXBean.dumpThreads, which lists virtual threads too). Public for the
 * store's tests in io.sluice.jobs.
 */
public final class JournalThreads {
  private static final Pattern JOURNAL_THREAD =
      Pattern.compile(
          "\"name\"\\s*:\\s*\"(sluice-journal-(?:writer|completer|watchdog|preallocator))\"");

  private JournalThreads() {}

  /**
   * The names of the journal threads alive in this JVM, one entry per thread, sorted.
   *
   * @return the names
   * @throws IOException if the thread dump cannot be written or read
   */
  public static List<String> alive() throws IOException {
    Path dir = Files.createTempDirectory("sluice-threads");
    Path dump = dir.resolve("threads.json"); // dumpThreads refuses a file that exists
    try {
      ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
          .dumpThreads(dump.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
      Matcher m = JOURNAL_THREAD.matcher(Files.readString(dump));
      return m.results().map(r -> r.group(1)).sorted().toList();
    } finally {
      Files.deleteIfExists(dump);
      Files.delete(dir);
    }
  }

  /**
   * How many journal preallocator threads are alive in this JVM. Other tests' journals may still be
   * ending, so a test compares this count before and after rather than with zero.
   *
   * @return the count
   * @throws IOException as {@link #alive()}
   */
  public static long preallocators() throws IOException {
    return alive().stream().filter("sluice-journal-preallocator"::equals).count();
  }
}
