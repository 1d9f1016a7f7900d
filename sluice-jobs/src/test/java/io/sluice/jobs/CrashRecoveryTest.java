package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a child JVM running the engine with SIGKILL at random moments, round after round on the
 * same journal, and checks after each kill what the journal kept.
 *
 * <p>After round k's kill the parent opens the store (replaying the journal) and reads R_k, the
 * jobs the journal still holds. Then:
 *
 * <ul>
 *   <li>nothing acknowledged is lost: every job acknowledged so far is in R_k or has run (it can
 *       only have left the journal by a durable completion, which follows a run);
 *   <li>nothing completed runs again: every job that round k+1 runs and that existed before it is
 *       in R_k.
 * </ul>
 *
 * Within a round, no attempt of a job runs twice and no job runs again once an attempt of it
 * succeeded. The child's handler fails one attempt in five with short retries, so retry waits and
 * dead letters are in the journal when the kill comes. A last round queues the dead letters again,
 * drains the journal and exits; every acknowledged job has then run at least once.
 */
@Timeout(600)
class CrashRecoveryTest {

  @TempDir Path dir;

  @Test
  void acknowledgedJobsSurviveSigkillAndCompletedJobsDoNotRunAgain() throws Exception {
    crashRounds(Integer.getInteger("sluice.crash.rounds", 4));
  }

  @Test
  @Tag("stress-long")
  void manyRoundsOfSigkill() throws Exception {
    crashRounds(40);
  }

  private void crashRounds(int rounds) throws Exception {
    SplittableRandom random = new SplittableRandom(Long.getLong("sluice.crash.seed", 20261127L));
    Set<JobId> acked = new HashSet<>();
    Set<JobId> everRun = new HashSet<>();
    Set<JobId> known = new HashSet<>();
    Set<JobId> held = new HashSet<>();
    for (int round = 0; round <= rounds; round++) {
      boolean last = round == rounds;
      Child child = Child.start(dir, last ? "drain" : "submit");
      if (last) {
        child.awaitExit(240);
      } else {
        child.awaitReady();
        Thread.sleep(100 + random.nextInt(600));
        child.kill();
      }
      Output output = child.output();
      checkNoJobRanTwice(round, output.lines);
      for (JobId id : output.runs) {
        if (known.contains(id) && !held.contains(id)) {
          fail("round " + round + " ran " + id + ", which the journal had recorded as completed");
        }
      }
      everRun.addAll(output.runs);
      acked.addAll(output.acks);
      known.addAll(output.acks);
      known.addAll(output.runs);
      held = heldByJournal();
      known.addAll(held);
      for (JobId id : acked) {
        if (!held.contains(id) && !everRun.contains(id)) {
          keepForDiagnosis();
          fail("round " + round + ": acknowledged job " + id + " was lost");
        }
      }
      if (last) {
        assertTrue(output.lines.contains("drained"), "the drain finished: " + output.lines);
        assertTrue(
            held.isEmpty(),
            "the drained journal still holds "
                + held.size()
                + " jobs, e.g. "
                + held.stream().limit(3).toList());
      }
    }
    assertTrue(
        acked.size() > 100,
        "the rounds acknowledged enough jobs to mean something: " + acked.size());
    assertTrue(everRun.containsAll(acked));
  }

  /**
   * Within one round (one process), attempts of a job start with increasing numbers, and none
   * starts after an attempt of the job succeeded.
   */
  private static void checkNoJobRanTwice(int round, List<String> lines) {
    java.util.Map<JobId, Integer> lastAttempt = new java.util.HashMap<>();
    Set<JobId> succeeded = new HashSet<>();
    for (String line : lines) {
      String[] words = line.split(" ");
      if (words.length == 3 && words[0].equals("run") && words[1].length() == 36) {
        JobId id = JobId.parse(words[1]);
        int attempt = Integer.parseInt(words[2]);
        if (succeeded.contains(id)) {
          fail(
              "round "
                  + round
                  + " ran "
                  + id
                  + " again (attempt "
                  + attempt
                  + ") after it succeeded");
        }
        Integer before = lastAttempt.put(id, attempt);
        if (before != null && attempt <= before) {
          fail(
              "round "
                  + round
                  + " ran attempt "
                  + attempt
                  + " of "
                  + id
                  + " after attempt "
                  + before);
        }
      } else if (words.length == 2 && words[0].equals("done") && words[1].length() == 36) {
        succeeded.add(JobId.parse(words[1]));
      }
    }
  }

