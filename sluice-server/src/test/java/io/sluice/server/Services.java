package io.sluice.server;

import io.sluice.server.objects.ObjectStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The services a test starts, closed after it whatever it did: a test class keeps one in a field
 * annotated {@code RegisterExtension} and starts each {@link RunningService} through it. A test may
 * close a service itself (one that restarts a service on the same data directory must close the
 * first): closing it again here does nothing.
 */
final class Services implements AfterEachCallback {
  private final Deque<AutoCloseable> owned = new ArrayDeque<>();

  /** Starts a service as {@link RunningService#start(Path)} does, closed after the test. */
  RunningService start(Path dataDir) throws IOException {
    return own(RunningService.start(dataDir));
  }

  /**
   * Starts a service as {@link RunningService#start(Path, UnaryOperator, ObjectStore)} does, closed
   * after the test.
   */
  RunningService start(Path dataDir, UnaryOperator<ServerConfig> config, ObjectStore objects)
      throws IOException {
    return own(RunningService.start(dataDir, config, objects));
  }

  /**
   * Closes {@code resource} after the test along with the services: for something a service started
   * later depends on (the endpoint of its store), which must outlive it, since everything is closed
   * in the reverse order it was handed over.
   */
  synchronized <T extends AutoCloseable> T own(T resource) {
    owned.push(resource);
    return resource;
  }

  /**
   * Closes everything started or handed over in the test, the last first. Each is closed even if
   * one before it failed, so that no service is left holding its port and journal for the next
   * test; the first failure is thrown with the others suppressed in it.
   */
  @Override
  public synchronized void afterEach(ExtensionContext context) throws Exception {
    Exception failure = null;
    while (!owned.isEmpty()) {
      try {
        owned.pop().close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
