/**
 * The durable journal under the job engine: append-only segment files of CRC-checked records,
 * written with direct I/O and group commit, replayed at start.
 *
 * <p>The journal is generic: it stores opaque records (an {@code int} type and a body of bytes) and
 * knows nothing about jobs; {@code io.sluice.jobs} encodes jobs into bodies. Start at {@link
 * io.sluice.jobs.journal.Journal}.
 *
 * <h2>On-disk format (version 1)</h2>
 *
 * <p>A journal is a directory of segment files named by a 20-digit, zero-padded, increasing segment
 * number ({@code 00000000000000000001.seg}), plus a {@code journal.lock} file. All integers are
 * big-endian.
 *
 * <pre>
 * segment header, 64 bytes at offset 0:
 *   0  long  magic 0x534C55494345_4A4C ("SLUICEJL")
 *   8  int   format version (1)
 *   12 int   header length (64)
 *   16 long  segment number (equals the file name)
 *   24 long  creation time, epoch milliseconds
 *   32 ..59  zero
 *   60 int   CRC32C of bytes 0..59
 * frames, packed one after another from offset 64:
 *   0  int   body length n (0 &lt;= n)
 *   4  int   record type
 *   8  int   CRC32C of bytes 0..7 of this frame followed by the n body bytes
 *   12 int   CRC32C of bytes 0..11 of this frame (lets a reader reject garbage in O(1))
 *   16 n bytes body
 * end of data: the end of the file, or 16 zero bytes where a frame would start (pre-allocated or
 * padding space is zero-filled; a frame header is never all zeros because its check field is the
 * CRC32C of its first 12 bytes).
 * </pre>
 *
 * <p>A record never spans segments. A reader that meets a frame whose checks fail scans forward,
 * byte by byte, for the next frame whose checks pass (resynchronisation).
 */
package io.sluice.jobs.journal;
