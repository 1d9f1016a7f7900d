package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.journal.HookedChannel;
import io.sluice.jobs.journal.PowerLossDisk;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * Retrying and deleting a dead letter are durable before they return, as a submit is: a power cut
 * right after the answer keeps the change (PowerLossDisk models what the device holds after the
 * cut: what was forced, and the writes since, torn at random), and a change the journal cannot
 * write fails with the store's typed exceptions and leaves the dead letter as it was. Each test
 * first makes one dead letter in a store it then closes, so that its records are on the device
 * whatever happens next.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class DeadLetterDurabilityTest {
  private static final byte[] PAYLOAD = "{\"p\":1}".getBytes(UTF_8);
  private static final int IMAGES = 8; // crash images per cut, each torn at random

  @TempDir Path tmp;
  private Path dir; // the journal

  @BeforeEach
  void journalDirectory() {
    dir = tmp.resolve("journal");
  }

  private JobStoreOptions options(Path directory) {
    return JobStoreOptions.defaults()
        .withDirectory(directory)
        .withCapacity(4)
        .withSegmentBytes(1 << 20)
        .withDirectIo(false);
  }

  /**
   * A journal in {@code dir} holding one dead letter, durably: the store that made it is closed.
   */
  private JobId deadLetter() throws Exception {
    try (LocalJobStore store = LocalJobStore.open(options(dir))) {
      Admission a = store.submit(List.of(JobSpec.of("t", PAYLOAD)), Duration.ZERO);
      JobId id = assertInstanceOf(Admission.Accepted.class, a).ids().getFirst();
      store.failed(store.claim(type -> true).orElseThrow().id(), "fatal", Optional.empty());
      return id;
    }
  }

  /** Opens, over {@code image}, the store a restart after the cut would find. */
  private LocalJobStore reopenImage(PowerLossDisk disk, long seed) throws Exception {
    Path image = tmp.resolve("image-" + seed);
    disk.crashImage(dir, image, new SplittableRandom(seed));
    return LocalJobStore.open(options(image));
  }

  @Test
  void aDeadLetterRetriedJustBeforeAPowerCutIsQueuedAfterTheRestart() throws Exception {
    // given a dead letter in a store over a disk that will lose power
    JobId id = deadLetter();
    PowerLossDisk disk = new PowerLossDisk();
    LocalJobStore store = JournalLog.openStore(options(dir), disk.opener());

    // when it is retried, and the power goes the moment retryDead returns
    assertEquals(new Admission.Accepted(List.of(id)), store.retryDead(id));
    disk.cutNow();
    store.close();

    // then every state the device may be left in has it queued again, attempts counted anew
    for (long seed = 0; seed < IMAGES; seed++) {
      try (LocalJobStore again = reopenImage(disk, seed)) {
        Job job = again.find(id).orElseThrow();
        assertEquals(JobState.QUEUED, job.state(), "crash image " + seed);
        assertEquals(0, job.attempts());
        assertEquals(List.of(), again.deadLetters(Optional.empty(), 10));
      }
    }
  }

  @Test
  void aDeadLetterDeletedJustBeforeAPowerCutIsGoneAfterTheRestart() throws Exception {
    // given a dead letter in a store over a disk that will lose power
    JobId id = deadLetter();
    PowerLossDisk disk = new PowerLossDisk();
    LocalJobStore store = JournalLog.openStore(options(dir), disk.opener());

    // when it is deleted, and the power goes the moment deleteDead returns
    assertTrue(store.deleteDead(id));
    disk.cutNow();
    store.close();

    // then no state the device may be left in brings it back
    for (long seed = 0; seed < IMAGES; seed++) {
      try (LocalJobStore again = reopenImage(disk, seed)) {
        assertEquals(Optional.empty(), again.find(id), "crash image " + seed);
        assertEquals(0, again.counts().dead());
      }
    }
  }

  @Test
  void aRetryTheJournalCannotWriteThrowsJobStoreExceptionAndLeavesTheDeadLetter() throws Exception {
    // given a dead letter in a store whose disk fails every write from now on (a full disk)
    JobId id = deadLetter();
    HookedChannel.Gate gate = new HookedChannel.Gate();
    LocalJobStore store = JournalLog.openStore(options(dir), gate.opener());
    gate.failWrites();

    // when it is retried, then the journal's failure is the answer
    JobStoreException failed = assertThrows(JobStoreException.class, () -> store.retryDead(id));
    assertEquals(JobStoreException.class, failed.getClass());

    // and it is still a dead letter, holding no room in the queue
    assertEquals(JobState.DEAD, store.find(id).orElseThrow().state());
    assertEquals(List.of(id), deadIds(store));
    assertEquals(0, store.occupiedRoom());
    assertEquals(0, store.counts().queued());
    store.close();
    store.checkInvariants();
  }

  @Test
  void aDeleteTheJournalCannotWriteThrowsJobStoreExceptionAndLeavesTheDeadLetter()
      throws Exception {
    // given a dead letter in a store whose disk fails every write from now on (a full disk)
    JobId id = deadLetter();
    HookedChannel.Gate gate = new HookedChannel.Gate();
    LocalJobStore store = JournalLog.openStore(options(dir), gate.opener());
    gate.failWrites();

    // when it is deleted, then the journal's failure is the answer
    JobStoreException failed = assertThrows(JobStoreException.class, () -> store.deleteDead(id));
    assertEquals(JobStoreException.class, failed.getClass());

    // and it is still a dead letter, its payload still counted
    assertEquals(JobState.DEAD, store.find(id).orElseThrow().state());
    assertEquals(List.of(id), deadIds(store));
    assertEquals(PAYLOAD.length, store.counts().payloadBytes());
    assertEquals(PAYLOAD.length, store.counts().deadPayloadBytes());
    store.close();
    store.checkInvariants();
  }

  @Test
  void aRetryNotConfirmedInTimeThrowsDurabilityUnknownAndQueuesTheJobOnceTheDiskRecovers()
      throws Exception {
    // given a dead letter in a store whose disk hangs in the next force
    JobId id = deadLetter();
    HookedChannel.Gate gate = new HookedChannel.Gate();
    LocalJobStore store =
        JournalLog.openStore(
            options(dir)
                .withAckTimeout(Duration.ofMillis(20))
                .withStallThreshold(Duration.ofMinutes(10)),
            gate.opener());
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);

    // when it is retried
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.retryDead(id));

    // then the exception names it, and the store shows it a dead letter until the journal answers,
    // its room in the queue taken
    assertEquals(List.of(id), unknown.ids());
    assertEquals(JobState.DEAD, store.find(id).orElseThrow().state());
    assertEquals(List.of(id), deadIds(store));
    assertEquals(1, store.occupiedRoom());
    // and another change to it is refused while the first one's outcome is unknown
    assertThrows(JournalStalledException.class, () -> store.deleteDead(id));

    // when the disk recovers, then the job is queued and runs
    release.countDown();
    Job claimed = store.claim(type -> true).orElseThrow();
    assertEquals(id, claimed.id());
    assertEquals(1, claimed.attempts());
    assertEquals(List.of(), deadIds(store));
    store.close();
    store.checkInvariants();
    store.checkHomes();
  }

  @Test
  void aDeleteNotConfirmedBeforeTheHungForceFailsLeavesTheDeadLetter() throws Exception {
    // given a dead letter whose deletion was not confirmed in time, behind a force that will fail
    JobId id = deadLetter();
    HookedChannel.Gate gate = new HookedChannel.Gate();
    LocalJobStore store =
        JournalLog.openStore(
            options(dir)
                .withAckTimeout(Duration.ofMillis(20))
                .withStallThreshold(Duration.ofMinutes(10)),
            gate.opener());
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), true);
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.deleteDead(id));
    assertEquals(List.of(id), unknown.ids());

    // when the force fails
    release.countDown();

    // then it stays a dead letter, its payload still counted, and the failed journal is the answer
    // to the next change
    assertThrows(JobStoreException.class, () -> store.deleteDead(id));
    assertEquals(JobState.DEAD, store.find(id).orElseThrow().state());
    assertEquals(List.of(id), deadIds(store));
    assertEquals(PAYLOAD.length, store.counts().deadPayloadBytes());
    store.close();
    store.checkInvariants();
  }

  @Test
  void aRetryWhileTheJournalIsStalledIsRefusedAtOnceAndRecordsNothing() throws Exception {
    // given a dead letter in a store whose journal has stalled in a force
    JobId id = deadLetter();
    HookedChannel.Gate gate = new HookedChannel.Gate();
    StallObserver observer = new StallObserver();
    LocalJobStore store =
        JournalLog.openStore(
            options(dir)
                .withAckTimeout(Duration.ofMillis(20))
                .withStallThreshold(Duration.ofMillis(20))
                .withObserver(observer),
            gate.opener());
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);
    assertThrows(
        DurabilityUnknownException.class,
        () -> store.submit(List.of(JobSpec.of("t", PAYLOAD)), Duration.ZERO));
    observer.stalled.await();

    // when it is retried or deleted, then both are refused at once and it stays a dead letter
    JournalStalledException refused =
        assertThrows(JournalStalledException.class, () -> store.retryDead(id));
    assertTrue(refused.getMessage().contains("nothing"), refused.getMessage());
    assertThrows(JournalStalledException.class, () -> store.deleteDead(id));
    assertEquals(List.of(id), deadIds(store));

    // and once the journal resumes, a retry goes through
    release.countDown();
    observer.resumed.await();
    assertEquals(new Admission.Accepted(List.of(id)), store.retryDead(id));
    assertFalse(deadIds(store).contains(id));
    store.close();
    store.checkInvariants();
    store.checkHomes();
  }

  @Test
  void aDeletionOnAClosedStoreIsRefusedAsClosedWithoutReportingAJournalFailure() throws Exception {
    // given a dead letter in a store that has been closed (as a request arriving during shutdown
    // finds it)
    JobId id = deadLetter();
    LocalJobStore store = LocalJobStore.open(options(dir));
    store.close();

    try (LogCapture log = LogCapture.of(JournalLog.class)) {
      // when it is deleted
      JobStoreException refused = assertThrows(JobStoreException.class, () -> store.deleteDead(id));

      // then the answer says the store is closed, not that the disk failed, and no journal
      // failure is logged
      assertTrue(refused.getMessage().contains("closed"), refused.getMessage());
      assertFalse(refused.getMessage().contains("disk"), refused.getMessage());
      assertEquals(List.of(), log.errors());
    }
    // and it is still a dead letter
    assertEquals(List.of(id), deadIds(store));
    store.checkInvariants();
  }

  private static List<JobId> deadIds(JobStore store) {
    return store.deadLetters(Optional.empty(), 10).stream().map(Job::id).toList();
  }
}
