package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.HungDisk;
import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.ObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * The service over a disk that hangs, on a real port: the journal's real files behind a HungDisk
 * gate that holds an fsync until the test lets it go. The journal measures time with
 * System.nanoTime, so the acknowledgement timeout and stall threshold are small real durations;
 * the test waits on what the service answers, never on time, and asserts no timing.
 */
@Timeout(60)
class JournalStallApiTest {
  @TempDir Path dataDir;

  private final HttpClient http = HttpClient.newHttpClient();
  private final HungDisk disk = new HungDisk();
  private SluiceServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    http.close();
  }

  private ServerConfig config(Duration ackTimeout, Duration stallThreshold) {
    return ServerConfig.defaults(dataDir)
        .withPort(0)
        .withShutdownGrace(Duration.ofSeconds(5))
        .withJournalTimeouts(ackTimeout, stallThreshold);
  }

  private void start(Duration ackTimeout, Duration stallThreshold) throws Exception {
    start(
        config(ackTimeout, stallThreshold), FilesystemObjectStore.open(dataDir.resolve("objects")));
  }

  private void start(ServerConfig config, ObjectStore objects) throws Exception {
    server = SluiceServer.start(config, objects, new SluiceServer.StartObserver() {}, disk::open);
  }

  private HttpResponse<String> send(String path, String method, String body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
            .timeout(Duration.ofSeconds(30));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    b.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String body) throws Exception {
    return send("/v1/payloads", "POST", body);
  }

  /** Asks again (no sleeping) until the answer satisfies {@code done}. */
  private HttpResponse<String> awaitAnswer(String path, Predicate<HttpResponse<String>> done)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      HttpResponse<String> r = send(path, "GET", null);
      if (done.test(r)) {
        return r;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(path + " never answered as expected; last: " + r.body());
      }
      Thread.yield();
    }
  }

  @SuppressWarnings("unchecked")
  private static List<String> ids(HttpResponse<String> r) throws Exception {
    return (List<String>) Json.object(r.body()).get("ids");
  }

  private static void assertJournalStalled(HttpResponse<String> r) throws Exception {
    assertEquals(503, r.statusCode(), r.body());
    Map<String, Object> body = Json.object(r.body());
    assertEquals("journal_stalled", body.get("error"), r.body());
    assertFalse(((String) body.get("message")).isBlank());
  }

  @Test
  void aHungDiskAnswers503JournalStalledWithTheIdsFailsReadinessAndTheServiceRecoversWithIt()
      throws Exception {
    // given a service whose disk will hang in the next fsync
    start(Duration.ofMillis(50), Duration.ofMillis(200));
    assertEquals(202, post("{\"payloads\": [{\"before\": 1}]}").statusCode());
    CountDownLatch release = disk.hangNextForce();

    // when a batch is posted, then it is answered 503 journal_stalled, its outcome unknown, with
    // the ids to look up
    HttpResponse<String> unknown = post("{\"payloads\": [{\"n\": 1}, {\"n\": 2}]}");
    assertJournalStalled(unknown);
    List<String> ids = ids(unknown);
    assertEquals(2, ids.size(), unknown.body());
    assertTrue(unknown.body().contains("GET /v1/jobs/{id}"), unknown.body());

    // and once the stall is noticed, readiness fails saying why, while liveness holds
    HttpResponse<String> ready =
        awaitAnswer("/health/ready", r -> r.body().contains("journal_stalled"));
    assertEquals(503, ready.statusCode(), ready.body());
    assertEquals("DOWN", Json.object(ready.body()).get("status"));
    assertEquals(200, send("/health/live", "GET", null).statusCode());
    // and a new batch is refused at once, naming no jobs: nothing of it was accepted
    HttpResponse<String> refused = post("{\"payloads\": [{\"n\": 3}]}");
    assertJournalStalled(refused);
    assertEquals(List.of(), ids(refused));
    // and the metrics show the stall
    String metrics = send("/metrics", "GET", null).body();
    assertTrue(metrics.contains("sluice_journal_stalled 1.0"), metrics);
    assertTrue(metrics.contains("sluice_journal_stalls_total 1.0"), metrics);

    // when the disk recovers
    release.countDown();

    // then the service is ready again and accepts batches
    awaitAnswer("/health/ready", r -> r.statusCode() == 200);
    assertEquals(202, post("{\"payloads\": [{\"n\": 4}]}").statusCode());
    assertTrue(
        send("/metrics", "GET", null).body().contains("sluice_journal_stalled 0.0"),
        "the gauge went back to 0");
    // and the batch whose outcome was unknown was recorded, and its payloads are uploaded
    for (String id : ids) {
      awaitAnswer("/v1/jobs/" + id, r -> r.body().contains("\"state\":\"succeeded\""));
    }
  }

  @Test
  void aStopOnAHungDiskGivesUpOnTheJournalAndARestartAfterTheDiskRecoversUploadsTheBatch()
      throws Exception {
    // given a service whose disk hangs while a batch waits to be made durable
    start(Duration.ofMillis(50), Duration.ofMillis(200));
    CountDownLatch release = disk.hangNextForce();
    HttpResponse<String> unknown = post("{\"payloads\": [{\"n\": 1}]}");
    assertJournalStalled(unknown);
    List<String> ids = ids(unknown);
    awaitAnswer("/health/ready", r -> r.body().contains("journal_stalled"));

    // when the service is stopped, then the stop gives up on the journal and says so
    int port = server.port();
    assertFalse(server.stop(), "the stop should give up on a journal stalled past the timeout");
    assertFalse(server.stop(), "a second call answers as the first");
    assertThrows(
        java.io.IOException.class,
        () -> new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), port).close(),
        "the HTTP server stopped");
    server = null;

    // when the disk recovers, the old journal closes and frees its directory; a new service
    // starts on it (it cannot while the old journal holds it)
    release.countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (server == null) {
      try {
        start(Duration.ofSeconds(30), Duration.ofSeconds(10));
      } catch (java.io.IOException e) {
        if (System.nanoTime() > deadline || !e.getMessage().contains("in use")) {
          throw e;
        }
        Thread.yield();
      }
    }

    // then the batch whose outcome was unknown was recorded, and the new service uploads it
    for (String id : ids) {
      awaitAnswer("/v1/jobs/" + id, r -> r.body().contains("\"state\":\"succeeded\""));
    }
  }

  @Test
  void aScheduleChangeOnAHungDiskAnswers503JournalStalledAndTakesEffectWhenSentAgainAfterwards()
      throws Exception {
    // given a service whose disk will hang in the next fsync
    start(Duration.ofMillis(50), Duration.ofMillis(200));
    CountDownLatch release = disk.hangNextForce();
    String nightly = "{\"trigger\": \"cron unix UTC 0 2 * * *\", \"payload\": {\"n\": 1}}";

    // when a schedule is put, then it is answered 503 journal_stalled, its outcome unknown
    HttpResponse<String> unknown = send("/v1/schedules/nightly", "PUT", nightly);
    assertJournalStalled(unknown);
    assertTrue(unknown.body().contains("outcome is unknown"), unknown.body());

    // and once the stall is noticed, a change is refused at once, nothing changed
    awaitAnswer("/health/ready", r -> r.body().contains("journal_stalled"));
    HttpResponse<String> refused = send("/v1/schedules/nightly", "DELETE", null);
    assertJournalStalled(refused);
    assertTrue(refused.body().contains("nothing changed"), refused.body());

    // when the disk recovers and the put is sent again, then the schedule runs as asked
    release.countDown();
    awaitAnswer("/health/ready", r -> r.statusCode() == 200);
    HttpResponse<String> again = send("/v1/schedules/nightly", "PUT", nightly);
    assertEquals(201, again.statusCode(), again.body());
    HttpResponse<String> shown = send("/v1/schedules/nightly", "GET", null);
    assertEquals(200, shown.statusCode(), shown.body());
    assertTrue(shown.body().contains("0 2 * * *"), shown.body());
  }

  @Test
  void
      aDeadLetterRetryOnAHungDiskAnswers503JournalStalledWithItsIdAndTakesEffectOnceTheDiskRecovers()
          throws Exception {
    // given a dead letter (its one upload failed) in a service whose disk will hang in the next
    // fsync, a stall threshold too long to be reached
    IngestApiTest.FailingObjectStore failing =
        new IngestApiTest.FailingObjectStore(
            FilesystemObjectStore.open(dataDir.resolve("objects")));
    start(
        config(Duration.ofMillis(50), Duration.ofMinutes(10))
            .withWorkers(1, Duration.ofSeconds(30), 1),
        failing);
    String id = ids(post("{\"payloads\": [1]}")).getFirst();
    awaitAnswer("/v1/jobs/" + id, r -> "dead".equals(state(r)));
    failing.failing = false;
    CountDownLatch release = disk.hangNextForce();
    try {
      // when it is retried, then the answer is 503 journal_stalled naming it, its outcome unknown
      HttpResponse<String> unknown = send("/v1/dead-letters/" + id + "/retry", "POST", null);
      assertJournalStalled(unknown);
      assertEquals(List.of(id), ids(unknown));
      assertTrue(unknown.body().contains("outcome is unknown"), unknown.body());
      // and it is still a dead letter
      assertEquals("dead", state(send("/v1/jobs/" + id, "GET", null)));
      assertTrue(send("/v1/dead-letters", "GET", null).body().contains(id));
    } finally {
      // when the disk recovers (also if the test failed, so that the service can stop)
      release.countDown();
    }

    // then the retry takes effect: the payload is uploaded
    awaitAnswer("/v1/jobs/" + id, r -> "succeeded".equals(state(r)));
  }

  @Test
  void aDeadLetterDeletedWhileTheServiceStopsAfterItsJournalClosedIs503ShuttingDown()
      throws Exception {
    // given a dead letter, in a service whose stop is held just after its journal closed (the
    // HTTP server still answers until the stop goes on)
    IngestApiTest.FailingObjectStore failing =
        new IngestApiTest.FailingObjectStore(
            FilesystemObjectStore.open(dataDir.resolve("objects")));
    CountDownLatch journalClosed = new CountDownLatch(1);
    CountDownLatch goOn = new CountDownLatch(1);
    server =
        SluiceServer.start(
            config(Duration.ofSeconds(30), Duration.ofMinutes(10))
                .withWorkers(1, Duration.ofSeconds(30), 1),
            failing,
            new SluiceServer.StartObserver() {},
            options -> new ClosingHeld(io.sluice.jobs.JobStore.open(options), journalClosed, goOn));
    String id = ids(post("{\"payloads\": [1]}")).getFirst();
    awaitAnswer("/v1/jobs/" + id, r -> "dead".equals(state(r)));
    Thread stopping = Thread.ofVirtual().start(server::close);
    try {
      assertTrue(journalClosed.await(30, TimeUnit.SECONDS), "the journal never closed");

      // when the dead letter is deleted
      HttpResponse<String> deleted = send("/v1/dead-letters/" + id, "DELETE", null);

      // then the answer says the service is stopping, not that its journal failed
      assertEquals(503, deleted.statusCode(), deleted.body());
      assertEquals("shutting_down", Json.object(deleted.body()).get("error"), deleted.body());
    } finally {
      goOn.countDown();
      stopping.join();
      server = null;
    }
    // and the next start still finds it a dead letter, as the answer said
    try (io.sluice.jobs.JobStore reopened =
        io.sluice.jobs.JobStore.open(
            io.sluice.jobs.JobStoreOptions.defaults().withDirectory(dataDir.resolve("journal")))) {
      assertEquals(
          io.sluice.jobs.JobState.DEAD,
          reopened.find(io.sluice.jobs.JobId.parse(id)).orElseThrow().state());
    }
  }

  /** A job store whose close, once done, waits for the test to let the stop go on. */
  private static final class ClosingHeld implements io.sluice.jobs.JobStore {
    private final io.sluice.jobs.JobStore store;
    private final CountDownLatch closed;
    private final CountDownLatch goOn;

    ClosingHeld(io.sluice.jobs.JobStore store, CountDownLatch closed, CountDownLatch goOn) {
      this.store = store;
      this.closed = closed;
      this.goOn = goOn;
    }

    @Override
    public void close() {
      store.close();
      closed.countDown();
      try {
        goOn.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public io.sluice.jobs.Admission submit(List<io.sluice.jobs.JobSpec> specs, Duration maxWait)
        throws InterruptedException {
      return store.submit(specs, maxWait);
    }

    @Override
    public java.util.Optional<io.sluice.jobs.Job> claim(TypeGate gate) throws InterruptedException {
      return store.claim(gate);
    }

    @Override
    public List<Claim> claim(List<? extends Claim> succeeded, Claimer claimer)
        throws InterruptedException {
      return store.claim(succeeded, claimer);
    }

    @Override
    public void succeeded(Claim claim) {
      store.succeeded(claim);
    }

    @Override
    public void failed(Claim claim, String error, java.util.Optional<java.time.Instant> retryAt) {
      store.failed(claim, error, retryAt);
    }

    @Override
    public void abandoned(Claim claim) {
      store.abandoned(claim);
    }

    @Override
    public void gateOpened() {
      store.gateOpened();
    }

    @Override
    public void succeeded(io.sluice.jobs.JobId id) {
      store.succeeded(id);
    }

    @Override
    public void failed(
        io.sluice.jobs.JobId id, String error, java.util.Optional<java.time.Instant> retryAt) {
      store.failed(id, error, retryAt);
    }

    @Override
    public void abandoned(io.sluice.jobs.JobId id) {
      store.abandoned(id);
    }

    @Override
    public java.util.Optional<io.sluice.jobs.Job> find(io.sluice.jobs.JobId id) {
      return store.find(id);
    }

    @Override
    public List<io.sluice.jobs.Job> deadLetters(
        java.util.Optional<io.sluice.jobs.JobId> after, int limit) {
      return store.deadLetters(after, limit);
    }

    @Override
    public io.sluice.jobs.Admission retryDead(io.sluice.jobs.JobId id) {
      return store.retryDead(id);
    }

    @Override
    public boolean deleteDead(io.sluice.jobs.JobId id) {
      return store.deleteDead(id);
    }

    @Override
    public boolean putSchedule(String name, String definition) {
      return store.putSchedule(name, definition);
    }

    @Override
    public boolean deleteSchedule(String name) {
      return store.deleteSchedule(name);
    }

    @Override
    public java.util.Optional<io.sluice.jobs.StoredSchedule> schedule(String name) {
      return store.schedule(name);
    }

    @Override
    public List<io.sluice.jobs.StoredSchedule> schedules() {
      return store.schedules();
    }

    @Override
    public io.sluice.jobs.Admission fire(
        String name, java.time.Instant fireTime, io.sluice.jobs.JobSpec job) {
      return store.fire(name, fireTime, job);
    }

    @Override
    public boolean skipFire(String name, java.time.Instant fireTime) {
      return store.skipFire(name, fireTime);
    }

    @Override
    public io.sluice.jobs.JobCounts counts() {
      return store.counts();
    }

    @Override
    public Map<String, Long> pendingByType() {
      return store.pendingByType();
    }

    @Override
    public void stopAdmission() {
      store.stopAdmission();
    }

    @Override
    public void stopClaims() {
      store.stopClaims();
    }
  }

  private static Object state(HttpResponse<String> r) {
    try {
      return r.statusCode() == 200 ? Json.object(r.body()).get("state") : null;
    } catch (Exception e) {
      throw new AssertionError(r.body(), e);
    }
  }
}
