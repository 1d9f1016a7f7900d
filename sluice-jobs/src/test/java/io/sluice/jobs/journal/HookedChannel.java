package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
public final class HookedChannel extends ForwardingFileChannel {

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
    public void failWrites() {
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

  private final Gate gate;
  private final Path file;

  HookedChannel(FileChannel delegate, Gate gate, Path file) {
    super(delegate);
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
  public FileChannel truncate(long size) throws IOException {
    gate.writtenNotForced.add(file);
    d.truncate(size);
    return this;
  }

  @Override
  public int write(ByteBuffer src, long position) throws IOException {
    gate.beforeWrite();
    gate.writtenNotForced.add(file);
    return d.write(src, position);
  }
}
