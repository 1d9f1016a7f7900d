package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.Admission;
import io.sluice.jobs.HungDisk;
import io.sluice.jobs.JobSpec;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.server.objects.FilesystemObjectStore;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A start that fails part way closes, in reverse order, everything it had opened: the HTTP server,
 * the journal (its threads and its directory's lock) and the object store (its writer threads). So
 * a second start on the same data directory succeeds at once and replays the journal. Real
 * components throughout: a real port, a real journal, a real filesystem store. On a disk that hangs
 * (a HungDisk, which holds the journal's real fsync), the journal cannot be closed: the start gives
 * up on it as a stop does, and says so.
 */
@Timeout(60)
class StartFailureTest {
  @TempDir Path dataDir;

  private final List<SluiceServer> servers = new ArrayList<>();

  @AfterEach
  void closeServers() {
    servers.forEach(SluiceServer::close);
  }

  private ServerConfig config(int port) {
    return ServerConfig.defaults(dataDir).withPort(port).withShutdownGrace(Duration.ofSeconds(5));
  }

  private FilesystemObjectStore objects() throws IOException {
    return FilesystemObjectStore.open(dataDir.resolve("objects"));
  }

  private SluiceServer started(SluiceServer server) {
    servers.add(server);
    return server;
  }

  /** One accepted payload in the journal, not yet uploaded: what a start must replay. */
  private void givenAJournalWithOnePendingPayload() throws Exception {
    JobStoreOptions options =
        JobStoreOptions.defaults().withDirectory(dataDir.resolve("journal")).withCapacity(10);
    try (JobStore store = JobStore.open(options)) {
      Admission admission =
          store.submit(
              List.of(JobSpec.of(IngestApi.PAYLOAD_TYPE, "{\"n\": 1}".getBytes(UTF_8))),
              Duration.ZERO);
      assertInstanceOf(Admission.Accepted.class, admission);
    }
  }

  /** Waits (asking again, without sleeping) until the replayed payload has been uploaded. */
  private void awaitTheReplayedPayloadUploaded() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (ObjectFiles.json(dataDir.resolve("objects")).isEmpty()) {
      assertTrue(System.nanoTime() < deadline, "the journal's payload was never uploaded");
      Thread.yield();
    }
    assertEquals(1, ObjectFiles.json(dataDir.resolve("objects")).size());
  }

  @Test
  void aStartOnAPortInUseFailsWithABindExceptionLeavesNoThreadAndFreesTheDataDirectory()
      throws Exception {
    // given a journal holding a payload, and the port taken by another socket
    givenAJournalWithOnePendingPayload();
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0));

      // when a service starts on that port
      IOException refused =
          assertThrows(
              IOException.class,
              () -> started(SluiceServer.start(config(taken.getLocalPort()), objects(), p -> {})));

      // then it fails with a typed error that names the port, and every thread it started ends
      assertInstanceOf(BindException.class, refused, refused.toString());
      assertTrue(
          refused.getMessage().contains(String.valueOf(taken.getLocalPort())),
          refused.getMessage());
      assertNoThreadLeftSince(before);
    }

    // and a start on a free port with the same data directory succeeds and replays the journal
    started(SluiceServer.start(config(0), objects(), p -> {}));
    awaitTheReplayedPayloadUploaded();
  }

  @Test
  void aJournalThatCannotBeOpenedFreesThePortAndLeavesNoThread() throws Exception {
    // given a data directory whose journal path is taken by a file, and a free port
    Files.writeString(dataDir.resolve("journal"), "not a directory");
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Set<Thread> before = Thread.getAllStackTraces().keySet();

    // when a service starts there
    assertThrows(
        IOException.class, () -> started(SluiceServer.start(config(port), objects(), p -> {})));

    // then every thread it started ends, and the port is free again
    assertNoThreadLeftSince(before);
    Files.delete(dataDir.resolve("journal"));
    givenAJournalWithOnePendingPayload();
    started(SluiceServer.start(config(port), objects(), p -> {}));
    awaitTheReplayedPayloadUploaded();
  }

  @Test
  void aStepThatFailsAfterTheJournalOpenedClosesTheJournalAndFreesItsDirectory() throws Exception {
    // given a journal holding a payload, and a start whose object store is closed (by its user)
    // while the journal is replayed, so that the step after the replay fails
    givenAJournalWithOnePendingPayload();
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    FilesystemObjectStore closedDuringReplay = objects();
    SluiceServer.StartObserver closeTheStore =
        new SluiceServer.StartObserver() {
          @Override
          public void replayProgress(long percent) {
            closedDuringReplay.close();
          }
        };

    // when it starts
    RuntimeException failed =
        assertThrows(
            IllegalStateException.class,
            () -> started(SluiceServer.start(config(0), closedDuringReplay, closeTheStore)));

    // then the failure is the step's own, every thread the start opened ends, and a start on the
    // same data directory replays the journal (the first one's lock is released)
    assertTrue(failed.getMessage().contains("closed"), failed.getMessage());
    assertNoThreadLeftSince(before);
    started(SluiceServer.start(config(0), objects(), p -> {}));
    awaitTheReplayedPayloadUploaded();
  }

  @Test
  // on a thread of its own: a rollback that hangs through interrupts (the defect) fails the test
  @Timeout(value = 60, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
  void aStartThatFailsAfterTheEngineOpenedOnAHungDiskGivesUpOnTheJournalAndSaysSo()
      throws Exception {
    // given a disk that hangs in the journal's next fsync, and a start whose store, once open,
    // takes a payload that waits for that fsync, and whose schedules cannot be read, so that the
    // step after the engine opened (the scheduler's start) fails while the disk hangs
    HungDisk disk = new HungDisk();
    CountDownLatch forceHangs = new CountDownLatch(1);
    AtomicReference<CountDownLatch> release = new AtomicReference<>();
    IllegalStateException unreadable =
        new IllegalStateException("injected: the store's schedules cannot be read");
    SluiceServer.StoreOpener hangsThenFails =
        options -> {
          JobStore store = disk.open(options);
          release.set(disk.hangNextForce(forceHangs));
          Thread.ofVirtual().start(() -> submitOnePayload(store));
          Latches.awaitUninterruptibly(forceHangs);
          return schedulesFail(store, unreadable);
        };
    ServerConfig config =
        config(0)
            .withShutdownGrace(Duration.ZERO)
            .withJournalTimeouts(Duration.ofMillis(50), Duration.ofMillis(200));
    AtomicInteger port = new AtomicInteger();
    SluiceServer.StartObserver observer =
        new SluiceServer.StartObserver() {
          @Override
          public void listening(int p) {
            port.set(p);
          }
        };

    // when it starts, then the start fails with the step's own failure, once it gave up closing
    // the journal, which it reports with it
    RuntimeException failed =
        assertThrows(
            IllegalStateException.class,
            () -> started(SluiceServer.start(config, objects(), observer, hangsThenFails)));
    assertSame(unreadable, failed);
    List<Throwable> notClosed =
        Arrays.stream(failed.getSuppressed())
            .filter(t -> t instanceof SluiceServer.JournalNotClosedException)
            .toList();
    assertEquals(1, notClosed.size(), Arrays.toString(failed.getSuppressed()));
    String message = notClosed.getFirst().getMessage();
    assertTrue(message.contains(dataDir.resolve("journal").toString()), message);
    assertTrue(message.contains("disk may be hung"), message);
    // and the line that reports a failed start (ServeCommand) carries it after the failure's own
    ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    ServeCommand.printCannotStart(new PrintStream(stderr, true, UTF_8), failed);
    assertEquals(
        "sluice: cannot start: " + unreadable.getMessage() + "; also: " + message + "\n",
        stderr.toString(UTF_8).replace(System.lineSeparator(), "\n"));
    // and the HTTP server stopped
    assertThrows(
        IOException.class,
        () -> new Socket(InetAddress.getLoopbackAddress(), port.get()).close(),
        "the HTTP server stopped");

    // when the disk recovers, the journal closes and frees its directory; a start on it succeeds
    // (it cannot while that journal holds it) and uploads the payload
    release.get().countDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        started(SluiceServer.start(config(0), objects(), p -> {}));
        break;
      } catch (IOException e) {
        if (System.nanoTime() > deadline || !e.getMessage().contains("in use")) {
          throw e;
        }
        Thread.yield();
      }
    }
    awaitTheReplayedPayloadUploaded();
  }

  /** Submits one payload; its outcome (unknown while the disk hangs) does not matter here. */
  private static void submitOnePayload(JobStore store) {
    try {
      store.submit(
          List.of(JobSpec.of(IngestApi.PAYLOAD_TYPE, "{\"n\": 1}".getBytes(UTF_8))), Duration.ZERO);
    } catch (RuntimeException | InterruptedException e) {
      // DurabilityUnknownException once the acknowledgement timeout passed: it becomes durable
      // when the disk recovers
    }
  }

  /** {@code store}, except that {@link JobStore#schedules()} throws {@code failure}. */
  private static JobStore schedulesFail(JobStore store, RuntimeException failure) {
    return (JobStore)
        Proxy.newProxyInstance(
            JobStore.class.getClassLoader(),
            new Class<?>[] {JobStore.class},
            (proxy, method, args) -> {
              if (method.getName().equals("schedules") && method.getParameterCount() == 0) {
                throw failure;
              }
              try {
                return method.invoke(store, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }

  /**
   * Every platform thread started since {@code before} ends (join waits for it, up to a bound far
   * beyond what it needs), except the ones started once per process.
   */
  private static void assertNoThreadLeftSince(Set<Thread> before) throws InterruptedException {
    List<Thread> started =
        Thread.getAllStackTraces().keySet().stream()
            .filter(t -> !before.contains(t) && !processWide(t))
            .toList();
    for (Thread t : started) {
      t.join(Duration.ofSeconds(10));
      assertFalse(t.isAlive(), t.getName() + " still runs after the failed start");
    }
  }

  /**
   * Threads one per process, started by whichever test came first: virtual-thread carriers and
   * their unblocker, Helidon's timers, the timer wheel.
   */
  private static boolean processWide(Thread t) {
    String name = t.getName();
    return name.startsWith("ForkJoinPool")
        || name.equals("VirtualThread-unblocker")
        || name.startsWith("helidon-")
        || name.equals("sluice-timer");
  }
}
