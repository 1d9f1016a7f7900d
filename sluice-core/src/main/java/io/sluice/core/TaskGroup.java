package io.sluice.core;

import java.util.Objects;
import java.util.concurrent.ThreadFactory;

/**
 * Tasks working on parts of one job, each on its own virtual thread, that stand or fall together:
 * Go's {@code golang.org/x/sync/errgroup.Group}, with the structure of Java's structured
 * concurrency (no task thread outlives the group).
 *
 * <pre>{@code
 * try (TaskGroup g = TaskGroup.open(ctx, TaskGroup.Options.defaults().withLimit(8))) {
 *   for (URI uri : uris) {
 *     g.go(c -> fetch(c, uri));     // waits while 8 fetches run; c is the group's context
 *   }
 *   g.await();                      // throws TaskFailedException with the first failure
 * }                                 // close(): cancels and joins whatever still runs
 * }</pre>
 *
 * <table class="striped">
 *   <caption>Starting a task</caption>
 *   <thead><tr><th>blocks at the limit</th><th>never blocks</th></tr></thead>
 *   <tbody><tr>
 *     <td>{@link #go(Task)}, {@link #fork(ValueTask)}</td>
 *     <td>{@link #tryGo(Task)}</td>
 *   </tr></tbody>
 * </table>
 *
 * <p><b>The context.</b> The group has its own {@link #context()}, a child of the parent it was
 * opened with, passed to every task. It is cancelled, with the failure as its {@linkplain
 * Context#cause() cause}, when a task first fails; and when {@link #await()} returns, when {@link
 * #close()} is called, or when the parent is done — whichever comes first (Go's {@code
 * WithContext}).
 *
 * <p><b>Failures.</b> Anything a task throws — checked exceptions, runtime exceptions, and {@link
 * Error}s, Java's panics — is caught on the task's thread, never reaches the thread's uncaught
 * exception handler, and never kills the process. The first one cancels the context and is what
 * {@link #await()} reports, wrapped in a {@link TaskFailedException} whose cause is the original
 * with its stack; later ones are attached to that exception as suppressed.
 *
 * <p><b>Starting tasks in a finished group.</b> Once the group's context is done — a task failed,
 * the parent was cancelled, or {@code await} returned — starting a task throws {@link
 * ContextCancelledException} with the group's cause, so a loop feeding the group stops at the first
 * failure instead of starting tasks that would only see a cancelled context. (Go's {@code Go} still
 * starts them.) After {@link #close()}, starting a task throws {@link IllegalStateException}.
 *
 * <p><b>The limit</b> ({@link Options#withLimit(int)}, Go's {@code SetLimit}) bounds the tasks
 * running at once. At the limit {@link #go} waits for a task to end, in arrival order; the wait
 * ends with {@link InterruptedException} if the thread is interrupted and with {@link
 * ContextCancelledException} when the group's context is done. A task that starts tasks in a group
 * at its limit can deadlock, as in Go.
 *
 * <p><b>No thread outlives the group.</b> {@link #await()} returns when every task has ended and
 * its thread has terminated. {@link #close()} — use try-with-resources — cancels the context,
 * interrupts the task threads still running, and waits for all of them to terminate; it does not
 * report failures, which is {@code await}'s job.
 *
 * <p>Memory consistency effects: actions before {@code go} happen-before the task runs; actions of
 * a task happen-before {@code await} or {@code close} returns.
 */
public sealed interface TaskGroup extends AutoCloseable permits TaskGroupImpl {

  /** The {@link Options#limit()} of a group without a limit, the default. */
  int UNLIMITED = Integer.MAX_VALUE;

  /**
   * Opens a group without a limit whose tasks run on virtual threads. Go's {@code
   * errgroup.WithContext(parent)}.
   *
   * @param parent the parent of the group's context
   * @return the open group
   */
  static TaskGroup open(Context parent) {
    return open(parent, Options.defaults());
  }

  /**
   * Opens a group with the given options.
   *
   * @param parent the parent of the group's context
   * @param options the limit, thread factory and name
   * @return the open group
   */
  static TaskGroup open(Context parent, Options options) {
    return new TaskGroupImpl(
        (BaseContext) Objects.requireNonNull(parent, "parent"),
        Objects.requireNonNull(options, "options"));
  }

  /**
   * The group's context, passed to every task: done on the first failure, on {@code await}'s
   * return, on {@code close}, or when the parent is done.
   *
   * @return the group's context
   */
  Context context();

  /**
   * Starts {@code task} on a new thread, first waiting while the group is at its limit. Go's {@code
   * g.Go(f)}.
   *
   * @param task the task; it receives the group's context
   * @throws InterruptedException if the thread is interrupted before or while waiting for room; the
   *     task is then not started
   * @throws ContextCancelledException if the group's context is done, before or while waiting; the
   *     task is then not started
   * @throws IllegalStateException if the group is closed
   */
  void go(Task task) throws InterruptedException;

  /**
   * Starts {@code task} only if the group is below its limit (and nobody is waiting in {@link
   * #go}). Go's {@code g.TryGo(f)}. Never blocks.
   *
   * @param task the task; it receives the group's context
   * @return whether the task was started
   * @throws ContextCancelledException if the group's context is done
   * @throws IllegalStateException if the group is closed
   */
  boolean tryGo(Task task);

