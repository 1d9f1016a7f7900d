package io.sluice.examples;

import io.sluice.jobs.Admission;
import io.sluice.jobs.EngineListener;
import io.sluice.jobs.HandlerOptions;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobId;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobState;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.jobs.PermanentJobFailure;
import io.sluice.jobs.RetryPolicy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Stream;

/**
 * The seed's "1 million requests a minute" queue, as the service runs it: {@code sluice-jobs}'
 * durable engine. The {@link WorkerPool} example builds the queue and its workers from channels;
 * this one adds what the seed's version lost on every crash or deploy, and what it only logged:
 *
 * <ul>
 *   <li>a job is acknowledged only once its record is durable in the journal, so jobs accepted by a
 *       process that stops before running them are run by the next one ({@link #deploy});
 *   <li>a batch is accepted whole or refused whole, at once, with a reason ({@link #admit});
 *   <li>a failing job is retried with backoff and then kept as a dead letter, which can be
 *       inspected, retried once the cause is fixed, or deleted ({@link #deadLetters}).
 * </ul>
 */
public final class DurableJobQueue {
  private DurableJobQueue() {}

  /** The job type of this example: "send" one message, named by the payload. */
  static final String SEND = "send";

  private static JobStoreOptions options(Path dir) {
    return JobStoreOptions.defaults().withDirectory(dir).withCapacity(1_000);
  }

