package io.sluice.examples;

import java.time.Duration;
import java.util.Objects;

/**
 * The seed's "Option Design" — Go's functional options — the Java way, as {@code sluice-core}'s
 * {@code TaskGroup.Options}, {@code sluice-jobs}' {@code HandlerOptions} and {@code
 * sluice-server}'s {@code ServerConfig} do it: an immutable record over documented defaults, with
 * one {@code withX} method per setting that validates at once.
 *
 * <p>The Go forms and their Java counterparts:
 *
 * <table class="striped">
 *   <caption>Functional options in Go and here</caption>
 *   <thead><tr><th>Go (seed)</th><th>Java (this example)</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@code NewServer(addr, opts ...func(*http.Server))}, defaults set inside</td>
 *       <td>{@code Server.open(addr, ServerOptions.defaults().withReadTimeout(...))}</td></tr>
 *     <tr><td>{@code options{cache: defaultCache, logger: zap.NewNop()}}</td>
 *       <td>{@link ServerOptions#defaults()}, the one place the defaults are written down</td></tr>
 *     <tr><td>{@code WithCache(c bool) Option}</td>
 *       <td>{@link ServerOptions#withCache(boolean)}</td></tr>
 *     <tr><td>an {@code Option} that also implements {@code String()}</td>
 *       <td>the record's {@code toString}, which names every setting</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>What the Java form makes impossible or reports at once:
 *
 * <ul>
 *   <li>An invalid value fails where it is written: the record's constructor checks every setting
 *       and names it in the message. A Go option func assigns the field, and a negative timeout is
 *       found (if ever) when the server misbehaves.
 *   <li>An option cannot do more than set its own setting. A Go option receives the whole {@code
 *       *http.Server} and may do anything to it: the seed's {@code handlerOption} builds a mux with
 *       a {@code /health} route and then installs a new, empty {@code http.NewServeMux()}, silently
 *       dropping the route.
 *   <li>Options are values: immutable, comparable, safe to share. A preset such as {@link
 *       #LOW_LATENCY} is a constant any number of servers can start from; nothing can change the
 *       options of a running server behind its back.
 * </ul>
 *
 * <p>When settings depend on each other or the object being built has mandatory parts, the project
 * uses a builder whose every setter validates at once instead (e.g. {@code
 * JobEngine.builder(store).workers(64).handle(...)}); the principle is the same.
 */
public final class FunctionalOptions {
  private FunctionalOptions() {}

  /**
   * How a {@link Server} runs: immutable, with documented defaults and a {@code withX} per setting.
   *
   * @param readTimeout how long a request may take to arrive; positive
   * @param writeTimeout how long a response may take to leave; positive
   * @param maxBodyBytes the largest request body; at least 1
   * @param cache whether responses are cached (the seed's {@code WithCache})
   */
  record ServerOptions(
      Duration readTimeout, Duration writeTimeout, int maxBodyBytes, boolean cache) {

    /** Checks every setting, naming the one to fix. */
    ServerOptions {
      requirePositive(readTimeout, "readTimeout");
      requirePositive(writeTimeout, "writeTimeout");
      if (maxBodyBytes < 1) {
        throw new IllegalArgumentException("maxBodyBytes must be at least 1, was " + maxBodyBytes);
      }
    }

    private static void requirePositive(Duration d, String name) {
      Objects.requireNonNull(d, name);
      if (!d.isPositive()) {
        throw new IllegalArgumentException(name + " must be positive, was " + d);
      }
    }

    /**
     * A 3-second read timeout (the seed's {@code ReadTimeout: 3 * time.Second}), a 10-second write
     * timeout, 1 MiB bodies, no cache.
     *
     * @return the defaults
     */
    static ServerOptions defaults() {
      return new ServerOptions(Duration.ofSeconds(3), Duration.ofSeconds(10), 1 << 20, false);
    }

    /**
     * These options with another read timeout.
     *
     * @param readTimeout positive
     * @return new options; this one is unchanged
     * @throws IllegalArgumentException if not positive
     */
    ServerOptions withReadTimeout(Duration readTimeout) {
      return new ServerOptions(readTimeout, writeTimeout, maxBodyBytes, cache);
    }

    /**
     * These options with another write timeout.
     *
     * @param writeTimeout positive
     * @return new options; this one is unchanged
     * @throws IllegalArgumentException if not positive
     */
    ServerOptions withWriteTimeout(Duration writeTimeout) {
      return new ServerOptions(readTimeout, writeTimeout, maxBodyBytes, cache);
    }

    /**
     * These options with another body limit.
     *
     * @param maxBodyBytes at least 1
     * @return new options; this one is unchanged
     * @throws IllegalArgumentException if below 1
     */
    ServerOptions withMaxBodyBytes(int maxBodyBytes) {
      return new ServerOptions(readTimeout, writeTimeout, maxBodyBytes, cache);
    }

    /**
     * These options with the cache on or off.
     *
     * @param cache whether to cache
     * @return new options; this one is unchanged
     */
    ServerOptions withCache(boolean cache) {
      return new ServerOptions(readTimeout, writeTimeout, maxBodyBytes, cache);
    }
  }

  /** A preset: short timeouts and a cache. A constant, because options are immutable values. */
  static final ServerOptions LOW_LATENCY =
      ServerOptions.defaults()
          .withReadTimeout(Duration.ofMillis(500))
          .withWriteTimeout(Duration.ofSeconds(1))
          .withCache(true);

  /**
   * The thing being configured: the seed's {@code http.Server}, reduced to its settings.
   *
   * @param addr where it listens
   * @param options how it runs
   */
  record Server(String addr, ServerOptions options) {
    /** Checks the parts. */
    Server {
      Objects.requireNonNull(addr, "addr");
      Objects.requireNonNull(options, "options");
    }

    /**
     * The seed's {@code NewServer(addr, opts...)}: the address, and the options as one value.
     *
     * @param addr where it listens
     * @param options how it runs; {@link ServerOptions#defaults()} when nothing is special
     * @return the server
     */
    static Server open(String addr, ServerOptions options) {
      return new Server(addr, options);
    }
  }

  /**
   * Opens servers with the defaults, with one setting changed, and from the preset; then shows an
   * invalid setting failing where it is written.
   *
   * @param args ignored
   */
  public static void main(String[] args) {
    System.out.println(Server.open(":8080", ServerOptions.defaults()));
    System.out.println(
        Server.open(":8081", ServerOptions.defaults().withReadTimeout(Duration.ofSeconds(5))));
    System.out.println(Server.open(":8082", LOW_LATENCY.withMaxBodyBytes(64 << 10)));
    try {
      ServerOptions.defaults().withReadTimeout(Duration.ofSeconds(-5));
    } catch (IllegalArgumentException e) {
      System.out.println("rejected at once: " + e.getMessage());
    }
  }
}
