package io.sluice.jobs.journal;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/** Constants and codecs of the segment file format; the format itself is in package-info. */
final class SegmentFormat {
  private SegmentFormat() {}

  /** "SLUICEJL" in ASCII. */
  static final long MAGIC = 0x534C_5549_4345_4A4CL;

  static final int VERSION = 1;
  static final int HEADER_BYTES = 64;
  static final int FRAME_HEADER_BYTES = 16;

  /** The direct-I/O alignment of buffers, file positions and lengths. */
  static final int BLOCK = 4096;

  static final String SUFFIX = ".seg";
  private static final int DIGITS = 20;

  static String fileName(long segment) {
    return String.format("%0" + DIGITS + "d%s", segment, SUFFIX);
  }

  static Path file(Path directory, long segment) {
    return directory.resolve(fileName(segment));
  }

  /** The segment number a file name stands for, or -1 if it is not a segment file name. */
  static long parseFileName(String name) {
    if (name.length() != DIGITS + SUFFIX.length() || !name.endsWith(SUFFIX)) {
      return -1;
    }
    long n = 0;
    for (int i = 0; i < DIGITS; i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9' || n > (Long.MAX_VALUE - 9) / 10) {
        return -1;
      }
      n = n * 10 + (c - '0');
    }
    return n;
  }

  /** Writes a segment header at index 0 of {@code dst} (absolute puts; position untouched). */
  static void putHeader(ByteBuffer dst, long segment, long createdMillis) {
    dst.putLong(0, MAGIC);
    dst.putInt(8, VERSION);
    dst.putInt(12, HEADER_BYTES);
    dst.putLong(16, segment);
    dst.putLong(24, createdMillis);
    for (int i = 32; i < 60; i += 4) {
      dst.putInt(i, 0);
    }
    dst.putInt(60, crc(dst, 0, 60));
  }

  static int crc(ByteBuffer src, int offset, int length) {
    CRC32C c = new CRC32C();
    c.update(src.slice(offset, length));
    return (int) c.getValue();
  }

  /** The frame check: CRC32C of the length and type (8 big-endian bytes) followed by the body. */
  static int frameCrc(int type, byte[] body) {
    CRC32C c = new CRC32C();
    updateInt(c, body.length);
    updateInt(c, type);
    c.update(body, 0, body.length);
    return (int) c.getValue();
  }

  /** The header check: CRC32C of length, type and frame check (12 big-endian bytes). */
  static int headerCrc(int length, int type, int frameCrc) {
    CRC32C c = new CRC32C();
    updateInt(c, length);
    updateInt(c, type);
    updateInt(c, frameCrc);
    return (int) c.getValue();
  }

  /** Adds {@code v}'s four big-endian bytes to {@code c}, without an array per call. */
  private static void updateInt(CRC32C c, int v) {
    c.update(v >>> 24);
    c.update(v >>> 16);
    c.update(v >>> 8);
    c.update(v);
  }

  /** The frame check of a frame already in a buffer whose body starts at {@code offset + 16}. */
  static int frameCrc(ByteBuffer src, int offset, int length) {
    CRC32C c = new CRC32C();
    c.update(src.slice(offset, 8));
    c.update(src.slice(offset + FRAME_HEADER_BYTES, length));
    return (int) c.getValue();
  }

  static void putInt(byte[] dst, int at, int v) {
    dst[at] = (byte) (v >>> 24);
    dst[at + 1] = (byte) (v >>> 16);
    dst[at + 2] = (byte) (v >>> 8);
    dst[at + 3] = (byte) v;
  }

  static long alignDown(long v) {
    return v & -BLOCK;
  }

  static long alignUp(long v) {
    return (v + BLOCK - 1) & -BLOCK;
  }
}
