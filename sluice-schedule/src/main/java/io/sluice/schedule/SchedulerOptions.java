package io.sluice.schedule;

import io.sluice.core.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.function.BiConsumer;

/**
 * How a {@link Scheduler} is built: its clock, the threads its task bodies run on, where failures
 * go, and how long {@link Scheduler#close()} waits. Immutable; start from {@link #defaults()}:
 *
 * <pre>{@code
 * ManualClock clock = Clock.manual(Instant.parse("2026-03-29T00:00:00Z"));
 * Scheduler scheduler = Scheduler.create(SchedulerOptions.defaults().withClock(clock));
 * }</pre>
 *
 * @param clock the time source and timer engine (default {@link Clock#system()}); tests pass a
 *     {@link io.sluice.core.ManualClock}
 * @param threadFactory makes the thread each run (or each batch of catch-up runs) executes on
 *     (default: virtual threads named {@code sluice-schedule-N}); it must return an unstarted
 *     thread, and it may be called on the timer engine's thread, so it must not block
 * @param errorHandler receives every exception a task body throws, with the schedule's handle, on
 *     the body's thread; also a failure to start a thread, on the engine's thread (default {@link
 *     #UNCAUGHT}: the body thread's uncaught exception handler)
 * @param closeGracePeriod how long {@link Scheduler#close()} waits for running bodies before it
 *     interrupts them, and again after that (default ten seconds); not negative
 */
public record SchedulerOptions(
    Clock clock,
    ThreadFactory threadFactory,
    BiConsumer<ScheduleHandle, Throwable> errorHandler,
    Duration closeGracePeriod) {

  /**
   * The default error handler: passes the exception to the current thread's {@linkplain
   * Thread#getUncaughtExceptionHandler() uncaught exception handler}, which by default prints its
   * stack trace to {@code System.err}. The schedule goes on either way.
   */
  public static final BiConsumer<ScheduleHandle, Throwable> UNCAUGHT =
      (handle, failure) -> {
        Thread t = Thread.currentThread();
        t.getUncaughtExceptionHandler().uncaughtException(t, failure);
      };

  /**
   * Validates.
   *
   * @param clock the clock
   * @param threadFactory the thread factory
   * @param errorHandler the error handler
   * @param closeGracePeriod the close grace period; not negative
   * @throws IllegalArgumentException if {@code closeGracePeriod} is negative
   */
  public SchedulerOptions {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(threadFactory, "threadFactory");
    Objects.requireNonNull(errorHandler, "errorHandler");
    Objects.requireNonNull(closeGracePeriod, "closeGracePeriod");
    if (closeGracePeriod.isNegative()) {
      throw new IllegalArgumentException(
          "closeGracePeriod must not be negative, was " + closeGracePeriod);
    }
  }

  /**
   * The defaults: the system clock, virtual threads named {@code sluice-schedule-N}, {@link
   * #UNCAUGHT}, a ten-second close grace period.
   *
   * @return new default options (each has its own thread-name counter)
   */
  public static SchedulerOptions defaults() {
    return new SchedulerOptions(
        Clock.system(),
        Thread.ofVirtual().name("sluice-schedule-", 0).factory(),
        UNCAUGHT,
        Duration.ofSeconds(10));
  }

  /**
   * A copy with another clock.
   *
   * @param clock the clock
   * @return the new options
   */
  public SchedulerOptions withClock(Clock clock) {
    return new SchedulerOptions(clock, threadFactory, errorHandler, closeGracePeriod);
  }

  /**
   * A copy with another thread factory.
   *
   * @param factory makes an unstarted thread per run; must not block
   * @return the new options
   */
  public SchedulerOptions withThreadFactory(ThreadFactory factory) {
    return new SchedulerOptions(clock, factory, errorHandler, closeGracePeriod);
  }

  /**
   * A copy with another error handler.
   *
   * @param handler receives the handle and the exception of every failed run
   * @return the new options
   */
  public SchedulerOptions withErrorHandler(BiConsumer<ScheduleHandle, Throwable> handler) {
    return new SchedulerOptions(clock, threadFactory, handler, closeGracePeriod);
  }

  /**
   * A copy with another close grace period.
   *
   * @param grace how long close waits before and after interrupting running bodies
   * @return the new options
   * @throws IllegalArgumentException if {@code grace} is negative
   */
  public SchedulerOptions withCloseGracePeriod(Duration grace) {
    return new SchedulerOptions(clock, threadFactory, errorHandler, grace);
  }
}
