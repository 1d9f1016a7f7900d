package io.sluice.examples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Optional;

/**
 * The seed's "how to use direct I/O" in Java: open with {@code
 * com.sun.nio.file.ExtendedOpenOption.DIRECT} (Linux's {@code O_DIRECT}), write from a
 * block-aligned buffer, and fall back to a buffered write forced to disk when the platform or the
 * filesystem refuses direct I/O.
 *
 * <p>The seed's three alignment rules hold here too: the length of each transfer, the file position
 * and the buffer's memory address must all be multiples of the filesystem's block size. Go cannot
 * place a {@code []byte}, so the seed allocates a block more than needed and slices at the first
 * aligned address ({@code AlignedBlock}); Java has that trick built in: {@code
 * ByteBuffer.allocateDirect(n + block).alignedSlice(block)} ({@link #alignedBuffer}). Where Go's
 * {@code os} package has no {@code O_DIRECT} and the seed falls back on {@code syscall.O_DIRECT}
 * behind a {@code +build linux} tag, Java has one option that the platforms without it refuse at
 * run time. The option lives in the {@code jdk.unsupported} module, which javac flags as
 * proprietary API (a warning {@code -Werror} makes fatal and no annotation suppresses), so {@link
 * #DIRECT} looks it up by name when the class loads; a JDK without it gets the fallback.
 *
 * <p>What is reported instead of going wrong silently:
 *
 * <ul>
 *   <li>A misaligned transfer fails in the JDK with an {@link IOException} that says which rule it
 *       broke, before any system call, rather than as a bare {@code EINVAL}.
 *   <li>A refusal — {@link UnsupportedOperationException} from a platform without the option, or an
 *       {@link IOException} from a filesystem that rejects {@code O_DIRECT} — is not fatal: {@link
 *       #write} falls back to the seed's other way to reach the disk, a buffered write followed by
 *       {@link FileChannel#force(boolean) fsync}, and says so in its result with the reason.
 * </ul>
 *
 * <p>One correction to the seed: a direct write bypasses the page cache, but {@code O_DIRECT} is
 * not {@code O_SYNC}. The drive's own write cache and the file's metadata (here its size, set by
 * the final truncate) are durable only after a flush, so the direct path forces too.
 */
public final class DirectIo {
  private DirectIo() {}

  /** The block size assumed when the filesystem does not report one. */
  static final int DEFAULT_BLOCK = 4096;

  /**
   * {@code ExtendedOpenOption.DIRECT}, or empty if this JDK has none. Looked up at run time: see
   * the class comment.
   */
  static final Optional<OpenOption> DIRECT = directOption();

  private static Optional<OpenOption> directOption() {
    try {
      for (Object option :
          Class.forName("com.sun.nio.file.ExtendedOpenOption").getEnumConstants()) {
        if (option instanceof Enum<?> e && e.name().equals("DIRECT")) {
          return Optional.of((OpenOption) option);
        }
      }
    } catch (ClassNotFoundException absent) {
      // fall through: no direct I/O in this JDK
    }
    return Optional.empty();
  }

  /** How the bytes reached the file. */
  enum Mode {
    /** Through an {@code O_DIRECT} channel, bypassing the page cache. */
    DIRECT,
    /** Through the page cache, then forced to the device: the fallback. */
    BUFFERED_AND_FORCED
  }

  /**
   * What {@link #write} did.
   *
   * @param mode how the bytes went
   * @param blockSize the alignment used
   * @param bytes the file's length
   * @param fallbackReason why direct I/O was refused, when it was
   */
  record Written(Mode mode, int blockSize, long bytes, Optional<String> fallbackReason) {}

  /**
   * Opens a file channel: {@link FileChannel#open(Path, OpenOption...)}, or a stand-in in tests.
   */
  @FunctionalInterface
  interface Opener {
    /**
     * Opens {@code file}.
     *
     * @param file the file
     * @param options how
     * @return the channel
     * @throws IOException if the file cannot be opened so
     */
    FileChannel open(Path file, OpenOption... options) throws IOException;
  }

