package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.idOf;
import static io.sluice.jobs.journal.JournalTesting.seqOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/*
 * Power cuts around releases, modelled: PowerLossDisk follows the segments' bytes and the
 * directory's names (creates, renames, deletes: each durable only once the directory is forced,
 * until then each one there or not, on its own), and the released files' truncations (durable once
 * the file is forced, which a released file never is). Writers append under ALWAYS while another
 * thread releases the closed segments, several at a time; the power goes at a random step (a random
 * step of any kind, or of those that change names, in half of the rounds) and the journal is
 * opened again on a crash image of what the device could hold. Then:
 *  - the segments open keeps form one run, with no gap: a released segment never comes back
 *    without the segments after it, whose records (a job's completion) may be what made it
 *    releasable (the image itself may show one, a crash having undone some of a release's renames
 *    but not others; open then releases again every segment below a released file);
 *  - every record acknowledged before the cut in a segment no release had been asked to free is
 *    replayed, each writer's records in order and without a gap, and nothing of a segment a
 *    release had freed (returned) before the cut;
 *  - no released file (<n>.seg.released) is replayed, and open deletes every one.
 * Round after round on the image the last one left, so leftovers and half-done releases meet the
 * next open. Seeded; the seed is in every failure message.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class JournalReleasePowerLossTest {
  private static final long SEED = 0x5E1E_A5EDL;
  private static final int ROUNDS = 60;
  private static final int WRITERS = 4;

  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  void aPowerCutAroundReleasesNeitherBringsBackAReleasedSegmentAloneNorLosesAnAcknowledgedRecord(
      IoMode mode) throws Exception {
    cutRounds(mode, ROUNDS, SEED);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(
      value = IoMode.class,
      names = {"DIRECT", "BUFFERED"})
  @Tag("stress-long")
  @Timeout(value = 30, unit = TimeUnit.MINUTES)
  void aPowerCutAroundReleasesOverManyRounds(IoMode mode) throws Exception {
    cutRounds(mode, 600, SEED ^ System.nanoTime());
  }

  @Test
  void aPowerCutAtAnyStepOfReleasingBigSegmentsLeavesNoGapAndNoReleasedFileReplayed()
      throws Exception {
    // given a closed journal of two segments of about 9 MiB, which a release empties in 4 MiB
    // steps, and a third, the current one
    JournalOptions options =
        JournalOptions.defaults(dir.resolve("base"))
            .withIoMode(IoMode.BUFFERED)
            .withMaxRecordBytes(64 * 1024)
            .withSegmentBytes(9L << 20)
            .withDurability(Durability.NEVER);
    try (Journal j = Journal.open(options, ReplayVisitor.IGNORE)) {
      List<CompletableFuture<Long>> appends = new ArrayList<>();
      for (int i = 0; j.currentSegment() < 3; i++) {
        appends.add(j.appendAsync(1, JournalTesting.body(1, i, 60_000)));
        if (appends.size() == 64) {
          CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get();
          appends.clear();
        }
      }
      CompletableFuture.allOf(appends.toArray(CompletableFuture[]::new)).get();
      j.append(1, JournalTesting.body(1, -1, 100)); // (one in the third segment)
    } // (close forces every segment)
    Map<Long, List<Recorded.Rec>> bySegment = new HashMap<>();
    for (Recorded.Rec rec : JournalTesting.replay(options).records) {
      bySegment.computeIfAbsent(rec.segment(), n -> new ArrayList<>()).add(rec);
    }
    assertEquals(Set.of(1L, 2L, 3L), bySegment.keySet());

    int truncationsCut = 0;
    for (int step = 1; ; step++) {
      // when the power goes at this step of releasing the first two (a step that names a file,
      // forces the directory, or truncates), or after the release if it has fewer
      Path work = dir.resolve("work-" + step);
      copy(options.directory(), work);
      PowerLossDisk disk = new PowerLossDisk(step, PowerLossDisk.Step.NAMES, () -> {});
      Journal j = Journal.open(options.withDirectory(work), ReplayVisitor.IGNORE, disk.opener());
      try {
        j.releaseSegmentsBefore(3);
      } catch (UncheckedIOException powerOff) {
        // the cut
      }
      boolean duringRelease = disk.cut();
      if (disk.cutStep() == PowerLossDisk.Step.TRUNCATE) {
        truncationsCut++;
      }
      disk.cutNow();
      j.close();

      // then every image the device may be left with replays the third segment, the second too
      // or not, and the first only with the second; a released file is not replayed and open
      // deletes it; once the release returned, neither comes back
      for (long seed = 0; seed < 6; seed++) {
        String name = "step " + step + " (" + disk.cutStep() + "), image " + seed;
        Path image = dir.resolve("image-" + step + "-" + seed);
        disk.crashImage(work, image, new SplittableRandom(seed));
        TreeSet<Long> segments = numbers(image, SegmentFormat.SUFFIX);
        TreeSet<Long> leftovers =
            numbers(image, SegmentFormat.SUFFIX + SegmentFormat.RELEASED_SUFFIX);
        Recorded seen = new Recorded();
        Journal.open(options.withDirectory(image), seen).close();
        // what open kept: a segment below a released file was released too, and is not replayed
        TreeSet<Long> kept = numbers(image, SegmentFormat.SUFFIX);
        name += ": segments " + segments + ", released files " + leftovers + ", kept " + kept;
        assertTrue(Set.of(Set.of(3L), Set.of(2L, 3L), Set.of(1L, 2L, 3L)).contains(kept), name);
        assertTrue(duringRelease || kept.equals(Set.of(3L)), name);
        List<Recorded.Rec> expected = new ArrayList<>();
        for (long n : kept) {
          expected.addAll(bySegment.get(n));
        }
        assertEquals(expected, seen.records, name);
        assertTrue(
            numbers(image, SegmentFormat.SUFFIX + SegmentFormat.RELEASED_SUFFIX).isEmpty(),
            name + ": open left released files behind");
        JournalTest.deleteTree(image);
      }
      JournalTest.deleteTree(work);
      if (!duringRelease) {
        break;
      }
    }
    assertTrue(truncationsCut >= 2, "cut while emptying a released file: " + truncationsCut);
  }

  private static void copy(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }

  /** One writer's acknowledged records: the segment of each, by sequence number. */
  private static final class Acked {
    final List<Long> segments = new ArrayList<>();
    long atCut = -1; // its last sequence number acknowledged at the cut
  }

  private void cutRounds(IoMode mode, int rounds, long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    JournalOptions base =
        JournalOptions.defaults(dir)
            .withIoMode(mode)
            .withMaxRecordBytes(9000)
            .withSegmentBytes(48 * 1024)
            .withWriteBufferBytes(8192);
    Path journal = dir.resolve("round-0");
    Map<Integer, Acked> acked = new HashMap<>(); // writer id -> what it had acknowledged
    long askedBefore = 0; // the highest release asked for before a cut: below it, may be gone
    long freedBefore = 0; // the highest release returned before a cut: below it, gone
    int roundsWithLeftovers = 0;
    int cutsInsideARelease = 0;
    for (int round = 0; round < rounds; round++) {
      String name = "seed " + seed + ", round " + round + " (" + mode + ")";
      JournalOptions options = base.withDirectory(journal);
      AtomicLongArray last = new AtomicLongArray(WRITERS);
      for (int w = 0; w < WRITERS; w++) {
        last.set(w, -1);
      }
      long[] lastAtCut = new long[WRITERS];
      long[] releasesAtCut = new long[3]; // asked, freed, releasing (1 or 0)
      long[] releases = new long[3]; // written by the releaser, read at the cut (under the disk)
      boolean everyStep = r.nextBoolean();
      PowerLossDisk disk =
          new PowerLossDisk(
              everyStep ? 1 + r.nextInt(300) : 1 + r.nextInt(16),
              everyStep ? PowerLossDisk.Step.ALL : PowerLossDisk.Step.NAMES,
              () -> {
                for (int w = 0; w < WRITERS; w++) {
                  lastAtCut[w] = last.get(w);
                }
                synchronized (releases) {
                  System.arraycopy(releases, 0, releasesAtCut, 0, 3);
                }
              });
      int firstId = round * 100;
      Journal j = Journal.open(options, ReplayVisitor.IGNORE, disk.opener());
      List<Thread> threads = new ArrayList<>();
      for (int w = 0; w < WRITERS; w++) {
        int k = w;
        int id = firstId + w;
        Acked mine = new Acked();
        acked.put(id, mine);
        long lengths = r.nextLong();
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      SplittableRandom sizes = new SplittableRandom(lengths);
                      try {
                        for (long seq = 0; ; seq++) {
                          long segment =
                              j.append(id, JournalTesting.body(id, seq, sizes.nextInt(6000)));
                          mine.segments.add(segment);
                          last.set(k, seq);
                        }
                      } catch (JournalException | InterruptedException stopped) {
                        // the power is off
                      }
                    }));
      }
      long releaseChoices = r.nextLong();
      long askedSoFar = askedBefore;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () ->
                      release(
                          j, disk, new SplittableRandom(releaseChoices), askedSoFar, releases)));
      JournalTesting.awaitCut(disk, threads.subList(0, WRITERS));
      for (Thread t : threads) {
        t.join();
      }
      j.close();
      for (int w = 0; w < WRITERS; w++) {
        acked.get(firstId + w).atCut = lastAtCut[w];
      }
      askedBefore = Math.max(askedBefore, releasesAtCut[0]);
      freedBefore = Math.max(freedBefore, releasesAtCut[1]);
      if (releasesAtCut[2] == 1) {
        cutsInsideARelease++;
      }

      Path image = dir.resolve("round-" + (round + 1));
      disk.crashImage(journal, image, r);
      JournalTest.deleteTree(journal); // (the rounds' images would fill the disk)
      journal = image;
      TreeSet<Long> segments = numbers(image, SegmentFormat.SUFFIX);
      TreeSet<Long> leftovers =
          numbers(image, SegmentFormat.SUFFIX + SegmentFormat.RELEASED_SUFFIX);
      if (!leftovers.isEmpty()) {
        roundsWithLeftovers++;
      }
      Recorded seen = new Recorded();
      Journal.open(base.withDirectory(journal), seen).close();
      // what open kept: a segment below a released file was released too, and is not replayed
      TreeSet<Long> kept = numbers(image, SegmentFormat.SUFFIX);
      name += ", segments " + segments + ", released files " + leftovers + ", kept " + kept;
      assertTrue(
          numbers(image, SegmentFormat.SUFFIX + SegmentFormat.RELEASED_SUFFIX).isEmpty(),
          name + ": open left released files behind");
      check(name, kept, leftovers, seen, acked, askedBefore, freedBefore);
    }
    assertTrue(roundsWithLeftovers > 0, "no crash image held a released file: seed " + seed);
    assertTrue(cutsInsideARelease > 0, "no cut came inside a release: seed " + seed);
  }

  /**
   * Releases the closed segments, a few at a time (so that one release renames several), until the
   * power goes; notes in {@code releases} the highest segment asked to keep, the highest returned,
   * and whether a release is running.
   */
  private static void release(
      Journal j, PowerLossDisk disk, SplittableRandom r, long asked, long[] releases) {
    int batch = 1 + r.nextInt(3);
    while (!disk.cut()) {
      long keep = j.currentSegment() - r.nextInt(2);
      if (keep - asked < batch) {
        LockSupport.parkNanos(50_000);
        continue;
      }
      synchronized (releases) {
        releases[0] = Math.max(releases[0], keep);
        releases[2] = 1;
      }
      try {
        j.releaseSegmentsBefore(keep);
        synchronized (releases) {
          releases[1] = Math.max(releases[1], keep);
        }
      } catch (UncheckedIOException | JournalClosedException stopped) {
        return; // the power is off
      } finally {
        synchronized (releases) {
          releases[2] = 0;
        }
      }
      asked = keep;
      batch = 1 + r.nextInt(3);
    }
  }

  private static TreeSet<Long> numbers(Path dir, String suffix) throws IOException {
    TreeSet<Long> found = new TreeSet<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String name = f.getFileName().toString();
        if (name.endsWith(suffix)) {
          found.add(
              SegmentFormat.parseFileName(
                  name.substring(0, name.length() - suffix.length()) + SegmentFormat.SUFFIX));
        }
      }
    }
    return found;
  }

  /**
   * Checks a replay: {@code segments} are those open kept (it releases again any below a released
   * file), {@code leftovers} the released files the crash image held.
   */
  private static void check(
      String name,
      TreeSet<Long> segments,
      TreeSet<Long> leftovers,
      Recorded seen,
      Map<Integer, Acked> acked,
      long asked,
      long freed) {
    if (!segments.isEmpty()) {
      assertEquals(
          segments.last() - segments.first() + 1,
          segments.size(),
          name + ": a gap in the segments: a released one came back without those after it");
    }
    Map<Integer, Long> next = new HashMap<>();
    Set<Long> replayedSegments = new TreeSet<>();
    for (Recorded.Rec rec : seen.records) {
      replayedSegments.add(rec.segment());
      assertFalse(
          !leftovers.isEmpty() && rec.segment() <= leftovers.last(),
          name
              + ": replayed segment "
              + rec.segment()
              + ", which the image holds as released or is below one it holds as released");
      assertTrue(
          rec.segment() >= freed,
          name
              + ": replayed segment "
              + rec.segment()
              + ", released before the cut (below "
              + freed
              + ")");
      int id = idOf(rec.body());
      long seq = seqOf(rec.body());
      assertEquals(id, rec.type(), name);
      Long expected = next.get(id);
      if (expected != null && seq != expected) {
        fail(name + ": writer " + id + " replayed " + seq + " after " + (expected - 1));
      }
      next.put(id, seq + 1);
    }
    for (Map.Entry<Integer, Acked> e : acked.entrySet()) {
      Acked a = e.getValue();
      long firstKept = -1; // the first acknowledged record in a segment no release asked to free
      for (int seq = 0; seq <= a.atCut; seq++) {
        if (a.segments.get(seq) >= asked) {
          firstKept = seq;
          break;
        }
      }
      long replayedUpTo = next.getOrDefault(e.getKey(), 0L) - 1;
      if (firstKept >= 0) {
        long firstReplayed = -1;
        for (Recorded.Rec rec : seen.records) {
          if (idOf(rec.body()) == e.getKey()) {
            firstReplayed = seqOf(rec.body());
            break;
          }
        }
        assertTrue(
            firstReplayed >= 0 && firstReplayed <= firstKept && replayedUpTo >= a.atCut,
            name
                + ": writer "
                + e.getKey()
                + " had "
                + firstKept
                + " to "
                + a.atCut
                + " acknowledged in segments no release touched, replay has "
                + firstReplayed
                + " to "
                + replayedUpTo);
      }
      assertTrue(
          replayedUpTo <= a.atCut + 1,
          name + ": writer " + e.getKey() + " replayed more than it had in flight");
    }
  }
}
