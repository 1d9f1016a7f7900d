package io.sluice.pipeline;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ThreadFactory;

/**
 * A pipeline running on a thread of its own into a channel that the caller reads: the seed's {@code
 * producer} that returns a {@code <-chan}, made so that reading on the caller's thread cannot
 * deadlock. Made by {@link Pipeline#open}; the run owns the channel and closes it (Go's rule:
 * whoever creates a channel closes it).
 *
 * <pre>{@code
 * try (Outlet<String> out = pipeline.open(ctx, 16)) {
 *   for (String s : out.channel()) {     // ends when the run ends; throws if it did not complete
 *     use(s);
 *   }
 *   Result<Long> r = out.result();        // the run's report
 * }                                       // leaving early stops the run; no thread outlives this
 * }</pre>
 *
 * <p>The channel is closed as {@link Pipeline#toChannel} closes it: normally after the last item
 * when the run completed, and otherwise with the reason — the {@link PipelineException} of a
 * failure, or the cause of the context after a stop — which a reader sees as the {@link
 * io.sluice.core.ChannelClosedException#error()} of the exception its receive throws once it has
 * taken every item.
 *
 * <p>Memory consistency effects: everything the run's threads did happens-before {@link #result()}
 * and {@link #close()} return.
 *
 * @param <T> the item type
 */
public final class Outlet<T> implements AutoCloseable {
  /*
   * The run is an ordinary toChannel run (Run.execute with Terminals.ToChannel) on one more thread,
   * made by the options' thread factory. `runCtx` is a child of the caller's context that close()
   * cancels to stop a run the reader left. The outcome is stored once, before the thread ends;
   * result() and close() join the thread, so after them no thread of the run is alive.
   */
  private final Channel<T> channel;
  private final CancelableContext runCtx;
  private final StopMode stopMode;
  private final Thread thread;
  private volatile Result<Long> result;
  private volatile Throwable failure;
  private volatile boolean closed;

  Outlet(Pipeline<T> pipeline, Context ctx, int capacity) {
    this.channel = Channel.buffered(capacity);
    this.runCtx = ctx.withCancel();
    this.stopMode = pipeline.options().stopMode();
    ThreadFactory factory = pipeline.options().threadFactory();
    Runnable body = () -> run(pipeline);
    this.thread =
        factory != null
            ? factory.newThread(body)
            : Thread.ofVirtual().name("sluice-pipeline-outlet").unstarted(body);
    if (thread == null) {
      runCtx.cancel();
      throw new IllegalStateException("the thread factory made no thread");
    }
    thread.start();
  }

  private void run(Pipeline<T> pipeline) {
    try {
      result = pipeline.toChannel(runCtx, channel);
    } catch (Throwable t) {
      failure = t;
      channel.close(t); // a no-op: toChannel closes it, unless it threw before the run began
    } finally {
      runCtx.cancel();
    }
  }

  /**
   * The channel the run sends its items to, closed when the run ends (see the class comment). Only
   * the run sends to it and closes it.
   *
   * @return the channel
   */
  public ReceiveChannel<T> channel() {
    return channel;
  }

  /**
   * Waits for the threads of the run to end and returns its result: the number of items sent to the
   * channel, and the report. Only once the stream has ended — the channel is closed, which a reader
   * learns by reaching its end — or after {@link #close()}: before, the run may be waiting for room
   * in the channel, and waiting for it on the reader's thread would be the deadlock this type
   * exists to prevent, so it is refused. The wait after the channel is closed is short: the run is
   * only ending its threads.
   *
   * @return the number of items sent, and the report
   * @throws IllegalStateException if the channel is still open and the outlet not closed
   * @throws PipelineException if a stage failed under the fail-fast policy
   * @throws InterruptedException if the calling thread is interrupted while waiting; the run goes
   *     on
   */
  public Result<Long> result() throws InterruptedException {
    if (!closed && !channel.isClosed()) {
      throw new IllegalStateException(
          "the stream has not ended: read the channel to its end, or close the outlet, first");
    }
    thread.join();
    return outcome();
  }

  /**
   * Stops the run if it has not ended, and waits for every thread it started to end. A run stopped
   * here ends as if its context were cancelled with a {@link CancellationException} (see {@link
   * StopMode}; {@link #result()} then reports the stop); under {@link StopMode#GRACEFUL} the
   * channel is also closed, so that the drain does not wait for a reader that has left — the
   * drained items are dropped. Idempotent. Waits even if the calling thread is interrupted, and
   * sets its interrupt status again afterwards. Failures are not reported here: call {@link
   * #result()}.
   */
  @Override
  public void close() {
    closed = true;
    if (thread.isAlive()) {
      runCtx.cancel(new CancellationException("the outlet was closed before the stream ended"));
      if (stopMode == StopMode.GRACEFUL) {
        channel.close();
      }
    }
    boolean interrupted = false;
    while (true) {
      try {
        thread.join();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private Result<Long> outcome() {
    Throwable t = failure;
    if (t == null) {
      return result;
    }
    if (t instanceof PipelineException e) {
      throw e;
    }
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    // Only an interrupt of the run's own thread, which nothing in the library does.
    CancellationException ce = new CancellationException("the run's thread was interrupted");
    ce.initCause(t);
    throw ce;
  }

  @Override
  public String toString() {
    return "Outlet[" + (thread.isAlive() ? "running" : "ended") + ", " + channel + "]";
  }
}