  /**
   * The filesystem's block size for {@code dir}, the alignment direct I/O needs.
   *
   * @param dir a directory on the filesystem
   * @return its block size, or {@link #DEFAULT_BLOCK} if it reports none
   * @throws IOException if the filesystem cannot be read
   */
  static int blockSize(Path dir) throws IOException {
    try {
      return Math.toIntExact(Files.getFileStore(dir).getBlockSize());
    } catch (UnsupportedOperationException | ArithmeticException unknown) {
      return DEFAULT_BLOCK;
    }
  }

  /**
   * A direct buffer whose address is a multiple of {@code block}, holding {@code data} padded with
   * zeros to a whole number of blocks: the seed's {@code AlignedBlock}, without pointer arithmetic.
   *
   * @param data the bytes
   * @param block the alignment, a power of two
   * @return the buffer, position 0, limit the padded length
   */
  static ByteBuffer alignedBuffer(byte[] data, int block) {
    int padded = Math.ceilDiv(Math.max(data.length, 1), block) * block;
    ByteBuffer buf = ByteBuffer.allocateDirect(padded + block).alignedSlice(block);
    buf.put(data);
    return buf.position(0).limit(padded); // allocateDirect zeroes memory: the padding is zeros
  }

  /**
   * Writes {@code data} to {@code file} with direct I/O if the filesystem takes it, else buffered
   * and forced; either way the file holds exactly {@code data} and is forced to the device when
   * this returns.
   *
   * @param file the file, created or replaced
   * @param data the bytes
   * @param opener opens the channels
   * @return how it was written
   * @throws IOException if the fallback fails too (the direct failure is attached as suppressed)
   */
  static Written write(Path file, byte[] data, Opener opener) throws IOException {
    int block = blockSize(file.toAbsolutePath().getParent());
    if (DIRECT.isEmpty()) {
      return writeBuffered(file, data, opener, block, "no ExtendedOpenOption.DIRECT in this JDK");
    }
    try (FileChannel ch =
        opener.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE,
            DIRECT.get())) {
      ByteBuffer buf = alignedBuffer(data, block);
      while (buf.hasRemaining()) {
        ch.write(buf); // whole blocks, from position 0, from an aligned address
      }
      ch.truncate(data.length); // drop the padding; this changes metadata, hence force(true)
      ch.force(true);
      return new Written(Mode.DIRECT, block, ch.size(), Optional.empty());
    } catch (UnsupportedOperationException | IOException refused) {
      try {
        return writeBuffered(file, data, opener, block, refused.toString());
      } catch (IOException fallbackFailed) {
        fallbackFailed.addSuppressed(refused);
        throw fallbackFailed;
      }
    }
  }

  private static Written writeBuffered(
      Path file, byte[] data, Opener opener, int block, String refused) throws IOException {
    try (FileChannel ch =
        opener.open(
            file,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.WRITE)) {
      ByteBuffer buf = ByteBuffer.wrap(data);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true); // the seed's "sync after each write"
      return new Written(Mode.BUFFERED_AND_FORCED, block, ch.size(), Optional.of(refused));
    }
  }

  /**
   * Writes 10,000 bytes into a new temporary directory, reads them back, and deletes the directory.
   *
   * @param args ignored
   * @throws IOException if the file cannot be written either way
   */
  public static void main(String[] args) throws IOException {
    Path dir = Files.createTempDirectory("sluice-direct-io");
    Path file = dir.resolve("data.bin");
    try {
      byte[] data = new byte[10_000];
      Arrays.fill(data, (byte) 'x');
      Written w = write(file, data, FileChannel::open);
      System.out.println(
          "wrote "
              + w.bytes()
              + " bytes "
              + w.mode()
              + " with "
              + w.blockSize()
              + "-byte alignment"
              + w.fallbackReason().map(r -> " (direct I/O refused: " + r + ")").orElse(""));
      System.out.println("read back equal: " + Arrays.equals(data, Files.readAllBytes(file)));
    } finally {
      Files.deleteIfExists(file);
      Files.delete(dir);
    }
  }
}
