package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.SegmentFormat.BLOCK;
import static io.sluice.jobs.journal.SegmentFormat.FRAME_HEADER_BYTES;
import static io.sluice.jobs.journal.SegmentFormat.HEADER_BYTES;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Set;

/*
 * Writes frames to one segment file through a 4096-byte aligned buffer, so that the same code
 * serves direct I/O (O_DIRECT needs aligned memory, file positions and lengths) and buffered I/O.
 *
 * The buffer mirrors the file from `bufStart` (a block boundary) for `pos` bytes; the data end of
 * the segment is bufStart + pos. Frames are copied in; when the buffer fills up it is written whole
 * (a spill) and starts over at the next block. flush() writes the buffer up to the next block
 * boundary, with zeros after the data, then keeps only the last, partial block in memory
 * (moved to the front): the next flush rewrites that block with the same prefix plus new frames.
 * Rewriting an identical prefix is safe against a torn write (whatever mix of old and new sectors
 * lands, the prefix bytes are the same), and the zeros after the data read as "end of data".
 *
 * Each frame's two checks, computed by its submitter, are XORed here with the segment's mask for
 * the offset the frame starts at (SegmentFormat): this is the one place that knows the offset.
 *
 * Used only by the journal's writer thread (no synchronisation).
 *
 * Invariants (checkInvariants): bufStart is block-aligned; 0 <= pos <= capacity; after flush()
 * pos < BLOCK; the data end never goes below the header.
 */
final class SegmentWriter {
  private static final byte[] ZEROS = new byte[BLOCK];

  /**
   * {@code com.sun.nio.file.ExtendedOpenOption.DIRECT}, or null where the JDK lacks it. Looked up
   * reflectively because javac's "internal proprietary API" warning on a direct reference cannot be
   * suppressed and the build treats warnings as errors; the module requires jdk.unsupported so the
   * class is resolved.
   */
  static final OpenOption DIRECT = directOption();

  private static OpenOption directOption() {
    try {
      return (OpenOption)
          Class.forName("com.sun.nio.file.ExtendedOpenOption").getField("DIRECT").get(null);
    } catch (ReflectiveOperationException | LinkageError | ClassCastException e) {
      return null;
    }
  }

  final long number;
  final Path file;

  /** The segment's secret, in its header; frames are checked with it and their offset. */
  private final long salt;

  private final FileChannel channel;
  private final ByteBuffer buf;
  private final int capacity;
  private long bufStart;
  private int pos;
  private boolean hasRecords;
  private boolean dirty;

  private SegmentWriter(long number, Path file, FileChannel channel, ByteBuffer buf, long salt) {
    this.number = number;
    this.file = file;
    this.salt = salt;
    this.channel = channel;
    this.buf = buf;
    this.capacity = buf.capacity();
  }

  /** An aligned direct buffer: {@code bytes} must be a multiple of the block size. */
  static ByteBuffer alignedBuffer(int bytes) {
    return ByteBuffer.allocateDirect(bytes + BLOCK).alignedSlice(BLOCK).limit(bytes).slice();
  }

  static Set<OpenOption> openOptions(boolean direct, boolean create) {
    Set<OpenOption> o = new HashSet<>();
    o.add(StandardOpenOption.READ);
    o.add(StandardOpenOption.WRITE);
    if (create) {
      o.add(StandardOpenOption.CREATE_NEW);
    }
    if (direct) {
      o.add(DIRECT);
    }
    return o;
  }

  /**
   * Creates the segment file with its header and a new salt, durably (file forced, directory
   * forced).
   */
  static SegmentWriter create(
      ChannelOpener opener, Path directory, long number, ByteBuffer buf, boolean direct)
      throws IOException {
    return create(opener, directory, number, buf, direct, null);
  }

  /**
   * Creates the segment as {@link #create(ChannelOpener, Path, long, ByteBuffer, boolean)} does,
   * from {@code preallocated} if not null: a file of zeros (SegmentPreallocator), renamed to the
   * segment's name, so that commits overwrite its blocks instead of growing the file.
   */
  static SegmentWriter create(
      ChannelOpener opener,
      Path directory,
      long number,
      ByteBuffer buf,
      boolean direct,
      Path preallocated)
      throws IOException {
    Path file = SegmentFormat.file(directory, number);
    FileChannel ch;
    if (preallocated != null && !Files.exists(file)) {
      // A rename replaces its target: the check keeps an existing segment from being replaced
      // (the writer alone creates segments, so nothing comes between the two).
      FileNames.of(opener).move(preallocated, file);
      ch = opener.open(file, openOptions(direct, false));
    } else {
      ch = opener.open(file, openOptions(direct, true));
    }
    long salt = SegmentFormat.newSalt();
    SegmentWriter w = new SegmentWriter(number, file, ch, buf, salt);
    try {
      SegmentFormat.putHeader(buf, number, System.currentTimeMillis(), salt);
      w.bufStart = 0;
      w.pos = HEADER_BYTES;
      w.dirty = true;
      w.flush();
      w.force();
    } catch (IOException | RuntimeException e) {
      w.closeQuietly();
      throw e;
    }
    syncDirectory(opener, directory);
    return w;
  }

