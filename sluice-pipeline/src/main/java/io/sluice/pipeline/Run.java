package io.sluice.pipeline;

import io.sluice.core.CancelableContext;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.Select;
import io.sluice.core.TaskGroup;
import io.sluice.core.Timer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/*
 * One execution of a pipeline description, from a terminal call to its return.
 *
 * Threads: every thread the run starts (stage threads, one per item of a parallel stage, the
 * watcher) is a task of one TaskGroup, created by the options' ThreadFactory. close() cancels the
 * group and joins every one of them, so no thread outlives the terminal call, whatever the outcome.
 * Stage tasks never throw: Stage.guard catches everything and reports failures here, so the group
 * itself never cancels on a task failure.
 *
 * Contexts:
 *   parent (the caller's) ──withoutCancel──► work ──► group ctx `ctx` (every stage) ──► sourceCtx
 * The run does not inherit the parent's cancellation directly, because a graceful stop must let
 * the stages go on draining after the parent is done. A watcher task waits for the parent: under
 * GRACEFUL it cancels only sourceCtx (sources stop, the rest drains) and, if the options give the
 * drain a time limit, waits that long on the parent's clock and then cancels `work` (the stop
 * becomes immediate); under IMMEDIATE it cancels `work`, which stops everything. A fail-fast
 * failure cancels `work` with the PipelineException. `ctx` is what Pipeline.context() returns in a
 * stage's function: bound as a ScopedValue on every stage thread (Stage.guard) and around the
 * terminal on the caller's thread.
 *
 * Outcome: FAILED if a failure was recorded; else the stop the watcher recorded, if any (or, under
 * GRACEFUL, a parent found done when the run finishes); else COMPLETED. finish() decides it under
 * outcomeLock, which the watcher and fail() also hold while they record a stop or a failure: once
 * `finished` is set (by the terminal toChannel as it closes its channel, or by close() before the
 * run cancels its own contexts) neither the watcher nor a thread interrupted by that shutdown can
 * change the outcome, so what toChannel told its reader is what the Result reports.
 *
 * Invariants: at most one first failure; the outcome is decided once, after every thread ended.
 */
final class Run {
  final Pipeline.Options options;
  private final Context parent;
  private final CancelableContext work;
  final TaskGroup group;
  final Context ctx;
  final CancelableContext sourceCtx;
  private final List<Meter> meters = new CopyOnWriteArrayList<>();
  // Concurrent: a fan-out's sink threads compile their branches' stages at the same time.
  private final Map<String, Integer> names = new ConcurrentHashMap<>();
  private final AtomicReference<PipelineException> failure = new AtomicReference<>();
  private final ReentrantLock errorSinkLock = new ReentrantLock();
  private final ReentrantLock outcomeLock = new ReentrantLock(); // stopped, finished, failure
  private final long startNanos = System.nanoTime();
  private final Thread caller = Thread.currentThread(); // runs the terminal
  private volatile Outcome stopped;
  private volatile boolean finished;
  private volatile Report finalReport;

  private Run(Context parent, Pipeline.Options options) {
    this.options = options;
    this.parent = parent;
    this.work = parent.withoutCancel().withCancel();
    TaskGroup.Options g = TaskGroup.Options.defaults().withName("sluice-pipeline");
    if (options.threadFactory() != null) {
      g = g.withThreadFactory(options.threadFactory());
    }
    this.group = TaskGroup.open(work, g);
    this.ctx = group.context();
    this.sourceCtx = ctx.withCancel();
  }

  /** What a terminal does with the last edge, on the caller's thread. */
  interface Terminal<R> {
    void consume(Stage stage, Edge in) throws Exception;

    /**
     * Called instead of {@link #consume} when the run ended before the terminal could start: the
     * caller was interrupted ({@code interrupted}, else null) or a stage could not start. A
     * terminal that owes someone an end (toChannel's channel) gives it here.
     */
    default void notConsumed(Run run, InterruptedException interrupted) {}

    R value();
  }

  static <R> Result<R> execute(
      Context parent, Pipeline.Options options, Node last, String name, Terminal<R> terminal)
      throws InterruptedException {
    Run run = new Run(parent, options);
    if (options.monitor() != null) {
      options.monitor().attach(run::liveReport);
    }
    boolean consuming = false;
    InterruptedException interrupted = null;
    try {
      run.group.go(run::watch);
      Edge in = run.compile(last);
      Stage stage = run.stage(name, null, List.of(in));
      consuming = true;
      try {
        ScopedValue.where(Pipeline.CONTEXT, run.ctx)
            .call(
                () -> {
                  terminal.consume(stage, in);
                  return null;
                });
      } finally {
        in.close();
      }
    } catch (InterruptedException e) {
      if (!consuming) {
        terminal.notConsumed(run, e);
      }
      interrupted = e; // thrown after close() below: the caller's interrupt ends the run at once
    } catch (Throwable t) {
      run.absorb("pipeline", t);
      if (!consuming) {
        terminal.notConsumed(run, null);
      }
    } finally {
      run.close();
      Sources.closeNotStarted(last); // a stream whose source never ran is closed all the same
    }
    if (interrupted != null) {
      run.endInterrupted();
      throw interrupted;
    }
    return run.result(terminal.value());
  }

