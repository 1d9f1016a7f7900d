package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.journal.HookedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * A durable store over a disk that hangs: the journal's real segment files, opened through a
 * HookedChannel gate that holds a force for as long as the test wants and then lets it complete or
 * fail. The journal measures time with System.nanoTime, so the thresholds and timeouts here are
 * small real durations; the tests wait on what the store reports, never on time, and assert no
 * timing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class StoreStallTest {
  private static final byte[] PAYLOAD = "{\"p\":1}".getBytes(UTF_8);

  @TempDir Path dir;
  private final HookedChannel.Gate gate = new HookedChannel.Gate();

  private JobStoreOptions options(int capacity) {
    return JobStoreOptions.defaults()
        .withDirectory(dir)
        .withCapacity(capacity)
        .withSegmentBytes(1 << 20)
        .withDirectIo(false);
  }

  private LocalJobStore open(JobStoreOptions options) throws Exception {
    return JournalLog.openStore(options, gate.opener());
  }

  private static List<JobSpec> batch(int n) {
    List<JobSpec> specs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      specs.add(JobSpec.of("t", PAYLOAD));
    }
    return specs;
  }

  /** Holds the next force until the returned latch is counted down; waits until it is held. */
  private CountDownLatch hangNextForce(boolean fail) {
    return gate.armNextForce(new CountDownLatch(1), fail);
  }

  @Test
  void
      aSubmitNotConfirmedInTimeThrowsDurabilityUnknownWithItsIdsAndItsJobsQueueOnceTheDiskRecovers()
          throws Exception {
    // given a store whose disk hangs in the next force; a stall threshold too long to be reached
    LocalJobStore store =
        open(
            options(3)
                .withAckTimeout(Duration.ofMillis(20))
                .withStallThreshold(Duration.ofMinutes(10)));
    CountDownLatch release = hangNextForce(false);

    // when a batch of two is submitted
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.submit(batch(2), Duration.ZERO));

    // then the exception names its two jobs and says the outcome is unknown
    assertEquals(2, unknown.ids().size());
    assertEquals(Duration.ofMillis(20), unknown.timeout());
    assertTrue(unknown.getMessage().contains("may or may not be recorded"), unknown.getMessage());
    assertInstanceOf(JobStoreException.class, unknown);
    // and their room stays taken while the journal holds them: another two do not fit
    assertEquals(2, store.occupiedRoom());
    assertEquals(2L * PAYLOAD.length, store.counts().payloadBytes());
    Admission full = store.submit(batch(2), Duration.ZERO);
    assertEquals(
        Admission.Reason.QUEUE_FULL, assertInstanceOf(Admission.Rejected.class, full).reason());
    assertTrue(store.find(unknown.ids().getFirst()).isEmpty(), "not queued before it is durable");

    // when the disk recovers
    release.countDown();

    // then both jobs are queued as if the submit had returned, and can be claimed
    Set<JobId> claimed = new HashSet<>();
    while (claimed.size() < 2) {
      claimed.add(store.claim(type -> true).orElseThrow().id());
    }
    assertEquals(Set.copyOf(unknown.ids()), claimed);
    assertEquals(2, store.counts().submitted());
    assertEquals(2, store.occupiedRoom());
    store.close();
    store.checkInvariants();
    store.checkHomes();

    // and they are in the journal
    try (LocalJobStore again = LocalJobStore.open(options(3))) {
      assertEquals(Set.copyOf(unknown.ids()), again.liveIds());
    }
  }

  @Test
  void aSubmitNotConfirmedInTimeGivesItsRoomBackIfTheHungForceFails() throws Exception {
    // given a batch that was not confirmed in time behind a force that will fail
    LocalJobStore store =
        open(
            options(3)
                .withAckTimeout(Duration.ofMillis(20))
                .withStallThreshold(Duration.ofMinutes(10)));
    CountDownLatch release = hangNextForce(true);
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.submit(batch(2), Duration.ZERO));
    assertEquals(2, store.occupiedRoom());

    // when the force fails
    release.countDown();

    // then the room and the bytes are given back, and the jobs never appear
    while (store.occupiedRoom() != 0) {
      Thread.yield(); // the journal's writer gives it back as it fails the append
    }
    assertEquals(0, store.counts().payloadBytes());
    assertTrue(store.find(unknown.ids().getFirst()).isEmpty());
    assertEquals(0, store.counts().submitted());
    // and the store now refuses batches as a failed journal's
    JobStoreException failed =
        assertThrows(JobStoreException.class, () -> store.submit(batch(1), Duration.ZERO));
    assertEquals(JobStoreException.class, failed.getClass());
    store.close();
    store.checkInvariants();
    store.checkHomes();
  }

  @Test
  void aSubmitWhileTheJournalIsStalledIsRefusedAtOnceAndAcceptedAgainAfterItResumes()
      throws Exception {
    // given a store whose journal has stalled with one batch waiting on it
    StallObserver observer = new StallObserver();
    LocalJobStore store =
        open(
            options(10)
                .withAckTimeout(Duration.ofMinutes(10))
                .withStallThreshold(Duration.ofMillis(20))
                .withObserver(observer));
    CountDownLatch release = hangNextForce(false);
    CompletableFuture<Admission> waiting = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                waiting.complete(store.submit(batch(1), Duration.ZERO));
              } catch (Throwable t) {
                waiting.completeExceptionally(t);
              }
            });
    observer.stalled.await();

    // when another batch is submitted, then it is refused at once, and takes no room
    JournalStalledException refused =
        assertThrows(JournalStalledException.class, () -> store.submit(batch(3), Duration.ZERO));
    assertTrue(refused.getMessage().contains("nothing of it was recorded"), refused.getMessage());
    assertEquals(1, store.occupiedRoom());
    assertFalse(waiting.isDone());

    // and when the disk recovers, the waiting batch is accepted and new ones are again
    release.countDown();
    assertInstanceOf(Admission.Accepted.class, waiting.get());
    observer.resumed.await();
    assertInstanceOf(Admission.Accepted.class, store.submit(batch(3), Duration.ZERO));
    assertEquals(4, store.counts().queued());
    store.close();
    store.checkInvariants();
    store.checkHomes();
  }

  @Test
  void anEngineRunsTheJobsOfABatchWhoseDurabilityWasUnknownOnceTheDiskRecovers() throws Exception {
    // given an engine over a store whose disk hangs in the next force
    LocalJobStore store =
        open(
            options(10)
                .withAckTimeout(Duration.ofMillis(20))
                .withStallThreshold(Duration.ofMinutes(10)));
    Set<JobId> ran = ConcurrentHashMap.newKeySet();
    CountDownLatch bothRan = new CountDownLatch(2);
    JobEngine engine =
        JobEngine.builder(store)
            .workers(2)
            .handle(
                "t",
                (job, ctx) -> {
                  ran.add(job.id());
                  bothRan.countDown();
                })
            .start();
    CountDownLatch release = hangNextForce(false);

    // when a submit is not confirmed in time
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> engine.submit(batch(2)));

    // then its jobs run once the disk recovers
    release.countDown();
    bothRan.await();
    assertEquals(Set.copyOf(unknown.ids()), ran);
    assertTrue(engine.shutdown(Duration.ofSeconds(30)));
    store.checkInvariants();
  }

  @Test
  void theAckTimeoutAndStallThresholdMustBeAtLeastOneMillisecond() {
    JobStoreOptions defaults = JobStoreOptions.defaults();
    assertEquals(JobStoreOptions.DEFAULT_ACK_TIMEOUT, defaults.ackTimeout());
    assertEquals(JobStoreOptions.DEFAULT_STALL_THRESHOLD, defaults.stallThreshold());
    assertThrows(IllegalArgumentException.class, () -> defaults.withAckTimeout(Duration.ZERO));
    assertThrows(
        IllegalArgumentException.class, () -> defaults.withStallThreshold(Duration.ofNanos(1)));
  }
}
