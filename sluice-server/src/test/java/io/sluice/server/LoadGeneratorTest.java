package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The load generator's requests and its answer to interruption. */
@Timeout(30)
class LoadGeneratorTest {
  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();
  private RunningService service;

  private LoadGenerator.Plan plan(int rate, int payloads, int bytes, Duration duration) {
    return new LoadGenerator.Plan(
        URI.create(service.url()),
        Optional.empty(),
        rate,
        4,
        payloads,
        bytes,
        duration,
        Duration.ZERO,
        Duration.ofSeconds(10));
  }

  private List<Path> objects(int expected) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (true) {
      List<Path> files = ObjectFiles.json(dataDir.resolve("objects"));
      if (files.size() >= expected || System.nanoTime() > deadline) {
        return files;
      }
      Thread.yield();
    }
  }

  @Test
  void warmupRequestsStillUnsentWhenTheMeasuredRunBeginsAreSkippedNotCarriedIntoIt()
      throws Exception {
    // given: the service behind a relay that holds every byte until released, and an open-loop
    // plan of 100 requests/s on 4 connections, 1 s of warmup then 1 s measured
    service = services.start(dataDir);
    try (HeldRelay relay = HeldRelay.start(service.port())) {
      LoadGenerator.Plan held =
          new LoadGenerator.Plan(
              URI.create("http://127.0.0.1:" + relay.port()),
              Optional.empty(),
              100,
              4,
              1,
              50,
              Duration.ofSeconds(1),
              Duration.ofSeconds(1),
              Duration.ofSeconds(10));

      // when: the relay lets the traffic through only once the measured run has begun, so the
      // warmup's 4 requests in flight are answered late and its other 96 are overdue by then
      LoadGenerator.Result r =
          new LoadGenerator(held)
              .run(
                  progress -> {
                    if (progress.phase() != LoadGenerator.Phase.WARMUP) {
                      relay.release();
                    }
                  });

      // then: those 96 were not sent; every request of the measured second was sent and answered
      assertEquals(4, r.warmupRequests());
      assertEquals(96, r.warmupSkipped());
      assertEquals(100, r.requests() + r.unanswered(), "the measured second's requests");
      assertEquals(100, r.status202());
    }
  }

  /**
   * A TCP relay on loopback to the service that forwards nothing, either way, until released: a
   * service that does not answer for a while, as the load generator sees it.
   */
  private static final class HeldRelay implements AutoCloseable {
    private final java.net.ServerSocket listener;
    private final int upstreamPort;
    private final CountDownLatch released = new CountDownLatch(1);
    private final List<java.net.Socket> open = new java.util.concurrent.CopyOnWriteArrayList<>();

    private HeldRelay(java.net.ServerSocket listener, int upstreamPort) {
      this.listener = listener;
      this.upstreamPort = upstreamPort;
    }

    static HeldRelay start(int upstreamPort) throws java.io.IOException {
      HeldRelay relay =
          new HeldRelay(
              new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress()),
              upstreamPort);
      Thread.ofVirtual().start(relay::accept);
      return relay;
    }

    int port() {
      return listener.getLocalPort();
    }

    void release() {
      released.countDown();
    }

    private void accept() {
      try {
        while (true) {
          java.net.Socket client = listener.accept();
          java.net.Socket upstream =
              new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), upstreamPort);
          open.add(client);
          open.add(upstream);
          Thread.ofVirtual().start(() -> pump(client, upstream));
          Thread.ofVirtual().start(() -> pump(upstream, client));
        }
      } catch (java.io.IOException closed) {
        // the relay was closed
      }
    }

    private void pump(java.net.Socket from, java.net.Socket to) {
      try {
        byte[] buffer = new byte[8192];
        int n;
        while ((n = from.getInputStream().read(buffer)) >= 0) {
          Latches.awaitUninterruptibly(released);
          to.getOutputStream().write(buffer, 0, n);
        }
        to.shutdownOutput();
      } catch (java.io.IOException closed) {
        // one side closed
      }
    }

    @Override
    public void close() throws java.io.IOException {
      release();
      listener.close();
      for (java.net.Socket s : open) {
        s.close();
      }
    }
  }

  @Test
  void eachPayloadIsAUniqueJsonObjectOfThePayloadSize() throws Exception {
    service = services.start(dataDir);

    LoadGenerator.Result r =
        new LoadGenerator(plan(10, 3, 200, Duration.ofSeconds(1))).run(p -> {});

    assertEquals(10, r.status202());
    List<Path> files = objects(30);
    assertEquals(30, files.size());
    Set<String> contents = new HashSet<>();
    for (Path f : files) {
      String json = Files.readString(f);
      assertEquals(200, json.length(), json);
      assertTrue(Json.parse(json) instanceof java.util.Map<?, ?>, json);
      contents.add(json);
    }
    assertEquals(30, contents.size(), "every payload differs");
  }

  @Test
  void interruptedWhileRunningItStopsAndReturnsWhatWasMeasured() throws Exception {
    service = services.start(dataDir);
    CountDownLatch firstReport = new CountDownLatch(1);
    AtomicReference<LoadGenerator.Result> result = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () ->
                    result.set(
                        new LoadGenerator(plan(20, 1, 100, Duration.ofMinutes(10)))
                            .run(p -> firstReport.countDown())));
    firstReport.await();

    runner.interrupt();
    runner.join();

    LoadGenerator.Result r = result.get();
    assertEquals(
        r.requests(),
        r.succeeded()
            + r.otherStatus()
            + r.status429()
            + r.status503()
            + r.connectionErrors()
            + r.timeouts(),
        "every answer counted once");
    assertTrue(
        r.requests() + r.unanswered() <= 20 * r.seconds() + 2,
        "only the requests due before the interruption count: " + r);
    assertTrue(r.seconds() < 600, "stopped before the planned ten minutes: " + r.seconds());
  }

  @Test
  void alreadyInterruptedItReturnsAtOnce() throws Exception {
    service = services.start(dataDir);
    AtomicReference<LoadGenerator.Result> result = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .unstarted(
                () -> {
                  Thread.currentThread().interrupt();
                  result.set(
                      new LoadGenerator(plan(1, 1, 100, Duration.ofMinutes(10))).run(p -> {}));
                });
    runner.start();
    runner.join();

    assertTrue(result.get().seconds() < 600, "returned before the planned ten minutes");
  }
}
