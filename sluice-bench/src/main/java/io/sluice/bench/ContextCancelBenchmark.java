package io.sluice.bench;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cancelling 10,000 waiters at once: the time from the cancelling call until the last of {@link
 * #WAITERS} blocked virtual threads has woken up and run its next statement.
 *
 * <p>Why: a server's shutdown, or a request whose fan-out is abandoned, cancels one context that
 * thousands of goroutines are blocked on. Go does this by closing one channel; issue 2 asks for it
 * at this scale.
 *
 * <p>How: before each invocation (untimed) {@link #WAITERS} virtual threads block on one shared
 * channel or queue — the shape of a worker pool waiting for jobs — and the setup waits until every
 * one of them is parked ({@link Thread.State#WAITING}). The invocation (timed) makes the cancelling
 * call and waits on a latch that each waiter counts down once it is out of its blocking call.
 * Score: microseconds per cancellation of all {@link #WAITERS} (one operation = one cancel; divide
 * by 10,000 for the cost per waiter).
 *
 * <ul>
 *   <li>{@code cancel_sluiceReceive}: waiters in {@code ch.receive(ctx)}; {@code ctx.cancel()}.
 *   <li>{@code cancel_sluiceSelect}: waiters in {@code Select.select(ch.onReceive(..),
 *       ctx.onDone(..))}; {@code ctx.cancel()}.
 *   <li>{@code cancel_joxSelect}: Jox has no context; its idiom is a "done" channel that every
 *       waiter selects on next to its work channel, and cancelling is closing it ({@code
 *       done.done()}). This is the like-for-like peer of the select variant.
 *   <li>{@code cancel_interrupt}: the JDK's own cancellation: waiters in {@code
 *       SynchronousQueue.take()}, cancelled by interrupting each of the 10,000 threads in a loop
 *       (the loop is timed: it is what the caller must do without a context).
 * </ul>
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 20)
@Measurement(iterations = 30)
@Fork(
    value = 3,
    jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class ContextCancelBenchmark {
  /** Blocked threads per cancellation. */
  public static final int WAITERS = 10_000;

  private static final Function<Object, Object> IDENTITY = v -> v;

  /** The waiters of one invocation: started and parked before it, joined after it. */
  @State(Scope.Thread)
  public abstract static class Waiters {
    Thread[] threads;
    CountDownLatch woken;
    private final AtomicInteger wrongOutcomes = new AtomicInteger();

    /** Prepares the channel and the context (or its equivalent) that the waiters block on. */
    abstract void prepare();

    /**
     * Blocks until cancelled.
     *
     * @return whether the waiter ended the expected way (cancelled, not with a value)
     */
    abstract boolean block() throws Exception;

    /** The cancelling call: the start of what is measured. */
    abstract void fire();

    /** Starts the waiters and waits until all are parked. */
    @Setup(Level.Invocation)
    public void start() throws InterruptedException {
      prepare();
      woken = new CountDownLatch(WAITERS);
      threads = new Thread[WAITERS];
      Thread.Builder builder = Thread.ofVirtual().name("waiter-", 0);
      for (int i = 0; i < WAITERS; i++) {
        threads[i] =
            builder.start(
                () -> {
                  boolean expected = false;
                  try {
                    expected = block();
                  } catch (Exception e) {
                    expected = isCancellation(e);
                  } finally {
                    if (!expected) {
                      wrongOutcomes.incrementAndGet();
                    }
                    woken.countDown();
                  }
                });
      }
      for (Thread t : threads) {
        while (t.getState() != Thread.State.WAITING) {
          Thread.sleep(1);
        }
      }
    }

    /** The timed part: cancel, then wait for every waiter to be out of its blocking call. */
    void cancelAndAwait() throws InterruptedException {
      fire();
      woken.await();
    }

    /** Joins the waiters and fails if one of them ended the wrong way. */
    @TearDown(Level.Invocation)
    public void join() throws InterruptedException {
      for (Thread t : threads) {
        t.join();
      }
      threads = null;
      int wrong = wrongOutcomes.getAndSet(0);
      if (wrong != 0) {
        throw new AssertionError(wrong + " waiters did not end by cancellation");
      }
    }

    boolean isCancellation(Exception e) {
      return false;
    }
  }

  /** Sluice waiters in {@code ch.receive(ctx)}. */
  public static class SluiceReceive extends Waiters {
    io.sluice.core.Channel<Object> ch;
    io.sluice.core.CancelableContext ctx;

    @Override
    void prepare() {
      ch = io.sluice.core.Channel.unbuffered();
      ctx = io.sluice.core.Context.background().withCancel();
    }

    @Override
    boolean block() throws Exception {
      ch.receive(ctx);
      return false;
    }

    @Override
    boolean isCancellation(Exception e) {
      return e instanceof io.sluice.core.ContextCancelledException;
    }

    @Override
    void fire() {
      ctx.cancel();
    }
  }

  /** Sluice waiters in a select over a channel and {@code ctx.onDone}. */
  public static class SluiceSelect extends Waiters {
    private static final Object CANCELLED = new Object();
    io.sluice.core.Channel<Object> ch;
    io.sluice.core.CancelableContext ctx;

    @Override
    void prepare() {
      ch = io.sluice.core.Channel.unbuffered();
      ctx = io.sluice.core.Context.background().withCancel();
    }

    @Override
    boolean block() throws Exception {
      return io.sluice.core.Select.select(ch.onReceive(IDENTITY), ctx.onDone(() -> CANCELLED))
          == CANCELLED;
    }

    @Override
    void fire() {
      ctx.cancel();
    }
  }

  /** Jox waiters in a select over a channel and a "done" channel that cancelling closes. */
  public static class JoxSelect extends Waiters {
    com.softwaremill.jox.Channel<Object> ch;
    com.softwaremill.jox.Channel<Object> done;

    @Override
    void prepare() {
      ch = com.softwaremill.jox.Channel.newRendezvousChannel();
      done = com.softwaremill.jox.Channel.newRendezvousChannel();
    }

    @Override
    boolean block() throws Exception {
      Object r =
          com.softwaremill.jox.Select.selectOrClosed(ch.receiveClause(), done.receiveClause());
      return r instanceof com.softwaremill.jox.ChannelDone;
    }

    @Override
    void fire() {
      done.done();
    }
  }

  /** JDK waiters in {@code SynchronousQueue.take()}, cancelled by interrupts. */
  public static class Interrupt extends Waiters {
    SynchronousQueue<Object> queue;

    @Override
    void prepare() {
      queue = new SynchronousQueue<>();
    }

    @Override
    boolean block() throws Exception {
      queue.take();
      return false;
    }

    @Override
    boolean isCancellation(Exception e) {
      return e instanceof InterruptedException;
    }

    @Override
    void fire() {
      for (Thread t : threads) {
        t.interrupt();
      }
    }
  }

  /**
   * Sluice: {@code ctx.cancel()} with waiters in {@code ch.receive(ctx)}.
   *
   * @param w the parked waiters
   * @throws InterruptedException never
   */
  @Benchmark
  @OperationsPerInvocation(1)
  public void cancel_sluiceReceive(SluiceReceive w) throws InterruptedException {
    w.cancelAndAwait();
  }

  /**
   * Sluice: {@code ctx.cancel()} with waiters in a select on {@code ctx.onDone}.
   *
   * @param w the parked waiters
   * @throws InterruptedException never
   */
  @Benchmark
  @OperationsPerInvocation(1)
  public void cancel_sluiceSelect(SluiceSelect w) throws InterruptedException {
    w.cancelAndAwait();
  }

  /**
   * Jox: closing the done channel that the waiters select on.
   *
   * @param w the parked waiters
   * @throws InterruptedException never
   */
  @Benchmark
  @OperationsPerInvocation(1)
  public void cancel_joxSelect(JoxSelect w) throws InterruptedException {
    w.cancelAndAwait();
  }

  /**
   * JDK: interrupting 10,000 threads blocked in {@code SynchronousQueue.take()}.
   *
   * @param w the parked waiters
   * @throws InterruptedException never
   */
  @Benchmark
  @OperationsPerInvocation(1)
  public void cancel_interrupt(Interrupt w) throws InterruptedException {
    w.cancelAndAwait();
  }
}
