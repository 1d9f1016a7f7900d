package io.sluice.bench;

import io.sluice.core.Clock;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.lang.reflect.Method;
import java.time.Duration;

/**
 * Sluice's user-facing timer call, {@code Clock.system().afterFunc(d, fn)} and the returned timer's
 * {@code stop()}, reached through method handles.
 *
 * <p>Why not plain calls: the timer engine is being written on another branch while these
 * benchmarks are; binding at run time keeps this module compiling against a core that does not have
 * it yet, and makes the Sluice side of the timer benchmarks fail with {@link #MISSING}'s message
 * instead. The handles are constants, so once bound the JIT inlines through them and the cost is
 * that of a direct call. Replace with direct calls once the engine is on main.
 */
final class SluiceTimers {
  private SluiceTimers() {}

  private static final Clock CLOCK = Clock.system();

  /** {@code (Clock, Duration, Runnable) -> Object}, or {@code null} when the API is missing. */
  private static final MethodHandle AFTER_FUNC;

  /** {@code (Object) -> boolean}, or {@code null} when the API is missing. */
  private static final MethodHandle STOP;

  /** Why the Sluice timer benchmarks cannot run, or {@code null} when they can. */
  static final String MISSING;

  static {
    MethodHandle afterFunc = null;
    MethodHandle stop = null;
    String missing = null;
    try {
      Method m = Clock.class.getMethod("afterFunc", Duration.class, Runnable.class);
      Method s = m.getReturnType().getMethod("stop");
      MethodHandles.Lookup lookup = MethodHandles.publicLookup();
      afterFunc =
          lookup
              .unreflect(m)
              .asType(
                  MethodType.methodType(Object.class, Clock.class, Duration.class, Runnable.class));
      stop = lookup.unreflect(s).asType(MethodType.methodType(boolean.class, Object.class));
    } catch (ReflectiveOperationException e) {
      missing =
          "Sluice's timer engine is not in this build: io.sluice.core.Clock has no public"
              + " afterFunc(Duration, Runnable) returning a timer with stop() ("
              + e
              + "). Merge main once the timers branch has landed and rebuild.";
    }
    AFTER_FUNC = afterFunc;
    STOP = stop;
    MISSING = missing;
  }

  /** Throws with {@link #MISSING} if the timer API is not there. */
  static void requireAvailable() {
    if (MISSING != null) {
      throw new UnsupportedOperationException(MISSING);
    }
  }

  /** {@code Clock.system().afterFunc(delay, fn)}. */
  static Object afterFunc(Duration delay, Runnable fn) {
    try {
      return (Object) AFTER_FUNC.invokeExact(CLOCK, delay, fn);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }

  /** {@code timer.stop()}. */
  static boolean stop(Object timer) {
    try {
      return (boolean) STOP.invokeExact(timer);
    } catch (RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new IllegalStateException(t);
    }
  }
}
