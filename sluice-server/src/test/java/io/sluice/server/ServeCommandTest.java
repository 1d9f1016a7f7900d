package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice serve}'s settings that are refused before anything starts, and what it prints when
 * the start fails.
 */
class ServeCommandTest {
  @TempDir Path dataDir;

  @Test
  void aFailedStartIsOneLineThatAlsoSaysEachFailureToUndoIt() {
    IOException failed = new BindException("cannot listen on 127.0.0.1:8080: the port is in use");
    failed.addSuppressed(
        new SluiceServer.JournalNotClosedException(
            "gave up closing the journal in /data/journal: the disk may be hung"));
    failed.addSuppressed(new IOException()); // no message: its type then
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    ServeCommand.printCannotStart(new PrintStream(stderr, true, UTF_8), failed);

    assertEquals(
        "sluice: cannot start: cannot listen on 127.0.0.1:8080: the port is in use"
            + "; also: gave up closing the journal in /data/journal: the disk may be hung"
            + "; also: java.io.IOException"
            + System.lineSeparator(),
        stderr.toString(UTF_8));
  }

  @Test
  void aFailedStartWithNothingToAddIsItsMessageAlone() {
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();

    ServeCommand.printCannotStart(
        new PrintStream(stderr, true, UTF_8), new IOException("the journal is in use"));

    assertEquals(
        "sluice: cannot start: the journal is in use" + System.lineSeparator(),
        stderr.toString(UTF_8));
  }

  @Test
  void objectWritersBelowOneIsAUsageErrorNamingTheFlag() {
    CommandRun run =
        CommandRun.of("serve", "--data-dir", dataDir.toString(), "--object-writers", "0");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(run.err().contains("--object-writers must be at least 1, got 0"), run.toString());
    assertFalse(Files.exists(dataDir.resolve("journal")), "nothing started");
  }

  @Test
  void anUnknownObjectSyncPolicyIsAUsageErrorNamingTheChoices() {
    CommandRun run =
        CommandRun.of("serve", "--data-dir", dataDir.toString(), "--object-sync", "sometimes");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(run.err().contains("--object-sync must be every-put or none"), run.toString());
  }

  @Test
  void theHelpListsTheObjectWritersWithTheirDefault() {
    CommandRun run = CommandRun.of("serve", "--help");

    assertEquals(0, run.exit(), run.toString());
    int at = run.out().indexOf("--object-writers=N");
    assertTrue(at >= 0, run.toString());
    int next = run.out().indexOf("\n  -", at + 1); // the next option's line
    String entry = run.out().substring(at, next < 0 ? run.out().length() : next);
    assertTrue(entry.replaceAll("\\s+", " ").contains("Default: 2."), entry);
  }

  @Test
  void theHelpListsTheFinishedRetentionWithItsDefault() {
    CommandRun run = CommandRun.of("serve", "--help");

    assertEquals(0, run.exit(), run.toString());
    int at = run.out().indexOf("--finished-retention=N");
    assertTrue(at >= 0, run.toString());
    int next = run.out().indexOf("\n  -", at + 1);
    String entry = run.out().substring(at, next < 0 ? run.out().length() : next);
    assertTrue(entry.replaceAll("\\s+", " ").contains("Default: 10000."), entry);
  }

  @Test
  void theHelpListsTheHeaderTimeoutWithItsDefault() {
    CommandRun run = CommandRun.of("serve", "--help");

    assertEquals(0, run.exit(), run.toString());
    int at = run.out().indexOf("--header-timeout=DURATION");
    assertTrue(at >= 0, run.toString());
    int next = run.out().indexOf("\n  -", at + 1);
    String entry = run.out().substring(at, next < 0 ? run.out().length() : next);
    String text = entry.replaceAll("\\s+", " ");
    assertTrue(text.contains("408 header_timeout"), entry);
    assertTrue(text.contains("(SLUICE_HEADER_TIMEOUT)"), entry);
    assertTrue(text.contains("Default: 10s."), entry);
  }

  @Test
  void aZeroHeaderTimeoutIsAUsageErrorNamingTheFlag() {
    CommandRun run =
        CommandRun.of("serve", "--data-dir", dataDir.toString(), "--header-timeout", "0s");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(run.err().contains("--header-timeout must be positive, got 0 ms"), run.toString());
    assertFalse(Files.exists(dataDir.resolve("journal")), "nothing started");
  }

  @Test
  void aNegativeFinishedRetentionIsAUsageErrorNamingTheFlag() {
    CommandRun run =
        CommandRun.of("serve", "--data-dir", dataDir.toString(), "--finished-retention", "-1");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(
        run.err().contains("--finished-retention must not be negative, got -1"), run.toString());
    assertFalse(Files.exists(dataDir.resolve("journal")), "nothing started");
  }
}
