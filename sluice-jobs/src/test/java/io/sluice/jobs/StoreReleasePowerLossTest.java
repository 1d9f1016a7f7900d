package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.journal.PowerLossDisk;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * Power cuts while compaction releases journal segments, modelled by PowerLossDisk (the segments'
 * bytes, and the directory's names: each create, rename and delete durable only once the directory
 * is forced, and until then there or not, each on its own). One thread submits jobs of 30 to 120 KB
 * (a 1 MiB segment holds about a dozen), claims them and reports most successes at once, but holds
 * a third of them running for up to 40 more submits: so one release frees several segments, some of
 * whose jobs were finished by records in the newer ones. The power goes at a random step (of any
 * kind, or of those that change names, in half of the rounds), and the store is opened again on a
 * crash image. Then:
 *  - every acknowledged job is there, unless its success was reported (then it may be);
 *  - no job whose success the journal had made durable is there to run again (a success is known
 *    durable once a submit that came after it was acknowledged: one thread's records are written
 *    in order, each commit forced before the next);
 *  - open deleted every released file the cut left behind.
 * Round after round on the image the last one left. Seeded (the threads' timing is not, so a
 * failure may need a few runs to show again); the seed is in every failure message.
 */
@Timeout(180)
class StoreReleasePowerLossTest {
  private static final long SEED = 0x57_0E_5EEDL;
  private static final String RELEASED = ".seg.released";

  @TempDir Path tmp;

  @Test
  void aPowerCutWhileCompactionReleasesSegmentsLosesNoJobAndRunsNoCompletedJobAgain()
      throws Exception {
    cutRounds(60, SEED);
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void aPowerCutWhileCompactionReleasesSegmentsOverManyRounds() throws Exception {
    cutRounds(300, SEED ^ System.nanoTime());
  }

  private static JobStoreOptions options(Path directory) {
    return JobStoreOptions.defaults()
        .withDirectory(directory)
        .withCapacity(100_000)
        .withSegmentBytes(1 << 20)
        .withDirectIo(false);
  }

  private void cutRounds(int rounds, long seed) throws Exception {
    SplittableRandom r = new SplittableRandom(seed);
    Set<JobId> acked = new HashSet<>();
    Set<JobId> reported = new HashSet<>(); // every job whose success was reported
    Set<JobId> durablyDone = new HashSet<>(); // those a later acknowledged submit showed durable
    int roundsWithLeftovers = 0;
    Path journal = tmp.resolve("round-0");
    for (int round = 0; round < rounds; round++) {
      String name = "seed " + seed + ", round " + round;
      boolean everyStep = r.nextBoolean();
      PowerLossDisk disk =
          new PowerLossDisk(
              everyStep ? 1 + r.nextInt(600) : 1 + r.nextInt(40),
              everyStep ? PowerLossDisk.Step.ALL : PowerLossDisk.Step.NAMES,
              () -> {});
      LocalJobStore store = open(journal, disk);
      List<JobId> unconfirmed = new ArrayList<>(); // successes reported since the last ack
      // jobs held running, each until the iteration it reports its success at
      TreeMap<Integer, List<JobId>> held = new TreeMap<>();
      try {
        for (int i = 0; i < 1_000 && store != null && !disk.cut(); i++) {
          byte[] payload = new byte[30_000 + r.nextInt(90_000)];
          r.nextBytes(payload);
          if (store.submit(List.of(JobSpec.of("t", payload)), Duration.ZERO)
              instanceof Admission.Accepted a) {
            acked.addAll(a.ids());
            durablyDone.addAll(unconfirmed); // written before the submit, forced with it or before
            unconfirmed.clear();
          }
          Optional<Job> claimed = store.claim(type -> true);
          if (claimed.isPresent()) {
            if (r.nextInt(3) == 0) {
              held.computeIfAbsent(i + 1 + r.nextInt(40), k -> new ArrayList<>())
                  .add(claimed.get().id());
            } else {
              store.succeeded(claimed.get().id());
              reported.add(claimed.get().id());
              unconfirmed.add(claimed.get().id());
            }
          }
          for (List<JobId> due : held.headMap(i, true).values()) {
            for (JobId id : due) {
              store.succeeded(id);
              reported.add(id);
              unconfirmed.add(id);
            }
          }
          held.headMap(i, true).clear();
        }
      } catch (JobStoreException powerOff) {
        // the journal failed: the power is off
      }
      disk.cutNow(); // (if the rounds' steps ran out first)
      try {
        if (store != null) {
          store.close();
        }
      } catch (RuntimeException afterTheCut) {
        // the journal failed
      }

      Path image = tmp.resolve("round-" + (round + 1));
      disk.crashImage(journal, image, r);
      deleteTree(journal);
      journal = image;
      List<Path> leftovers = released(image);
      if (!leftovers.isEmpty()) {
        roundsWithLeftovers++;
      }
      name += " (cut at a " + disk.cutStep() + "), image " + listing(image);
      try (LocalJobStore again = LocalJobStore.open(options(image))) {
        Set<JobId> live = again.liveIds();
        for (JobId id : acked) {
          assertTrue(
              live.contains(id) || reported.contains(id),
              name + ": acknowledged job " + id + " was lost");
        }
        for (JobId id : durablyDone) {
          assertTrue(
              !live.contains(id),
              name + ": job " + id + ", whose success was durable, is back to run again");
        }
        for (Path f : leftovers) {
          assertFalse(Files.exists(f), name + ": open left " + f.getFileName() + " behind");
        }
        again.checkInvariants();
      }
    }
    assertTrue(roundsWithLeftovers > 0, "no crash image held a released file: seed " + seed);
    assertTrue(acked.size() > 300, "acknowledged " + acked.size() + ": seed " + seed);
  }

  /**
   * The store on {@code disk}, or null when the power went while it opened: open writes too (it
   * deletes the released files a cut left behind, and renames what an earlier cut half released).
   */
  private static LocalJobStore open(Path journal, PowerLossDisk disk) throws IOException {
    try {
      return JournalLog.openStore(options(journal), disk.opener());
    } catch (IOException | RuntimeException e) {
      if (!disk.cut()) {
        throw e;
      }
      return null;
    }
  }

  /** The released files in {@code dir}. */
  private static List<Path> released(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(f -> f.getFileName().toString().endsWith(RELEASED)).toList();
    }
  }

  private static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .map(f -> f.getFileName().toString())
          .filter(n -> n.contains(".seg"))
          .map(n -> n.replaceFirst("^0+(?=\\d)", ""))
          .sorted()
          .toList();
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
