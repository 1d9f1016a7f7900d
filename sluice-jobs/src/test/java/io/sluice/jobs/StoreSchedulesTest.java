package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The schedule half of the {@link JobStore} contract, for the in-memory and the durable store. */
@Timeout(60)
class StoreSchedulesTest {
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");

  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(T0);
  private LocalJobStore store;

  private LocalJobStore open(String kind, int capacity) throws Exception {
    JobStoreOptions options =
        JobStoreOptions.defaults().withCapacity(capacity).withClock(clock).withDirectory(dir);
    store = kind.equals("memory") ? LocalJobStore.inMemory(options) : LocalJobStore.open(options);
    return store;
  }

  @AfterEach
  void checkAndClose() {
    if (store != null) {
      store.checkInvariants();
      store.close();
    }
  }

  private static JobSpec job(String payload) {
    return JobSpec.of("report", payload.getBytes(UTF_8));
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void puttingTheSameDefinitionAgainChangesNothing(String kind) throws Exception {
    open(kind, 10);

    assertTrue(store.putSchedule("nightly", "cron unix UTC 0 2 * * *"));
    clock.advance(Duration.ofMinutes(1));
    boolean changed = store.putSchedule("nightly", "cron unix UTC 0 2 * * *");

    assertFalse(changed);
    StoredSchedule s = store.schedule("nightly").orElseThrow();
    assertEquals(T0, s.updatedAt());
    assertEquals(Optional.empty(), s.lastFire());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aReplacedDefinitionKeepsTheRecordOfItsLastFire(String kind) throws Exception {
    open(kind, 10);
    store.putSchedule("nightly", "cron unix UTC 0 2 * * *");
    JobId fired = accepted(store.fire("nightly", T0, job("{}")));

    clock.advance(Duration.ofMinutes(1));
    assertTrue(store.putSchedule("nightly", "cron unix UTC 0 3 * * *"));

    StoredSchedule s = store.schedule("nightly").orElseThrow();
    assertEquals("cron unix UTC 0 3 * * *", s.definition());
    assertEquals(T0.plusSeconds(60), s.updatedAt());
    assertEquals(Optional.of(T0), s.lastFire());
    assertEquals(Optional.of(fired), s.lastJob());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aFireEnqueuesANormalJobAndRecordsTheFireTime(String kind) throws Exception {
    open(kind, 10);
    store.putSchedule("hourly", "every PT1H from 2026-01-01T00:00:00Z");

    JobId id = accepted(store.fire("hourly", T0, job("{\"n\":1}").withSource("schedule:hourly")));

    Job queued = store.find(id).orElseThrow();
    assertEquals(JobState.QUEUED, queued.state());
    assertEquals(Optional.of("schedule:hourly"), queued.source());
    assertEquals(1, store.counts().queued());
    assertEquals(Optional.of(T0), store.schedule("hourly").orElseThrow().lastFire());
    assertEquals(id, store.claim(t -> true).orElseThrow().id());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aSkippedFireRecordsItsTimeKeepsTheLastJobAndEnqueuesNothing(String kind) throws Exception {
    // given a fire at T0 whose job is still queued
    open(kind, 10);
    store.putSchedule("hourly", "every PT1H from 2026-01-01T00:00:00Z");
    JobId first = accepted(store.fire("hourly", T0, job("1")));

    // when the next fire time is passed over
    assertTrue(store.skipFire("hourly", T0.plusSeconds(3600)));

    // then it is recorded, with the same last job and no new one; an older or repeated one is not
    StoredSchedule s = store.schedule("hourly").orElseThrow();
    assertEquals(Optional.of(T0.plusSeconds(3600)), s.lastFire());
    assertEquals(Optional.of(first), s.lastJob());
    assertEquals(1, store.counts().queued());
    assertFalse(store.skipFire("hourly", T0.plusSeconds(3600)));
    assertFalse(store.skipFire("hourly", T0));
    assertFalse(store.skipFire("unknown", T0));
    Admission late = store.fire("hourly", T0.plusSeconds(3600), job("2"));
    assertEquals(Admission.Reason.NOT_DUE, rejected(late).reason());
  }

  @org.junit.jupiter.api.Test
  void aSkippedFireSurvivesAReopenOfTheJournal() throws Exception {
    open("journal", 10);
    store.putSchedule("hourly", "every PT1H from 2026-01-01T00:00:00Z");
    JobId first = accepted(store.fire("hourly", T0, job("1")));
    store.skipFire("hourly", T0.plusSeconds(3600));
    store.close();

    open("journal", 10);

    StoredSchedule s = store.schedule("hourly").orElseThrow();
    assertEquals(Optional.of(T0.plusSeconds(3600)), s.lastFire());
    assertEquals(Optional.of(first), s.lastJob());
    assertEquals(1, store.counts().queued());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aFireAtOrBeforeTheLastRecordedOneIsNotDue(String kind) throws Exception {
    open(kind, 10);
    store.putSchedule("hourly", "every PT1H from 2026-01-01T00:00:00Z");
    accepted(store.fire("hourly", T0, job("1")));

    Admission again = store.fire("hourly", T0, job("2"));
    Admission earlier = store.fire("hourly", T0.minusSeconds(3600), job("3"));

    assertEquals(Admission.Reason.NOT_DUE, rejected(again).reason());
    assertTrue(rejected(again).message().contains("already fired"), rejected(again).message());
    assertEquals(Admission.Reason.NOT_DUE, rejected(earlier).reason());
    assertEquals(1, store.counts().queued());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aFireOfAnUnknownScheduleIsNotDue(String kind) throws Exception {
    open(kind, 10);

    Admission a = store.fire("ghost", T0, job("x"));

    assertEquals(Admission.Reason.NOT_DUE, rejected(a).reason());
    assertTrue(rejected(a).message().contains("no schedule named ghost"), rejected(a).message());
    assertEquals(0, store.counts().queued());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aFireIntoAFullQueueIsRejectedAndRecordsNothing(String kind) throws Exception {
    open(kind, 1);
    store.putSchedule("s", "every PT1M from 2026-01-01T00:00:00Z");
    store.submit(List.of(job("filler")), Duration.ZERO);

    Admission a = store.fire("s", T0, job("x"));

    assertEquals(Admission.Reason.QUEUE_FULL, rejected(a).reason());
    assertEquals(Optional.empty(), store.schedule("s").orElseThrow().lastFire());
    assertEquals(1, store.counts().queued());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aFireAfterStopAdmissionIsRejectedAsShuttingDown(String kind) throws Exception {
    open(kind, 10);
    store.putSchedule("s", "every PT1M from 2026-01-01T00:00:00Z");
    store.stopAdmission();

    assertEquals(Admission.Reason.SHUTTING_DOWN, rejected(store.fire("s", T0, job("x"))).reason());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void deletingAScheduleKeepsTheJobsItEnqueued(String kind) throws Exception {
    open(kind, 10);
    store.putSchedule("s", "every PT1M from 2026-01-01T00:00:00Z");
    JobId id = accepted(store.fire("s", T0, job("x")));

    assertTrue(store.deleteSchedule("s"));
    assertFalse(store.deleteSchedule("s"));

    assertEquals(Optional.empty(), store.schedule("s"));
    assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void schedulesAreListedByName(String kind) throws Exception {
    open(kind, 10);
    store.putSchedule("b", "x");
    store.putSchedule("a", "y");
    store.putSchedule("c", "z");

    assertEquals(
        List.of("a", "b", "c"), store.schedules().stream().map(StoredSchedule::name).toList());
  }

  @ParameterizedTest
  @ValueSource(strings = {"", " ", "a/b", "../x", "ü", "name with space"})
  void aNameOutsideTheAllowedCharactersIsRefusedWithTheReason(String name) throws Exception {
    open("memory", 10);

    var e = assertThrows(IllegalArgumentException.class, () -> store.putSchedule(name, "x"));

    assertTrue(e.getMessage().contains("schedule name"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"memory", "journal"})
  void aNameOfTwoHundredCharactersIsFineAndOneMoreIsNot(String kind) throws Exception {
    open(kind, 10);

    assertTrue(store.putSchedule("n".repeat(200), "x"));
    assertThrows(IllegalArgumentException.class, () -> store.putSchedule("n".repeat(201), "x"));
  }

  private static JobId accepted(Admission a) {
    return assertInstanceOf(Admission.Accepted.class, a).ids().getFirst();
  }

  private static Admission.Rejected rejected(Admission a) {
    return assertInstanceOf(Admission.Rejected.class, a);
  }
}
