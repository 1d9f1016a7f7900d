package io.sluice.jobs.journal;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.zip.CRC32C;

/*
 * Constants and codecs of the segment file format; the format itself is in package-info.
 *
 * Why a keyed mask. A job's payload is written into its record verbatim, and the ingest service
 * takes payloads from clients; so a client can put a whole frame, checks and all, inside a payload.
 * Replay skips it with the body that holds it, unless that record is damaged: then the reader
 * resynchronises byte by byte and would take the forged frame for a record. Version 2 therefore
 * XORs both checks with a mask that depends on a secret and on where the frame starts:
 *
 *   mask(offset) = SipHash-2-4, key (salt, KEY_1), of the 8-byte little-endian offset
 *   stored crc       = CRC32C(length, type, body)   XOR high 32 bits of the mask
 *   stored headerCrc = CRC32C(length, type, crc)    XOR low 32 bits of the mask
 *
 * The salt is 64 random bits from SecureRandom, drawn for each segment and kept in its header. The
 * CRCs are the unkeyed ones of version 1, computed by the submitters; the writer thread, the only
 * place that knows a frame's offset, adds one SipHash (about 20 ns) and two XORs per record.
 *
 * What it buys. Someone who cannot read the journal's files knows nothing of the salt, and for each
 * offset the mask is a bijection of the salt, so at any offset where the writer did not start a
 * frame the 64 check bits a reader expects are uniformly distributed, whatever the attacker chose:
 * each planted frame passes with probability 2^-64 (a union bound over all the positions a
 * resynchronisation tries), as random bytes do. A CRC is linear, so a salt merely prefixed to the
 * CRC input would not do: the state after the salt is 32 bits, and a salt longer than that would
 * add nothing. A real frame copied elsewhere (a duplicated block, a stale sector) is checked
 * against the mask of its new offset and fails as well. 64 bits of key are as many as the two
 * checks hold, so a longer salt would not make a guess less likely; it would not fit the header
 * twice either (see putHeader).
 *
 * Offsets are the frame's position in its file. The writer knows it when it copies the frame into
 * its buffer, recovery knows it for every position it tries, and nothing ever moves a frame: the
 * rewritten partial block, reopen after a cut and resynchronisation all keep positions.
 */
final class SegmentFormat {
  private SegmentFormat() {}

  /** "SLUICEJL" in ASCII. */
  static final long MAGIC = 0x534C_5549_4345_4A4CL;

  /** The version this code writes: frames checked with the segment's salt and their offset. */
  static final int VERSION = 2;

  /** The first version: plain CRC32C checks, no salt. Still read. */
  static final int VERSION_1 = 1;

  static final int HEADER_BYTES = 64;

  /** Where a version 2 header keeps its salt, and a copy of it. */
  static final int SALT_AT = 32;

  static final int SALT_COPY_AT = 40;

  /** The second half of the SipHash key: public, it only makes the salt a 128-bit SipHash key. */
  private static final long KEY_1 = 0x534C_5549_4345_4D4BL;

  private static final SecureRandom RANDOM = new SecureRandom();
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

  /**
   * What a released segment's file is renamed to before it is emptied and deleted: no longer a
   * segment file name, so replay never reads it, and a leftover one is deleted at the next open.
   */
  static final String RELEASED_SUFFIX = ".released";

  static Path releasedFile(Path directory, long segment) {
    return directory.resolve(fileName(segment) + RELEASED_SUFFIX);
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

  /**
   * Writes a version 2 segment header at index 0 of {@code dst} (absolute puts; position
   * untouched). The salt is there twice, so that one damaged byte of a header does not lose the
   * segment: the reader tells the right copy by the frames it verifies.
   */
  static void putHeader(ByteBuffer dst, long segment, long createdMillis, long salt) {
    dst.putLong(0, MAGIC);
    dst.putInt(8, VERSION);
    dst.putInt(12, HEADER_BYTES);
    dst.putLong(16, segment);
    dst.putLong(24, createdMillis);
    dst.putLong(SALT_AT, salt);
    dst.putLong(SALT_COPY_AT, salt);
    for (int i = 48; i < 60; i += 4) {
      dst.putInt(i, 0);
    }
    dst.putInt(60, crc(dst, 0, 60));
  }

  /**
   * How the frames of one segment are checked: with version 2's mask of {@code salt}, or, for
   * {@link #VERSION_1_CHECKS} (salt 0, which no version 2 segment has), with plain CRC32Cs.
   */
  record Checks(long salt) {
    static final Checks VERSION_1_CHECKS = new Checks(0);

    /** What the two checks of a frame at {@code offset} are XORed with (0 for version 1). */
    long mask(long offset) {
      return salt == 0 ? 0 : SegmentFormat.mask(salt, offset);
    }
  }

  /** A new segment's salt: 64 bits from SecureRandom, never 0 (a version 1 header's zeros). */
  static long newSalt() {
    long salt;
    do {
      salt = RANDOM.nextLong();
    } while (salt == 0);
    return salt;
  }

  /**
   * What a version 2 frame at {@code offset} has its checks XORed with: SipHash-2-4 of the offset
   * under the key (salt, KEY_1). The high 32 bits go to the frame check, the low ones to the header
   * check.
   */
  static long mask(long salt, long offset) {
    return sipHash24(salt, KEY_1, offset);
  }

  /**
   * SipHash-2-4 (Aumasson and Bernstein, 2012) of an 8-byte message, {@code m} being those bytes
   * read little-endian, under the key whose two halves, read little-endian, are k0 and k1.
   */
  static long sipHash24(long k0, long k1, long m) {
    long v0 = 0x736f_6d65_7073_6575L ^ k0;
    long v1 = 0x646f_7261_6e64_6f6dL ^ k1;
    long v2 = 0x6c79_6765_6e65_7261L ^ k0;
    long v3 = 0x7465_6462_7974_6573L ^ k1;
    // one 8-byte block, m, then the final block: no bytes left, message length 8
    long last = 8L << 56;
    v3 ^= m;
    // eight SipRounds: two for m, two for the final block, four to finalise
    for (int round = 0; round < 8; round++) {
      if (round == 2) {
        v0 ^= m;
        v3 ^= last;
      } else if (round == 4) {
        v0 ^= last;
        v2 ^= 0xff;
      }
      v0 += v1;
      v1 = Long.rotateLeft(v1, 13) ^ v0;
      v0 = Long.rotateLeft(v0, 32);
      v2 += v3;
      v3 = Long.rotateLeft(v3, 16) ^ v2;
      v0 += v3;
      v3 = Long.rotateLeft(v3, 21) ^ v0;
      v2 += v1;
      v1 = Long.rotateLeft(v1, 17) ^ v2;
      v2 = Long.rotateLeft(v2, 32);
    }
    return v0 ^ v1 ^ v2 ^ v3;
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