  /**
   * Reopens the last segment, a version 2 one whose salt replay verified, to append after {@code
   * end}, the end of its good data.
   */
  static SegmentWriter reopen(
      ChannelOpener opener,
      Path directory,
      long number,
      long end,
      long salt,
      ByteBuffer buf,
      boolean direct)
      throws IOException {
    Path file = SegmentFormat.file(directory, number);
    FileChannel ch = opener.open(file, openOptions(direct, false));
    SegmentWriter w = new SegmentWriter(number, file, ch, buf, salt);
    try {
      w.bufStart = SegmentFormat.alignDown(end);
      w.pos = (int) (end - w.bufStart);
      // The kept partial block is read back through the page cache (a plain channel): direct
      // reads would need aligned lengths, and the file ends at the unaligned data end.
      ByteBuffer tail = buf.slice(0, w.pos);
      try (FileChannel plain = FileChannel.open(file, StandardOpenOption.READ)) {
        while (tail.hasRemaining()) {
          if (plain.read(tail, w.bufStart + tail.position()) < 0) {
            throw new IOException(file + ": shorter than its replayed data; cannot append to it");
          }
        }
      }
      buf.put(w.pos, ZEROS, 0, BLOCK - w.pos);
      w.hasRecords = end > HEADER_BYTES;
    } catch (IOException | RuntimeException e) {
      w.closeQuietly();
      throw e;
    }
    return w;
  }

  /** Forces a directory, so that the files created or deleted in it are durably so. */
  static void syncDirectory(ChannelOpener opener, Path directory) throws IOException {
    try (FileChannel d = opener.open(directory, Set.of(StandardOpenOption.READ))) {
      d.force(true);
    }
  }

  long end() {
    return bufStart + pos;
  }

  /** Whether a frame of this size may go into this segment (a first record always may). */
  boolean fits(int frameBytes, long segmentBytes) {
    return !hasRecords || end() + frameBytes <= segmentBytes;
  }

  void put(Pending p) throws IOException {
    int length = p.body.length;
    long mask = SegmentFormat.mask(salt, end());
    int crc = p.crc ^ (int) (mask >>> 32);
    int headerCrc = p.headerCrc ^ (int) mask;
    if (capacity - pos >= FRAME_HEADER_BYTES) {
      buf.putInt(pos, length);
      buf.putInt(pos + 4, p.type);
      buf.putInt(pos + 8, crc);
      buf.putInt(pos + 12, headerCrc);
      pos += FRAME_HEADER_BYTES;
    } else {
      byte[] head = new byte[FRAME_HEADER_BYTES];
      SegmentFormat.putInt(head, 0, length);
      SegmentFormat.putInt(head, 4, p.type);
      SegmentFormat.putInt(head, 8, crc);
      SegmentFormat.putInt(head, 12, headerCrc);
      putBytes(head, 0, FRAME_HEADER_BYTES);
    }
    putBytes(p.body, 0, length);
    hasRecords = true;
    dirty = true;
  }

  private void putBytes(byte[] src, int off, int len) throws IOException {
    while (len > 0) {
      if (pos == capacity) {
        write(capacity);
        bufStart += capacity;
        pos = 0;
      }
      int n = Math.min(len, capacity - pos);
      buf.put(pos, src, off, n);
      pos += n;
      off += n;
      len -= n;
    }
  }

  /** Writes everything put since the last flush; keeps the partial last block in memory. */
  void flush() throws IOException {
    if (!dirty) {
      return;
    }
    int len = (int) SegmentFormat.alignUp(pos);
    buf.put(pos, ZEROS, 0, len - pos);
    write(len);
    int keep = (int) SegmentFormat.alignDown(pos);
    if (keep > 0) {
      buf.put(0, buf, keep, pos - keep);
      bufStart += keep;
      pos -= keep;
    }
    dirty = false;
  }

  private void write(int len) throws IOException {
    ByteBuffer w = buf.slice(0, len);
    while (w.hasRemaining()) {
      channel.write(w, bufStart + w.position());
    }
  }

  void force() throws IOException {
    channel.force(false);
  }

  void close() throws IOException {
    channel.close();
  }

  void closeQuietly() {
    try {
      channel.close();
    } catch (IOException ignored) {
      // Already failing or closing; the first error is the one reported.
    }
  }

  /** Deletes a blank segment file so that {@link #create} can write it again. */
  static void deleteBlank(FileNames names, Path directory, long number) throws IOException {
    names.deleteIfExists(SegmentFormat.file(directory, number));
  }

  void checkInvariants() {
    if (bufStart % BLOCK != 0 || pos < 0 || pos > capacity || end() < HEADER_BYTES) {
      throw new AssertionError(
          "segment " + number + ": bufStart " + bufStart + " pos " + pos + " capacity " + capacity);
    }
    if (!dirty && pos >= BLOCK) {
      throw new AssertionError("segment " + number + ": flushed but keeps " + pos + " bytes");
    }
  }
}
