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
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * Changes to schedules over a disk that hangs: the journal's real segment files behind a
 * HookedChannel gate that holds a force until the test lets it go on or fail. As in
 * StoreStallTest, the thresholds and timeouts are small real durations and the tests wait on what
 * the store reports, never on time, and assert no timing.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class ScheduleStallTest {
  private static final Instant T1 = Instant.parse("2026-11-29T02:00:00Z");
  private static final String NIGHTLY = "cron unix UTC 0 2 * * *";
  private static final String HOURLY = "cron unix UTC 0 * * * *";

  @TempDir Path dir;
  @TempDir Path crashCopy;
  private final HookedChannel.Gate gate = new HookedChannel.Gate();

  /** A submit of one job on a virtual thread of its own, which waits on the journal there. */
  private static CompletableFuture<Admission> submitOnAThreadOfItsOwn(JobStore store) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return store.submit(List.of(job()), Duration.ZERO);
          } catch (InterruptedException e) {
            throw new IllegalStateException(e);
          }
        },
        r -> Thread.ofVirtual().start(r));
  }

  private JobStoreOptions options(Path directory) {
    return JobStoreOptions.defaults()
        .withDirectory(directory)
        .withCapacity(10)
        .withSegmentBytes(1 << 20)
        .withDirectIo(false);
  }

  /** A store whose writes are not confirmed within 20 ms, and which never counts as stalled. */
  private LocalJobStore openTimingOut() throws Exception {
    return JournalLog.openStore(
        options(dir)
            .withAckTimeout(Duration.ofMillis(20))
            .withStallThreshold(Duration.ofMinutes(10)),
        gate.opener());
  }

  private static JobSpec job() {
    return JobSpec.of("report", "{}".getBytes(UTF_8));
  }

  /** Calls {@code call} on another thread and returns its result; the test's timeout bounds it. */
  private static <T> T onAnotherThread(Callable<T> call) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              try {
                result.complete(call.call());
              } catch (Throwable t) {
                result.completeExceptionally(t);
              }
            });
    return result.get();
  }

  /** Puts a definition, trying again while an unconfirmed change to the schedule is refused. */
  private static boolean putOnceTheRewriteSettles(LocalJobStore store, String name, String def) {
    while (true) {
      try {
        return store.putSchedule(name, def);
      } catch (JournalStalledException e) {
        Thread.yield(); // the journal's writer completes the rewrite after the force
      }
    }
  }

  @Test
  void everyChangeToASchedulesIsRefusedAtOnceWhileTheJournalIsStalledAndNothingChanges()
      throws Exception {
    // given a store with a schedule, whose journal has stalled with one batch waiting on it
    StallObserver observer = new StallObserver();
    LocalJobStore store =
        JournalLog.openStore(
            options(dir)
                .withAckTimeout(Duration.ofMinutes(10))
                .withStallThreshold(Duration.ofMillis(20))
                .withObserver(observer),
            gate.opener());
    store.putSchedule("nightly", NIGHTLY);
    List<StoredSchedule> before = store.schedules();
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);
    CompletableFuture<Admission> waiting = submitOnAThreadOfItsOwn(store);
    observer.stalled.await();

    // when each kind of change is asked for, then each is refused at once
    JournalStalledException put =
        assertThrows(JournalStalledException.class, () -> store.putSchedule("nightly", HOURLY));
    assertTrue(put.getMessage().contains("nothing of it was recorded"), put.getMessage());
    assertThrows(JournalStalledException.class, () -> store.putSchedule("hourly", HOURLY));
    assertThrows(JournalStalledException.class, () -> store.deleteSchedule("nightly"));
    assertThrows(JournalStalledException.class, () -> store.fire("nightly", T1, job()));
    assertThrows(JournalStalledException.class, () -> store.skipFire("nightly", T1));

    // and nothing changed, and the fire took no room
    assertEquals(before, store.schedules());
    assertEquals(1, store.occupiedRoom());
    assertFalse(waiting.isDone());

    // and once the disk recovers, changes are taken again, and the journal holds only those
    release.countDown();
    assertInstanceOf(Admission.Accepted.class, waiting.get());
    observer.resumed.await();
    assertTrue(store.putSchedule("hourly", HOURLY));
    store.close();
    store.checkInvariants();
    store.checkHomes();
    try (LocalJobStore again = LocalJobStore.open(options(dir))) {
      assertEquals(NIGHTLY, again.schedule("nightly").orElseThrow().definition());
      assertTrue(again.schedule("nightly").orElseThrow().lastFire().isEmpty());
      assertEquals(HOURLY, again.schedule("hourly").orElseThrow().definition());
    }
  }

  @Test
  void aFireNotConfirmedInTimeLeavesTheLockFreeAndCountsOnceWhenTheDiskRecovers() throws Exception {
    // given a schedule in a store whose disk hangs in the next force
    LocalJobStore store = openTimingOut();
    store.putSchedule("nightly", NIGHTLY);
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);

    // when it fires, then the fire's outcome is unknown, and the exception names its job
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.fire("nightly", T1, job()));
    assertEquals(1, unknown.ids().size());
    assertTrue(unknown.getMessage().contains("may or may not be recorded"), unknown.getMessage());
    JobId id = unknown.ids().getFirst();

    // and another thread can read the schedules: as they were, since the outcome is unknown
    List<StoredSchedule> listed = onAnotherThread(store::schedules);
    assertEquals(1, listed.size());
    assertTrue(listed.getFirst().lastFire().isEmpty());
    // and the same fire again is refused at once, as are other changes to that schedule
    assertThrows(JournalStalledException.class, () -> store.fire("nightly", T1, job()));
    assertThrows(JournalStalledException.class, () -> store.putSchedule("nightly", HOURLY));
    assertTrue(store.find(id).isEmpty(), "not queued before it is durable");
    store.checkInvariants();

    // when the disk recovers
    release.countDown();

    // then the job is queued once, and the schedule shows the fire
    assertEquals(id, store.claim(type -> true).orElseThrow().id());
    StoredSchedule fired = store.schedule("nightly").orElseThrow();
    assertEquals(Optional.of(T1), fired.lastFire());
    assertEquals(Optional.of(id), fired.lastJob());
    // and trying the fire again enqueues nothing
    Admission again = store.fire("nightly", T1, job());
    assertEquals(
        Admission.Reason.NOT_DUE, assertInstanceOf(Admission.Rejected.class, again).reason());
    assertEquals(1, store.occupiedRoom());
    store.close();
    store.checkInvariants();
    store.checkHomes();

    // and a restart finds the fire and its job, once
    try (LocalJobStore reopened = LocalJobStore.open(options(dir))) {
      assertEquals(Optional.of(T1), reopened.schedule("nightly").orElseThrow().lastFire());
      assertEquals(Set.of(id), reopened.liveIds());
    }
  }

  @Test
  void aProcessRestartedWhileAFireIsUnconfirmedFindsTheFireAndItsJobTogether() throws Exception {
    // given a fire not confirmed in time: its record is written, its force hangs
    LocalJobStore store = openTimingOut();
    store.putSchedule("nightly", NIGHTLY);
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.fire("nightly", T1, job()));
    JobId id = unknown.ids().getFirst();

    // when a process starts on the journal's files as the hung one left them
    JournalRelocationTest.copyJournal(dir, crashCopy);
    try (LocalJobStore restarted = LocalJobStore.open(options(crashCopy))) {
      // then it finds the fire and its job together (the write came before the hung force), and
      // does not take the same fire again
      StoredSchedule schedule = restarted.schedule("nightly").orElseThrow();
      assertEquals(Optional.of(T1), schedule.lastFire());
      assertEquals(Optional.of(id), schedule.lastJob());
      assertEquals(Set.of(id), restarted.liveIds());
      assertInstanceOf(Admission.Rejected.class, restarted.fire("nightly", T1, job()));
      restarted.checkInvariants();
    }

    // and the hung process, once its disk recovers, says the same
    release.countDown();
    assertEquals(id, store.claim(type -> true).orElseThrow().id());
    assertEquals(Optional.of(T1), store.schedule("nightly").orElseThrow().lastFire());
    store.close();
    store.checkHomes();
  }

  @Test
  void aProcessRestartedBeforeAnUnconfirmedFireWasWrittenDoesNotFindIt() throws Exception {
    // given a fire queued behind a force that hangs: its own record is not written yet
    LocalJobStore store = openTimingOut();
    store.putSchedule("nightly", NIGHTLY);
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = gate.armNextForce(entered, false);
    CompletableFuture<Admission> first = submitOnAThreadOfItsOwn(store);
    entered.await(); // the writer is in the force of the submit's commit
    assertThrows(DurabilityUnknownException.class, () -> store.fire("nightly", T1, job()));

    // when a process starts on the journal's files as the hung one left them
    JournalRelocationTest.copyJournal(dir, crashCopy);
    try (LocalJobStore restarted = LocalJobStore.open(options(crashCopy))) {
      // then it finds neither the fire nor its job, and takes the fire
      assertTrue(restarted.schedule("nightly").orElseThrow().lastFire().isEmpty());
      Admission fired = restarted.fire("nightly", T1, job());
      assertInstanceOf(Admission.Accepted.class, fired);
      restarted.checkInvariants();
    }
    release.countDown();
    assertThrows(Exception.class, first::get); // (the submit also timed out)
    store.close();
  }

  @Test
  void aChangeNotConfirmedInTimeShowsTheOldDefinitionUntilTheDiskRecoversThenTheNew()
      throws Exception {
    // given a schedule in a store whose disk hangs in the next force
    LocalJobStore store = openTimingOut();
    store.putSchedule("nightly", NIGHTLY);
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);

    // when its definition is replaced, then the outcome is unknown and the old one shows
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.putSchedule("nightly", HOURLY));
    assertTrue(unknown.ids().isEmpty());
    assertEquals(NIGHTLY, store.schedule("nightly").orElseThrow().definition());
    store.checkInvariants();

    // when the disk recovers, then the new one shows, here and after a restart
    release.countDown();
    while (store.schedule("nightly").orElseThrow().definition().equals(NIGHTLY)) {
      Thread.yield(); // the journal's writer completes the record after the force
    }
    assertEquals(HOURLY, store.schedule("nightly").orElseThrow().definition());
    assertFalse(store.putSchedule("nightly", HOURLY));
    store.close();
    store.checkHomes();
    try (LocalJobStore again = LocalJobStore.open(options(dir))) {
      assertEquals(HOURLY, again.schedule("nightly").orElseThrow().definition());
    }
  }

  @Test
  void aFireNotConfirmedInTimeWhoseForceFailsLeavesTheScheduleAsItWasAndGivesItsRoomBack()
      throws Exception {
    // given a fire not confirmed in time behind a force that will fail
    LocalJobStore store = openTimingOut();
    store.putSchedule("nightly", NIGHTLY);
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), true);
    DurabilityUnknownException unknown =
        assertThrows(DurabilityUnknownException.class, () -> store.fire("nightly", T1, job()));
    assertEquals(1, store.occupiedRoom());

    // when the force fails
    release.countDown();

    // then the room is given back, the job never appears, and the schedule shows no fire
    while (store.occupiedRoom() != 0) {
      Thread.yield(); // the journal's writer gives it back as it fails the append
    }
    assertTrue(store.find(unknown.ids().getFirst()).isEmpty());
    assertTrue(store.schedule("nightly").orElseThrow().lastFire().isEmpty());
    // and the schedule is refused further changes as a failed journal's, not as unconfirmed
    JobStoreException failed =
        assertThrows(JobStoreException.class, () -> store.fire("nightly", T1, job()));
    assertEquals(JobStoreException.class, failed.getClass());
    store.close();
    store.checkInvariants();
  }

  @Test
  void compactionsRewriteOfASchedulesGivesUpAfterTheAckTimeoutAndTheScheduleStaysAsItWas()
      throws Exception {
    // given a schedule in a store whose disk hangs in the next force
    LocalJobStore store = openTimingOut();
    store.putSchedule("nightly", NIGHTLY);
    StoredSchedule before = store.schedule("nightly").orElseThrow();
    CountDownLatch release = gate.armNextForce(new CountDownLatch(1), false);

    // when compaction rewrites every schedule into the current segment, then it returns
    store.rehomeSchedulesBefore(Long.MAX_VALUE);

    // and another thread reads the schedule as it was, while changes to it wait for the outcome
    assertEquals(before, onAnotherThread(() -> store.schedule("nightly").orElseThrow()));
    assertThrows(JournalStalledException.class, () -> store.putSchedule("nightly", HOURLY));

    // when the disk recovers, then the schedule is the same, homed where the rewrite went
    release.countDown();
    assertTrue(putOnceTheRewriteSettles(store, "nightly", HOURLY));
    store.close();
    store.checkInvariants();
    store.checkHomes();
    try (LocalJobStore again = LocalJobStore.open(options(dir))) {
      assertEquals(HOURLY, again.schedule("nightly").orElseThrow().definition());
    }
  }
}
