package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.SegmentFormat.FRAME_HEADER_BYTES;
import static io.sluice.jobs.journal.SegmentFormat.HEADER_BYTES;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/*
 * Replay at open: reads every segment file in number order and hands each readable record to the
 * visitor, then cuts the torn tail off the last segment so appends continue right after the last
 * good frame.
 *
 * Each file is mapped read-only in a confined Arena (unmapped deterministically before the tail is
 * truncated) and scanned frame by frame from offset 64:
 *  - a frame whose two CRC32C checks pass and which lies wholly inside the file is a record;
 *  - 16 zero bytes where a frame would start, with nothing but zeros after them, is the end of data
 *    (pre-allocated space, or the zero padding of a direct-I/O block);
 *  - anything else is damage at p. Resynchronise: scan p+1, p+2 ... for the next frame whose checks
 *    pass. Found at q: [p, q) is a corrupt region, reported, and the scan goes on at q. Not found:
 *    in the last segment this is the torn tail of an interrupted commit (never acknowledged under
 *    ALWAYS, as a commit completes only after its force) and is cut off at p with one warning; in
 *    an earlier segment it is reported as a corrupt region up to the file's end.
 * The header check (CRC32C of the first 12 frame bytes) makes a resync candidate cost O(1) unless it
 * passes, so the resync scan is linear in the bytes scanned.
 *
 * Headers: the header's check is tested first, and only a header that passes it is believed. A
 * future format version or a file that does not start with the magic, with a good check, is a
 * JournalFormatException (refuse to guess). A header whose check fails is damaged: reported as a
 * 64-byte corrupt region (segment, offset 0), and the frames after it are still read (each has its
 * own checks) - if it otherwise reads as this version's, if the frame after it passes its checks,
 * or if nothing follows it. A damaged header claiming another version or lacking the magic, with
 * no readable frame after it, is a JournalFormatException too: it may be a foreign or future
 * file, and reading on would cut a last segment's tail. A last
 * segment that is all zeros (its creation was torn before its header reached the disk) is blank:
 * the writer writes its header again.
 *
 * Why cutting is safe: a record is acknowledged only after the commit that wrote it was forced, and
 * the next commit starts after that; so everything after the last good frame of the last segment
 * belongs to a commit that never completed. Cutting (truncate + force) also guarantees that no
 * stale, never-acknowledged frame beyond the cut can later resurface after newer records.
 *
 * Invariants (checkInvariants): records replayed and corrupt regions found belong to segments that
 * were read; the tail, if cut, is in the last segment; end of the last segment >= its header.
 */
final class Recovery {
  private static final System.Logger LOG = System.getLogger(Journal.class.getName());
  private static final int MAX_LOGGED_REGIONS = 20;
  private static final long PROGRESS_STEP = 1 << 20;

  /** The outcome of a replay: segments found, where to append, and the report. */
  record Result(List<Long> segments, long lastSegment, long lastEnd, ReplayReport report) {}

  private final Path directory;
  private final ReplayVisitor visitor;
  private final List<ReplayReport.CorruptRegion> regions = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private ReplayReport.TruncatedTail tail;
  private long records;
  private long bytesBefore;
  private long totalBytes;
  private long nextProgress;

  Recovery(Path directory, ReplayVisitor visitor) {
    this.directory = directory;
    this.visitor = visitor;
  }

  /** The segment numbers in the directory, ascending. */
  static List<Long> listSegments(Path directory) throws IOException {
    try (Stream<Path> files = Files.list(directory)) {
      return files
          .map(f -> SegmentFormat.parseFileName(f.getFileName().toString()))
          .filter(n -> n >= 0)
          .sorted()
          .toList();
    }
  }

  /**
   * Replays every segment. For the last one, {@code lastEnd} is where appends continue, or -1 if
   * the segment is blank and needs its header written; with no segment at all, lastSegment is 0.
   */
  Result run() throws IOException {
    long started = System.nanoTime();
    List<Long> segments = listSegments(directory);
    for (long n : segments) {
      totalBytes += Files.size(SegmentFormat.file(directory, n));
    }
    long lastEnd = -1;
    for (int i = 0; i < segments.size(); i++) {
      long n = segments.get(i);
      if (i > 0 && n != segments.get(i - 1) + 1) {
        warn(
            "Journal segments "
                + (segments.get(i - 1) + 1)
                + " to "
                + (n - 1)
                + " are missing from "
                + directory
                + "; their records are lost. Replay continues with segment "
                + n
                + ".");
      }
      boolean last = i == segments.size() - 1;
      Path file = SegmentFormat.file(directory, n);
      long size = Files.size(file);
      long end = replaySegment(file, n, size, last);
      if (last) {
        lastEnd = end;
        if (end >= 0 && size > end) {
          cut(file, end);
        }
      }
      bytesBefore += size;
      visitor.progress(bytesBefore, totalBytes);
    }
    ReplayReport report =
        new ReplayReport(
            records,
            segments.size(),
            totalBytes,
            Optional.ofNullable(tail),
            regions,
            warnings,
            Duration.ofNanos(System.nanoTime() - started));
    long lastSegment = segments.isEmpty() ? 0 : segments.getLast();
    return new Result(segments, lastSegment, lastEnd, report);
  }

