package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The process {@link CrashRecoveryTest} kills. Opens a durable store in {@code args[0]}, runs an
 * engine over it and reports on stdout, one line each: {@code ready}, {@code ack <id>} once a
 * submit is acknowledged, {@code run <id> <attempt>} when an attempt starts, {@code done <id>} when
 * an attempt is about to succeed. In {@code submit} mode it submits from several threads until
 * killed, and one attempt in five fails, retried after a few milliseconds, up to three attempts: so
 * retry waits and dead letters are journaled too when the kill comes. In {@code drain} mode it
 * submits nothing and fails nothing, queues the dead letters again, runs what it recovered and
 * exits with {@code drained}.
 */
public final class CrashTestChild {
  private CrashTestChild() {}

  /**
   * Runs the child.
   *
   * @param args the store directory, then {@code submit} or {@code drain}
   * @throws Exception on any failure (the parent sees the exit code and stderr)
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    boolean drain = args[1].equals("drain");
    PrintStream out =
        new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, UTF_8);
    JobStore store =
        JobStore.open(
            JobStoreOptions.defaults()
                .withDirectory(dir)
                .withCapacity(5_000)
                .withSegmentBytes(1 << 20));
    HandlerOptions threeQuickAttempts =
        HandlerOptions.defaults()
            .withRetry(
                RetryPolicy.defaults()
                    .withMaxAttempts(3)
                    .withDelays(Duration.ofMillis(1), Duration.ofMillis(5)));
    JobEngine engine =
        JobEngine.builder(store)
            .workers(8)
            .handle(
                "crash",
                (job, ctx) -> {
                  print(out, "run " + job.id() + " " + job.attempts());
                  ThreadLocalRandom random = ThreadLocalRandom.current();
                  if (random.nextInt(4) == 0) {
                    Thread.sleep(1);
                  }
                  if (!drain && random.nextInt(5) == 0) {
                    throw new Exception("failed at random");
                  }
                  print(out, "done " + job.id());
                },
                threeQuickAttempts)
            .start();
    print(out, "ready");
    if (drain) {
      // (a job recovered with its last attempt started dies without running: queued again too)
      while (requeueDeadLetters(engine) || engine.stats().jobs().pending() > 0) {
        Thread.sleep(5);
      }
      engine.close();
      out.println("drained");
      out.flush();
      return;
    }
    List<Thread> submitters = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      long seed = t;
      submitters.add(Thread.ofVirtual().start(() -> submitForever(engine, out, seed)));
    }
    for (Thread t : submitters) {
      t.join();
    }
  }

  /** Queues every dead letter again, waiting for room; true if there was one. */
  private static boolean requeueDeadLetters(JobEngine engine) throws InterruptedException {
    List<Job> dead = engine.deadLetters(Optional.empty(), 1_000);
    for (Job job : dead) {
      while (engine.retryDead(job.id()) instanceof Admission.Rejected rejected) {
        if (rejected.reason() != Admission.Reason.QUEUE_FULL) {
          throw new IllegalStateException("dead letter " + job.id() + ": " + rejected.message());
        }
        Thread.sleep(5); // the workers make room
      }
    }
    return !dead.isEmpty();
  }

  private static void print(PrintStream out, String line) {
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  private static void submitForever(JobEngine engine, PrintStream out, long seed) {
    SplittableRandom random = new SplittableRandom(seed ^ System.nanoTime());
    byte[] payload = new byte[256];
    try {
      while (true) {
        int n = 1 + random.nextInt(8);
        List<JobSpec> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          random.nextBytes(payload);
          batch.add(JobSpec.of("crash", payload));
        }
        if (engine.submit(batch, Duration.ofSeconds(1)) instanceof Admission.Accepted accepted) {
          synchronized (out) {
            for (JobId id : accepted.ids()) {
              out.println("ack " + id);
            }
            out.flush();
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
