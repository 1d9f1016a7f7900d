package io.sluice.jobs.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/*
 * Writes the next segment's file full of zeros in the background, so that the writer's commits
 * overwrite blocks that already exist instead of growing the file.
 *
 * Why. A commit that writes past a file's end makes the filesystem allocate blocks and change the
 * file's size, and the force that follows must then commit that metadata too (on ext4, a journal
 * transaction of its own). Into blocks already written, a commit's force is a flush of data alone.
 * On this project's machine (ext4 on a virtual disk, direct I/O, a write and a force per commit)
 * that halved the commit time (64 KiB: p50 0.19 against 0.09 ms) and took a quarter off the kernel
 * CPU per commit; a file merely fallocate()d gains nothing (its blocks are "unwritten", and the
 * first write to each converts it, which is metadata again).
 *
 * How. The writer asks for segment n + 1's file as soon as it starts segment n (prepare). This
 * thread writes NNN.seg.preallocating with zeros up to segmentBytes, forces it, and renames it
 * NNN.seg.preallocated. At the roll the writer takes that file (take) and renames it to the
 * segment's name. If the file is not finished (the journal fills segments faster than this thread
 * writes them ahead), the writer takes it as far as it goes: this thread stops at the end of the
 * chunk it is writing (the writer waits for that one write, never for the rest) and leaves the
 * file, zeros up to where it got, to the writer, whose records overwrite those blocks and grow the
 * file beyond them; the writer's force of the new segment's header makes them durable with it. So
 * no zeros written ahead are wasted, however fast the journal fills. A segment thus never holds
 * bytes other than its own frames and zeros: the reader's rule that zeros after the data are the
 * end of data holds unchanged, and neither file name parses as a segment, so replay never reads
 * one. A crash leaves at most two such files; open deletes them (removeLeftovers) rather than
 * trust them.
 *
 * Cost. One segment of disk space ahead, and a second write of every segment's bytes, which this
 * thread paces: it writes 128 KiB at a time (a commit queued behind one such write waits ~0.1 ms
 * here; behind 1 MiB writes the commits' p99 at 64 submitters doubled) and after each waits as
 * long as the write took, so it uses at most half of the device's time. A failure (a full disk,
 * say) is logged as a warning the first time (at DEBUG after), the partial file deleted, and that
 * segment created as before; the next roll's file is tried again.
 *
 * Its files are the file system's, not the journal's ChannelOpener's: the opener is the seam where
 * tests put a failing, hanging or power-cut disk under the segments, and a file of zeros that is
 * not yet a segment is none of that. The rename that makes one a segment is the writer's, through
 * the opener's FileNames like every other change to a segment's name.
 *
 * Threads: one daemon platform thread (it blocks in file I/O), started with the journal and ended
 * by close(), which also deletes the file it holds: nothing is left running or half-written.
 */