  private long replaySegment(Path file, long n, long size, boolean last) throws IOException {
    if (size > Integer.MAX_VALUE) {
      throw new JournalFormatException(
          file,
          "is "
              + size
              + " bytes, larger than any segment this version writes (at most 1 GiB). Move it out"
              + " of the journal directory if it does not belong there.");
    }
    if (size == 0) {
      return blank(file, n, last, 0);
    }
    try (Arena arena = Arena.ofConfined();
        FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer data = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena).asByteBuffer();
      return scan(file, n, data, last);
    }
  }

  /** Scans one mapped segment; returns the end of its good data, or -1 if blank. */
  long scan(Path file, long n, ByteBuffer data, boolean last) throws JournalFormatException {
    int size = data.limit();
    int lastNonZero = lastNonZero(data);
    if (lastNonZero < 0) {
      return blank(file, n, last, size);
    }
    if (size < HEADER_BYTES) {
      for (int i = 0; i < Math.min(size, 8); i++) {
        if (data.get(i) != (byte) (SegmentFormat.MAGIC >>> (56 - 8 * i))) {
          throw notASegment(file);
        }
      }
      region(n, 0, size, "segment shorter than its header");
      return last ? -1 : 0;
    }
    if (isZero(data, 0, HEADER_BYTES)) {
      region(n, 0, HEADER_BYTES, "segment header missing (zeros); frames after it are still read");
    } else {
      checkHeader(file, n, data, lastNonZero);
    }
    int p = HEADER_BYTES;
    while (p < size) {
      int status = frameAt(data, p, size, lastNonZero);
      if (status >= 0) {
        int length = data.getInt(p);
        int type = data.getInt(p + 4);
        visitor.record(n, type, data.slice(p + FRAME_HEADER_BYTES, length).asReadOnlyBuffer());
        records++;
        p += FRAME_HEADER_BYTES + length;
        progress(p);
      } else if (status == END) {
        return p;
      } else {
        int q = resync(data, p + 1, size, lastNonZero);
        if (q < 0) {
          return endOfSegment(file, n, last, p, size, lastNonZero + 1);
        }
        region(n, p, q - p, "frame check failed; skipped to the next frame whose checks pass");
        p = q;
      }
    }
    return p;
  }

  private static final int END = -1;
  private static final int BAD = -2;

  /** 0 for a valid frame at p, END for end of data, BAD for anything else. */
  static int frameAt(ByteBuffer data, int p, int size, int lastNonZero) {
    if (p > lastNonZero) {
      return END;
    }
    if (size - p < FRAME_HEADER_BYTES) {
      return BAD;
    }
    int length = data.getInt(p);
    if (length < 0 || length > size - p - FRAME_HEADER_BYTES) {
      return BAD;
    }
    int type = data.getInt(p + 4);
    int crc = data.getInt(p + 8);
    int headerCrc = data.getInt(p + 12);
    if (headerCrc != SegmentFormat.headerCrc(length, type, crc)) {
      return BAD;
    }
    return SegmentFormat.frameCrc(data, p, length) == crc ? 0 : BAD;
  }

  /** The first position >= from holding a valid frame, or -1. */
  static int resync(ByteBuffer data, int from, int size, int lastNonZero) {
    for (int q = from; q <= lastNonZero && q <= size - FRAME_HEADER_BYTES; q++) {
      int length = data.getInt(q);
      if (length < 0 || length > size - q - FRAME_HEADER_BYTES) {
        continue;
      }
      if (frameAt(data, q, size, lastNonZero) == 0) {
        return q;
      }
    }
    return -1;
  }

  private long endOfSegment(Path file, long n, boolean last, int p, int size, int dataEnd) {
    if (last) {
      tail = new ReplayReport.TruncatedTail(n, p, size - p);
      warn(
          "Journal segment "
              + file
              + " ends with a torn or corrupt record at offset "
              + p
              + " ("
              + (dataEnd - p)
              + " unreadable bytes): cut off there. A crash during a write leaves this; the records"
              + " before it are intact and appends continue at offset "
              + p
              + ".");
    } else {
      region(n, p, size - p, "end of segment unreadable (no valid frame after it)");
    }
    return p;
  }

  /**
   * Checks a segment's header. Its fields are believed only when its check passes: one flipped bit
   * must not read as a future version (which refuses to start) or as a foreign file.
   */
  private void checkHeader(Path file, long n, ByteBuffer data, int lastNonZero)
      throws JournalFormatException {
    long magic = data.getLong(0);
    int version = data.getInt(8);
    if (data.getInt(60) != SegmentFormat.crc(data, 0, 60)) {
      damagedHeader(file, n, data, lastNonZero, magic, version);
      return;
    }
    if (magic != SegmentFormat.MAGIC) {
      throw notASegment(file);
    }
    if (version > SegmentFormat.VERSION) {
      throw new JournalFormatException(
          file,
          "has journal format version "
              + version
              + ", newer than this Sluice reads (up to "
              + SegmentFormat.VERSION
              + "). Run the Sluice version that wrote it (or a newer one); do not delete the file.");
    }
    if (version != SegmentFormat.VERSION || data.getInt(12) != HEADER_BYTES) {
      region(
          n,
          0,
          HEADER_BYTES,
          "segment header names format version "
              + version
              + " with a header of "
              + data.getInt(12)
              + " bytes, which no Sluice writes; frames after it are still read");
    } else if (data.getLong(16) != n) {
      warn(
          "Journal segment "
              + file
              + " says it is segment "
              + data.getLong(16)
              + "; its file name wins. Was it renamed or copied by hand?");
    }
  }

  /**
   * A header whose check fails is damaged, whatever it says. Each frame after it carries its own
   * checks, so the frames are still read, as after any damaged region: if the header otherwise
   * reads as this version's, or if the frame right after it passes its checks (then this version
   * wrote the segment, whatever the damaged header claims), or if nothing follows it (nothing to
   * lose). A damaged header that claims another version or lacks the magic, followed by data that
   * is not this version's frame, may be a foreign or future file: refused, not guessed at (reading
   * on would cut off the tail of a last segment).
   */
  private void damagedHeader(
      Path file, long n, ByteBuffer data, int lastNonZero, long magic, int version)
      throws JournalFormatException {
    boolean looksOwn = magic == SegmentFormat.MAGIC && version == SegmentFormat.VERSION;
    int first = frameAt(data, HEADER_BYTES, data.limit(), lastNonZero);
    if (!looksOwn && first == BAD) {
      throw new JournalFormatException(
          file,
          "has a damaged header (its check fails; it "
              + (magic == SegmentFormat.MAGIC
                  ? "claims format version " + version
                  : "does not start with the journal segment magic")
              + ") and what follows it is not a record this version reads, so Sluice cannot tell"
              + " a damaged segment from a file of another format or version. Restore it from a"
              + " backup, run a newer Sluice if one wrote it, or move it out of "
              + directory
              + " (its records are then lost), and start again.");
    }
    region(
        n,
        0,
        HEADER_BYTES,
        "segment header damaged (its check failed"
            + (looksOwn ? "" : "; what it says about magic and version is not believed")
            + "); the frames after it carry their own checks and are still read");
  }

  private JournalFormatException notASegment(Path file) {
    return new JournalFormatException(
        file,
        "does not start with the journal segment magic: it is not a Sluice journal segment, or"
            + " its first block is damaged. Sluice will not guess; move the file out of "
            + directory
            + " (its records are then lost) or restore it from a backup, and start again.");
  }

  private long blank(Path file, long n, boolean last, long size) {
    if (last) {
      warn(
          "Journal segment "
              + file
              + " is blank (its creation was interrupted before its header reached the disk); its"
              + " header is written again.");
    } else {
      region(n, 0, size, "segment is blank (all zeros)");
    }
    return last ? -1 : 0;
  }

  private void cut(Path file, long end) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(end);
      ch.force(true);
    }
  }

  private void progress(long p) {
    long done = bytesBefore + p;
    if (done >= nextProgress) {
      nextProgress = done + PROGRESS_STEP;
      visitor.progress(done, totalBytes);
    }
  }

  private void region(long n, long offset, long length, String reason) {
    regions.add(new ReplayReport.CorruptRegion(n, offset, length, reason));
    if (regions.size() <= MAX_LOGGED_REGIONS) {
      warn(
          "Journal segment "
              + SegmentFormat.file(directory, n)
              + " is damaged at offset "
              + offset
              + " ("
              + length
              + " bytes): "
              + reason
              + ". Records in that region are lost; replay continues with what is readable."
              + (regions.size() == MAX_LOGGED_REGIONS
                  ? " Further damaged regions are only listed in the replay report."
                  : ""));
    }
  }

  private void warn(String message) {
    warnings.add(message);
    LOG.log(System.Logger.Level.WARNING, message);
  }

  static int lastNonZero(ByteBuffer data) {
    int i = data.limit() - 1;
    while (i >= 7 && data.getLong(i - 7) == 0) {
      i -= 8;
    }
    while (i >= 0 && data.get(i) == 0) {
      i--;
    }
    return i;
  }

  private static boolean isZero(ByteBuffer data, int from, int to) {
    for (int i = from; i < to; i++) {
      if (data.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  void checkInvariants() {
    if (tail != null && tail.offset() < 0) {
      throw new AssertionError("negative tail offset " + tail);
    }
    for (ReplayReport.CorruptRegion r : regions) {
      if (r.offset() < 0 || r.length() < 0) {
        throw new AssertionError("bad region " + r);
      }
    }
    if (records < 0 || bytesBefore > totalBytes) {
      throw new AssertionError("counts " + records + " " + bytesBefore + "/" + totalBytes);
    }
  }
}