  /** Copies the journal to build/crash-journal for a post-mortem (see the failure message). */
  private void keepForDiagnosis() throws IOException {
    Path copy = Path.of("target", "crash-journal");
    if (Files.exists(copy)) {
      try (Stream<Path> old = Files.walk(copy)) {
        old.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Files.createDirectories(copy);
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.copy(f, copy.resolve(f.getFileName()));
      }
    }
  }

  private Set<JobId> heldByJournal() throws IOException {
    try (LocalJobStore store =
        LocalJobStore.open(
            JobStoreOptions.defaults()
                .withDirectory(dir)
                .withCapacity(5_000)
                .withSegmentBytes(1 << 20))) {
      return store.liveIds();
    }
  }

  private record Output(List<String> lines, Set<JobId> acks, Set<JobId> runs) {}

  private static final class Child {
    private final Process process;
    private final List<String> lines = new ArrayList<>();
    private final CompletableFuture<Void> ready = new CompletableFuture<>();
    private final Thread reader;

    private Child(Process process) {
      this.process = process;
      this.reader = Thread.ofVirtual().start(this::read);
    }

    static Child start(Path dir, String mode) throws IOException {
      String classPath =
          Stream.of(System.getProperty("java.class.path"), System.getProperty("jdk.module.path"))
              .filter(p -> p != null && !p.isBlank())
              .collect(Collectors.joining(File.pathSeparator));
      String java = ProcessHandle.current().info().command().orElse("java");
      Process process =
          new ProcessBuilder(
                  java,
                  "-cp",
                  classPath,
                  "-Xmx256m",
                  CrashTestChild.class.getName(),
                  dir.toString(),
                  mode)
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      return new Child(process);
    }

    private void read() {
      try (BufferedReader in =
          new BufferedReader(new InputStreamReader(process.getInputStream(), UTF_8))) {
        String line;
        while ((line = in.readLine()) != null) {
          synchronized (lines) {
            lines.add(line);
          }
          if (line.equals("ready")) {
            ready.complete(null);
          }
        }
      } catch (IOException e) {
        ready.completeExceptionally(e);
      } finally {
        ready.complete(null);
      }
    }

    void awaitReady() throws Exception {
      ready.get(60, TimeUnit.SECONDS);
      assertTrue(process.isAlive(), "the child died before it was killed");
    }

    void kill() throws Exception {
      // SIGKILL through the handle: Process.destroyForcibly() would also close our end of the
      // child's output, and the lines still in the pipe (acks, runs) would be lost to the test.
      process.toHandle().destroyForcibly();
      process.waitFor(60, TimeUnit.SECONDS);
    }

    void awaitExit(int seconds) throws Exception {
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        fail("the drain did not finish in " + seconds + " s");
      }
      assertEquals(0, process.exitValue(), "the draining child failed");
    }

    Output output() throws InterruptedException {
      reader.join();
      Set<JobId> acks = new HashSet<>();
      Set<JobId> runs = new HashSet<>();
      synchronized (lines) {
        for (String line : lines) {
          // The kill can cut the last line short: only whole ids count.
          if (line.startsWith("ack ") && line.length() == 40) {
            acks.add(JobId.parse(line.substring(4)));
          } else if (line.startsWith("run ") && line.length() >= 42) { // "run <id> <attempt>"
            runs.add(JobId.parse(line.substring(4, 40)));
          }
        }
        return new Output(List.copyOf(lines), acks, runs);
      }
    }
  }
}
