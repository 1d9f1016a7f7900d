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
