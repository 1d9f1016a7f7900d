package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.SegmentFormat.FRAME_HEADER_BYTES;
import static io.sluice.jobs.journal.SegmentFormat.HEADER_BYTES;
import static io.sluice.jobs.journal.SegmentFormat.SALT_AT;
import static io.sluice.jobs.journal.SegmentFormat.SALT_COPY_AT;

import io.sluice.jobs.journal.SegmentFormat.Checks;
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
 * good frame. Zeros after the last good frame are not a torn tail and stay: a preallocated file
 * (SegmentPreallocator) keeps its blocks for the appends to overwrite.
 *
 * Each file is mapped read-only in a confined Arena (unmapped deterministically before the tail is
 * truncated) and scanned frame by frame from offset 64, with the checks its header names: version
 * 2's, masked with the segment's salt and the frame's offset, or version 1's plain CRC32Cs:
 *  - a frame whose two checks pass and which lies wholly inside the file is a record;
 *  - 16 zero bytes where a frame would start, with nothing but zeros after them, is the end of data
 *    (pre-allocated space, or the zero padding of a direct-I/O block);
 *  - anything else is damage at p. Resynchronise: scan p+1, p+2 ... for the next frame whose checks
 *    pass. Found at q: [p, q) is a corrupt region, reported, and the scan goes on at q. Not found:
 *    in the last segment this is the torn tail of an interrupted commit (never acknowledged under
 *    ALWAYS, as a commit completes only after its force) and is cut off at p with one warning; in
 *    an earlier segment it is reported as a corrupt region up to the file's end.
 * The header check (CRC32C of the first 12 frame bytes) makes a resync candidate cost O(1) unless it
 * passes, so the resync scan is linear in the bytes scanned. In a version 2 segment the checks are
 * keyed, so the resync cannot be fooled by a frame planted inside a payload (SegmentFormat); in a
 * version 1 segment it can, which is why version 1 checks are never tried on a version 2 segment:
 * only a header that passes its check and says version 1, or (for a damaged header) the frame right
 * after the header, which only the writer places, makes a segment version 1.
 *
 * Headers: the header's check is tested first, and only a header that passes it is believed. A
 * future format version or a file that does not start with the magic, with a good check, is a
 * JournalFormatException (refuse to guess). A header whose check fails is damaged: reported as a
 * 64-byte corrupt region (segment, offset 0), and the frames after it are still read with whichever
 * checks verify a frame: either copy of the salt (the frame right after the header first, then a
 * scan), or version 1's if the frame right after the header passes them or the header otherwise
 * reads as version 1's. If none does, the frames cannot be told from forged ones: a damaged header
 * that claims version 2 makes the rest of the segment one corrupt region, left on disk, not cut; a
 * damaged header claiming another version or lacking the magic is a JournalFormatException: it may
 * be a foreign or future file. A last segment that is all zeros (its creation was torn before its
 * header reached the disk) is blank: the writer writes its header again.
 *
 * Appends continue in the last segment only if it is a version 2 one whose salt replay verified;
 * otherwise (version 1, or a salt lost with its header) the writer starts the next segment, so a
 * segment never mixes versions or salts.
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

  /**
   * The outcome of a replay: segments found, where to append, the last segment's salt (0 if it
   * cannot be appended to: version 1, or a salt no frame verified), and the report.
   */
  record Result(
      List<Long> segments, long lastSegment, long lastEnd, long lastSalt, ReplayReport report) {}

  private final Path directory;
  private final ReplayVisitor visitor;
  private final List<ReplayReport.CorruptRegion> regions = new ArrayList<>();
  private final List<String> warnings = new ArrayList<>();
  private ReplayReport.TruncatedTail tail;
  private long records;
  private long bytesBefore;
  private long totalBytes;
  private long nextProgress;

  /** The salt of the segment scanned last, if it is version 2 and its salt verified; else 0. */
  private long scannedSalt;

  /** The last non-zero byte of the segment scan() last read; MAX_VALUE if it did not read one. */
  private long scannedLastNonZero;

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
    long lastSalt = 0;
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
        lastSalt = scannedSalt;
        // Zeros after the data of a segment the writer goes on with (a preallocated file's) stay:
        // they hold no frame that could resurface, and the writer overwrites them in place. A
        // segment it will not append to (no verified salt) is cut as before, so that its size
        // says what releasing it would free.
        if (end >= 0 && size > end && (scannedLastNonZero >= end || scannedSalt == 0)) {
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
    return new Result(segments, lastSegment, lastEnd, lastSalt, report);
  }

  private long replaySegment(Path file, long n, long size, boolean last) throws IOException {
    scannedLastNonZero = Long.MAX_VALUE;
    if (size > Integer.MAX_VALUE) {
      throw new JournalFormatException(
          file,
          "is "
              + size
              + " bytes, larger than any segment this version writes (at most 1 GiB). Move it out"
              + " of the journal directory if it does not belong there.");
    }
    if (size == 0) {
      scannedSalt = 0;
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
    scannedSalt = 0;
    int size = data.limit();
    int lastNonZero = lastNonZero(data);
    scannedLastNonZero = lastNonZero;
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
    Checks checks;
    if (isZero(data, 0, HEADER_BYTES)) {
      checks = checksOfUntrustedHeader(data, lastNonZero, 0, 0);
      region(
          n,
          0,
          HEADER_BYTES,
          "segment header missing (zeros)" + (checks == null ? "" : "; frames after it are read"));
    } else {
      checks = checkHeader(file, n, data, lastNonZero);
    }
    if (checks == null) {
      return unverifiable(n, size, lastNonZero);
    }
    scannedSalt = checks.salt();
    int p = HEADER_BYTES;
    while (p < size) {
      int status = frameAt(data, p, size, lastNonZero, checks);
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
        int q = resync(data, p + 1, size, lastNonZero, checks);
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
  static int frameAt(ByteBuffer data, int p, int size, int lastNonZero, Checks checks) {
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
    long mask = checks.mask(p);
    int crc = data.getInt(p + 8) ^ (int) (mask >>> 32);
    int headerCrc = data.getInt(p + 12) ^ (int) mask;
    if (headerCrc != SegmentFormat.headerCrc(length, type, crc)) {
      return BAD;
    }
    return SegmentFormat.frameCrc(data, p, length) == crc ? 0 : BAD;
  }

  /** The first position >= from holding a valid frame, or -1. */
  static int resync(ByteBuffer data, int from, int size, int lastNonZero, Checks checks) {
    for (int q = from; q <= lastNonZero && q <= size - FRAME_HEADER_BYTES; q++) {
      int length = data.getInt(q);
      if (length < 0 || length > size - q - FRAME_HEADER_BYTES) {
        continue;
      }
      if (frameAt(data, q, size, lastNonZero, checks) == 0) {
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
   * Checks a segment's header and returns the checks of its frames, or null if none can be trusted.
   * Its fields are believed only when its check passes: one flipped bit must not read as a future
   * version (which refuses to start), as a foreign file, or as version 1 (whose checks a forged
   * frame can pass).
   */
  private Checks checkHeader(Path file, long n, ByteBuffer data, int lastNonZero)
      throws JournalFormatException {
    long magic = data.getLong(0);
    int version = data.getInt(8);
    long salt = data.getLong(SALT_AT);
    if (data.getInt(60) != SegmentFormat.crc(data, 0, 60)) {
      return damagedHeader(file, n, data, lastNonZero, magic, version);
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
    boolean known =
        data.getInt(12) == HEADER_BYTES
            && (version == SegmentFormat.VERSION_1
                || version == SegmentFormat.VERSION && salt != 0);
    if (!known) {
      Checks checks = checksOfUntrustedHeader(data, lastNonZero, magic, version);
      region(
          n,
          0,
          HEADER_BYTES,
          "segment header names format version "
              + version
              + " with a header of "
              + data.getInt(12)
              + " bytes"
              + (version == SegmentFormat.VERSION && salt == 0 ? " and no salt" : "")
              + ", which no Sluice writes; "
              + (checks == null
                  ? "no frame after it passes its checks"
                  : "frames after it are still read"));
      return checks;
    }
    if (data.getLong(16) != n) {
      warn(
          "Journal segment "
              + file
              + " says it is segment "
              + data.getLong(16)
              + "; its file name wins. Was it renamed or copied by hand?");
    }
    return version == SegmentFormat.VERSION_1 ? Checks.VERSION_1_CHECKS : new Checks(salt);
  }

  /**
   * A header whose check fails is damaged, whatever it says. The frames after it are still read, as
   * after any damaged region, with whichever checks verify one of them (checksOfUntrustedHeader),
   * or if nothing follows it (nothing to lose). If no checks verify a frame: a header that claims
   * version 2 loses the segment's records (reported, not cut); one that claims another version or
   * lacks the magic may be a foreign or future file: refused, not guessed at.
   */
  private Checks damagedHeader(
      Path file, long n, ByteBuffer data, int lastNonZero, long magic, int version)
      throws JournalFormatException {
    boolean looksOwn =
        magic == SegmentFormat.MAGIC
            && (version == SegmentFormat.VERSION || version == SegmentFormat.VERSION_1);
    Checks checks = checksOfUntrustedHeader(data, lastNonZero, magic, version);
    boolean nothingAfter = lastNonZero < HEADER_BYTES;
    if (checks == null
        && !nothingAfter
        && !(magic == SegmentFormat.MAGIC && version == SegmentFormat.VERSION)) {
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
            + (checks != null || nothingAfter
                ? "); the frames after it carry their own checks and are still read"
                : "); no frame after it passes its checks with the salt it held"));
    return checks;
  }

  /**
   * The checks of the frames after a header that is not believed (damaged, missing, or naming what
   * no Sluice writes), or null: either copy of its salt, if a frame passes with it (tried first on
   * the frame right after the header, then by a scan); version 1's, if the frame right after the
   * header passes them, or if the header says version 1 and holds no salt. Version 1 checks are
   * never tried by a scan: in a version 2 segment a scan would find frames planted in payloads.
   */
  private static Checks checksOfUntrustedHeader(
      ByteBuffer data, int lastNonZero, long magic, int version) {
    int size = data.limit();
    long a = data.getLong(SALT_AT);
    long b = data.getLong(SALT_COPY_AT);
    List<Checks> salted = new ArrayList<>(2);
    if (a != 0) {
      salted.add(new Checks(a));
    }
    if (b != 0 && b != a) {
      salted.add(new Checks(b));
    }
    for (Checks c : salted) {
      if (frameAt(data, HEADER_BYTES, size, lastNonZero, c) == 0) {
        return c;
      }
    }
    if (frameAt(data, HEADER_BYTES, size, lastNonZero, Checks.VERSION_1_CHECKS) == 0) {
      return Checks.VERSION_1_CHECKS;
    }
    for (Checks c : salted) {
      if (resync(data, HEADER_BYTES + 1, size, lastNonZero, c) >= 0) {
        return c;
      }
    }
    if (magic == SegmentFormat.MAGIC && version == SegmentFormat.VERSION_1 && a == 0 && b == 0) {
      return Checks.VERSION_1_CHECKS;
    }
    return null;
  }

  /**
   * A segment none of whose frames can be verified (its salt is lost with its header): everything
   * after the header is reported as one corrupt region and left on disk; appends go to a new
   * segment. Returns the size, so that nothing is cut.
   */
  private long unverifiable(long n, int size, int lastNonZero) {
    if (lastNonZero >= HEADER_BYTES) {
      region(
          n,
          HEADER_BYTES,
          lastNonZero + 1 - HEADER_BYTES,
          "no frame passes its checks with what the segment header held (its salt is damaged or"
              + " missing), and a frame that cannot be checked cannot be told from one planted in"
              + " a payload; its records are not replayed, and the file is left as it is");
    }
    return size;
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
