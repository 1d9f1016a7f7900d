package io.sluice.bench;

import com.sun.management.OperatingSystemMXBean;
import io.sluice.jobs.Admission;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobStore;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * No-op jobs through the in-memory engine, as {@link JobsBenchmark#sluiceEngine} runs them (batches
 * of {@value JobsBenchmark#BATCH}, {@value JobsBenchmark#N} jobs per round, 4 workers), in one long
 * JVM: wall and process CPU nanoseconds per job, averaged over blocks of 10 rounds. For profiling
 * (add {@code -XX:StartFlightRecording}) and for quick before/after comparisons of two builds, run
 * alternately; the figures of record come from {@link JobsBenchmark}.
 *
 * <p>Run: {@code java -Xms2g -Xmx2g -cp sluice-bench/target/benchmarks.jar
 * io.sluice.bench.JobsThroughput [rounds, default 80]}.
 */
public final class JobsThroughput {
  private static volatile CountDownLatch done;

  private JobsThroughput() {}

  /**
   * Runs the rounds and prints a line per block of 10.
   *
   * @param args the number of rounds (optional)
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 80;
    int n = JobsBenchmark.N;
    List<JobSpec> batch =
        Collections.nCopies(JobsBenchmark.BATCH, JobSpec.of("noop", new byte[16]));
    OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    try (JobEngine engine =
        JobEngine.builder(JobStore.inMemory(4 * n))
            .workers(4)
            .handle("noop", (job, ctx) -> done.countDown())
            .start()) {
      long wall = 0;
      long cpu = 0;
      for (int round = 1; round <= rounds; round++) {
        done = new CountDownLatch(n);
        long t0 = System.nanoTime();
        long c0 = os.getProcessCpuTime();
        for (int i = 0; i < n; i += batch.size()) {
          if (!(engine.submit(batch, Duration.ofMinutes(1)) instanceof Admission.Accepted)) {
            throw new IllegalStateException("a batch was rejected");
          }
        }
        if (!done.await(5, TimeUnit.MINUTES)) {
          throw new IllegalStateException(done.getCount() + " jobs never ran");
        }
        wall += System.nanoTime() - t0;
        cpu += os.getProcessCpuTime() - c0;
        if (round % 10 == 0) {
          System.out.printf(
              "rounds %d-%d: wall %.0f ns/job, cpu %.0f ns/job%n",
              round - 9, round, wall / (10.0 * n), cpu / (10.0 * n));
          wall = 0;
          cpu = 0;
        }
      }
    }
  }
}
