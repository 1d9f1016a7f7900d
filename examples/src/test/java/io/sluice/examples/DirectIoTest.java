package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.sluice.examples.DirectIo.Mode;
import io.sluice.examples.DirectIo.Opener;
import io.sluice.examples.DirectIo.Written;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Direct I/O where the filesystem takes it, the fallback where it refuses, the same bytes either
 * way.
 */
class DirectIoTest {
  private static final OpenOption DIRECT = DirectIo.DIRECT.orElseThrow();

  @TempDir Path dir;

  private static byte[] randomBytes(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  /** Whether this filesystem opens files with O_DIRECT. */
  private boolean directIoWorksHere() {
    try {
      FileChannel.open(
              dir.resolve("probe"), StandardOpenOption.CREATE, StandardOpenOption.WRITE, DIRECT)
          .close();
      return true;
    } catch (IOException | UnsupportedOperationException refused) {
      return false;
    }
  }

  /** Refuses DIRECT as a filesystem (EINVAL) or a platform (unsupported) does; opens the rest. */
  private static Opener refusingDirect(RuntimeException platform) {
    return (file, options) -> {
      if (List.of(options).contains(DIRECT)) {
        if (platform != null) {
          throw platform;
        }
        throw new IOException(file + ": Invalid argument");
      }
      return FileChannel.open(file, options);
    };
  }

  @ParameterizedTest(name = "{0} bytes")
  @ValueSource(ints = {0, 1, 4095, 4096, 10_000, 1 << 20})
  void theFileHoldsExactlyTheBytesWrittenWhicheverWayTheyWent(int n) throws Exception {
    byte[] data = randomBytes(n);
    Path file = dir.resolve("data.bin");

    Written w = DirectIo.write(file, data, FileChannel::open);

    assertArrayEquals(data, Files.readAllBytes(file));
    assertEquals(n, w.bytes());
    assertEquals(w.mode() == Mode.BUFFERED_AND_FORCED, w.fallbackReason().isPresent());
  }

  @Test
  void whereTheFileSystemTakesDirectIoTheWriteIsDirect() throws Exception {
    assumeTrue(directIoWorksHere(), "this filesystem refuses O_DIRECT");

    Written w = DirectIo.write(dir.resolve("data.bin"), randomBytes(10_000), FileChannel::open);

    assertEquals(Mode.DIRECT, w.mode());
    assertEquals(DirectIo.blockSize(dir), w.blockSize());
  }

  @Test
  void aFileSystemThatRefusesDirectIoGetsAForcedBufferedWriteWithTheReason() throws Exception {
    byte[] data = randomBytes(10_000);
    Path file = dir.resolve("data.bin");

    Written w = DirectIo.write(file, data, refusingDirect(null));

    assertEquals(Mode.BUFFERED_AND_FORCED, w.mode());
    assertTrue(w.fallbackReason().orElseThrow().contains("Invalid argument"), w.toString());
    assertArrayEquals(data, Files.readAllBytes(file));
  }

  @Test
  void aPlatformWithoutDirectIoGetsTheFallbackToo() throws Exception {
    byte[] data = randomBytes(5000);
    Path file = dir.resolve("data.bin");

    Written w =
        DirectIo.write(
            file, data, refusingDirect(new UnsupportedOperationException("no O_DIRECT")));

    assertEquals(Mode.BUFFERED_AND_FORCED, w.mode());
    assertTrue(w.fallbackReason().orElseThrow().contains("no O_DIRECT"), w.toString());
    assertArrayEquals(data, Files.readAllBytes(file));
  }

  @Test
  void whenTheFallbackFailsTooTheDirectRefusalIsAttached() {
    IOException directRefused = new IOException("Invalid argument");
    IOException diskFull = new IOException("No space left on device");
    Opener neither =
        (file, options) -> {
          throw List.of(options).contains(DIRECT) ? directRefused : diskFull;
        };

    IOException e =
        assertThrows(
            IOException.class, () -> DirectIo.write(dir.resolve("x"), new byte[10], neither));

    assertSame(diskFull, e);
    assertSame(directRefused, e.getSuppressed()[0]);
  }

  @Test
  void theAlignedBufferStartsOnABlockBoundaryAndIsPaddedWithZeros() {
    byte[] data = randomBytes(5000);

    ByteBuffer buf = DirectIo.alignedBuffer(data, 4096);

    assertEquals(0, buf.alignmentOffset(0, 4096), "the address is a multiple of the block");
    assertEquals(8192, buf.remaining(), "two whole blocks");
    byte[] content = new byte[8192];
    buf.get(content);
    assertArrayEquals(data, Arrays.copyOf(content, 5000));
    assertTrue(Arrays.equals(new byte[8192 - 5000], Arrays.copyOfRange(content, 5000, 8192)));
  }

  @Test
  void aTransferThatIsNotWholeBlocksIsRefusedByTheJdkNamingTheRule() throws Exception {
    assumeTrue(directIoWorksHere(), "this filesystem refuses O_DIRECT");
    int block = DirectIo.blockSize(dir);

    try (FileChannel ch =
        FileChannel.open(
            dir.resolve("data.bin"), StandardOpenOption.CREATE, StandardOpenOption.WRITE, DIRECT)) {
      ByteBuffer oneByteShort = ByteBuffer.allocateDirect(2 * block).alignedSlice(block);
      oneByteShort.limit(block - 1);

      IOException e = assertThrows(IOException.class, () -> ch.write(oneByteShort));

      assertTrue(e.getMessage().contains("multiple of the block size"), e.getMessage());
    }
  }
}
