package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.body;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * Random bytes, random mutations of a real segment, and frames planted by someone who knows the
 * format, fed to the reader, seeded and reproducible (a failure message names the case; rerun with
 * that seed). The only exception allowed out is the documented JournalFormatException; whatever is
 * replayed must be records that were really written (two checks make a false frame out of random
 * bytes a 2^-64 event, and of chosen bytes too, as the checks are keyed with the segment's salt),
 * in the order they were written, each once: the checks also depend on the frame's offset, so a
 * range copied elsewhere replays nothing twice.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalFuzzTest {
  private static final long SEED = 0x5EED_10E7L;
  private static final int IN_MEMORY_CASES =
      Boolean.parseBoolean(System.getenv("CI")) ? 50_000 : 5_000;
  private static final int ON_DISK_CASES = 120;
  private static final int RECORDS = 60;

  @TempDir Path dir;

  private byte[] original;

  /** The same appends in another journal: the same layout, another salt. */
  private byte[] twin;

  /** Where each frame of {@code original} starts, and where the last one ends. */
  private final int[] starts = new int[RECORDS + 1];

  private final Map<String, Integer> index = new HashMap<>();

  @BeforeEach
  void writeASegment() throws Exception {
    original = writeRecords(dir.resolve("original"));
    twin = writeRecords(dir.resolve("twin"));
  }

  private byte[] writeRecords(Path journal) throws Exception {
    SplittableRandom r = new SplittableRandom(SEED);
    starts[0] = SegmentFormat.HEADER_BYTES;
    try (Journal j =
        Journal.open(
            JournalOptions.defaults(journal).withMaxRecordBytes(2048).withSegmentBytes(1 << 20),
            ReplayVisitor.IGNORE)) {
      for (int i = 0; i < RECORDS; i++) {
        byte[] b = body(i, i, r.nextInt(600));
        j.append(i, b);
        index.put(key(i, b), i);
        starts[i + 1] = starts[i] + SegmentFormat.FRAME_HEADER_BYTES + b.length;
      }
    }
    return Files.readAllBytes(SegmentFormat.file(journal, 1));
  }

  private static String key(int type, byte[] body) {
    return type + ":" + Arrays.hashCode(body) + ":" + body.length;
  }

  @Test
  void randomMutationsNeverEscapeTheReaderAndReplayOnlyWrittenRecordsInOrder() throws Exception {
    int formatErrors = 0;
    long replayed = 0;
    for (int c = 0; c < IN_MEMORY_CASES; c++) {
      SplittableRandom r = new SplittableRandom(SEED + c);
      Mutated m = mutate(original, r);
      Recorded seen = new Recorded();
      Recovery recovery = new Recovery(dir, seen);
      try {
        long end = recovery.scan(dir.resolve("case"), 1, ByteBuffer.wrap(m.bytes), r.nextBoolean());
        assertTrue(end <= m.bytes.length, "case " + c + ": end " + end);
      } catch (JournalFormatException e) {
        formatErrors++;
      } catch (RuntimeException | Error e) {
        fail("case " + c + " (" + m.how + ") threw", e);
      }
      recovery.checkInvariants();
      checkWritten(seen, m.how, c);
      replayed += seen.records.size();
    }
    // the mutations are mostly survivable: most cases replay records, few hit the header's magic
    assertTrue(replayed > IN_MEMORY_CASES * 10L, "replayed " + replayed);
    assertTrue(formatErrors < IN_MEMORY_CASES / 3, "format errors " + formatErrors);
  }

  @Test
  void randomBytesNeverEscapeTheReader() throws Exception {
    for (int c = 0; c < IN_MEMORY_CASES; c++) {
      SplittableRandom r = new SplittableRandom(SEED ^ c);
      byte[] junk = new byte[r.nextInt(20_000)];
      r.nextBytes(junk);
      if (r.nextBoolean() && junk.length >= SegmentFormat.HEADER_BYTES) {
        // a valid header in front of random bytes, so the frame reader gets exercised
        ByteBuffer h = ByteBuffer.wrap(junk);
        SegmentFormat.putHeader(h, 1, 0, SegmentFormat.newSalt());
      }
      Recorded seen = new Recorded();
      try {
        new Recovery(dir, seen)
            .scan(dir.resolve("junk"), 1, ByteBuffer.wrap(junk), r.nextBoolean());
      } catch (JournalFormatException expected) {
        // documented
      } catch (RuntimeException | Error e) {
        fail("case " + c + " threw", e);
      }
      assertEquals(List.of(), seen.records, "case " + c);
    }
  }

  @Test
  void framesPlantedInsideARecordAreNeverReplayedWhateverChecksTheyCarry() throws Exception {
    // Someone who knows the format but not the segment's salt puts frames into a record's body,
    // which is the damage that makes the reader resynchronise through that body: frames checked
    // as version 1 did, checked as version 2 with a guessed salt for the very offset they sit at,
    // and real frames of the segment copied there. Only the other records may come back.
    for (int c = 0; c < IN_MEMORY_CASES; c++) {
      SplittableRandom r = new SplittableRandom(SEED + 7919L * c);
      byte[] b = original.clone();
      int carrier = r.nextInt(RECORDS);
      int from = starts[carrier] + SegmentFormat.FRAME_HEADER_BYTES;
      int to = starts[carrier + 1];
      List<String> what = new ArrayList<>();
      for (int k = 1 + r.nextInt(3); k > 0; k--) {
        Planted p = planted(r);
        if (p.frame.length > to - from) {
          continue; // the carrier is too short for it
        }
        int at = r.nextInt(from, to - p.frame.length + 1);
        byte[] frame = p.guessesSalt ? checkedAt(p.frame, at, r.nextLong()) : p.frame;
        System.arraycopy(frame, 0, b, at, frame.length);
        what.add(p.what + " at " + at);
      }
      b[starts[carrier] + r.nextInt(SegmentFormat.FRAME_HEADER_BYTES)] ^= (byte) 0x5A;
      String how = "record " + carrier + " carries " + what;
      Recorded seen = new Recorded();
      Recovery recovery = new Recovery(dir, seen);
      recovery.scan(dir.resolve("planted"), 1, ByteBuffer.wrap(b), r.nextBoolean());
      recovery.checkInvariants();
      checkWritten(seen, how, c);
      assertEquals(RECORDS - 1, seen.records.size(), "case " + c + " (" + how + ")");
    }
  }

  @Test
  void aRealFrameFromAnotherSegmentAtItsOwnOffsetIsNotReplayed() throws Exception {
    // A segment with the same records at the same offsets but another salt: each of its frames,
    // put in place of the original's, is refused, and only that record is missing.
    for (int k = 0; k < RECORDS; k++) {
      byte[] b = original.clone();
      System.arraycopy(twin, starts[k], b, starts[k], starts[k + 1] - starts[k]);
      Recorded seen = new Recorded();
      new Recovery(dir, seen).scan(dir.resolve("twin"), 1, ByteBuffer.wrap(b), false);
      checkWritten(seen, "frame " + k + " from the twin", k);
      assertEquals(RECORDS - 1, seen.records.size(), "frame " + k);
      int missing = k;
      assertTrue(seen.records.stream().noneMatch(x -> x.type() == missing), "frame " + k);
    }
  }

  /**
   * A frame someone might plant: one with version 1 checks, a real frame of the segment, or one
   * whose version 2 checks {@link #checkedAt} computes with a guessed salt once its offset is
   * known.
   */
  private record Planted(String what, byte[] frame, boolean guessesSalt) {}

  private Planted planted(SplittableRandom r) {
    byte[] body = new byte[r.nextInt(64)];
    r.nextBytes(body);
    byte[] forged = JournalFormatVersionsTest.version1Frame(1000 + r.nextInt(10), body);
    return switch (r.nextInt(3)) {
      case 0 -> new Planted("a version 1 frame", forged, false);
      case 1 -> {
        int j = r.nextInt(RECORDS);
        yield new Planted(
            "a copy of frame " + j, Arrays.copyOfRange(original, starts[j], starts[j + 1]), false);
      }
      default -> new Planted("a frame with a guessed salt", forged, true);
    };
  }

  /** The frame with version 2 checks under {@code salt} for a frame starting at {@code offset}. */
  private static byte[] checkedAt(byte[] frame, int offset, long salt) {
    ByteBuffer f = ByteBuffer.wrap(frame.clone());
    long mask = SegmentFormat.mask(salt, offset);
    f.putInt(8, f.getInt(8) ^ (int) (mask >>> 32));
    f.putInt(12, f.getInt(12) ^ (int) mask);
    return f.array();
  }

  @Test
  void mutatedSegmentFilesOpenCutAndAcceptAppendsThatReplayCleanly() throws Exception {
    // the whole open path: replay, cut, reopen for appending, append, replay again
    for (int c = 0; c < ON_DISK_CASES; c++) {
      SplittableRandom r = new SplittableRandom(SEED * 31 + c);
      Mutated m = mutate(original, r);
      Path journal = dir.resolve("case" + c);
      Files.createDirectories(journal);
      Files.write(SegmentFormat.file(journal, 1), m.bytes);
      JournalOptions options =
          JournalOptions.defaults(journal).withMaxRecordBytes(2048).withSegmentBytes(1 << 20);
      Recorded first = new Recorded();
      try (Journal j = Journal.open(options, first)) {
        j.append(1000, body(1000, c, 40));
      } catch (JournalFormatException e) {
        continue;
      }
      checkWritten(first, m.how, c);
      Recorded second = new Recorded();
      try (Journal j = Journal.open(options, second)) {
        // the torn tail was cut for good: the appended record follows the good data
        assertTrue(j.replayReport().truncatedTail().isEmpty(), "case " + c + " " + m.how);
      }
      assertEquals(first.records.size() + 1, second.records.size(), "case " + c + " " + m.how);
      assertEquals(1000, second.records.getLast().type(), "case " + c);
      assertEquals(first.records, second.records.subList(0, first.records.size()), "case " + c);
      JournalTest.deleteTree(journal);
    }
  }

  private void checkWritten(Recorded seen, String how, int c) {
    int previous = -1;
    for (Recorded.Rec rec : seen.records) {
      Integer i = index.get(key(rec.type(), rec.body()));
      if (i == null) {
        fail("case " + c + " (" + how + "): replayed a record that was never written: " + rec);
      }
      assertTrue(i > previous, "case " + c + " (" + how + "): out of order or twice");
      previous = i;
    }
  }

  private record Mutated(byte[] bytes, String how) {}

  private static Mutated mutate(byte[] original, SplittableRandom r) {
    byte[] b = original.clone();
    int n = b.length;
    return switch (r.nextInt(7)) {
      case 0 -> {
        int flips = 1 + r.nextInt(5);
        for (int i = 0; i < flips; i++) {
          b[r.nextInt(SegmentFormat.HEADER_BYTES, n)] ^= (byte) (1 + r.nextInt(255));
        }
        yield new Mutated(b, flips + " flipped bytes");
      }
      case 1 -> {
        int from = r.nextInt(n);
        int len = r.nextInt(Math.min(3000, n - from) + 1);
        for (int i = from; i < from + len; i++) {
          b[i] = (byte) r.nextInt();
        }
        yield new Mutated(b, "random bytes at " + from + "+" + len);
      }
      case 2 -> {
        int from = r.nextInt(SegmentFormat.HEADER_BYTES, n);
        int len = r.nextInt(Math.min(5000, n - from) + 1);
        Arrays.fill(b, from, from + len, (byte) 0);
        yield new Mutated(b, "zeros at " + from + "+" + len);
      }
      case 3 -> {
        int cut = r.nextInt(n + 1);
        yield new Mutated(Arrays.copyOf(b, cut), "cut at " + cut);
      }
      case 4 -> {
        int from = r.nextInt(n);
        int len = r.nextInt(Math.min(2000, n - from) + 1);
        int to = r.nextInt(n - len + 1);
        System.arraycopy(original, from, b, to, len);
        yield new Mutated(b, "copied " + from + "+" + len + " to " + to);
      }
      case 5 -> {
        int at = r.nextInt(SegmentFormat.HEADER_BYTES, n);
        int len = r.nextInt(1, 500);
        byte[] longer = new byte[n + len];
        System.arraycopy(b, 0, longer, 0, at);
        for (int i = at; i < at + len; i++) {
          longer[i] = (byte) r.nextInt();
        }
        System.arraycopy(b, at, longer, at + len, n - at);
        yield new Mutated(longer, "inserted " + len + " at " + at);
      }
      default -> {
        List<String> what = new ArrayList<>();
        for (int k = 0; k < 3; k++) {
          int at = r.nextInt(n);
          b[at] = (byte) r.nextInt();
          what.add(String.valueOf(at));
        }
        yield new Mutated(b, "bytes set anywhere (header too) at " + what);
      }
    };
  }
}