  private void watch(Context groupCtx) {
    boolean parentDone;
    try {
      parentDone =
          Select.select(parent.onDone(() -> Boolean.TRUE), groupCtx.onDone(() -> Boolean.FALSE));
    } catch (Throwable t) { // never let a task of the group fail: it would cancel the run silently
      absorb("pipeline", t);
      return;
    }
    if (!parentDone) {
      return;
    }
    Duration limit;
    outcomeLock.lock();
    try {
      if (finished) {
        return;
      }
      Throwable cause = parentCause();
      if (options.stopMode() == StopMode.GRACEFUL) {
        stopped = Outcome.STOPPED_GRACEFULLY;
        sourceCtx.cancel(cause);
        limit = options.gracefulStopTimeout();
      } else {
        stopped = Outcome.STOPPED_IMMEDIATELY;
        work.cancel(cause);
        return;
      }
    } finally {
      outcomeLock.unlock();
    }
    if (limit != null) {
      escalateAfter(limit, groupCtx);
    }
  }

  /**
   * Under a graceful stop with a time limit: waits for the drain to end (the group's context done
   * at close) or the limit to pass on the parent's clock, and in the second case turns the stop
   * into an immediate one, reported as {@link Outcome#STOPPED_IMMEDIATELY}.
   */
  private void escalateAfter(Duration limit, Context groupCtx) {
    Timer timer = parent.clock().newTimer(limit);
    try {
      boolean expired =
          Select.select(
              groupCtx.onDone(() -> Boolean.FALSE), timer.channel().onReceive(t -> Boolean.TRUE));
      if (!expired) {
        return;
      }
    } catch (Throwable t) {
      absorb("pipeline", t);
      return;
    } finally {
      timer.stop();
    }
    outcomeLock.lock();
    try {
      if (!finished && failure.get() == null) {
        stopped = Outcome.STOPPED_IMMEDIATELY;
        work.cancel(parentCause());
      }
    } finally {
      outcomeLock.unlock();
    }
  }

  private Throwable parentCause() {
    return parent.cause().orElseGet(() -> new CancellationException("cancelled"));
  }

  Edge compile(Node node) throws InterruptedException {
    if (node.kind instanceof Sources.EdgeSource s) {
      return s.edge();
    }
    List<Edge> ins = new ArrayList<>(node.inputs.size());
    for (Node input : node.inputs) {
      ins.add(compile(input));
    }
    Stage stage = stage(node.name != null ? node.name : node.kind.kind(), node.policy, ins);
    return node.kind.start(stage, ins);
  }

  Stage stage(String base, ErrorPolicy policy, List<Edge> inputs) {
    int n = names.merge(base, 1, Integer::sum);
    String name = n == 1 ? base : base + "#" + n;
    Meter meter = new Meter(name, inputs);
    meters.add(meter);
    return new Stage(this, name, policy != null ? policy : options.errorPolicy(), meter);
  }

  Edge newEdge() {
    return newEdge(options.bufferSize());
  }

  /**
   * An edge of {@code items} rounded up to whole chunks, counted in a long: a size near {@link
   * Integer#MAX_VALUE} rounded up in an int overflowed to an edge of one chunk. (A channel's buffer
   * grows as it fills, so a huge capacity costs nothing until used.)
   */
  Edge newEdge(int items) {
    int chunk = options.chunkSize();
    return new Edge((int) Math.max(1, ((long) items + chunk - 1) / chunk));
  }

  /**
   * Records a failure of a stage: the first cancels the run, later ones are suppressed. Ignored
   * once the terminal has finished: close() then interrupts what still runs, and whatever that
   * makes a thread throw (a closed task group, an I/O call turning the interrupt into its own
   * exception) is a consequence of the shutdown, not a failure of the run.
   */
  void fail(String stage, Object item, Throwable error) {
    PipelineException e = new PipelineException(stage, item, error);
    outcomeLock.lock();
    try {
      if (finished) {
        return;
      }
      if (failure.compareAndSet(null, e)) {
        work.cancel(e);
      } else if (!(isStopSignal(error) && isEnding())) {
        failure.get().addSuppressed(error);
      }
    } finally {
      outcomeLock.unlock();
    }
  }