final class SegmentPreallocator implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Journal.class.getName());

  static final String PREPARING_SUFFIX = ".preallocating";
  static final String READY_SUFFIX = ".preallocated";

  /** Zeros written per call; also the unit of pacing and of the writer's wait at a hand-off. */
  static final int CHUNK_BYTES = 128 << 10;

  private static final long NONE = -1;

  /** How a file's preparation ended. */
  private enum Outcome {
    /** Complete and forced. */
    DONE,
    /** Given up: another segment is wanted, or the preallocator is closing. */
    DROPPED,
    /** Left part way to the writer, who asked for it (take). */
    HANDED_OFF
  }

  private final Path directory;
  private final long segmentBytes;
  private final boolean direct;
  private final Thread thread;

  private final Object lock = new Object();
  // under lock
  private long wanted = NONE; // the segment whose file to prepare next
  private long preparing = NONE; // the segment whose file this thread is writing
  private long ready = NONE; // the segment whose file is complete
  private long handedOff = NONE; // the segment whose part-written file the writer may take
  private boolean handOffAsked; // the writer waits for the file being written, as it is
  private boolean closed;
  private boolean warned;

  SegmentPreallocator(Path directory, long segmentBytes, boolean direct, String name) {
    this.directory = directory;
    this.segmentBytes = segmentBytes;
    this.direct = direct;
    this.thread = Thread.ofPlatform().daemon().name(name).unstarted(this::run);
  }

  void start() {
    thread.start();
  }

  static Path preparingFile(Path directory, long segment) {
    return directory.resolve(SegmentFormat.fileName(segment) + PREPARING_SUFFIX);
  }

  static Path readyFile(Path directory, long segment) {
    return directory.resolve(SegmentFormat.fileName(segment) + READY_SUFFIX);
  }

  /** Asks for segment {@code segment}'s file; a file being prepared for another is dropped. */
  void prepare(long segment) {
    synchronized (lock) {
      wanted = segment;
      lock.notifyAll();
    }
  }

  /**
   * The file written ahead for {@code segment}, now the caller's to rename: complete, or as far as
   * it got (zeros up to some block, not forced), or null if there is none (not asked, or failed):
   * the caller then creates the segment itself. Waits at most for the chunk being written. Either
   * way that segment is no longer wanted: nothing is written for it again (the file taken must not
   * be begun anew under the caller's rename), and the caller's next prepare says what is.
   */
  Path take(long segment) {
    boolean interrupted = false;
    try {
      synchronized (lock) {
        if (wanted == segment) {
          wanted = NONE; // the thread stops at its next pause unless a hand-off is asked
        }
        if (preparing == segment && !closed) {
          handOffAsked = true;
          lock.notifyAll(); // out of its pacing wait
          while (preparing == segment) {
            try {
              lock.wait();
            } catch (InterruptedException e) {
              interrupted = true;
            }
          }
          handOffAsked = false;
        }
        if (ready == segment) {
          ready = NONE;
          return readyFile(directory, segment);
        }
        if (handedOff == segment) {
          handedOff = NONE;
          return preparingFile(directory, segment);
        }
        return null;
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** Ends the thread, waiting for it, and deletes the file it prepared or was preparing. */
  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    // An interrupt closes a FileChannel the thread is blocked in: only its own file, dropped
    // anyway.
    thread.interrupt();
    boolean interrupted = Journal.joinUninterruptibly(thread);
    synchronized (lock) {
      if (ready != NONE) {
        deleteQuietly(readyFile(directory, ready));
        ready = NONE;
      }
      if (handedOff != NONE) {
        deleteQuietly(preparingFile(directory, handedOff));
        handedOff = NONE;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private void run() {
    while (true) {
      long segment;
      long stale;
      long staleHandOff;
      synchronized (lock) {
        while (!closed && (wanted == NONE || wanted == ready || wanted == handedOff)) {
          try {
            lock.wait();
          } catch (InterruptedException e) {
            // close() interrupts after setting closed: the loop condition says what to do
          }
        }
        if (closed) {
          return;
        }
        segment = wanted;
        preparing = segment;
        stale = ready; // complete, but for a segment the writer has passed
        ready = NONE;
        staleHandOff = handedOff; // left for a roll that did not take it
        handedOff = NONE;
      }
      if (stale != NONE) {
        deleteQuietly(readyFile(directory, stale));
      }
      if (staleHandOff != NONE) {
        deleteQuietly(preparingFile(directory, staleHandOff));
      }
      Path preparing = preparingFile(directory, segment);
      Outcome outcome = Outcome.DROPPED;
      try {
        outcome = zeroFill(preparing, segment);
        if (outcome == Outcome.DONE) {
          FileNames.DEFAULT.move(preparing, readyFile(directory, segment));
        } else if (outcome == Outcome.DROPPED) {
          deleteQuietly(preparing);
        }
      } catch (IOException | RuntimeException e) {
        outcome = Outcome.DROPPED;
        deleteQuietly(preparing);
        Thread.interrupted(); // an interrupt from close() closed the channel: not a failure
        boolean closing;
        synchronized (lock) {
          closing = closed;
          if (wanted == segment) {
            wanted = NONE; // not again for this segment: the next roll asks for the next one
          }
        }
        if (!closing) {
          failed(segment, e);
        }
      } finally {
        synchronized (lock) {
          this.preparing = NONE;
          if (outcome == Outcome.DONE) {
            ready = segment;
          } else if (outcome == Outcome.HANDED_OFF) {
            handedOff = segment;
          }
          lock.notifyAll(); // a writer waiting in take()
        }
      }
    }
  }

  /**
   * Writes {@code file} with zeros up to the segment size and forces it; or stops between two
   * chunks, leaving the file to the writer if it asked (HANDED_OFF), or to be deleted if another
   * segment is wanted or the preallocator is closing (DROPPED).
   */
  private Outcome zeroFill(Path file, long segment) throws IOException {
    Set<OpenOption> options =
        new HashSet<>(
            List.of(
                StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE));
    if (direct) {
      options.add(SegmentWriter.DIRECT);
    }
    ByteBuffer zeros = SegmentWriter.alignedBuffer(CHUNK_BYTES);
    long end = roundUp(segmentBytes);
    try (FileChannel ch = FileChannel.open(file, options)) {
      for (long at = 0; at < end; ) {
        long started = System.nanoTime();
        zeros.clear().limit((int) Math.min(CHUNK_BYTES, end - at));
        while (zeros.hasRemaining()) {
          at += ch.write(zeros, at);
        }
        // Paced: as long again as the write took, so commits keep at least half of the device.
        Outcome stop = pause(segment, System.nanoTime() - started);
        if (stop != null) {
          return stop;
        }
      }
      ch.force(true);
    }
    return Outcome.DONE;
  }

  /**
   * Waits up to {@code nanos} between two chunks; null to go on, or why to stop now. A writer
   * asking for the file ends the wait at once.
   */
  private Outcome pause(long segment, long nanos) {
    long deadline = System.nanoTime() + nanos;
    synchronized (lock) {
      while (true) {
        if (closed) {
          return Outcome.DROPPED;
        }
        if (handOffAsked) {
          return Outcome.HANDED_OFF; // take() has cleared `wanted` already: this comes first
        }
        if (wanted != segment) {
          return Outcome.DROPPED;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        try {
          lock.wait(Math.max(1, left / 1_000_000), (int) (left % 1_000_000));
        } catch (InterruptedException e) {
          // close() interrupts after setting closed, which the loop sees
        }
      }
    }
  }

  /** The segment size rounded up to whole blocks, as direct I/O writes them. */
  private static long roundUp(long bytes) {
    long block = SegmentFormat.BLOCK;
    return (bytes + block - 1) / block * block;
  }

  private void failed(long segment, Exception e) {
    boolean first;
    synchronized (lock) {
      first = !warned;
      warned = true;
    }
    LOG.log(
        first ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
        "could not write segment "
            + segment
            + "'s file ahead in "
            + directory
            + " ("
            + e
            + "); segments are created as they fill until preallocation succeeds again, which"
            + " makes commits slower (on a full disk, free space: preallocation holds one segment"
            + " ahead)"
            + (first ? "; later failures are logged at DEBUG" : ""));
  }

  private void deleteQuietly(Path file) {
    try {
      FileNames.DEFAULT.deleteIfExists(file);
    } catch (IOException e) {
      LOG.log(
          System.Logger.Level.DEBUG, "could not delete " + file + "; the next open deletes it", e);
    }
  }

  /**
   * Deletes the files a crash or a failed close left; called at open, before anything starts. Never
   * read, so one that cannot be deleted is logged and left, and the journal opens.
   */
  static void removeLeftovers(Path directory, FileNames names) throws IOException {
    for (Path f : FileNames.endingWith(directory, PREPARING_SUFFIX, READY_SUFFIX)) {
      try {
        names.deleteIfExists(f);
      } catch (IOException e) {
        LOG.log(
            System.Logger.Level.WARNING,
            "could not delete "
                + f
                + ", a segment file written ahead that a crash left; it is never read, so it does"
                + " no harm but take space: delete it by hand",
            e);
      }
    }
  }
}
