package io.sluice.core;

/**
 * Runs an action exactly once, however many threads ask at the same time: Go's {@code sync.Once}.
 *
 * <pre>{@code
 * private final Once loaded = Once.create();
 *
 * Config config() throws InterruptedException {
 *   loaded.run(() -> config = Config.read(path));   // the first caller reads; the others wait
 *   return config;
 * }
 * }</pre>
 *
 * <p>The first call runs the action on its own thread; calls that arrive while it runs wait for it
 * to end; calls after it ended return at once, at the cost of one volatile read. As in Go, only the
 * first action ever runs: later calls ignore the action they pass.
 *
 * <p>Failure: with {@link #create()} (Go's policy) an action that throws still counts as done, and
 * that call and every later one throw {@link OnceFailedException} with the original as cause (Go's
 * {@code Do} returns silently after a panic; Sluice, like Go's {@code OnceFunc}, makes every caller
 * learn of it). With {@link #retrying()} a failure is reported to the calls that ran or waited for
 * that attempt, and the next call runs the action again.
 *
 * <p>Calling {@code run} on the same {@code Once} from inside its action would deadlock in Go; here
 * it throws {@link IllegalStateException}. A cycle through another thread (the action waits for a
 * thread that calls {@code run}) is not detected and deadlocks, as in Go.
 *
 * <p>Waiting ends early for a caller that is interrupted ({@link InterruptedException}) or whose
 * context is done ({@link ContextCancelledException}); the action goes on for the others. The call
 * that runs the action does not wait: it runs the action whatever its interrupt status, which the
 * action may observe. Once the action has ended, no call waits, so neither interruption nor a
 * context changes the outcome.
 *
 * <p>Memory consistency effects: the end of the action happens-before every call returns or throws
 * {@link OnceFailedException} on its account (Go: "the return from f synchronizes before the return
 * from any call of once.Do(f)").
 */
public sealed interface Once permits OnceImpl {

  /**
   * A once with Go's policy: an action that throws counts as done, and every call from then on
   * throws {@link OnceFailedException}.
   *
   * @return a new once whose action has not run
   */
  static Once create() {
    return new OnceImpl(new OnceCell(false));
  }

  /**
   * A once that is done only when the action succeeds: after a failure, the next call runs the
   * action again. For initialisation that may fail transiently, such as a connection.
   *
   * @return a new retrying once whose action has not run
   */
  static Once retrying() {
    return new OnceImpl(new OnceCell(true));
  }

  /**
   * Runs {@code action} if no action of this once has run yet (or, retrying, succeeded); otherwise
   * waits for the running one to end, or returns at once if it has. Go's {@code Do}.
   *
   * @param action what to run the first time
   * @throws InterruptedException if the thread is interrupted while waiting for another caller's
   *     action; that action goes on
   * @throws OnceFailedException if the action failed (see the class comment for which calls learn
   *     of it)
   * @throws IllegalStateException if called from inside this once's own action
   */
  void run(Action action) throws InterruptedException;

  /**
   * Like {@link #run(Action)}, giving up the wait when {@code ctx} is done. A context that is done
   * before the action started also keeps this call from starting it.
   *
   * @param ctx ends the wait when done
   * @param action what to run the first time
   * @throws InterruptedException if the thread is interrupted while waiting
   * @throws ContextCancelledException if {@code ctx} is done before the action ended; the action
   *     goes on for the others
   * @throws OnceFailedException if the action failed
   * @throws IllegalStateException if called from inside this once's own action
   */
  void run(Context ctx, Action action) throws InterruptedException;

  /**
   * Whether the action has ended for good: succeeded, or (Go's policy) failed. Never blocks.
   *
   * @return {@code true} once no call will run an action again
   */
  boolean isDone();

  /** The action of a {@link Once}; it may throw anything, which the once then reports. */
  @FunctionalInterface
  interface Action {
    /**
     * Does the one-time work.
     *
     * @throws Exception reported by {@link OnceFailedException}
     */
    void run() throws Exception;
  }
}
