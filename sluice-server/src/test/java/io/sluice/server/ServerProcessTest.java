package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.JobCounts;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sluice serve} as a real process: SIGTERM drains and exits 0; SIGKILL during load loses
 * nothing that got a 202. After either, a restart uploads every accepted payload, byte for byte.
 */
@Timeout(300)
class ServerProcessTest {
  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

  @TempDir Path dataDir;

  private final HttpClient http = HttpClient.newHttpClient();

  @Test
  void sigtermRefusesPayloadsWith503WhileItDrainsThenExitsZeroWithEveryPayloadUploaded()
      throws Exception {
    // given a service that uploads to a scripted S3 which holds the first upload until released
    try (HeldS3 s3 = HeldS3.start()) {
      Map<String, String> accepted = new ConcurrentHashMap<>();
      Served served = Served.start(dataDir, s3.args());
      Load load = Load.start(http, served.port, accepted);
      load.awaitAccepted(200);
      load.stop();
      s3.awaitHeld();
      try {
        s3.awaitUploadsOf(accepted.keySet()); // all arrived; one of them is still held
      } catch (AssertionError e) {
        throw new AssertionError(e.getMessage() + "\n" + served.output(), e);
      }

      // when it gets SIGTERM (through the handle: Process.destroy() would close our end of its
      // output), it drains: the held upload keeps it draining until released
      served.process.toHandle().destroy();
      served.awaitOutput("sluice shutting down"); // logged once payloads are refused
      HttpResponse<String> during;
      // A new connection: one the load left in the shared client's pool may be closed by now.
      try (HttpClient fresh = HttpClient.newHttpClient()) {
        during =
            fresh.send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + served.port + "/v1/payloads"))
                    .timeout(Duration.ofSeconds(30))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"payloads\": [1]}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
      } catch (IOException e) {
        throw new AssertionError("no answer during the drain\n" + served.output(), e);
      }
      s3.release();
      assertTrue(served.process.waitFor(120, TimeUnit.SECONDS), "the service stopped");

