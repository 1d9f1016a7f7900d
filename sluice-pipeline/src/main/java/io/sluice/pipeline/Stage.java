package io.sluice.pipeline;

import io.sluice.core.Context;
import java.util.List;

/*
 * A stage at run time: its name, meter and error policy, the helper that starts its threads
 * (guard: nothing escapes, edges are closed on every path) and the one place where user functions
 * are called under the error policy (apply).
 */
final class Stage {
  /** What apply returns for an item that is dropped (filtered out, skipped, dead-lettered). */
  static final Object SKIP = new Object();

  final Run run;
  final String name;
  final ErrorPolicy policy;
  final Meter meter;
  final Context ctx;

  Stage(Run run, String name, ErrorPolicy policy, Meter meter) {
    this.run = run;
    this.name = name;
    this.policy = policy;
    this.meter = meter;
    this.ctx = run.ctx;
  }

  /** A stage thread's work. */
  interface Body {
    void run() throws Exception;
  }

  /**
   * Starts {@code body} on a thread of the run, with {@link Pipeline#context()} bound to the run's
   * context; when it ends, however it ends, closes {@code out} (if not null: end of stream for the
   * next stage) and {@code inputs} (downstream gone, for the previous ones).
   */
  void start(Body body, Edge out, List<Edge> inputs) throws InterruptedException {
    run.group.go(c -> guard(body, out, inputs));
  }

  void guard(Body body, Edge out, List<Edge> inputs) {
    try {
      ScopedValue.where(Pipeline.CONTEXT, ctx)
          .call(
              () -> {
                body.run();
                return null;
              });
    } catch (Throwable t) {
      run.absorb(name, t);
    } finally {
      if (out != null) {
        out.close();
      }
      for (Edge e : inputs) {
        e.close();
      }
    }
  }

  /**
   * Calls {@code call} with {@code item} under the stage's error policy. Small so that it inlines;
   * hot loops that want their own type profile call the function themselves and {@link #recover} on
   * failure.
   *
   * @return the result, or {@link #SKIP} if the item failed and was skipped or dead-lettered
   * @throws Stop if the item failed under fail-fast (recorded) or the run is stopping
   * @throws InterruptedException if interrupted while backing off (the run is stopping), or if the
   *     terminal's own code on the caller's thread was
   */
  Object apply(Object item, Pipeline.Fn<Object, Object> call) throws InterruptedException {
    Object r;
    try {
      r = call.apply(item);
    } catch (Throwable t) {
      return recover(item, t, call);
    }
    return r != null ? r : recover(item, nullResult(), call);
  }

  NullPointerException nullResult() {
    return new NullPointerException("stage '" + name + "' produced null");
  }

  /**
   * Handles the failure of the first call of {@code call} with {@code item}: under fail-fast
   * records it and throws {@link Stop}; under skip reports it and returns {@link #SKIP}; under
   * retry calls again after the backoff while the failure is retryable, and returns the first
   * success or, after the last attempt or a failure that is not retryable, dead-letters the item
   * and returns {@link #SKIP} — but an Error that is not retryable fails the run as fail-fast does.
   * An InterruptedException on the caller's thread (a terminal's action or sink) is no failure of
   * the item but the caller's interrupt: it is thrown on, for the terminal to throw.
   */
  Object recover(Object item, Throwable first, Pipeline.Fn<Object, Object> call)
      throws InterruptedException {
    return recover(item, 1, first, call);
  }

  /**
   * {@link #recover(Object, Throwable, Pipeline.Fn)} for an {@code item} that stands for {@code
   * items} of the stream (a sink's batch): each of them counts as failed.
   */
  Object recover(Object item, long items, Throwable first, Pipeline.Fn<Object, Object> call)
      throws InterruptedException {
    Throwable error = first;
    int attempt = 1;
    while (true) {
      if (error instanceof InterruptedException e && run.isCaller(Thread.currentThread())) {
        throw e; // the caller was interrupted in its own action or sink: the terminal throws it
      }
      if (run.isFinished() || Run.isStopSignal(error) && ctx.isDone()) {
        // The terminal is done: what fails now fails because the run's close interrupted it (or
        // after the last item the run needed), which no policy counts, reports or retries.
        throw Stop.INSTANCE;
      }
      switch (policy) {
        case ErrorPolicy.FailFast f -> {
          run.fail(name, item, error); // first: a reader who sees the count sees the failure
          meter.failed.add(items);
          throw Stop.INSTANCE;
        }
        case ErrorPolicy.Skip s -> {
          meter.failed.add(items);
          run.report(name, s.errors(), new Failure(name, item, error, attempt));
          return SKIP;
        }
        case ErrorPolicy.Retry r -> {
          boolean retryable = r.retries(error);
          if (!retryable && error instanceof Error) { // a broken program: fail fast, do not hide it
            run.fail(name, item, error);
            meter.failed.add(items);
            throw Stop.INSTANCE;
          }
          if (!retryable || attempt >= r.maxAttempts()) {
            meter.failed.add(items);
            run.report(name, r.deadLetters(), new Failure(name, item, error, attempt));
            return SKIP;
          }
          ctx.clock().sleep(ctx, r.delay(attempt));
          attempt++;
          try {
            Object result = call.apply(item);
            if (result != null) {
              return result;
            }
            error = nullResult();
          } catch (Throwable t) {
            error = t;
          }
        }
      }
    }
  }
}
