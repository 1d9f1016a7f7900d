package io.sluice.jobs;

import io.sluice.jobs.journal.ChannelOpener;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A durable job store whose disk can hang: the journal's real segment files, behind a gate that
 * holds the next force (fsync) until the test releases it, as a stuck fsync on a dying device
 * would. For the server's tests, which open the store through {@link #open}: this class lives in
 * the store's package (the tests run on the class path, where a package may span jars) to reach the
 * store's package-private way of opening its journal through a {@link ChannelOpener}.
 */
public final class HungDisk {
  private final AtomicReference<CountDownLatch> nextForce = new AtomicReference<>();

  /** A disk that answers normally until {@link #hangNextForce()}. */
  public HungDisk() {}

  /**
   * Makes the next force of a journal file hang until the returned latch is counted down.
   *
   * @return the latch that releases the force
   */
  public CountDownLatch hangNextForce() {
    CountDownLatch release = new CountDownLatch(1);
    nextForce.set(release);
    return release;
  }

  /**
   * Opens a durable store over this disk, as {@link JobStore#open} does.
   *
   * @param options the store's settings
   * @return the store
   * @throws IOException as {@link JobStore#open}
   */
  public JobStore open(JobStoreOptions options) throws IOException {
    ChannelOpener opener = (file, o) -> new Channel(FileChannel.open(file, o));
    return JournalLog.openStore(options, opener);
  }

  private void beforeForce() {
    CountDownLatch release = nextForce.getAndSet(null);
    if (release == null) {
      return;
    }
    boolean interrupted = false;
    while (true) {
      try {
        release.await();
        break;
      } catch (InterruptedException e) {
        interrupted = true; // a hung fsync does not end on an interrupt either
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** A real file channel whose force passes the gate first. */
  private final class Channel extends FileChannel {
    private final FileChannel d;

    Channel(FileChannel delegate) {
      this.d = delegate;
    }

    @Override
    public void force(boolean metaData) throws IOException {
      beforeForce();
      d.force(metaData);
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
      return d.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
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
      d.truncate(size);
      return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target)
        throws IOException {
      return d.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count)
        throws IOException {
      return d.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      return d.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
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
}
