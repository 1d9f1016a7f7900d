package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import io.sluice.jobs.journal.Journal;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/*
 * A client of the ingest API chooses its payload's bytes, and the payload is journaled verbatim. So
 * a client that knows the journal's frame format can put whole frames into a payload: a SUBMITTED
 * for a job nobody submitted, a SUCCEEDED_AT for another client's acknowledged job. The frames are
 * built here as a writer of the published format would build them, from the format's description
 * alone (length, type, CRC32C of length, type and body, CRC32C of the first 12 bytes), without
 * anything only the journal's files hold.
 *
 * As long as the record that carries them is intact, replay skips them with its body. When that
 * record is damaged, replay resynchronises, scanning its body byte by byte for the next frame whose
 * checks pass: these frames must not pass.
 */
@Timeout(60)
class ForgedRecordsTest {
  private static final Instant T0 = Instant.parse("2026-11-27T10:00:00Z");
  private static final int FRAME_HEADER_BYTES = 16;

  /** The SUBMITTED body before the payload for one job of type "t" without a source. */
  private static final int SUBMITTED_PREFIX = 4 + 16 + 12 + 12 + (4 + 1) + 4 + 4;

  @TempDir Path dir;
  private final ManualClock clock = Clock.manual(T0);

  private LocalJobStore open() throws Exception {
    return LocalJobStore.open(
        JobStoreOptions.defaults().withDirectory(dir).withClock(clock).withSegmentBytes(1 << 20));
  }

  private static JobId accept(JobStore store, byte[] payload) throws Exception {
    return assertInstanceOf(
            Admission.Accepted.class,
            store.submit(List.of(JobSpec.of("t", payload)), Duration.ZERO))
        .ids()
        .getFirst();
  }

  /** A frame as the published format says, with the checks of format version 1. */
  static byte[] frame(int type, byte[] body) {
    ByteBuffer head = ByteBuffer.allocate(12).putInt(body.length).putInt(type);
    CRC32C crc = new CRC32C();
    crc.update(head.array(), 0, 8);
    crc.update(body);
    head.putInt((int) crc.getValue());
    CRC32C headerCrc = new CRC32C();
    headerCrc.update(head.array());
    return ByteBuffer.allocate(FRAME_HEADER_BYTES + body.length)
        .put(head.array())
        .putInt((int) headerCrc.getValue())
        .put(body)
        .array();
  }

  /**
   * A payload holding a forged SUBMITTED of {@code injected} and SUCCEEDED_AT of {@code victim}.
   */
  private static byte[] forgingPayload(JobId injected, JobId victim) {
    Entry fake = new Entry(injected, "t", "injected".getBytes(UTF_8), null, T0, null);
    Entry done = new Entry(victim, "t", new byte[0], null, T0, null);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes("{\"note\":\"".getBytes(UTF_8));
    out.writeBytes(frame(JobRecords.SUBMITTED, JobRecords.submitted(List.of(fake))));
    out.writeBytes(frame(JobRecords.SUCCEEDED_AT, JobRecords.timedIds(T0, List.of(done))));
    out.writeBytes("\"}".getBytes(UTF_8));
    return out.toByteArray();
  }

  @ParameterizedTest(name = "damage at byte {0} of the carrying frame")
  @ValueSource(ints = {0, 3, 5, 9, 14, FRAME_HEADER_BYTES + SUBMITTED_PREFIX - 1})
  void framesForgedInsideAPayloadAreNotReplayedWhenTheRecordCarryingThemIsDamaged(int at)
      throws Exception {
    // given an acknowledged job, a job whose payload holds forged frames, and a job after it
    JobId injected = JobId.next();
    JobId victim;
    JobId after;
    byte[] payload;
    try (LocalJobStore store = open()) {
      victim = accept(store, "victim".getBytes(UTF_8));
      payload = forgingPayload(injected, victim);
      accept(store, payload);
      after = accept(store, "after".getBytes(UTF_8));
    }
    // and the frame that carries the forged frames damaged (one byte flipped), so that replay
    // scans its body for the next frame whose checks pass
    Path segment = dir.resolve("00000000000000000001.seg");
    byte[] bytes = Files.readAllBytes(segment);
    int payloadAt = indexOf(bytes, payload);
    int carrier = payloadAt - SUBMITTED_PREFIX - FRAME_HEADER_BYTES;
    assertEquals(SUBMITTED_PREFIX + payload.length, ByteBuffer.wrap(bytes).getInt(carrier));
    bytes[carrier + at] ^= 0x5A;
    Files.write(segment, bytes);

    // when the store is opened again
    try (LogCapture log = LogCapture.of(Journal.class);
        LocalJobStore store = open()) {
      // then no forged record was replayed: no job was injected, the victim is still to be run
      assertAll(
          () -> assertEquals(Optional.empty(), store.find(injected), "an injected job"),
          () -> assertEquals(JobState.QUEUED, store.find(victim).orElseThrow().state()));
      // and the damage was reported where the carrying frame starts, and the job after it is there
      assertEquals(JobState.QUEUED, store.find(after).orElseThrow().state());
      assertEquals(2, store.counts().queued(), store.counts().toString());
      assertTrue(
          log.warnings().stream().anyMatch(w -> w.contains("damaged at offset " + carrier)),
          log.warnings().toString());
      store.checkInvariants();
    }
  }

  private static int indexOf(byte[] haystack, byte[] needle) {
    for (int i = 0; i + needle.length <= haystack.length; i++) {
      if (Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
        return i;
      }
    }
    throw new AssertionError("the payload is not in the segment");
  }
}
