package io.sluice.bench;

import io.sluice.core.Clock;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * Sluice's internal timer-engine call, {@code Clock.schedule(deadlineNanos, action)} and its
 * handle's {@code cancel()}, reached through method handles: package-private in {@code
 * io.sluice.core}, so not callable from here, but worth measuring next to the public {@code
 * Clock.afterFunc} to show what the engine costs and what the {@code Timer} object around it adds.
 *
 * <p>The handles are constants, so the JIT inlines through them and the cost is that of a direct
 * call. This works while {@code sluice-core} is on the class path (the unnamed module); if the
 * method is renamed, the {@code *_sluiceEngine} benchmarks fail with {@link #MISSING}'s message and
 * the others run.
 */
final class SluiceTimers {
  private SluiceTimers() {}

  private static final Clock CLOCK = Clock.system();

  /** {@code (Clock, long, Runnable) -> Object}, or {@code null} when unavailable. */
  private static final MethodHandle SCHEDULE;

  /** {@code (Object) -> boolean}, or {@code null} when unavailable. */
  private static final MethodHandle CANCEL;

  /** Why the engine cannot be reached, or {@code null} when it can. */
  static final String MISSING;

  static {
    MethodHandle schedule = null;
    MethodHandle cancel = null;
    String missing = null;
    try {
      MethodHandles.Lookup lookup =
          MethodHandles.privateLookupIn(Clock.class, MethodHandles.lookup());
      Class<?> handle = Class.forName("io.sluice.core.Clock$TimerHandle");
      schedule =
          lookup
              .findVirtual(
                  Clock.class,
                  "schedule",
                  MethodType.methodType(handle, long.class, Runnable.class))
              .asType(MethodType.methodType(Object.class, Clock.class, long.class, Runnable.class));
      cancel =
          lookup
              .findVirtual(handle, "cancel", MethodType.methodType(boolean.class))
              .asType(MethodType.methodType(boolean.class, Object.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      missing =
          "cannot reach io.sluice.core.Clock.schedule(long, Runnable) and TimerHandle.cancel() ("
              + e
              + "); update SluiceTimers to the engine's internal API";
    }
    SCHEDULE = schedule;
    CANCEL = cancel;
    MISSING = missing;
  }

  /** Throws with {@link #MISSING} if the engine cannot be reached. */
  static void requireAvailable() {
    if (MISSING != null) {
      throw new UnsupportedOperationException(MISSING);
    }
  }

  /** {@code Clock.system().schedule(System.nanoTime() + delayNanos, action)}. */
  static Object schedule(long delayNanos, Runnable action) {
    try {
      return (Object) SCHEDULE.invokeExact(CLOCK, System.nanoTime() + delayNanos, action);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** {@code handle.cancel()}. */
  static boolean cancel(Object handle) {
    try {
      return (boolean) CANCEL.invokeExact(handle);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
