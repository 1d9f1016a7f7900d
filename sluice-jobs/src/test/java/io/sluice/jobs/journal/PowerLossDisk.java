package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.ReadableByteChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A model of what a device holds after a power cut, kept beside the real files the journal writes
 * through {@link #opener()}: for each file, the bytes a force made durable, and the positional
 * writes since. At the write chosen as the moment of the cut, it freezes that model and fails the
 * write (so the journal goes no further), and {@link #crashImage} builds what the device could hold
 * then: the durable bytes, with each 512-byte sector of every later write either new or old, at
 * random (a torn write, sectors landing in any order). {@link #cutNow()} cuts the power between two
 * writes instead, at a moment the test chooses. Public for the job store's tests, which open a
 * store over it.
 */
public final class PowerLossDisk {
  static final int SECTOR = 512;

  private record Write(long position, byte[] bytes) {}

  private static final class FileState {
    byte[] durable = new byte[0];
    final List<Write> since = new ArrayList<>();
  }

  private final Map<Path, FileState> files = new HashMap<>();
  private final long cutAtWrite;
  private final Runnable atCut;
  private long writes;
  private Map<Path, FileState> frozen;

  /**
   * A disk that loses power at its {@code cutAtWrite}-th positional write (counting from 1), after
   * running {@code atCut} (which notes what was acknowledged by then).
   */
  PowerLossDisk(long cutAtWrite, Runnable atCut) {
    this.cutAtWrite = cutAtWrite;
    this.atCut = atCut;
  }

  /** A disk that loses power only when {@link #cutNow()} is called. */
  public PowerLossDisk() {
    this(Long.MAX_VALUE, () -> {});
  }

  /**
   * Cuts the power now, between two writes: what a force made durable stays, every write since may
   * be torn (see {@link #crashImage}), and every later write or force fails.
   */
  public synchronized void cutNow() {
    if (frozen == null) {
      freeze();
    }
  }

  /** Whether the power was cut. */
  synchronized boolean cut() {
    return frozen != null;
  }

  /**
   * Opens real files behind this model.
   *
   * @return the opener
   */
  public ChannelOpener opener() {
    return (file, options) -> {
      FileChannel ch = FileChannel.open(file, options);
      if (!file.getFileName().toString().endsWith(SegmentFormat.SUFFIX)) {
        return ch; // the model keeps segment files: not directories, not the direct-I/O probe
      }
      synchronized (this) {
        if (!files.containsKey(file.toAbsolutePath())) {
          // a file already there (replayed, its tail cut and forced) is durable as it is
          FileState s = new FileState();
          s.durable = Files.readAllBytes(file);
          files.put(file.toAbsolutePath(), s);
        }
      }
      return new Channel(ch, file.toAbsolutePath());
    };
  }

  /**
   * Writes into {@code into} the segment files of {@code from} as the device could hold them after
   * the cut, tearing each write made since the last force at random sector by sector.
   *
   * @param from the directory the journal wrote
   * @param into where to write the image (created if needed)
   * @param r chooses which sectors of the unforced writes landed
   * @throws IOException if the files cannot be read or written
   */
  public synchronized void crashImage(Path from, Path into, SplittableRandom r) throws IOException {
    Files.createDirectories(into);
    try (var untouched = Files.list(from)) {
      for (Path f : untouched.toList()) {
        // a segment the journal never opened for writing is on the device as it is
        if (f.getFileName().toString().endsWith(SegmentFormat.SUFFIX)
            && !frozen.containsKey(f.toAbsolutePath())) {
          Files.copy(f, into.resolve(f.getFileName()));
        }
      }
    }
    for (Map.Entry<Path, FileState> e : frozen.entrySet()) {
      String name = e.getKey().getFileName().toString();
      if (!name.endsWith(SegmentFormat.SUFFIX)) {
        continue;
      }
      byte[] image = e.getValue().durable.clone();
      for (Write w : e.getValue().since) {
        for (int off = 0; off < w.bytes.length; off += SECTOR) {
          if (r.nextBoolean()) {
            continue; // this sector did not reach the device
          }
          int n = Math.min(SECTOR, w.bytes.length - off);
          long at = w.position + off;
          if (at + n > image.length) {
            image = java.util.Arrays.copyOf(image, (int) (at + n));
          }
          System.arraycopy(w.bytes, off, image, (int) at, n);
        }
      }
      Files.write(into.resolve(name), image);
    }
  }

  private synchronized void beforeWrite(Path file, long position, ByteBuffer src)
      throws IOException {
    if (frozen != null) {
      throw new IOException("injected: the power is off");
    }
    if (++writes == cutAtWrite) {
      atCut.run();
      // the write in progress may have reached the device in part, too
      byte[] bytes = new byte[src.remaining()];
      src.duplicate().get(bytes);
      files.get(file).since.add(new Write(position, bytes));
      freeze();
      throw new IOException("injected: the power is off");
    }
  }

  /** Keeps what the device holds at the cut: the model of every file, as it is now. */
  private void freeze() {
    frozen = new HashMap<>();
    for (Map.Entry<Path, FileState> e : files.entrySet()) {
      FileState copy = new FileState();
      copy.durable = e.getValue().durable.clone();
      copy.since.addAll(e.getValue().since);
      frozen.put(e.getKey(), copy);
    }
  }

  private synchronized void afterWrite(Path file, long position, byte[] bytes) {
    files.get(file).since.add(new Write(position, bytes));
  }

  private synchronized void forced(Path file) throws IOException {
    if (frozen != null) {
      throw new IOException("injected: the power is off");
    }
    FileState s = files.get(file);
    try {
      s.durable = Files.readAllBytes(file);
    } catch (NoSuchFileException gone) {
      s.durable = new byte[0];
    }
    s.since.clear();
  }

  /** A real channel whose positional writes and forces the model follows. */
  private final class Channel extends ForwardingFileChannel {
    private final Path file;

    Channel(FileChannel d, Path file) {
      super(d);
      this.file = file;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      beforeWrite(file, position, src);
      byte[] bytes = new byte[src.remaining()];
      src.duplicate().get(bytes);
      int n = d.write(src, position);
      afterWrite(file, position, java.util.Arrays.copyOf(bytes, n));
      return n;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      d.force(metaData);
      forced(file);
    }

    @Override
    public int write(ByteBuffer src) {
      throw new UnsupportedOperationException("the journal writes at positions");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) {
      throw new UnsupportedOperationException("the journal writes at positions");
    }

    @Override
    public FileChannel truncate(long size) {
      throw new UnsupportedOperationException("the writer does not truncate");
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) {
      throw new UnsupportedOperationException("the journal writes at positions");
    }
  }
}
