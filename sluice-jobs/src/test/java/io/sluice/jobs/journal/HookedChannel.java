package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real file channel with a hook before each force: the test arms it to block the writer inside a
 * force (so appends pile up, deterministically) and then to let the force go on or fail with an
 * IOException (a real failure as far as the journal can tell).
 */
public final class HookedChannel extends FileChannel {

  /** Controls the forces of every channel opened through {@link #opener()}. */
  public static final class Gate {
    /** A gate that lets everything through until armed. */
    public Gate() {}

    private final AtomicReference<Arm> armed = new AtomicReference<>();
    private volatile boolean failWrites;
    private final Set<Path> writtenNotForced = ConcurrentHashMap.newKeySet();

    /**
     * The files written through this gate's channels and not forced since (by any of them): what a
     * crash of the machine could still lose.
     */
    Set<Path> writtenNotForced() {
      return Set.copyOf(writtenNotForced);
    }

    private final List<Path> forced = new CopyOnWriteArrayList<>();

    /** Every file or directory forced through this gate's channels, in order. */
    List<Path> forced() {
      return List.copyOf(forced);
    }

    /** What the next force does. */
    private record Arm(CountDownLatch entered, CountDownLatch release, boolean fail) {}

    /**
     * Arms the gate: the next force signals {@code entered}, waits for the returned latch, then
     * goes on (or throws if {@code fail}).
     */
    public CountDownLatch armNextForce(CountDownLatch entered, boolean fail) {
      CountDownLatch release = new CountDownLatch(1);
      armed.set(new Arm(entered, release, fail));
      return release;
    }

    /** Fails every write from now on (as a full disk does with ENOSPC). */
    void failWrites() {
      failWrites = true;
    }

    void beforeWrite() throws IOException {
      if (failWrites) {
        throw new IOException("injected: No space left on device");
      }
    }

    /** Fails every force from now on. */
    void failAlways() {
      CountDownLatch open = new CountDownLatch(0);
      armed.set(new Arm(new CountDownLatch(1), open, true));
    }

    void beforeForce() throws IOException {
      Arm a = armed.get();
      if (a == null) {
        return;
      }
      if (a.release.getCount() > 0) {
        armed.compareAndSet(a, null);
      }
      a.entered.countDown();
      boolean interrupted = false;
      while (true) {
        try {
          a.release.await();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      if (a.fail) {
        throw new IOException("injected: force failed (as fsync does with EIO)");
      }
    }

    /** Opens real files, each behind this gate. */
    public ChannelOpener opener() {
      return (file, options) ->
          new HookedChannel(FileChannel.open(file, options), this, file.toAbsolutePath());
    }
  }

  private final FileChannel d;
  private final Gate gate;
  private final Path file;

  HookedChannel(FileChannel delegate, Gate gate, Path file) {
    this.d = delegate;
    this.gate = gate;
    this.file = file;
  }

  @Override
  public void force(boolean metaData) throws IOException {
    gate.beforeForce();
    d.force(metaData);
    gate.writtenNotForced.remove(file);
    gate.forced.add(file);
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return d.read(dst);
  }

  @Override
  public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
    return d.read(dsts, offset, length);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    gate.writtenNotForced.add(file);
    return d.write(src);
  }

  @Override
  public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
    gate.writtenNotForced.add(file);
    return d.write(srcs, offset, length);
  }

  @Override
  public long position() throws IOException {
    return d.position();
  }

  @Override
  public FileChannel position(long newPosition) throws IOException {
    d.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return d.size();
  }

  @Override
  public FileChannel truncate(long size) throws IOException {
    gate.writtenNotForced.add(file);
    d.truncate(size);
    return this;
  }

  @Override
  public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
    return d.transferTo(position, count, target);
  }

  @Override
  public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
    return d.transferFrom(src, position, count);
  }

  @Override
  public int read(ByteBuffer dst, long position) throws IOException {
    return d.read(dst, position);
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    gate.beforeWrite();
    gate.writtenNotForced.add(file);
    return d.write(src, position);
  }

  @Override
  public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
    return d.map(mode, position, size);
  }

  @Override
  public FileLock lock(long position, long size, boolean shared) throws IOException {
    return d.lock(position, size, shared);
  }

  @Override
  public FileLock tryLock(long position, long size, boolean shared) throws IOException {
    return d.tryLock(position, size, shared);
  }

  @Override
  protected void implCloseChannel() throws IOException {
    d.close();
  }
}
