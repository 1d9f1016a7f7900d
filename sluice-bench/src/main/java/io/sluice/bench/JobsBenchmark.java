package io.sluice.bench;

import io.sluice.core.Channel;
import io.sluice.jobs.Admission;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * No-op jobs through a queue and a pool of workers, in memory: Sluice's {@link JobEngine} over
 * {@link JobStore#inMemory}, the seed's {@code chan chan Job} dispatcher translated line by line to
 * Sluice channels and virtual threads, and a JDK {@link ThreadPoolExecutor} with a bounded queue.
 *
 * <p>Each invocation submits {@link #N} jobs in batches of {@link #BATCH} from the JMH thread and
 * waits until every job has run. Score: ns per job (1e9 / score = jobs per second). Issue 4's
 * target: at least 2 million no-op jobs per second through the engine.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 10, time = 2)
@Fork(
    value = 2,
    jvmArgsAppend = {"-Xms2g", "-Xmx2g"})
public class JobsBenchmark {
  /** Jobs per invocation. */
  public static final int N = 200_000;

  /** Jobs per submitted batch. */
  public static final int BATCH = 1_000;

  private static final byte[] PAYLOAD = new byte[16];

  /** The worker count, the same for every contender. */
  @State(Scope.Benchmark)
  public static class Workers {
    /** Worker threads. */
    @Param({"4"})
    public int workers;
  }

  /** Counts jobs run in the current invocation. */
  @State(Scope.Benchmark)
  public static class Done {
    volatile CountDownLatch latch;

    /** A fresh latch per invocation. */
    @Setup(Level.Invocation)
    public void arm() {
      latch = new CountDownLatch(N);
    }

    void await() throws InterruptedException {
      if (!latch.await(5, TimeUnit.MINUTES)) {
        throw new IllegalStateException("jobs lost: " + latch.getCount() + " never ran");
      }
    }
  }

  /** A running Sluice engine. */
  @State(Scope.Benchmark)
  public static class Engine {
    JobEngine engine;
    List<JobSpec> batch;

    /** Starts the engine. */
    @Setup(Level.Trial)
    public void start(Workers w, Done done) {
      engine =
          JobEngine.builder(JobStore.inMemory(4 * N))
              .workers(w.workers)
              .handle("noop", (job, ctx) -> done.latch.countDown())
              .start();
      batch = new ArrayList<>(BATCH);
      JobSpec spec = JobSpec.of("noop", PAYLOAD);
      for (int i = 0; i < BATCH; i++) {
        batch.add(spec);
      }
    }

    /** Stops it. */
    @TearDown(Level.Trial)
    public void stop() {
      engine.close();
    }
  }

  /** Sluice's engine: batches of {@link #BATCH} submitted, N jobs run. */
  @Benchmark
  @OperationsPerInvocation(N)
  public void sluiceEngine(Engine e, Done done) throws InterruptedException {
    for (int i = 0; i < N; i += BATCH) {
      if (!(e.engine.submit(e.batch, Duration.ofMinutes(1)) instanceof Admission.Accepted)) {
        throw new IllegalStateException("rejected");
      }
    }
    done.await();
  }

  /** The seed's two-tier dispatcher, translated with Sluice channels. */
  @State(Scope.Benchmark)
  public static class SeedDispatcher {
    Channel<Runnable> jobQueue;
    Channel<Channel<Runnable>> workerPool;
    List<Thread> threads = new ArrayList<>();

    /** Starts MaxWorker workers and the dispatcher, as the seed's {@code Dispatcher.Run}. */
    @Setup(Level.Trial)
    public void start(Workers w) {
      jobQueue = Channel.buffered(BATCH);
      workerPool = Channel.buffered(w.workers);
      for (int i = 0; i < w.workers; i++) {
        Channel<Runnable> jobChannel = Channel.unbuffered();
        threads.add(
            Thread.ofVirtual()
                .start(
                    () -> {
                      try {
                        while (true) {
                          workerPool.send(jobChannel); // register this worker
                          jobChannel.receive().run();
                        }
                      } catch (InterruptedException | RuntimeException stop) {
                        // quit
                      }
                    }));
      }
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (Runnable job : jobQueue) {
                        // a goroutine per job, blocking until a worker is idle
                        Thread.ofVirtual()
                            .start(
                                () -> {
                                  try {
                                    workerPool.receive().send(job);
                                  } catch (InterruptedException | RuntimeException stop) {
                                    // quit
                                  }
                                });
                      }
                    } catch (RuntimeException stop) {
                      // quit
                    }
                  }));
    }

    /** Stops the goroutines. */
    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
      jobQueue.close();
      workerPool.close();
      threads.forEach(Thread::interrupt);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  /** The seed's dispatcher: the handler's {@code JobQueue <- work} per job. */
  @Benchmark
  @OperationsPerInvocation(N)
  public void seedDispatcher(SeedDispatcher d, Done done) throws InterruptedException {
    CountDownLatch latch = done.latch;
    Runnable work = latch::countDown;
    for (int i = 0; i < N; i++) {
      d.jobQueue.send(work);
    }
    done.await();
  }

  /** A JDK pool with a bounded queue whose submitter runs jobs itself when the queue is full. */
  @State(Scope.Benchmark)
  public static class Executor {
    ThreadPoolExecutor pool;

    /** Starts the pool. */
    @Setup(Level.Trial)
    public void start(Workers w) {
      pool =
          new ThreadPoolExecutor(
              w.workers,
              w.workers,
              1,
              TimeUnit.MINUTES,
              new ArrayBlockingQueue<>(4 * N),
              new ThreadPoolExecutor.CallerRunsPolicy());
    }

    /** Stops it. */
    @TearDown(Level.Trial)
    public void stop() throws InterruptedException {
      pool.shutdown();
      pool.awaitTermination(1, TimeUnit.MINUTES);
    }
  }

  /** {@link ThreadPoolExecutor}: one {@code execute} per job. */
  @Benchmark
  @OperationsPerInvocation(N)
  public void jdkThreadPool(Executor e, Done done) throws InterruptedException {
    CountDownLatch latch = done.latch;
    Runnable work = latch::countDown;
    for (int i = 0; i < N; i++) {
      e.pool.execute(work);
    }
    done.await();
  }
}
