package io.sluice.server;

import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;

/**
 * SIGTERM and SIGINT as an orderly stop: the handler runs the given action instead of starting the
 * JVM's shutdown, so the service can drain and then exit with status 0.
 *
 * <p>The JDK's only signal API is {@code sun.misc.Signal} (module jdk.unsupported); it is reached
 * reflectively so the build stays free of internal-API warnings. Where it is missing, the shutdown
 * hook still drains the service, and the exit status is the JVM's.
 */
final class Signals {
  private static final System.Logger LOG = System.getLogger(Signals.class.getName());

  /** What to do on a signal; called on a thread of its own for each signal. */
  @FunctionalInterface
  interface Handler {
    /**
     * A signal arrived.
     *
     * @param name its name without "SIG", like {@code TERM}
     * @param number its number, like 15
     */
    void signalled(String name, int number);
  }

  private Signals() {}

  static void onTerminate(Handler action) {
    try {
      Class<?> signal = Class.forName("sun.misc.Signal");
      Class<?> handler = Class.forName("sun.misc.SignalHandler");
      Constructor<?> named = signal.getConstructor(String.class);
      Method handle = signal.getMethod("handle", signal, handler);
      Method getName = signal.getMethod("getName");
      Method getNumber = signal.getMethod("getNumber");
      Object callback =
          Proxy.newProxyInstance(
              handler.getClassLoader(),
              new Class<?>[] {handler},
              (proxy, method, args) -> {
                if (method.getName().equals("handle")) {
                  action.signalled(
                      (String) getName.invoke(args[0]), (Integer) getNumber.invoke(args[0]));
                  return null;
                }
                return switch (method.getName()) {
                  case "hashCode" -> System.identityHashCode(proxy);
                  case "equals" -> proxy == args[0];
                  default -> "sluice signal handler";
                };
              });
      for (String name : new String[] {"TERM", "INT"}) {
        handle.invoke(null, named.newInstance(name), callback);
      }
    } catch (ReflectiveOperationException | RuntimeException e) {
      LOG.log(System.Logger.Level.DEBUG, "no signal handling here; the shutdown hook drains", e);
    }
  }
}
