/**
 * The durable journal under the job engine: append-only segment files of CRC-checked records,
 * written with direct I/O and group commit, replayed at start.
 *
 * <p>The journal is generic: it stores opaque records (an {@code int} type and a body of bytes) and
 * knows nothing about jobs; {@code io.sluice.jobs} encodes jobs into bodies. Start at {@link
 * io.sluice.jobs.journal.Journal}.
 *
 * <h2>On-disk format (version 2)</h2>
 *
 * <p>A journal is a directory of segment files named by a 20-digit, zero-padded, increasing segment
 * number ({@code 00000000000000000001.seg}), plus a {@code journal.lock} file. All integers are
 * big-endian.
 *
 * <pre>
 * segment header, 64 bytes at offset 0:
 *   0  long  magic 0x534C55494345_4A4C ("SLUICEJL")
 *   8  int   format version (2)
 *   12 int   header length (64)
 *   16 long  segment number (equals the file name)
 *   24 long  creation time, epoch milliseconds
 *   32 long  salt: 64 random bits (SecureRandom) drawn for this segment, never 0
 *   40 long  the salt again
 *   48 ..59  zero
 *   60 int   CRC32C of bytes 0..59
 * frames, packed one after another from offset 64; a frame starting at offset p of its file:
 *   0  int   body length n (0 &lt;= n)
 *   4  int   record type
 *   8  int   C XOR the high 32 bits of mask(p), where C is the CRC32C of bytes 0..7 of this frame
 *            followed by the n body bytes
 *   12 int   CRC32C(bytes 0..7 of this frame, then C) XOR the low 32 bits of mask(p)
 *            (lets a reader reject garbage in O(1))
 *   16 n bytes body
 *   mask(p) = SipHash-2-4 of the 8 little-endian bytes of p, under the 128-bit key made of the
 *             salt and 0x534C55494345_4D4B, both little-endian
 * end of data: the end of the file, or 16 zero bytes where a frame would start (pre-allocated or
 * padding space is zero-filled; a frame header is all zeros only with probability 2^-64).
 * </pre>
 *
 * <p>A record never spans segments. A reader that meets a frame whose checks fail scans forward,
 * byte by byte, for the next frame whose checks pass (resynchronisation). The checks are keyed so
 * that this scan cannot be fooled by chosen bytes: a job's payload is journaled verbatim and may
 * come from an untrusted client, who could put a whole frame in it. Without the salt, which only
 * the journal's files hold, a planted frame passes with probability 2^-64 at any offset where the
 * writer did not start one; a real frame copied to another offset or into another segment fails
 * too. So bytes inserted into or removed from the middle of a file (which no disk or file system
 * does in place) lose the frames after them.
 *
 * <p>Version 1, written before, is version 2 without the salt: bytes 32..59 of the header are zero
 * and the checks are the plain CRC32Cs C and CRC32C(bytes 0..7, C). Version 1 segments are still
 * replayed, with those checks (so their resynchronisation still trusts any frame whose CRCs pass);
 * new frames always go to a version 2 segment. A segment of a version newer than 2 is refused
 * ({@link io.sluice.jobs.journal.JournalFormatException}).
 */
package io.sluice.jobs.journal;
