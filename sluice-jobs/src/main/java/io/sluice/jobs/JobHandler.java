package io.sluice.jobs;

import io.sluice.core.Context;

/**
 * Runs jobs of one type. Registered with {@link JobEngine.Builder#handle}.
 *
 * <p>An attempt succeeds when {@link #handle} returns and fails when it throws anything (an {@link
 * Error} included: it fails that attempt only and the worker goes on). The attempt also fails when
 * it overruns its timeout: {@code ctx} is then cancelled and the worker thread interrupted, so a
 * handler that blocks in interruptible calls or watches {@code ctx} stops promptly.
 *
 * <p>Do not swallow the interrupt or wait where it cannot reach (a busy loop that never looks at
 * {@code ctx}, socket I/O without a timeout, a wait to enter a {@code synchronized} block). A
 * handler still running {@link JobEngine.Builder#interruptGrace} after its timeout is declared
 * <em>stuck</em>: the engine logs a warning with its stack, counts it, and starts another worker in
 * its place, but cannot stop it; its job stays running, and is recorded as timed out only if the
 * handler returns. At shutdown such a handler is abandoned and its job runs again after the next
 * start.
 *
 * <p>A failed attempt is retried as the type's {@link RetryPolicy} says, unless the handler throws
 * {@link PermanentJobFailure}: then the job is a dead letter at once.
 *
 * <p>Jobs run at least once: after a crash, an attempt that was running is run again. Make the
 * effect idempotent, for example by writing to a key derived from {@link Job#id()}.
 */
@FunctionalInterface
public interface JobHandler {
  /**
   * Runs one attempt of {@code job}.
   *
   * @param job the job, with its attempt number in {@link Job#attempts()}
   * @param ctx done when the attempt times out or the engine shuts down
   * @throws Exception to fail the attempt; the message becomes the job's last error
   */
  void handle(Job job, Context ctx) throws Exception;
}