  /**
   * What a stage thread threw out of its body: the quiet ends (a recorded failure, downstream gone,
   * the run stopping) are dropped; anything else is a failure of the stage.
   */
  void absorb(String stage, Throwable t) {
    if (t instanceof Stop || t instanceof ChannelClosedException) {
      return;
    }
    if (isStopSignal(t) && isEnding()) {
      return;
    }
    if (t instanceof InterruptedException) {
      // Only close() interrupts stage threads, and only once the run is ending: this interrupt came
      // from elsewhere, most often from a function that caught one and set the status again.
      t =
          new IllegalStateException(
              "a thread of stage '"
                  + stage
                  + "' was interrupted while the run was not stopping. Usual cause: a function"
                  + " that leaves the thread's interrupt status set (catching"
                  + " InterruptedException and calling Thread.currentThread().interrupt());"
                  + " let the InterruptedException propagate instead, or clear the status."
                  + " Otherwise, code outside the pipeline interrupted one of its threads:"
                  + " stop a run by cancelling its Context.",
              t);
    }
    fail(stage, null, t);
  }

  /**
   * Whether the run is ending by its own decision: stopping gracefully (the sources' context), or
   * stopping at once, failed or closed (the work context, the root of every stage's context). A
   * stage that saw its context cancelled must find this true: a parent context is marked done
   * before its children, so checking only the sources' context raced an immediate stop.
   */
  private boolean isEnding() {
    return isStopping() || work.isDone();
  }

  static boolean isStopSignal(Throwable t) {
    return t instanceof InterruptedException || t instanceof CancellationException;
  }

  /**
   * Whether the terminal is done ({@link #finish}): what a stage's function throws from now on is a
   * consequence of the shutdown, not a failure of the run.
   */
  boolean isFinished() {
    return finished;
  }

  /**
   * Whether {@code t} is the thread that called the terminal, which runs the terminal's user code:
   * an interrupt of that thread is the caller's, for the terminal to throw, not an item's failure.
   */
  boolean isCaller(Thread t) {
    return t == caller;
  }

  /** Whether sources should stop: the run is stopping, gracefully or not. */
  boolean isStopping() {
    return sourceCtx.isDone();
  }

  /**
   * Hands a failure to an error or dead-letter sink, one call at a time per run. A sink that fails
   * fails the run; but one that ends with the run's stop (a cancellation or an interrupt once the
   * run's context is done: it waited with {@link Pipeline#context()}) fails nothing, as a stage's
   * function that does so fails no item.
   */
  void report(String stage, Sink<? super Failure> sink, Failure f) {
    errorSinkLock.lock();
    try {
      writeOne(sink, f);
    } catch (Throwable t) {
      if (!(isStopSignal(t) && ctx.isDone())) {
        fail(stage + " (error sink)", f.item(), t);
      }
      throw Stop.INSTANCE;
    } finally {
      errorSinkLock.unlock();
    }
  }

  /**
   * Decides how the run ended, once and for all, and says why it ended early if it did: the failure
   * ({@link Outcome#FAILED}), the parent's cause (a stop, graceful or immediate), or null ({@link
   * Outcome#COMPLETED}). The terminal calls it when it has consumed its last item (toChannel, to
   * close its channel with the same verdict the Result will report); close() calls it too. After
   * it, neither the watcher nor a late failure can change the outcome.
   */
  Throwable finish() {
    outcomeLock.lock();
    try {
      if (!finished) {
        if (stopped == null && options.stopMode() == StopMode.GRACEFUL && parent.isDone()) {
          // The parent was done before the run ended, but the watcher had not run yet: a graceful
          // stop whose drain was already complete. Same outcome whichever thread got there first.
          stopped = Outcome.STOPPED_GRACEFULLY;
        }
        finished = true;
      }
      PipelineException e = failure.get();
      return e != null ? e : stopped != null ? parentCause() : null;
    } finally {
      outcomeLock.unlock();
    }
  }

  private static <X> void writeOne(Sink<X> sink, X item) throws Exception {
    sink.write(List.of(item));
  }

  private void close() {
    finish();
    work.cancel();
    group.close();
  }

  private Report liveReport() {
    Report f = finalReport;
    return f != null ? f : report(Outcome.RUNNING);
  }

  private Report report(Outcome outcome) {
    List<StageStats> stats = new ArrayList<>(meters.size());
    for (Meter m : meters) {
      stats.add(m.stats(outcome == Outcome.RUNNING));
    }
    return new Report(outcome, stats, Duration.ofNanos(System.nanoTime() - startNanos));
  }

  /**
   * The end of a run whose caller was interrupted: it stopped at once (or had failed before), and
   * its final report is what a monitor keeps, as after any other end.
   */
  private void endInterrupted() {
    finalReport = report(failure.get() != null ? Outcome.FAILED : Outcome.STOPPED_IMMEDIATELY);
  }

  private <R> Result<R> result(R value) {
    PipelineException e = failure.get();
    Outcome outcome = e != null ? Outcome.FAILED : stopped != null ? stopped : Outcome.COMPLETED;
    Report r = report(outcome);
    finalReport = r;
    if (e != null) {
      e.report(r);
      throw e;
    }
    return new Result<>(value, r);
  }
}
