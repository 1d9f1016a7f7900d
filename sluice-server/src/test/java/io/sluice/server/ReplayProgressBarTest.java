package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The replay progress as it lands in a real file, in both of its modes: redrawn in place (for a
 * terminal) and as log lines (for anything else).
 */
class ReplayProgressBarTest {
  @TempDir Path dir;

  /** Reports 0..100% one percent at a time to a bar writing to a file; returns the file's text. */
  private String replay(boolean terminal) throws Exception {
    Path file = dir.resolve("stderr.txt");
    try (PrintStream out = new PrintStream(new FileOutputStream(file.toFile()), false, UTF_8)) {
      ReplayProgressBar bar = new ReplayProgressBar(out, terminal);
      for (long percent = 0; percent <= 100; percent++) {
        bar.accept(percent);
      }
      bar.done();
    }
    return Files.readString(file, UTF_8);
  }

  @Test
  void forALogItWritesALineEveryTenPercentAndNoCarriageReturn() throws Exception {
    String text = replay(false);

    assertFalse(text.contains("\r"), text);
    List<String> lines = text.lines().toList();
    assertEquals(11, lines.size(), text);
    for (int i = 0; i <= 10; i++) {
      assertEquals("sluice: replaying journal: " + (i * 10) + "%", lines.get(i), text);
    }
  }

  @Test
  void forATerminalItRedrawsOneLineInPlaceAndEndsIt() throws Exception {
    String text = replay(true);

    assertEquals(101, text.split("\r", -1).length - 1, "one redraw per percent: " + text);
    assertTrue(text.startsWith("\rreplaying journal [" + " ".repeat(40) + "] 0%"), text);
    assertTrue(
        text.endsWith("\rreplaying journal [" + "#".repeat(40) + "] 100%" + System.lineSeparator()),
        text);
    assertEquals(1, text.chars().filter(c -> c == '\n').count(), "one line, ended once: " + text);
  }

  @Test
  void aReplayOverAtOnceShowsNothingInEitherMode() throws Exception {
    for (boolean terminal : new boolean[] {true, false}) {
      Path file = dir.resolve("quick-" + terminal + ".txt");
      try (PrintStream out = new PrintStream(new FileOutputStream(file.toFile()), false, UTF_8)) {
        ReplayProgressBar bar = new ReplayProgressBar(out, terminal);
        bar.accept(100);
        bar.done();
      }
      assertEquals("", Files.readString(file, UTF_8), "terminal " + terminal);
    }
  }
}
