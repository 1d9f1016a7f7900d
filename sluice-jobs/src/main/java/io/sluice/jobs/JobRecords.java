package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.time.DateTimeException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/*
 * The journal records of a durable store: how each change to a job is written, and how replaying
 * them rebuilds the jobs.
 *
 * Every body is big-endian. An id is its two longs; an instant is epoch seconds (long) and nanos
 * (int), with seconds = Long.MIN_VALUE for "none"; a string is an int length (-1 for none) and
 * that many UTF-8 bytes.
 *
 *   SUBMITTED     int count, then per job: id, createdAt, runAt, type, source, int n + n payload bytes
 *   STARTED_AT    at, id, id, ...      attempts started at `at` (one per id): attempts + 1
 *   SUCCEEDED_AT  at, id, id, ...      finished at `at`; replay remembers the latest, without payload
 *   FAILED_AT     id, at, retryAt, error   an attempt failed at `at`; retryAt none = dead letter
 *   ABANDONED  id                      an attempt stopped by a shutdown: attempts - 1
 *   RETRIED    id                      a dead letter queued again with attempts = 0
 *   DELETED    id                      a dead letter deleted; forgotten by replay
 *   SCHEDULE   schedule                a recurring definition put (or rewritten by compaction)
 *   UNSCHEDULE name                    a recurring definition deleted
 *   FIRED      schedule, then a SUBMITTED body of one job: a schedule fired and enqueued it
 *   RELOCATED  int count, then per job: its SUBMITTED form (runAt being its due time now), state
 *              (byte: 0 queued, 1 waiting to retry, 2 dead), int attempts, lastError,
 *              lastAttemptAt, finishedAt: the job's whole state, rewritten by compaction
 *
 * A schedule is name, definition, updatedAt, lastFire, then lastJob as a byte (0 none, 1 an id
 * follows). Each SCHEDULE and FIRED record holds the schedule's whole state, so replay keeps the
 * latest and a schedule's older records are never needed again.
 *
 * STARTED (id, id, ...), SUCCEEDED (id, id, ...) and FAILED (id, retryAt, error) are the forms
 * written before the records held a time; replay still reads them, and leaves the times unknown.
 *
 * STARTED and SUCCEEDED hold one id or more (a worker's claim of several jobs, and their successes
 * recorded at its next claim); a body of one id is the form written before there were several.
 *
 * A batch is one SUBMITTED record, so a crash keeps all of it or none. Replay applies records in
 * journal order; a record about an id replay does not know refers to a job whose SUBMITTED record
 * was in a segment already released (the job had finished, or a RELOCATED record later in the
 * journal holds its state) and is skipped.
 *
 * RELOCATED holds everything replay rebuilds a job from, as the records before it left the job: a
 * running job is written as queued with its attempt counted, as STARTED leaves it. Replay puts it in
 * place of what it knew of the job, whatever that was (its SUBMITTED record and the changes after
 * it, when a crash came between the rewrite and the release of the older segments), and applies the
 * records after it on top. The store writes it under its lock, so no change to the job is recorded
 * between the state it holds and its place in the journal. A job known only from a RELOCATED record
 * ("adopted") was created before every job whose SUBMITTED record is still there, so recovery puts
 * the adopted ones first, in id (creation) order.
 */
final class JobRecords {
  static final int SUBMITTED = 1;
  static final int STARTED = 2;
  static final int SUCCEEDED = 3;
  static final int FAILED = 4;
  static final int ABANDONED = 5;
  static final int RETRIED = 6;
  static final int DELETED = 7;
  static final int SCHEDULE = 8;
  static final int UNSCHEDULE = 9;
  static final int FIRED = 10;
  static final int STARTED_AT = 11;
  static final int SUCCEEDED_AT = 12;
  static final int FAILED_AT = 13;
  static final int RELOCATED = 14;

  private static final int ID_BYTES = 16;
  private static final int INSTANT_BYTES = 12;