      // then
      assertEquals(503, during.statusCode(), during.body());
      assertEquals("application/json", during.headers().firstValue("Content-Type").orElse(""));
      assertEquals("shutting_down", Json.object(during.body()).get("error"), during.body());
      assertEquals(0, served.process.exitValue(), "exit status after SIGTERM\n" + served.output());
      assertTrue(served.output().contains("sluice: stopped"), served.output());
      assertFalse(
          served.output().contains("did not finish in time"),
          "the drain cut an upload off\n" + served.output());
      Map<String, byte[]> objects = s3.objectsById();
      for (Map.Entry<String, String> e : accepted.entrySet()) {
        byte[] object = objects.get(e.getKey());
        assertTrue(object != null, "no object for accepted payload " + e.getKey());
        assertArrayEquals(e.getValue().getBytes(UTF_8), object, e.getKey());
      }
      try (JobStore journal =
          JobStore.open(JobStoreOptions.defaults().withDirectory(dataDir.resolve("journal")))) {
        JobCounts counts = journal.counts();
        assertEquals(0, counts.pending(), "unfinished jobs in the journal: " + counts);
        assertEquals(0, counts.dead(), "dead letters in the journal: " + counts);
      }
    }
  }

  /** SIGTERM under continuous load: exit 0, and a restart uploads whatever was still queued. */
  @Test
  void sigtermDrainsAndExitsZeroAndEveryAcceptedPayloadEndsAsAnObject() throws Exception {
    Map<String, String> accepted = new ConcurrentHashMap<>();
    Served first = Served.start(dataDir);
    Load load = Load.start(http, first.port, accepted);
    load.awaitAccepted(200);

    // SIGTERM through the handle: Process.destroy() would also close our end of its output.
    first.process.toHandle().destroy();
    assertTrue(first.process.waitFor(120, TimeUnit.SECONDS), "the service stopped");
    load.stop();

    assertEquals(0, first.process.exitValue(), "exit status after SIGTERM\n" + first.output());
    assertTrue(first.output().contains("sluice: stopped"), first.output());
    assertEveryAcceptedPayloadUploaded(accepted);
  }

  @Test
  void sigtermDuringTheJournalReplayAbandonsTheStartAndExitsZeroLosingNothing() throws Exception {
    // given a journal of 20,000 payloads (about 2 MB) whose uploads never ran
    List<String> ids = givenAJournalOfPendingPayloads(20, 1_000);

    // when a service starting on it gets SIGTERM while it replays the journal
    Served served = Served.startHeld(dataDir, List.of());
    served.process.toHandle().destroy();
    served.awaitOutput("SIGTERM received");
    served.releaseHold();

    // then it abandons the replay and exits 0 without ever listening
    assertTrue(served.process.waitFor(120, TimeUnit.SECONDS), "the service stopped");
    String output = served.output();
    assertEquals(0, served.process.exitValue(), output);
    assertTrue(output.contains("stopped while starting (during the journal replay, at"), output);
    assertFalse(output.contains("listening on"), output);
    // and the next start replays everything and uploads every payload
    Served again = Served.start(dataDir);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (objectsById().size() < ids.size() && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(new java.util.TreeSet<>(ids), new java.util.TreeSet<>(objectsById().keySet()));
    } finally {
      again.process.toHandle().destroy();
      again.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  /**
   * A journal holding {@code batches} batches of {@code perBatch} payloads accepted by a service
   * whose uploads never ran; returns their ids.
   */
  private List<String> givenAJournalOfPendingPayloads(int batches, int perBatch) throws Exception {
    List<String> ids = new ArrayList<>();
    CountDownLatch never = new CountDownLatch(1);
    try (RunningService first =
        RunningService.start(
            dataDir,
            c -> c.withShutdownGrace(Duration.ZERO),
            new IngestApiTest.GatedObjectStore(
                io.sluice.server.objects.FilesystemObjectStore.open(dataDir.resolve("objects")),
                never))) {
      String payloads =
          String.join(
              ",",
              java.util.Collections.nCopies(perBatch, "{\"pad\": \"" + "x".repeat(80) + "\"}"));
      for (int b = 0; b < batches; b++) {
        ids.addAll(first.post("{\"payloads\": [" + payloads + "]}"));
      }
    }
    assertTrue(objectsById().isEmpty(), "no upload ran");
    return ids;
  }

  @Test
  void aSecondSigtermWhileDrainingStopsAtOnceWithStatus143AndTheCutOffUploadStaysPending()
      throws Exception {
    // given a service draining after SIGTERM, held by an upload S3 does not answer
    try (HeldS3 s3 = HeldS3.start()) {
      Served served = Served.start(dataDir, s3.args());
      HttpResponse<String> accepted =
          send(served.port, "/v1/payloads", "POST", "{\"payloads\": [{\"cut\": 1}]}");
      assertEquals(202, accepted.statusCode(), accepted.body());
      s3.awaitHeld();
      served.process.toHandle().destroy();
      served.awaitOutput("sluice shutting down");

      // when a second SIGTERM comes
      served.process.toHandle().destroy();

      // then it stops at once, saying so, with the status of a process killed by SIGTERM
      assertTrue(served.process.waitFor(60, TimeUnit.SECONDS), "the service stopped");
      String output = served.output();
      assertEquals(143, served.process.exitValue(), output);
      assertTrue(output.contains("SIGTERM again: stopping at once"), output);
      assertFalse(output.contains("sluice: stopped"), output);
    }
    // and the upload it cut off is still pending in the journal, so the next start runs it
    try (JobStore journal =
        JobStore.open(JobStoreOptions.defaults().withDirectory(dataDir.resolve("journal")))) {
      assertEquals(1, journal.counts().pending(), journal.counts().toString());
    }
  }

  @Test
  void sigkillDuringLoadLosesNothingThatGotA202() throws Exception {
    sigkillRounds(2);
  }

  /** The long version: more kills at more moments of the load (./mvnw verify -Pstress). */
  @Test
  @Tag("stress-long")
  @Timeout(1200)
  void manySigkillsDuringLoadLoseNothingThatGotA202() throws Exception {
    sigkillRounds(12);
  }

  private void sigkillRounds(int rounds) throws Exception {
    Map<String, String> accepted = new ConcurrentHashMap<>();
    for (int round = 0; round < rounds; round++) {
      Served served = Served.start(dataDir);
      Load load = Load.start(http, served.port, accepted);
      // the kill falls at a random point of the load: after 100 to 600 more 202s
      load.awaitAccepted(accepted.size() + 100 + ThreadLocalRandom.current().nextInt(501));
      served.process.toHandle().destroyForcibly(); // SIGKILL, keeping our end of its output
      served.process.waitFor(60, TimeUnit.SECONDS);
      load.stop();
    }

    assertEveryAcceptedPayloadUploaded(accepted);
  }

  @Test
  void aScheduleAndADelayedPayloadSurviveASigkillAndRunAfterTheRestart() throws Exception {
    Served first = Served.start(dataDir);
    java.time.Instant due = java.time.Instant.now().plusSeconds(8);
    HttpResponse<String> schedule =
        send(
            first.port,
            "/v1/schedules/once",
            "PUT",
            "{\"trigger\": \"at " + due + "\", \"payload\": {\"from\": \"schedule\"}}");
    HttpResponse<String> delayed =
        send(
            first.port,
            "/v1/payloads",
            "POST",
            "{\"payloads\": [{\"from\": \"runAt\"}], \"runAt\": \"" + due + "\"}");
    assertEquals(201, schedule.statusCode(), schedule.body());
    assertEquals(202, delayed.statusCode(), delayed.body());
    first.process.toHandle().destroyForcibly();
    first.process.waitFor(60, TimeUnit.SECONDS);
    assertTrue(objectsById().isEmpty(), "nothing ran before the kill: " + objectsById());

    Served again = Served.start(dataDir);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (objectsById().size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      List<String> contents = new ArrayList<>();
      for (Path object : objectsById().values()) {
        contents.add(Files.readString(object, UTF_8));
      }
      contents.sort(null);
      assertEquals(List.of("{\"from\": \"runAt\"}", "{\"from\": \"schedule\"}"), contents);
      HttpResponse<String> after = send(again.port, "/v1/schedules/once", "GET", null);
      assertTrue(after.body().contains("\"lastFire\":\"" + due + "\""), after.body());
    } finally {
      again.process.toHandle().destroy();
      again.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void aJournalThatFailedForGoodFailsBothHealthChecksAndEveryPostIs503JournalFailed()
      throws Exception {
    // given a service whose files may not grow past 256 KiB (RLIMIT_FSIZE, set by the shell that
    // starts it): a write past that fails with EFBIG, a real I/O failure of the journal's segment
    Served served = Served.start(dataDir, "-Xmx512m", List.of(), 256);
    String before;
    try {
      assertEquals(200, send(served.port, "/health/ready", "GET", null).statusCode());
      HttpResponse<String> accepted =
          send(served.port, "/v1/payloads", "POST", "{\"payloads\": [{\"before\": 1}]}");
      assertEquals(202, accepted.statusCode(), accepted.body());
      before = ((List<?>) Json.object(accepted.body()).get("ids")).getFirst().toString();

      // when a batch's journal record would take the segment past the limit
      HttpResponse<String> failed =
          send(
              served.port,
              "/v1/payloads",
              "POST",
              "{\"payloads\": [\"" + "x".repeat(300_000) + "\"]}");

      // then it is refused, and so is every later batch, however small
      assertJsonError(failed, 503, "journal_failed");
      assertJsonError(
          send(served.port, "/v1/payloads", "POST", "{\"payloads\": [2]}"), 503, "journal_failed");
      // and both health checks say why, with the journal's own message
      for (String check : List.of("/health/ready", "/health/live")) {
        HttpResponse<String> health = send(served.port, check, "GET", null);
        assertEquals(503, health.statusCode(), check + ": " + health.body());
        Map<String, Object> body = Json.object(health.body());
        assertEquals("DOWN", body.get("status"), health.body());
        assertEquals("journal_failed", body.get("error"), health.body());
        String detail = (String) body.get("detail");
        assertTrue(detail.contains("until it is restarted"), detail);
        assertTrue(detail.contains("File too large"), detail);
      }
      assertTrue(served.output().contains("File too large"), served.output());
    } finally {
      served.process.toHandle().destroy();
      assertTrue(served.process.waitFor(120, TimeUnit.SECONDS), "the service stopped");
    }
    assertEquals(0, served.process.exitValue(), "exit status after SIGTERM\n" + served.output());

    // and a restart without the limit is ready, accepts payloads, and uploads the one accepted
    // before the failure
    Served again = Served.start(dataDir);
    try {
      assertEquals(200, send(again.port, "/health/ready", "GET", null).statusCode());
      assertEquals(200, send(again.port, "/health/live", "GET", null).statusCode());
      assertEquals(
          202, send(again.port, "/v1/payloads", "POST", "{\"payloads\": [3]}").statusCode());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (!objectsById().containsKey(before) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals("{\"before\": 1}", Files.readString(objectsById().get(before), UTF_8));
    } finally {
      again.process.toHandle().destroy();
      again.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private static void assertJsonError(HttpResponse<String> r, int status, String code) {
    assertEquals(status, r.statusCode(), r.body());
    assertEquals("application/json", r.headers().firstValue("Content-Type").orElse(""));
    Map<String, Object> body = Json.object(r.body());
    assertEquals(code, body.get("error"), r.body());
    assertTrue(body.get("message") instanceof String m && !m.isBlank(), r.body());
  }

  @Test
  void aBacklogOfLargePayloadsIsRefusedWith429BeforeTheHeapRunsOut() throws Exception {
    // given: a 128 MiB heap, so by default at most 32 MiB of payloads held in memory
    Served served = Served.start(dataDir, "-Xmx128m");
    try {
      // when: 160 payloads of ~900 KB (144 MB, more than the heap), due in 2030 so none leaves
      String body =
          "{\"payloads\": [\"" + "x".repeat(900_000) + "\"], \"runAt\": \"2030-01-01T00:00:00Z\"}";
      int accepted = 0;
      int refused = 0;
      for (int i = 0; i < 160; i++) {
        HttpResponse<String> r = send(served.port, "/v1/payloads", "POST", body);
        switch (r.statusCode()) {
          case 202 -> accepted++;
          case 429 -> {
            refused++;
            assertTrue(r.body().contains("bytes of payloads"), r.body());
          }
          default -> throw new AssertionError(r.statusCode() + " " + r.body() + served.output());
        }
      }

      // then: what fits the limit is accepted, the rest refused, and the service is unharmed
      assertTrue(accepted >= 20 && accepted <= 37, "accepted " + accepted);
      assertEquals(160, accepted + refused);
      assertEquals(200, send(served.port, "/health/live", "GET", null).statusCode());
      assertEquals(
          202,
          send(served.port, "/v1/payloads", "POST", "{\"payloads\": [1]}").statusCode(),
          "small payloads still fit");
      assertTrue(served.process.isAlive(), served.output());
    } finally {
      served.process.toHandle().destroy();
      served.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void twoHundredStalledUploadsDeclaringAMebibyteEachAreRefusedWith503AndTheServiceServesOn()
      throws Exception {
    // given: a 64 MiB heap, and room for bodies being received of which bodies over 64 KiB may use
    // three quarters: just enough for four of 1 MiB, with a third as much again kept for small
    // bodies; the bodies declared below add up to three times the heap
    int mebibyte = 1 << 20;
    long budget = BodyBudget.minimumLimit(4L * mebibyte);
    Served served =
        Served.start(
            dataDir,
            "-Xmx64m",
            List.of("--max-inflight-body-bytes", Long.toString(budget), "--body-timeout", "5m"));
    List<java.net.Socket> uploads = new ArrayList<>();
    try {
      // when: 200 connections each declare 1 MiB, send 14 bytes of it and stall
      List<CompletableFuture<String>> answers = new ArrayList<>();
      java.util.concurrent.atomic.AtomicInteger answered =
          new java.util.concurrent.atomic.AtomicInteger();
      java.util.concurrent.CountDownLatch refusals = new java.util.concurrent.CountDownLatch(196);
      for (int i = 0; i < 200; i++) {
        java.net.Socket socket = new java.net.Socket("127.0.0.1", served.port);
        uploads.add(socket);
        socket
            .getOutputStream()
            .write(
                ("POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json"
                        + "\r\nContent-Length: "
                        + mebibyte
                        + "\r\n\r\n{\"payloads\": [")
                    .getBytes(UTF_8));
        CompletableFuture<String> answer = new CompletableFuture<>();
        answers.add(answer);
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    answer.complete(HostileInputTest.readResponse(socket.getInputStream()));
                  } catch (IOException e) {
                    answer.completeExceptionally(e);
                  }
                  answered.incrementAndGet();
                  refusals.countDown();
                });
      }
      refusals.await(60, TimeUnit.SECONDS);

      // then: four hold their reservation and wait; every other one was refused at once
      List<String> refused = new ArrayList<>();
      for (CompletableFuture<String> a : answers) {
        if (a.isDone()) {
          refused.add(a.join());
        }
      }
      assertEquals(196, refused.size(), "answered while four uploads stall\n" + served.output());
      for (String response : refused) {
        HostileInputTest.assertError(response, 503, "server_busy");
        assertTrue(response.contains("\r\nRetry-After: 1\r\n"), response);
      }
      String metrics = send(served.port, "/metrics", "GET", null).body();
      assertTrue(metrics.contains("sluice_http_body_bytes_in_flight " + (4.0 * mebibyte)), metrics);
      // and while the four stall, small batches are accepted, up to 64 KiB, a byte more is not
      // (the four fill the share large bodies may use), and the process lives
      HttpResponse<String> small = send(served.port, "/v1/payloads", "POST", "{\"payloads\": [1]}");
      assertEquals(202, small.statusCode(), small.body());
      String largestSmall = "{\"payloads\": [\"" + "x".repeat(65_536 - 18) + "\"]}";
      assertEquals(65_536, largestSmall.length());
      HttpResponse<String> accepted = send(served.port, "/v1/payloads", "POST", largestSmall);
      assertEquals(202, accepted.statusCode(), accepted.body());
      try (java.net.Socket large = new java.net.Socket("127.0.0.1", served.port)) {
        large.setSoTimeout(20_000);
        large
            .getOutputStream()
            .write(
                ("POST /v1/payloads HTTP/1.1\r\nHost: test\r\nContent-Type: application/json"
                        + "\r\nContent-Length: 65537\r\n\r\n")
                    .getBytes(UTF_8));
        HostileInputTest.assertError(
            HostileInputTest.readResponse(large.getInputStream()), 503, "server_busy");
      }
      assertTrue(served.process.isAlive(), served.output());
      assertEquals(196, answered.get(), "the four stalled uploads are still unanswered");
    } finally {
      for (java.net.Socket s : uploads) {
        s.close();
      }
      served.process.toHandle().destroy();
      served.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void loadPastTheQueuesRoomIsRefusedWith429InBoundedMemoryAndA202ComesBackOnceItDrains()
      throws Exception {
    // given: one upload worker, held by the S3 store until released, so the queue cannot drain;
    // room for 16 MiB of payloads waiting and 8 MiB of bodies being received
    long queueBytes = 16L << 20;
    long inflightBytes = 8L << 20;
    try (HeldS3 s3 = HeldS3.start()) {
      List<String> args = new ArrayList<>(s3.args());
      args.addAll(
          List.of(
              "--workers",
              "1",
              "--queue-bytes",
              Long.toString(queueBytes),
              "--max-inflight-body-bytes",
              Long.toString(inflightBytes)));
      Served served = Served.start(dataDir, "-Xmx256m", args);
      try {
        String body = "{\"payloads\": [\"" + "x".repeat(256 * 1024) + "\"]}";
        assertEquals(202, send(served.port, "/v1/payloads", "POST", body).statusCode());
        s3.awaitHeld();
        long baseline = liveHeapBytes(served.process);

        // when: 16 clients post 256 KiB payloads without pause, past the queue's room
        Map<Integer, java.util.concurrent.atomic.AtomicInteger> statuses =
            new ConcurrentHashMap<>();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        for (int c = 0; c < 16; c++) {
          clients.add(
              Thread.ofVirtual()
                  .start(
                      () -> {
                        while (running.get()) {
                          try {
                            int status =
                                send(served.port, "/v1/payloads", "POST", body).statusCode();
                            statuses
                                .computeIfAbsent(
                                    status, k -> new java.util.concurrent.atomic.AtomicInteger())
                                .incrementAndGet();
                          } catch (Exception e) {
                            statuses
                                .computeIfAbsent(
                                    -1, k -> new java.util.concurrent.atomic.AtomicInteger())
                                .incrementAndGet();
                          }
                        }
                      }));
        }
        long highest = 0;
        int samples = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while ((samples < 5 || count(statuses, 429) < 200) && System.nanoTime() < deadline) {
          highest = Math.max(highest, liveHeapBytes(served.process));
          samples++;
        }
        running.set(false);
        for (Thread t : clients) {
          t.join();
        }

        // then: the queue filled and the rest was refused with 429, never anything else
        assertTrue(count(statuses, 429) >= 200, "429s: " + statuses);
        assertEquals(
            java.util.Set.of(202, 429),
            statuses.keySet(),
            "statuses: " + statuses + served.output());
        // and the live heap stayed within what the limits let the service hold: the payloads
        // waiting, the bodies being received three times over (body, payload copies, journal
        // record), and 16 MiB for everything else the load brings
        long bound = baseline + queueBytes + 3 * inflightBytes + (16L << 20);
        assertTrue(
            highest <= bound,
            "live heap " + highest + " bytes, above " + bound + " (baseline " + baseline + ")");
        assertTrue(served.process.isAlive(), served.output());

        // and once the load stops, the queue is still full until the uploads run
        assertEquals(429, send(served.port, "/v1/payloads", "POST", body).statusCode());
        s3.release();
        HttpResponse<String> again = send(served.port, "/v1/payloads", "POST", body);
        long drainDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (again.statusCode() == 429 && System.nanoTime() < drainDeadline) {
          Thread.sleep(50);
          again = send(served.port, "/v1/payloads", "POST", body);
        }
        assertEquals(202, again.statusCode(), again.body());
      } finally {
        served.process.toHandle().destroy();
        served.process.waitFor(120, TimeUnit.SECONDS);
      }
    }
  }

  private static int count(Map<Integer, java.util.concurrent.atomic.AtomicInteger> s, int status) {
    java.util.concurrent.atomic.AtomicInteger n = s.get(status);
    return n == null ? 0 : n.get();
  }

  /**
   * The bytes of the objects reachable in the process's heap: {@code jcmd GC.class_histogram}
   * collects first, so garbage is not counted.
   */
  private static long liveHeapBytes(Process process) throws Exception {
    Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
    Process jcmd =
        new ProcessBuilder(
                java.resolveSibling("jcmd").toString(),
                Long.toString(process.pid()),
                "GC.class_histogram")
            .redirectErrorStream(true)
            .start();
    String out = new String(jcmd.getInputStream().readAllBytes(), UTF_8);
    assertTrue(jcmd.waitFor(60, TimeUnit.SECONDS), "jcmd finished");
    Matcher total = Pattern.compile("(?m)^Total\\s+\\d+\\s+(\\d+)\\s*$").matcher(out);
    assertTrue(total.find(), "no total in the class histogram:\n" + out);
    return Long.parseLong(total.group(1));
  }

  private HttpResponse<String> send(int port, String path, String method, String json)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
            .timeout(Duration.ofSeconds(30))
            .header("Content-Type", "application/json");
    b.method(
        method,
        json == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(json));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /**
   * Restarts the service and waits until each accepted payload is its object, byte for byte. (A job
   * finished before the restart is no longer known to the new process, so the check is on the
   * objects, found by their file name: the job id.)
   */
  private void assertEveryAcceptedPayloadUploaded(Map<String, String> accepted) throws Exception {
    assertTrue(accepted.size() >= 200, "enough load: " + accepted.size());
    Served again = Served.start(dataDir);
    try {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      Map<String, Path> objects = objectsById();
      while (!objects.keySet().containsAll(accepted.keySet()) && System.nanoTime() < deadline) {
        Thread.sleep(50);
        objects = objectsById();
      }
      for (Map.Entry<String, String> e : accepted.entrySet()) {
        Path object = objects.get(e.getKey());
        assertTrue(object != null, "no object for accepted payload " + e.getKey());
        assertArrayEquals(
            e.getValue().getBytes(UTF_8), Files.readAllBytes(object), object.toString());
      }
    } finally {
      again.process.toHandle().destroy();
      again.process.waitFor(60, TimeUnit.SECONDS);
    }
  }

  private Map<String, Path> objectsById() throws IOException {
    return ObjectFiles.json(dataDir.resolve("objects")).stream()
        .collect(
            java.util.stream.Collectors.toMap(
                f -> f.getFileName().toString().replace(".json", ""), f -> f));
  }

  /** A {@code sluice serve} child process on a free port. */
  private record Served(Process process, int port, StringBuilder log, Thread reader) {
    static Served start(Path dataDir) throws Exception {
      return start(dataDir, "-Xmx512m", List.of());
    }

    static Served start(Path dataDir, String maxHeap) throws Exception {
      return start(dataDir, maxHeap, List.of());
    }

    static Served start(Path dataDir, List<String> extraArgs) throws Exception {
      return start(dataDir, "-Xmx512m", extraArgs);
    }

    static Served start(Path dataDir, String maxHeap, List<String> extraArgs) throws Exception {
      return start(dataDir, maxHeap, extraArgs, 0);
    }

    /**
     * A service whose files may not grow past {@code fileSizeLimitKiB} (the shell's {@code ulimit
     * -f}, RLIMIT_FSIZE; 0 for no limit): writing past it fails with EFBIG (the JVM ignores
     * SIGXFSZ), a real I/O failure.
     */
    static Served start(Path dataDir, String maxHeap, List<String> extraArgs, long fileSizeLimitKiB)
        throws Exception {
      return launch(dataDir, maxHeap, extraArgs, fileSizeLimitKiB, Main.class, true);
    }

    /**
     * A service held at its first journal replay progress report ({@link HeldServe}) until {@link
     * #releaseHold()}; it does not listen yet, so its port is -1.
     */
    static Served startHeld(Path dataDir, List<String> extraArgs) throws Exception {
      Served served = launch(dataDir, "-Xmx512m", extraArgs, 0, HeldServe.class, false);
      served.awaitOutput(HeldServe.HELD);
      return served;
    }

    private static Served launch(
        Path dataDir,
        String maxHeap,
        List<String> extraArgs,
        long fileSizeLimitKiB,
        Class<?> main,
        boolean awaitPort)
        throws Exception {
      String classPath = String.join(File.pathSeparator, System.getProperty("java.class.path"));
      String java = ProcessHandle.current().info().command().orElse("java");
      List<String> command =
          new ArrayList<>(
              List.of(
                  java,
                  "-cp",
                  classPath,
                  maxHeap,
                  "-XX:+ExitOnOutOfMemoryError",
                  "--enable-native-access=ALL-UNNAMED",
                  main.getName(),
                  "serve",
                  "--port",
                  "0",
                  "--host",
                  "127.0.0.1",
                  "--data-dir",
                  dataDir.toString(),
                  "--workers",
                  "8",
                  "--object-writers",
                  "3"));
      if (extraArgs.contains("--workers")) {
        command.subList(command.indexOf("--workers"), command.indexOf("--workers") + 2).clear();
      }
      command.addAll(extraArgs);
      if (!extraArgs.contains("--shutdown-grace")) {
        command.addAll(List.of("--shutdown-grace", "5s"));
      }
      if (fileSizeLimitKiB > 0) {
        command.addAll(
            0, List.of("bash", "-c", "ulimit -f " + fileSizeLimitKiB + " && exec \"$@\"", "bash"));
      }
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      StringBuilder log = new StringBuilder();
      CompletableFuture<Integer> port = new CompletableFuture<>();
      Thread reader =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try (BufferedReader in =
                        new BufferedReader(
                            new InputStreamReader(process.getInputStream(), UTF_8))) {
                      String line;
                      while ((line = in.readLine()) != null) {
                        synchronized (log) {
                          log.append(line).append('\n');
                          log.notifyAll();
                        }
                        Matcher m = LISTENING.matcher(line);
                        if (line.startsWith("sluice: listening") && m.find()) {
                          port.complete(Integer.parseInt(m.group(1)));
                        }
                      }
                    } catch (IOException e) {
                      port.completeExceptionally(e);
                    } finally {
                      port.completeExceptionally(
                          new IllegalStateException("the service exited:\n" + log));
                    }
                  });
      return new Served(process, awaitPort ? port.get(120, TimeUnit.SECONDS) : -1, log, reader);
    }

    /** Lets a {@link #startHeld} service go on with its start. */
    void releaseHold() throws IOException {
      process.getOutputStream().write('\n');
      process.getOutputStream().flush();
    }

    /** Waits until the process has printed a line containing {@code text}. */
    void awaitOutput(String text) throws InterruptedException {
      synchronized (log) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (log.indexOf(text) < 0) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new AssertionError("the service never printed '" + text + "':\n" + log);
          }
          TimeUnit.NANOSECONDS.timedWait(log, left);
        }
      }
    }

    /** Everything the process printed; waits for the end of its output once it has exited. */
    String output() throws InterruptedException {
      if (!process.isAlive()) {
        reader.join();
      }
      synchronized (log) {
        return log.toString();
      }
    }
  }

  /** Posts batches from a few virtual threads and records every 202'd id with its payload. */
  private static final class Load {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, String> accepted;

    private Load(Map<String, String> accepted) {
      this.accepted = accepted;
    }

    static Load start(HttpClient http, int port, Map<String, String> accepted) {
      Load load = new Load(accepted);
      for (int t = 0; t < 4; t++) {
        int thread = t;
        load.threads.add(Thread.ofVirtual().start(() -> load.run(http, port, thread)));
      }
      return load;
    }

    private void run(HttpClient http, int port, int thread) {
      Pattern idPattern = Pattern.compile("\"([0-9a-f-]{36})\"");
      for (int n = 0; running.get(); n++) {
        List<String> payloads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          payloads.add(
              "{\"t\":"
                  + thread
                  + ",\"n\":"
                  + n
                  + ",\"i\":"
                  + i
                  + ",\"pad\":\""
                  + "x".repeat(50)
                  + "\"}");
        }
        String body = "{\"payloads\": [" + String.join(",", payloads) + "]}";
        try {
          HttpResponse<String> r =
              http.send(
                  HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/payloads"))
                      .header("Content-Type", "application/json")
                      .timeout(Duration.ofSeconds(10))
                      .POST(HttpRequest.BodyPublishers.ofString(body))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 202) {
            Matcher m = idPattern.matcher(r.body());
            for (int i = 0; m.find(); i++) {
              accepted.put(m.group(1), payloads.get(i));
            }
          }
        } catch (IOException e) {
          // the service went away mid-request: that request has no 202
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    void awaitAccepted(int count) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (accepted.size() < count) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("only " + accepted.size() + " payloads accepted");
        }
        Thread.sleep(10);
      }
    }

    void stop() throws InterruptedException {
      running.set(false);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  /**
   * A scripted S3 on loopback for the service's S3 store: answers HeadBucket and PutObject, keeps
   * each object, and holds the first upload until {@link #release}.
   */
  private static final class HeldS3 implements AutoCloseable {
    private final com.sun.net.httpserver.HttpServer server;
    private final Map<String, byte[]> objects = new java.util.HashMap<>();
    private final java.util.concurrent.CountDownLatch held =
        new java.util.concurrent.CountDownLatch(1);
    private final java.util.concurrent.CountDownLatch release =
        new java.util.concurrent.CountDownLatch(1);
    private final AtomicBoolean first = new AtomicBoolean(true);

    private HeldS3(com.sun.net.httpserver.HttpServer server) {
      this.server = server;
    }

    static HeldS3 start() throws IOException {
      com.sun.net.httpserver.HttpServer server =
          com.sun.net.httpserver.HttpServer.create(
              new java.net.InetSocketAddress(java.net.InetAddress.getLoopbackAddress(), 0), 0);
      server.setExecutor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor());
      HeldS3 s3 = new HeldS3(server);
      server.createContext("/", s3::answer);
      server.start();
      return s3;
    }

    List<String> args() {
      return List.of(
          "--store",
          "s3",
          "--s3-bucket",
          "drain",
          "--s3-endpoint",
          "http://127.0.0.1:" + server.getAddress().getPort(),
          "--s3-path-style",
          "--s3-region",
          "us-east-1",
          "--s3-access-key-id",
          "test",
          "--s3-secret-access-key",
          "test",
          // the held upload must not time out: it ends when the test releases it
          "--s3-timeout",
          "10m",
          "--upload-timeout",
          "30m",
          "--shutdown-grace",
          "120s");
    }

    private void answer(com.sun.net.httpserver.HttpExchange exchange) throws IOException {
      try (exchange) {
        byte[] body = exchange.getRequestBody().readAllBytes();
        if (exchange.getRequestMethod().equals("PUT")) {
          String path = exchange.getRequestURI().getPath();
          String id = path.substring(path.lastIndexOf('/') + 1).replace(".json", "");
          synchronized (objects) {
            objects.put(id, body);
            objects.notifyAll();
          }
          if (first.getAndSet(false)) {
            held.countDown();
            release.await();
          }
        }
        exchange.getResponseHeaders().add("ETag", "\"0123456789abcdef\"");
        exchange.sendResponseHeaders(200, -1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    void awaitHeld() throws InterruptedException {
      assertTrue(held.await(60, TimeUnit.SECONDS), "an upload arrived");
    }

    void awaitUploadsOf(java.util.Set<String> ids) throws InterruptedException {
      synchronized (objects) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!objects.keySet().containsAll(ids)) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            java.util.Set<String> missing = new java.util.TreeSet<>(ids);
            missing.removeAll(objects.keySet());
            throw new AssertionError(
                missing.size()
                    + " of "
                    + ids.size()
                    + " uploads missing after 60 s ("
                    + objects.size()
                    + " arrived), e.g. "
                    + missing.iterator().next());
          }
          TimeUnit.NANOSECONDS.timedWait(objects, left);
        }
      }
    }

    void release() {
      release.countDown();
    }

    Map<String, byte[]> objectsById() {
      synchronized (objects) {
        return Map.copyOf(objects);
      }
    }

    @Override
    public void close() {
      release.countDown();
      server.stop(0);
    }
  }
}