  private static List<JobSpec> messages(String prefix, int n) {
    List<JobSpec> specs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      specs.add(JobSpec.of(SEND, (prefix + i).getBytes(StandardCharsets.UTF_8)));
    }
    return specs;
  }

  private static String text(Job job) {
    return new String(job.payloadBytes(), StandardCharsets.UTF_8);
  }

  /**
   * A deploy in the middle of a backlog: the first process accepts {@code n} jobs and stops before
   * running any of them (it has no engine yet, as a process killed right after answering does); the
   * next process opens the same journal and runs every one of them.
   *
   * @param dir the journal's directory
   * @param n how many jobs the first process accepts
   * @return the payloads the second process ran
   */
  static Set<String> deploy(Path dir, int n) throws IOException, InterruptedException {
    try (JobStore first = JobStore.open(options(dir))) {
      if (!(first.submit(messages("m", n), Duration.ZERO) instanceof Admission.Accepted)) {
        throw new IllegalStateException("an empty queue refused " + n + " jobs");
      }
    } // stopped: nothing ran

    Set<String> ran = ConcurrentHashMap.newKeySet();
    CountDownLatch succeeded = new CountDownLatch(n);
    try (JobEngine next =
        JobEngine.builder(JobStore.open(options(dir)))
            .workers(4)
            .handle(SEND, (job, ctx) -> ran.add(text(job)))
            .listener(counting(succeeded, null))
            .start()) {
      succeeded.await(); // every job recorded as succeeded; no polling
      if (next.stats().jobs().succeeded() < n) {
        throw new IllegalStateException("the listener heard of a success the stats do not show");
      }
    }
    return ran;
  }

  /**
   * Admission answers at once: with the queue's room taken by jobs that wait for a slow handler, a
   * batch that does not fit is refused whole ({@code QUEUE_FULL}, try again later), and one larger
   * than the queue can ever hold is refused as {@code TOO_LARGE} (submit less at once).
   *
   * @param dir the journal's directory
   * @return the answers to: 1 job into a queue with room for 1 more, 2 jobs into the then full
   *     queue, 5 jobs into a queue of 3
   */
  static List<Admission> admit(Path dir) throws IOException, InterruptedException {
    List<Admission> answers = new ArrayList<>();
    CountDownLatch release = new CountDownLatch(1);
    try (JobEngine engine =
        JobEngine.builder(JobStore.open(options(dir).withCapacity(3)))
            .workers(1)
            .handle(SEND, (job, ctx) -> release.await())
            .start()) {
      if (!(engine.submit(messages("slow", 2)) instanceof Admission.Accepted)) {
        throw new IllegalStateException("an empty queue refused 2 jobs");
      }
      answers.add(engine.submit(messages("fits", 1)));
      answers.add(engine.submit(messages("full", 2)));
      answers.add(engine.submit(messages("huge", 5)));
      release.countDown();
    }
    return answers;
  }

  /**
   * What {@link #deadLetters} saw.
   *
   * @param listed the dead letters before anything was done with them
   * @param bobAfterRetry the state of bob's message once its retry ended
   * @param nobodyDeleted whether nobody's dead letter was deleted
   * @param left how many dead letters were left at the end
   */
  record DeadLetters(List<Job> listed, JobState bobAfterRetry, boolean nobodyDeleted, int left) {}

  /**
   * Failures, retried and then kept: "send" fails for a message while its recipient is "down",
   * three attempts with backoff, then the job is a dead letter with its last error. Once the
   * recipient is back, the dead letter is retried and succeeds; a message that can never be sent
   * fails permanently at its first attempt and is deleted.
   *
   * @param dir the journal's directory
   * @return the dead letters as listed before anything was done with them, and what the retry and
   *     the delete did
   */
  static DeadLetters deadLetters(Path dir) throws IOException, InterruptedException {
    Set<String> down = ConcurrentHashMap.newKeySet();
    down.add("bob");
    CountDownLatch sent = new CountDownLatch(2);
    CountDownLatch died = new CountDownLatch(2);
    try (JobEngine engine =
        JobEngine.builder(JobStore.open(options(dir)))
            .workers(2)
            .handle(
                SEND,
                (job, ctx) -> {
                  String to = text(job);
                  if (to.equals("nobody")) {
                    throw new PermanentJobFailure("no such recipient: " + to);
                  }
                  if (down.contains(to)) {
                    throw new IOException(to + "'s server did not answer");
                  }
                },
                HandlerOptions.defaults()
                    .withRetry(
                        RetryPolicy.defaults()
                            .withMaxAttempts(3)
                            .withDelays(Duration.ofMillis(10), Duration.ofMillis(40))))
            .listener(counting(sent, died))
            .start()) {
      List<JobSpec> batch =
          Stream.of("alice", "bob", "nobody")
              .map(to -> JobSpec.of(SEND, to.getBytes(StandardCharsets.UTF_8)))
              .toList();
      if (!(engine.submit(batch) instanceof Admission.Accepted accepted)) {
        throw new IllegalStateException("an empty queue refused 3 jobs");
      }
      died.await(); // bob after three attempts, nobody after one
      List<Job> dead = engine.deadLetters(Optional.empty(), 10);

      down.remove("bob"); // the cause is fixed: retry bob's message
      JobId bob = accepted.ids().get(1);
      engine.retryDead(bob);
      sent.await(); // alice's message, and now bob's
      JobState bobAfterRetry = engine.find(bob).map(Job::state).orElseThrow();
      // nobody's message can never be sent
      boolean deleted = engine.deleteDead(accepted.ids().get(2));
      return new DeadLetters(
          dead, bobAfterRetry, deleted, engine.deadLetters(Optional.empty(), 10).size());
    }
  }

  /**
   * A listener that counts down {@code succeeded} for each attempt that succeeded and {@code died}
   * (if any) for each job that became a dead letter. The engine calls it after the store has
   * recorded the outcome, so the example waits on latches instead of polling the engine's stats.
   */
  private static EngineListener counting(CountDownLatch succeeded, CountDownLatch died) {
    return new EngineListener() {
      @Override
      public void attemptFinished(Job job, Outcome outcome, Duration elapsed) {
        if (outcome == Outcome.SUCCEEDED) {
          succeeded.countDown();
        }
      }

      @Override
      public void died(Job job, String error) {
        if (died != null) {
          died.countDown();
        }
      }
    };
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Runs the three parts, each on a journal in a temporary directory of its own.
   *
   * @param args ignored
   * @throws IOException if a journal cannot be written
   * @throws InterruptedException if interrupted while waiting for the jobs
   */
  public static void main(String[] args) throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("sluice-durable-jobs");
    try {
      Set<String> ran = deploy(dir.resolve("deploy"), 100);
      System.out.println(
          "deploy: the second process ran all " + ran.size() + " jobs the first one accepted");

      List<String> names = List.of("1 job with room for it", "2 jobs, queue full", "5 into 3");
      List<Admission> answers = admit(dir.resolve("admit"));
      for (int i = 0; i < answers.size(); i++) {
        String answer =
            switch (answers.get(i)) {
              case Admission.Accepted a -> "accepted " + a.ids().size();
              case Admission.Rejected r -> "refused, " + r.reason() + ": " + r.message();
            };
        System.out.println("admit " + names.get(i) + ": " + answer);
      }

      DeadLetters letters = deadLetters(dir.resolve("dead"));
      for (Job job : letters.listed()) {
        System.out.println(
            "dead letter "
                + text(job)
                + " after "
                + job.attempts()
                + " attempt(s): "
                + job.lastError().orElse("?"));
      }
      System.out.println(
          "bob's message retried: "
              + letters.bobAfterRetry()
              + "; nobody's deleted: "
              + letters.nobodyDeleted()
              + "; dead letters left: "
              + letters.left());
    } finally {
      deleteTree(dir);
    }
  }
}