  /**
   * The most bytes one job adds to a SUBMITTED record besides its payload: id, two instants, and
   * the longest type and source (three UTF-8 bytes per character at most), each with its length.
   */
  static final int MAX_SUBMITTED_OVERHEAD_PER_JOB =
      ID_BYTES
          + 2 * INSTANT_BYTES
          + 3 * Integer.BYTES
          + 3 * (JobSpec.MAX_TYPE_LENGTH + JobSpec.MAX_SOURCE_LENGTH);

  private JobRecords() {}

  /** The bytes of the SUBMITTED record that {@code specs} make, without making it. */
  static long submittedSizeOf(List<JobSpec> specs) {
    long size = Integer.BYTES;
    for (JobSpec spec : specs) {
      size +=
          ID_BYTES
              + 2 * INSTANT_BYTES
              + RecordWriter.stringSize(spec.type())
              + RecordWriter.stringSize(spec.source().orElse(null))
              + Integer.BYTES
              + spec.payloadLength();
    }
    return size;
  }

  static byte[] submitted(List<Entry> batch) {
    RecordWriter out = new RecordWriter(submittedSize(batch));
    putSubmitted(out, batch);
    return out.finish();
  }

  private static int submittedSize(List<Entry> batch) {
    long size = Integer.BYTES;
    for (int i = 0, n = batch.size(); i < n; i++) {
      Entry e = batch.get(i);
      size +=
          ID_BYTES
              + 2 * INSTANT_BYTES
              + RecordWriter.stringSize(e.type)
              + RecordWriter.stringSize(e.source)
              + RecordWriter.bytesSize(e.payload);
    }
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("a batch of " + size + " bytes is too large for a record");
    }
    return (int) size;
  }

  /** Writes a SUBMITTED body, and sets each job's {@link Entry#recordBytes}. */
  private static void putSubmitted(RecordWriter out, List<Entry> batch) {
    out.putInt(batch.size());
    for (int i = 0, n = batch.size(); i < n; i++) {
      Entry e = batch.get(i);
      int start = out.position();
      putJob(out, e);
      e.recordBytes = out.position() - start;
    }
  }

  /** A job as SUBMITTED holds it: id, createdAt, due time, type, source, payload. */
  private static void putJob(RecordWriter out, Entry e) {
    putId(out, e.id);
    putInstant(out, e.createdAt);
    putInstant(out, e.dueAt);
    out.putString(e.type).putString(e.source).putBytes(e.payload);
  }

  /** The bytes {@code e} takes in a RELOCATED body, the count not included. */
  static int relocatedSize(Entry e) {
    long size =
        ID_BYTES
            + 2 * INSTANT_BYTES
            + RecordWriter.stringSize(e.type)
            + RecordWriter.stringSize(e.source)
            + RecordWriter.bytesSize(e.payload)
            + 1
            + Integer.BYTES
            + RecordWriter.stringSize(e.lastError)
            + 2 * INSTANT_BYTES;
    return (int) Math.min(Integer.MAX_VALUE, size);
  }

  /**
   * A RELOCATED body: the whole state of each of {@code entries}, which must be pending or dead
   * (not finished). Changes nothing in them: each one's part of the body goes to {@code sizes}.
   */
  static byte[] relocated(List<Entry> entries, int[] sizes) {
    long size = Integer.BYTES;
    for (Entry e : entries) {
      size += relocatedSize(e);
    }
    if (size > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("relocating " + size + " bytes in one record");
    }
    RecordWriter out = new RecordWriter((int) size);
    out.putInt(entries.size());
    for (int i = 0, n = entries.size(); i < n; i++) {
      Entry e = entries.get(i);
      int start = out.position();
      putJob(out, e);
      out.put(
          switch (e.state) {
            case QUEUED, RUNNING -> (byte) 0; // a running attempt is counted, as STARTED leaves it
            case RETRY_WAIT -> (byte) 1;
            case DEAD -> (byte) 2;
            case SUCCEEDED -> throw new IllegalArgumentException(e.id + " has finished");
          });
      out.putInt(e.attempts).putString(e.lastError);
      putInstant(out, e.lastAttemptAt);
      putInstant(out, e.state == JobState.DEAD ? e.finishedAt : null);
      sizes[i] = out.position() - start;
    }
    return out.finish();
  }

  static byte[] schedule(ScheduleEntry s) {
    RecordWriter out = new RecordWriter(scheduleSize(s));
    putSchedule(out, s);
    return out.finish();
  }

  static byte[] unschedule(String name) {
    return new RecordWriter(RecordWriter.stringSize(name)).putString(name).finish();
  }

  /** A FIRED body: the schedule as it is after the fire, then the job it enqueued. */
  static byte[] fired(ScheduleEntry s, Entry job) {
    List<Entry> batch = List.of(job);
    RecordWriter out = new RecordWriter(scheduleSize(s) + submittedSize(batch));
    putSchedule(out, s);
    putSubmitted(out, batch);
    return out.finish();
  }

  private static int scheduleSize(ScheduleEntry s) {
    return RecordWriter.stringSize(s.name)
        + RecordWriter.stringSize(s.definition)
        + 2 * INSTANT_BYTES
        + 1
        + (s.lastJob == null ? 0 : ID_BYTES);
  }

  private static void putSchedule(RecordWriter out, ScheduleEntry s) {
    out.putString(s.name).putString(s.definition);
    putInstant(out, s.updatedAt);
    putInstant(out, s.lastFire);
    if (s.lastJob == null) {
      out.put((byte) 0);
    } else {
      out.put((byte) 1);
      putId(out, s.lastJob);
    }
  }

  /** A DELETED body: the ids of {@code entries}. */
  static byte[] ids(List<Entry> entries) {
    return timedIds(null, entries);
  }

  /** A STARTED_AT or SUCCEEDED_AT body: {@code at}, then the ids of {@code entries}. */
  static byte[] timedIds(Instant at, List<Entry> entries) {
    RecordWriter out =
        new RecordWriter((at == null ? 0 : INSTANT_BYTES) + ID_BYTES * entries.size());
    if (at != null) {
      putInstant(out, at);
    }
    for (int i = 0, n = entries.size(); i < n; i++) {
      putId(out, entries.get(i).id);
    }
    return out.finish();
  }

  static byte[] id(JobId id) {
    RecordWriter out = new RecordWriter(ID_BYTES);
    putId(out, id);
    return out.finish();
  }

  /** A FAILED_AT body: the attempt failed at {@code at}. */
  static byte[] failed(Entry e, Instant at) {
    RecordWriter out =
        new RecordWriter(ID_BYTES + 2 * INSTANT_BYTES + RecordWriter.stringSize(e.lastError));
    putId(out, e.id);
    putInstant(out, Objects.requireNonNull(at, "at"));
    putInstant(out, e.state == JobState.RETRY_WAIT ? e.dueAt : null);
    return out.putString(e.lastError).finish();
  }

  /**
   * What replaying a journal rebuilds: the unfinished jobs (by id, in the order they were
   * submitted), the most recent finished ones (a bounded map, in the order they finished), and the
   * recurring definitions (by name).
   */
  static final class Replay {
    final Map<JobId, Entry> jobs;
    final Map<JobId, Entry> finished;
    final Map<String, ScheduleEntry> schedules = new TreeMap<>();
    private final Set<JobId> adopted = new HashSet<>(); // known from a RELOCATED record only

    Replay(Map<JobId, Entry> jobs, Map<JobId, Entry> finished) {
      this.jobs = jobs;
      this.finished = finished;
    }

    Replay() {
      this(new LinkedHashMap<>(), new LinkedHashMap<>());
    }

    /**
     * Applies one record, in journal order.
     *
     * @throws CorruptRecordException if the body does not parse or the type is unknown
     */
    void apply(long segment, int type, ByteBuffer body) {
      try {
        switch (type) {
          case SUBMITTED -> submitted(segment, body);
          case STARTED -> started(null, body);
          case STARTED_AT -> started(getTime(body), body);
          case FAILED -> failed(body, false);
          case FAILED_AT -> failed(body, true);
          case ABANDONED -> {
            Entry e = jobs.get(getId(body));
            if (e != null) {
              e.attempts = Math.max(0, e.attempts - 1);
              e.state = JobState.QUEUED;
            }
          }
          case RETRIED -> {
            Entry e = jobs.get(getId(body));
            if (e != null) {
              e.attempts = 0;
              e.state = JobState.QUEUED;
              e.dueAt = null;
              e.lastAttemptAt = null;
              e.finishedAt = null;
            }
          }
          case SUCCEEDED -> succeeded(null, body);
          case SUCCEEDED_AT -> succeeded(getTime(body), body);
          case DELETED -> jobs.remove(getId(body));
          case SCHEDULE -> schedule(segment, body);
          case UNSCHEDULE -> schedules.remove(getString(body));
          case FIRED -> {
            schedule(segment, body);
            submitted(segment, body);
          }
          case RELOCATED -> relocated(segment, body);
          default ->
              throw new CorruptRecordException(
                  "unknown record type " + type + " (written by a newer Sluice?)");
        }
      } catch (BufferUnderflowException | IllegalArgumentException | DateTimeException e) {
        throw new CorruptRecordException("record type " + type + " does not parse: " + e, e);
      }
    }

    private void started(Instant at, ByteBuffer body) {
      for (int i = idCount(body); i > 0; i--) {
        Entry e = jobs.get(getId(body));
        if (e != null) {
          e.attempts++;
          e.state = JobState.QUEUED;
          e.dueAt = null;
          e.lastAttemptAt = at;
        }
      }
    }

    private void succeeded(Instant at, ByteBuffer body) {
      for (int i = idCount(body); i > 0; i--) {
        Entry e = jobs.remove(getId(body));
        if (e != null) {
          e.state = JobState.SUCCEEDED;
          e.dueAt = null;
          e.finishedAt = at;
          e.dropPayload();
          finished.put(e.id, e);
        }
      }
    }

    private void failed(ByteBuffer body, boolean timed) {
      Entry e = jobs.get(getId(body));
      Instant at = timed ? getTime(body) : null;
      Instant retryAt = getInstant(body);
      String error = getString(body);
      if (e != null) {
        e.lastError = error;
        e.dueAt = retryAt;
        e.state = retryAt == null ? JobState.DEAD : JobState.RETRY_WAIT;
        e.finishedAt = retryAt == null ? at : null;
      }
    }

    /** An instant that must be there. */
    private static Instant getTime(ByteBuffer body) {
      Instant at = getInstant(body);
      if (at == null) {
        throw new CorruptRecordException("a record without its time");
      }
      return at;
    }

    /** How many ids a STARTED or SUCCEEDED body holds: one or more, and nothing else. */
    private static int idCount(ByteBuffer body) {
      int n = body.remaining() / ID_BYTES;
      if (n == 0 || body.remaining() % ID_BYTES != 0) {
        throw new CorruptRecordException(
            "a list of ids is "
                + body.remaining()
                + " bytes, not a positive multiple of "
                + ID_BYTES);
      }
      return n;
    }

    /**
     * The unfinished jobs in the order the store takes them back: the adopted ones (created before
     * every other, see the class comment) by id, then the others in the order they were submitted.
     */
    List<Entry> recoveryOrder() {
      List<Entry> order = new ArrayList<>(jobs.size());
      if (!adopted.isEmpty()) {
        for (JobId id : adopted) {
          Entry e = jobs.get(id);
          if (e != null) {
            order.add(e);
          }
        }
        order.sort((a, b) -> a.id.compareTo(b.id));
      }
      for (Entry e : jobs.values()) {
        if (adopted.isEmpty() || !adopted.contains(e.id)) {
          order.add(e);
        }
      }
      return order;
    }

    private void submitted(long segment, ByteBuffer body) {
      int count = jobCount(body);
      for (int i = 0; i < count; i++) {
        Entry e = getJob(segment, body);
        jobs.put(e.id, e);
      }
    }

    private static int jobCount(ByteBuffer body) {
      int count = body.getInt();
      if (count < 1 || count > body.remaining() / ID_BYTES) {
        throw new CorruptRecordException("a batch of " + count + " jobs");
      }
      return count;
    }

    /** A job in its SUBMITTED form, homed in {@code segment}; its recordBytes are those it took. */
    private static Entry getJob(long segment, ByteBuffer body) {
      int start = body.position();
      JobId id = getId(body);
      Instant createdAt = getInstant(body);
      Instant runAt = getInstant(body);
      String jobType = getString(body);
      String source = getString(body);
      byte[] payload = getBytes(body);
      if (createdAt == null || jobType == null || payload == null) {
        throw new CorruptRecordException("a job without a time, type or payload");
      }
      Entry e = new Entry(id, jobType, payload, source, createdAt, runAt);
      e.home = segment;
      e.recordBytes = body.position() - start;
      return e;
    }

    private void relocated(long segment, ByteBuffer body) {
      int count = jobCount(body);
      for (int i = 0; i < count; i++) {
        int start = body.position();
        Entry e = getJob(segment, body);
        byte state = body.get();
        int attempts = body.getInt();
        e.lastError = getString(body);
        e.lastAttemptAt = getInstant(body);
        e.finishedAt = getInstant(body);
        e.state =
            switch (state) {
              case 0 -> JobState.QUEUED;
              case 1 -> JobState.RETRY_WAIT;
              case 2 -> JobState.DEAD;
              default -> throw new CorruptRecordException("a relocated job in state " + state);
            };
        if (attempts < 0 || (e.state == JobState.RETRY_WAIT && e.dueAt == null)) {
          throw new CorruptRecordException(
              "a relocated job with "
                  + attempts
                  + " attempts, state "
                  + state
                  + ", due "
                  + e.dueAt);
        }
        e.attempts = attempts;
        e.recordBytes = body.position() - start;
        if (jobs.put(e.id, e) == null) { // else in place of the older records' view of the job
          adopted.add(e.id);
        }
      }
    }

    private void schedule(long segment, ByteBuffer body) {
      String name = getString(body);
      String definition = getString(body);
      Instant updatedAt = getInstant(body);
      Instant lastFire = getInstant(body);
      byte hasJob = body.get();
      if (name == null || definition == null || updatedAt == null || hasJob < 0 || hasJob > 1) {
        throw new CorruptRecordException("a schedule without a name, definition or time");
      }
      ScheduleEntry s = new ScheduleEntry(name, definition, updatedAt);
      s.lastFire = lastFire;
      s.lastJob = hasJob == 1 ? getId(body) : null;
      s.home = segment;
      schedules.put(name, s);
    }
  }

  private static void putId(RecordWriter out, JobId id) {
    out.putLong(id.msb()).putLong(id.lsb());
  }

  private static JobId getId(ByteBuffer in) {
    return new JobId(in.getLong(), in.getLong());
  }

  private static void putInstant(RecordWriter out, Instant t) {
    if (t == null) {
      out.putLong(Long.MIN_VALUE).putInt(0);
    } else {
      out.putLong(t.getEpochSecond()).putInt(t.getNano());
    }
  }

  private static Instant getInstant(ByteBuffer in) {
    long seconds = in.getLong();
    int nanos = in.getInt();
    return seconds == Long.MIN_VALUE ? null : Instant.ofEpochSecond(seconds, nanos);
  }

  private static byte[] getBytes(ByteBuffer in) {
    int n = in.getInt();
    if (n == -1) {
      return null;
    }
    if (n < 0 || n > in.remaining()) {
      throw new CorruptRecordException("a length of " + n + " with " + in.remaining() + " left");
    }
    byte[] bytes = new byte[n];
    in.get(bytes);
    return bytes;
  }

  private static String getString(ByteBuffer in) {
    byte[] bytes = getBytes(in);
    return bytes == null ? null : new String(bytes, UTF_8);
  }

  /** A record that passed its checksum but does not parse: a bug, or a newer writer. */
  static final class CorruptRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CorruptRecordException(String message) {
      super(message);
    }

    CorruptRecordException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
