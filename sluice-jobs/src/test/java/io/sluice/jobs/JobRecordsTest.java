package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class JobRecordsTest {
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00.123456789Z");
  private final JobRecords.Replay replay = new JobRecords.Replay();
  private final Map<JobId, Entry> jobs = replay.jobs;

  private static Entry entry(String type, String payload, String source, Instant runAt) {
    return new Entry(JobId.next(), type, payload.getBytes(UTF_8), source, T0, runAt);
  }

  private void replay(long segment, int type, byte[] body) {
    replay.apply(segment, type, ByteBuffer.wrap(body).asReadOnlyBuffer());
  }

  @Test
  void aSubmittedBatchReplaysAsQueuedJobsWithEverythingTheyCarry() {
    Entry a = entry("upload", "{\"a\":1}", "sensor-7", null);
    Entry b = entry("üpload", "", null, T0.plusSeconds(60));

    replay(3, JobRecords.SUBMITTED, JobRecords.submitted(List.of(a, b)));

    assertEquals(List.of(a.id, b.id), List.copyOf(jobs.keySet()));
    Entry ra = jobs.get(a.id);
    assertEquals("upload", ra.type);
    assertArrayEquals(a.payload, ra.payload);
    assertEquals("sensor-7", ra.source);
    assertEquals(T0, ra.createdAt);
    assertNull(ra.dueAt);
    assertEquals(3, ra.home);
    assertEquals(JobState.QUEUED, ra.state);
    Entry rb = jobs.get(b.id);
    assertEquals("üpload", rb.type);
    assertNull(rb.source);
    assertEquals(T0.plusSeconds(60), rb.dueAt);
  }

  @Test
  void stateChangesReplayInOrderWithTheirTimes() {
    Entry a = entry("t", "x", null, null);
    replay(1, JobRecords.SUBMITTED, JobRecords.submitted(List.of(a)));

    replay(1, JobRecords.STARTED_AT, JobRecords.timedIds(T0.plusSeconds(1), List.of(a)));
    a.state = JobState.RETRY_WAIT;
    a.dueAt = T0.plusSeconds(5);
    a.lastError = "boom";
    replay(1, JobRecords.FAILED_AT, JobRecords.failed(a, T0.plusSeconds(2)));
    Entry r = jobs.get(a.id);
    assertEquals(JobState.RETRY_WAIT, r.state);
    assertEquals(T0.plusSeconds(5), r.dueAt);
    assertEquals("boom", r.lastError);
    assertEquals(1, r.attempts);
    assertEquals(T0.plusSeconds(1), r.lastAttemptAt);
    assertNull(r.finishedAt, "waiting to retry is not finished");

    replay(2, JobRecords.STARTED_AT, JobRecords.timedIds(T0.plusSeconds(6), List.of(a)));
    replay(2, JobRecords.ABANDONED, JobRecords.id(a.id));
    assertEquals(1, r.attempts);
    assertEquals(JobState.QUEUED, r.state);

    replay(2, JobRecords.STARTED_AT, JobRecords.timedIds(T0.plusSeconds(7), List.of(a)));
    a.state = JobState.DEAD;
    a.lastError = "fatal";
    replay(2, JobRecords.FAILED_AT, JobRecords.failed(a, T0.plusSeconds(8)));
    assertEquals(JobState.DEAD, r.state);
    assertNull(r.dueAt);
    assertEquals(T0.plusSeconds(7), r.lastAttemptAt);
    assertEquals(T0.plusSeconds(8), r.finishedAt);

    replay(2, JobRecords.RETRIED, JobRecords.id(a.id));
    assertEquals(JobState.QUEUED, r.state);
    assertEquals(0, r.attempts);
    assertNull(r.lastAttemptAt, "a dead letter queued again starts over");
    assertNull(r.finishedAt);

    replay(3, JobRecords.STARTED_AT, JobRecords.timedIds(T0.plusSeconds(9), List.of(a)));
    replay(3, JobRecords.SUCCEEDED_AT, JobRecords.timedIds(T0.plusSeconds(10), List.of(a)));
    assertTrue(jobs.isEmpty());
    Entry done = replay.finished.get(a.id);
    assertEquals(JobState.SUCCEEDED, done.state);
    assertEquals(T0.plusSeconds(9), done.lastAttemptAt);
    assertEquals(T0.plusSeconds(10), done.finishedAt);
  }

  /** A FAILED body as written before the records held a time: id, retryAt, error. */
  private static byte[] untimedFailed(Entry e) {
    byte[] timed = JobRecords.failed(e, T0);
    ByteBuffer out = ByteBuffer.allocate(timed.length - 12);
    out.put(timed, 0, 16).put(timed, 28, timed.length - 28);
    return out.array();
  }

  @Test
  void recordsWrittenBeforeTheTimesReplayWithTheTimesUnknown() {
    Entry a = entry("t", "a", null, null);
    Entry b = entry("t", "b", null, null);
    replay(1, JobRecords.SUBMITTED, JobRecords.submitted(List.of(a, b)));

    replay(1, JobRecords.STARTED, JobRecords.ids(List.of(a, b)));
    b.state = JobState.DEAD;
    b.lastError = "fatal";
    replay(1, JobRecords.FAILED, untimedFailed(b));
    replay(1, JobRecords.SUCCEEDED, JobRecords.ids(List.of(a)));

    Entry ra = replay.finished.get(a.id);
    assertEquals(JobState.SUCCEEDED, ra.state);
    assertEquals(1, ra.attempts);
    assertNull(ra.lastAttemptAt);
    assertNull(ra.finishedAt);
    Entry rb = jobs.get(b.id);
    assertEquals(JobState.DEAD, rb.state);
    assertEquals("fatal", rb.lastError);
    assertNull(rb.finishedAt);
  }

  @Test
  void oneStartedOrSucceededRecordCoversEveryJobItLists() {
    Entry a = entry("t", "a", null, null);
    Entry b = entry("t", "b", null, null);
    Entry c = entry("t", "c", null, null);
    replay(1, JobRecords.SUBMITTED, JobRecords.submitted(List.of(a, b, c)));

    replay(1, JobRecords.STARTED_AT, JobRecords.timedIds(T0, List.of(a, b, c)));
    replay(1, JobRecords.SUCCEEDED_AT, JobRecords.timedIds(T0, List.of(a, c)));

    assertEquals(List.of(b.id), List.copyOf(jobs.keySet()));
    assertEquals(1, jobs.get(b.id).attempts);
    assertEquals(java.util.Set.of(a.id, c.id), replay.finished.keySet());
    assertArrayEquals(JobRecords.id(a.id), JobRecords.ids(List.of(a))); // the one-id form
    var ragged =
        assertThrows(
            JobRecords.CorruptRecordException.class,
            () -> replay(1, JobRecords.SUCCEEDED, new byte[24]));
    assertTrue(ragged.getMessage().contains("multiple of 16"), ragged.getMessage());
    byte[] timeOnly = JobRecords.timedIds(T0, List.of());
    assertThrows(
        JobRecords.CorruptRecordException.class, () -> replay(1, JobRecords.STARTED_AT, timeOnly));
    assertThrows(
        JobRecords.CorruptRecordException.class, () -> replay(1, JobRecords.STARTED, new byte[0]));
    byte[] noTime = JobRecords.timedIds(T0, List.of(b));
    ByteBuffer.wrap(noTime).putLong(0, Long.MIN_VALUE);
    var untimed =
        assertThrows(
            JobRecords.CorruptRecordException.class,
            () -> replay(1, JobRecords.SUCCEEDED_AT, noTime));
    assertTrue(untimed.getMessage().contains("without its time"), untimed.getMessage());
  }

  @Test
  void recordsAboutJobsFromReleasedSegmentsAreSkipped() {
    JobId gone = JobId.next();

    replay(5, JobRecords.STARTED, JobRecords.id(gone));
    replay(5, JobRecords.SUCCEEDED, JobRecords.id(gone));
    Entry ghost = new Entry(gone, "t", new byte[0], null, T0, null);
    replay(5, JobRecords.STARTED_AT, JobRecords.timedIds(T0, List.of(ghost)));
    ghost.state = JobState.DEAD;
    replay(5, JobRecords.FAILED_AT, JobRecords.failed(ghost, T0));
    replay(5, JobRecords.SUCCEEDED_AT, JobRecords.timedIds(T0, List.of(ghost)));

    assertTrue(jobs.isEmpty());
  }

  @Test
  void anUnknownRecordTypeOrABodyThatDoesNotParseIsReportedNotSkipped() {
    var unknown =
        assertThrows(JobRecords.CorruptRecordException.class, () -> replay(1, 99, new byte[16]));
    assertTrue(unknown.getMessage().contains("newer Sluice"), unknown.getMessage());
    assertThrows(
        JobRecords.CorruptRecordException.class, () -> replay(1, JobRecords.STARTED, new byte[3]));
    SplittableRandom random = new SplittableRandom(1);
    byte[] valid = JobRecords.submitted(List.of(entry("t", "payload", "s", null)));
    for (int i = 0; i < 10_000; i++) {
      byte[] mutated = valid.clone();
      mutated[random.nextInt(mutated.length)] = (byte) random.nextInt(256);
      byte[] truncated = java.util.Arrays.copyOf(mutated, random.nextInt(mutated.length + 1));
      try {
        replay(1, JobRecords.SUBMITTED, truncated);
      } catch (JobRecords.CorruptRecordException expected) {
        // the one documented failure
      }
    }
  }

  private static byte[] relocated(Entry... entries) {
    return JobRecords.relocated(List.of(entries), new int[entries.length]);
  }

  @Test
  void aRelocatedRecordReplaysEachJobWithItsWholeState() {
    // given a dead letter, a job waiting to retry, a running one and one due later
    Entry dead = entry("upload", "dead-payload", "sensor", null);
    dead.state = JobState.DEAD;
    dead.attempts = 3;
    dead.lastError = "fatal ü";
    dead.lastAttemptAt = T0.plusSeconds(1);
    dead.finishedAt = T0.plusSeconds(2);
    Entry waiting = entry("upload", "w", null, null);
    waiting.state = JobState.RETRY_WAIT;
    waiting.attempts = 2;
    waiting.lastError = "later";
    waiting.dueAt = T0.plusSeconds(86_400);
    waiting.lastAttemptAt = T0.plusSeconds(3);
    Entry running = entry("upload", "r", null, null);
    running.state = JobState.RUNNING;
    running.attempts = 1;
    running.lastAttemptAt = T0.plusSeconds(4);
    Entry later = entry("report", "l", null, T0.plusSeconds(365 * 86_400L));
    int[] sizes = new int[4];

    // when their relocated record is all replay sees
    byte[] body = JobRecords.relocated(List.of(dead, waiting, running, later), sizes);
    replay(9, JobRecords.RELOCATED, body);

    // then each comes back as it was, homed in the record's segment
    Entry rd = jobs.get(dead.id);
    assertEquals(JobState.DEAD, rd.state);
    assertEquals(3, rd.attempts);
    assertEquals("fatal ü", rd.lastError);
    assertEquals(T0.plusSeconds(1), rd.lastAttemptAt);
    assertEquals(T0.plusSeconds(2), rd.finishedAt);
    assertArrayEquals(dead.payload, rd.payload);
    assertEquals("sensor", rd.source);
    assertEquals(T0, rd.createdAt);
    assertNull(rd.dueAt);
    assertEquals(9, rd.home);
    Entry rw = jobs.get(waiting.id);
    assertEquals(JobState.RETRY_WAIT, rw.state);
    assertEquals(T0.plusSeconds(86_400), rw.dueAt);
    assertEquals(2, rw.attempts);
    assertEquals("later", rw.lastError);
    assertNull(rw.finishedAt);
    Entry rr = jobs.get(running.id);
    assertEquals(JobState.QUEUED, rr.state, "a running attempt replays as STARTED leaves it");
    assertEquals(1, rr.attempts);
    assertEquals(T0.plusSeconds(4), rr.lastAttemptAt);
    Entry rl = jobs.get(later.id);
    assertEquals(JobState.QUEUED, rl.state);
    assertEquals(T0.plusSeconds(365 * 86_400L), rl.dueAt);
    assertEquals("report", rl.type);
    // and each one's part of the record is what replay counts in its home
    assertEquals(body.length, 4 + sizes[0] + sizes[1] + sizes[2] + sizes[3]);
    assertEquals(sizes[0], rd.recordBytes);
    assertEquals(sizes[3], rl.recordBytes);
    assertEquals(0, dead.recordBytes, "writing the record changes nothing in the entries");
  }

  @Test
  void aRelocatedRecordTakesThePlaceOfTheOlderRecordsAndLaterOnesApplyOnTop() {
    // given a job submitted, started and failed, then relocated in that state
    Entry a = entry("t", "a", null, null);
    Entry b = entry("t", "b", null, null);
    replay(1, JobRecords.SUBMITTED, JobRecords.submitted(List.of(a, b)));
    replay(1, JobRecords.STARTED_AT, JobRecords.timedIds(T0.plusSeconds(1), List.of(a, b)));
    a.state = JobState.DEAD;
    a.attempts = 1;
    a.lastError = "fatal";
    a.lastAttemptAt = T0.plusSeconds(1);
    a.finishedAt = T0.plusSeconds(2);
    replay(2, JobRecords.FAILED_AT, JobRecords.failed(a, T0.plusSeconds(2)));
    b.state = JobState.RUNNING;
    b.attempts = 1;
    b.lastAttemptAt = T0.plusSeconds(1);

    // when the older records are still there (a crash before they were released)
    replay(5, JobRecords.RELOCATED, relocated(a, b));

    // then each job is there once, as the relocated record says, in its place in the order
    assertEquals(List.of(a.id, b.id), List.copyOf(jobs.keySet()));
    assertEquals(JobState.DEAD, jobs.get(a.id).state);
    assertEquals(5, jobs.get(a.id).home);
    assertEquals(1, jobs.get(b.id).attempts);
    assertEquals(List.of(a.id, b.id), replay.recoveryOrder().stream().map(e -> e.id).toList());

    // and what follows it applies on top: a retry, a success
    replay(5, JobRecords.RETRIED, JobRecords.id(a.id));
    assertEquals(JobState.QUEUED, jobs.get(a.id).state);
    assertEquals(0, jobs.get(a.id).attempts);
    replay(6, JobRecords.SUCCEEDED_AT, JobRecords.timedIds(T0.plusSeconds(9), List.of(b)));
    assertEquals(List.of(a.id), List.copyOf(jobs.keySet()));
    assertEquals(JobState.SUCCEEDED, replay.finished.get(b.id).state);
  }

  @Test
  void jobsKnownOnlyFromRelocatedRecordsAreRecoveredFirstInIdOrder() {
    // given three jobs made in this order; the first two relocated in two records, newest first
    Entry oldest = entry("t", "1", null, null);
    Entry older = entry("t", "2", null, null);
    Entry young = entry("t", "3", null, null);
    replay(7, JobRecords.SUBMITTED, JobRecords.submitted(List.of(young)));
    replay(8, JobRecords.RELOCATED, relocated(older));
    replay(8, JobRecords.RELOCATED, relocated(oldest));

    // then recovery takes them back oldest first
    assertEquals(
        List.of(oldest.id, older.id, young.id),
        replay.recoveryOrder().stream().map(e -> e.id).toList());
  }

  @Test
  void aRelocatedRecordWithAnImpossibleStateIsCorrupt() {
    Entry waiting = entry("t", "w", null, null);
    waiting.state = JobState.RETRY_WAIT;
    waiting.dueAt = T0;
    byte[] body = relocated(waiting);
    int stateAt = body.length - (1 + 4 + 4 + 12 + 12);
    byte[] unknownState = body.clone();
    unknownState[stateAt] = 9;
    byte[] waitingWithoutTime = body.clone();
    ByteBuffer.wrap(waitingWithoutTime).putLong(4 + 16 + 12, Long.MIN_VALUE);

    for (byte[] corrupt : List.of(unknownState, waitingWithoutTime)) {
      assertThrows(
          JobRecords.CorruptRecordException.class, () -> replay(1, JobRecords.RELOCATED, corrupt));
    }
    Entry finished = entry("t", "f", null, null);
    finished.state = JobState.SUCCEEDED;
    assertThrows(IllegalArgumentException.class, () -> relocated(finished));
  }

  private static ScheduleEntry schedule(String name, String definition) {
    return new ScheduleEntry(name, definition, T0);
  }

  @Test
  void aScheduleReplaysWithItsWholeStateAndItsHome() {
    ScheduleEntry s = schedule("nightly-ü", "cron unix UTC 0 2 * * *");
    s.lastFire = T0.minusSeconds(3600);
    s.lastJob = JobId.next();

    replay(4, JobRecords.SCHEDULE, JobRecords.schedule(s));

    ScheduleEntry r = replay.schedules.get("nightly-ü");
    assertEquals(s.definition, r.definition);
    assertEquals(T0, r.updatedAt);
    assertEquals(s.lastFire, r.lastFire);
    assertEquals(s.lastJob, r.lastJob);
    assertEquals(4, r.home);
  }

  @Test
  void aFireReplaysAsTheSchedulesNewStateAndItsQueuedJob() {
    ScheduleEntry s = schedule("hourly", "every PT1H from 2026-01-01T00:00:00Z");
    replay(1, JobRecords.SCHEDULE, JobRecords.schedule(s));
    Entry job = entry("report", "{}", "schedule:hourly", null);
    s.lastFire = T0;
    s.lastJob = job.id;

    replay(2, JobRecords.FIRED, JobRecords.fired(s, job));

    ScheduleEntry r = replay.schedules.get("hourly");
    assertEquals(T0, r.lastFire);
    assertEquals(job.id, r.lastJob);
    assertEquals(2, r.home);
    Entry rj = jobs.get(job.id);
    assertEquals("report", rj.type);
    assertEquals("schedule:hourly", rj.source);
    assertEquals(2, rj.home);
  }

  @Test
  void anUnscheduleRecordForgetsTheSchedule() {
    replay(1, JobRecords.SCHEDULE, JobRecords.schedule(schedule("a", "at 2027-01-01T00:00:00Z")));
    replay(1, JobRecords.SCHEDULE, JobRecords.schedule(schedule("b", "at 2027-01-01T00:00:00Z")));

    replay(1, JobRecords.UNSCHEDULE, JobRecords.unschedule("a"));

    assertEquals(List.of("b"), List.copyOf(replay.schedules.keySet()));
  }

  @Test
  void aScheduleRecordWithAnImpossibleJobFlagIsCorrupt() {
    byte[] body = JobRecords.schedule(schedule("a", "x"));
    body[body.length - 1] = 7;

    assertThrows(
        JobRecords.CorruptRecordException.class, () -> replay(1, JobRecords.SCHEDULE, body));
  }
}
