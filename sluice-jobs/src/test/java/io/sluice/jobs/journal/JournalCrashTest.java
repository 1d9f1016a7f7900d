package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.idOf;
import static io.sluice.jobs.journal.JournalTesting.seqOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * Crash safety for real: a child JVM (JournalCrashChild) appends from several virtual threads and
 * prints every acknowledged (id, seq); the test SIGKILLs it (destroyForcibly) after a random number
 * of acknowledgements, round after round on the same directory (each child replays what the killed
 * ones left, cutting torn tails, and appends on), and finally replays the journal: every
 * acknowledged record must be there exactly once, each writer's records in order and without gaps
 * (a writer appends seq k+1 only after k was acknowledged, so the one record it may have had in
 * flight is the only one allowed beyond its last printed acknowledgement).
 *
 * Kills land anywhere: inside a write (torn multi-block frames, records up to 9000 bytes), between
 * write and force, during a segment roll (64 KiB segments) or during replay of the next child.
 * Without power loss the page cache survives a SIGKILL, so this proves the format and recovery
 * logic (cut, resync, reopen) rather than the device's flush.
 */
class JournalCrashTest {
  private static final int WRITERS = 16;

  @TempDir Path dir;

  static JournalOptions options(Path dir) {
    return JournalOptions.defaults(dir).withMaxRecordBytes(16 * 1024).withSegmentBytes(64 * 1024);
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void sigkillAtRandomMomentsLosesNoAcknowledgedRecord() throws Exception {
    killRounds(3, 0xC0FFEE);
  }

  @Test
  @Tag("stress-long")
  @Timeout(value = 30, unit = TimeUnit.MINUTES)
  void sigkillAtRandomMomentsLosesNoAcknowledgedRecordOverManyRounds() throws Exception {
    killRounds(60, System.nanoTime());
  }

  private void killRounds(int rounds, long seed) throws Exception {
    SplittableRandom random = new SplittableRandom(seed);
    Path journal = dir.resolve("journal");
    Map<Integer, Long> lastAck = new HashMap<>();
    for (int round = 0; round < rounds; round++) {
      int killAfter = random.nextInt(0, 1500);
      runAndKill(journal, round, killAfter, lastAck, seed);
    }
    // every acknowledged record is there once, in order, with at most one unacknowledged after it
    Map<Integer, List<Long>> replayed = new TreeMap<>();
    Recorded r = new Recorded();
    try (Journal j = Journal.open(options(journal), r)) {
      assertTrue(j.replayReport().corruptRegions().isEmpty(), j.replayReport().toString());
    }
    for (Recorded.Rec rec : r.records) {
      assertEquals(rec.type(), idOf(rec.body()));
      replayed.computeIfAbsent(idOf(rec.body()), k -> new ArrayList<>()).add(seqOf(rec.body()));
    }
    for (Map.Entry<Integer, Long> e : lastAck.entrySet()) {
      List<Long> seqs = replayed.getOrDefault(e.getKey(), List.of());
      for (int i = 0; i < seqs.size(); i++) {
        assertEquals(i, seqs.get(i), "writer " + e.getKey() + " (seed " + seed + ")");
      }
      long acked = e.getValue();
      assertTrue(
          seqs.size() == acked + 1 || seqs.size() == acked + 2,
          "writer " + e.getKey() + ": acknowledged up to " + acked + ", replayed " + seqs.size());
    }
  }

  private void runAndKill(
      Path journal, int round, int killAfter, Map<Integer, Long> lastAck, long seed)
      throws Exception {
    Path stderr = dir.resolve("child-" + round + ".err");
    Process child =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                classPath(),
                JournalCrashChild.class.getName(),
                journal.toString(),
                String.valueOf(round),
                String.valueOf(WRITERS))
            .redirectError(stderr.toFile())
            .start();
    try (BufferedReader in =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      int acks = 0;
      boolean opened = false;
      String line;
      while ((line = in.readLine()) != null) {
        if (line.equals("OPEN")) {
          opened = true;
          if (killAfter == 0) {
            break;
          }
          continue;
        }
        record(line, lastAck);
        if (++acks >= killAfter) {
          break;
        }
      }
      if (line == null) {
        fail(
            "child of round "
                + round
                + " (seed "
                + seed
                + ") ended by itself"
                + (opened ? "" : " before opening")
                + ": "
                + Files.readString(stderr));
      }
      // SIGKILL through the handle: Process.destroyForcibly would also close our end of stdout
      child.toHandle().destroyForcibly();
      child.waitFor();
      // whatever it printed before it died was acknowledged too
      while ((line = in.readLine()) != null) {
        record(line, lastAck);
      }
    } finally {
      child.destroyForcibly();
      child.waitFor(30, TimeUnit.SECONDS);
    }
  }

  private static void record(String line, Map<Integer, Long> lastAck) {
    if (line.equals("OPEN")) {
      return;
    }
    String[] parts = line.split(" ");
    if (parts.length != 2) {
      return; // a line torn by the kill
    }
    lastAck.merge(Integer.parseInt(parts[0]), Long.parseLong(parts[1]), Math::max);
  }

  private static String classPath() throws IOException {
    List<String> parts = new ArrayList<>();
    parts.add(Path.of("target", "test-classes").toAbsolutePath().toString());
    parts.add(Path.of("target", "classes").toAbsolutePath().toString());
    for (String p : List.of("jdk.module.path", "java.class.path")) {
      String v = System.getProperty(p);
      if (v != null && !v.isBlank()) {
        parts.add(v);
      }
    }
    return String.join(File.pathSeparator, parts);
  }
}