  /**
   * Starts {@code task} like {@link #go(Task)} and returns a handle to its result, readable once
   * the task has succeeded — typically after {@link #await()}.
   *
   * @param task the task; it receives the group's context
   * @param <T> the result type
   * @return the handle
   * @throws InterruptedException if the thread is interrupted before or while waiting for room
   * @throws ContextCancelledException if the group's context is done
   * @throws IllegalStateException if the group is closed
   */
  <T> Subtask<T> fork(ValueTask<T> task) throws InterruptedException;

  /**
   * Waits until every task has ended and its thread has terminated, then cancels the group's
   * context. Go's {@code g.Wait()}. Tasks may start more tasks while it waits; calling it again
   * gives the same outcome.
   *
   * <p>If the waiting thread is interrupted (or is interrupted on entry), the group's context is
   * cancelled so the tasks wind down, and {@link InterruptedException} is thrown at once; {@link
   * #close()} then waits for the threads. The group's context being done does not end the wait:
   * {@code await} always waits for the tasks.
   *
   * @throws TaskFailedException if a task failed: the first failure is its cause, later ones are
   *     suppressed
   * @throws InterruptedException if the thread is interrupted
   * @throws IllegalStateException if called from one of the group's own tasks
   */
  void await() throws InterruptedException;

  /**
   * The number of tasks started and not yet ended. A snapshot for monitoring.
   *
   * @return the running tasks
   */
  int running();

  /**
   * The number of tasks started since the group opened. A snapshot for monitoring.
   *
   * @return the started tasks
   */
  long started();

  /**
   * Cancels the group's context, interrupts the tasks still running and waits for all task threads
   * to terminate; then no more tasks can start. Idempotent. Waits even if the closing thread is
   * interrupted, and sets its interrupt status again afterwards. Failures are not reported here:
   * call {@link #await()} for them.
   *
   * @throws IllegalStateException if called from one of the group's own tasks
   */
  @Override
  void close();

  /** A task without a result. */
  @FunctionalInterface
  interface Task {
    /**
     * Does the work.
     *
     * @param ctx the group's context; stop early when it is done
     * @throws Exception a failure, reported by {@link TaskGroup#await()}
     */
    void run(Context ctx) throws Exception;
  }

  /**
   * A task with a result.
   *
   * @param <T> the result type
   */
  @FunctionalInterface
  interface ValueTask<T> {
    /**
     * Computes the result.
     *
     * @param ctx the group's context; stop early when it is done
     * @return the result
     * @throws Exception a failure, reported by {@link TaskGroup#await()}
     */
    T call(Context ctx) throws Exception;
  }

  /**
   * The handle to a task started with {@link #fork(ValueTask)}.
   *
   * @param <T> the result type
   */
  sealed interface Subtask<T> permits TaskGroupImpl.SubtaskImpl {
    /** Where a subtask is. */
    enum State {
      /** Started, not yet ended. */
      RUNNING,
      /** Ended with a result. */
      SUCCEEDED,
      /** Ended by throwing. */
      FAILED
    }

    /**
     * Where the task is. Never blocks.
     *
     * @return the state
     */
    State state();

    /**
     * The task's result. Never blocks.
     *
     * @return the result
     * @throws IllegalStateException if the task has not succeeded: still running, or failed (the
     *     failure is then the cause)
     */
    T get();
  }

  /**
   * How a group runs its tasks: immutable, with documented defaults.
   *
   * @param limit the most tasks running at once, at least 1; {@link #UNLIMITED} by default
   * @param threadFactory makes the task threads; {@code null}, the default, means virtual threads
   *     named after {@code name}
   * @param name names the group's threads (with the default factory) and its {@code toString}
   */
  record Options(int limit, ThreadFactory threadFactory, String name) {

    /**
     * Checks the components.
     *
     * @throws IllegalArgumentException if {@code limit} is below 1
     */
    public Options {
      if (limit < 1) {
        throw new IllegalArgumentException("limit must be at least 1 (or UNLIMITED), was " + limit);
      }
      Objects.requireNonNull(name, "name");
    }

    /**
     * No limit, virtual threads, named {@code "sluice-task"}.
     *
     * @return the defaults
     */
    public static Options defaults() {
      return new Options(UNLIMITED, null, "sluice-task");
    }

    /**
     * These options with another limit. Go's {@code SetLimit}.
     *
     * @param limit the most tasks running at once, at least 1, or {@link #UNLIMITED}
     * @return the new options
     */
    public Options withLimit(int limit) {
      return new Options(limit, threadFactory, name);
    }

    /**
     * These options with another thread factory: platform threads, or a counting factory in tests.
     *
     * @param threadFactory makes one thread per task
     * @return the new options
     */
    public Options withThreadFactory(ThreadFactory threadFactory) {
      return new Options(limit, Objects.requireNonNull(threadFactory, "threadFactory"), name);
    }

    /**
     * These options with another name.
     *
     * @param name the group's name
     * @return the new options
     */
    public Options withName(String name) {
      return new Options(limit, threadFactory, name);
    }
  }
}
