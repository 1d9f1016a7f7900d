package io.sluice.jobs.journal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;
import java.util.function.Consumer;

/**
 * The settings of a {@link Journal}: an immutable record over documented defaults, changed with the
 * {@code withX} methods, validated when built.
 *
 * <table class="striped">
 *   <caption>Options and defaults</caption>
 *   <thead><tr><th>option</th><th>default</th><th>rule</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@code directory}</td><td>{@code ./journal}</td><td>created if missing</td></tr>
 *     <tr><td>{@code durability}</td><td>{@link Durability#ALWAYS}</td><td></td></tr>
 *     <tr><td>{@code segmentBytes}</td><td>64 MiB</td><td>at most 1 GiB, at least {@code
 *         maxRecordBytes} + 80</td></tr>
 *     <tr><td>{@code maxRecordBytes}</td><td>16 MiB</td><td>at least 0; larger bodies are rejected
 *         before anything is written</td></tr>
 *     <tr><td>{@code ioMode}</td><td>{@link IoMode#AUTO}</td><td></td></tr>
 *     <tr><td>{@code listener}</td><td>{@link JournalListener#NONE}</td><td></td></tr>
 *     <tr><td>{@code writerThreadFactory}</td><td>a daemon platform thread named {@code
 *         sluice-journal-writer}</td><td>makes the writer thread, which does blocking file I/O, so
 *         a platform thread suits it (the completer, which only wakes waiters, is a virtual
 *         thread)</td></tr>
 *     <tr><td>{@code writeBufferBytes}</td><td>1 MiB</td><td>a multiple of 4096, at least 8192: the
 *         aligned buffer a commit is written through (bigger commits are written in several
 *         writes and forced once)</td></tr>
 *     <tr><td>{@code stallThreshold}</td><td>10 s</td><td>at least 1 ms: a commit (write and
 *         force) running longer is reported as a stall (see {@link Journal#stalled()})</td></tr>
 *     <tr><td>{@code preallocate}</td><td>{@code true}</td><td>while a segment is written, a
 *         background thread writes the next one's file full of zeros, so that commits overwrite
 *         blocks that exist instead of growing the file: no block allocation or size change for
 *         the force to commit (on ext4 here, half the time per commit). Costs one segment of disk
 *         space ahead and a second, paced write of each segment's bytes; a failure (a full disk)
 *         is logged and segments are then created as they fill</td></tr>
 *   </tbody>
 * </table>
 *
 * @param directory the journal directory
 * @param durability when an append counts as done
 * @param segmentBytes the size at which a segment file is closed and the next one started
 * @param maxRecordBytes the largest body an append accepts
 * @param ioMode direct or buffered writes
 * @param listener observes commits, forces and acknowledgements
 * @param writerThreadFactory makes the writer thread
 * @param writeBufferBytes the size of the aligned write buffer
 * @param stallThreshold how long a commit (write and force) may run before the journal reports a
 *     stall
 * @param preallocate whether the next segment's file is written with zeros in the background
 */
public record JournalOptions(
    Path directory,
    Durability durability,
    long segmentBytes,
    int maxRecordBytes,
    IoMode ioMode,
    JournalListener listener,
    ThreadFactory writerThreadFactory,
    int writeBufferBytes,
    Duration stallThreshold,
    boolean preallocate) {

  private static final long MAX_SEGMENT_BYTES = 1L << 30;
  private static final Duration MIN_STALL_THRESHOLD = Duration.ofMillis(1);

  /** The default {@link #stallThreshold()}: 10 seconds, far beyond any healthy fsync. */
  public static final Duration DEFAULT_STALL_THRESHOLD = Duration.ofSeconds(10);

  /**
   * Validates the options.
   *
   * @param directory the journal directory
   * @param durability when an append counts as done
   * @param segmentBytes the size at which a segment file is closed and the next one started
   * @param maxRecordBytes the largest body an append accepts
   * @param ioMode direct or buffered writes
   * @param listener observes commits, forces and acknowledgements
   * @param writerThreadFactory makes the writer thread
   * @param writeBufferBytes the size of the aligned write buffer
   * @param stallThreshold how long a commit may run before the journal reports a stall
   * @param preallocate whether the next segment's file is written with zeros in the background
   * @throws IllegalArgumentException if a size breaks its rule in the table above
   */
  public JournalOptions {
    Objects.requireNonNull(directory, "directory");
    Objects.requireNonNull(durability, "durability");
    Objects.requireNonNull(ioMode, "ioMode");
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(writerThreadFactory, "writerThreadFactory");
    if (maxRecordBytes < 0) {
      throw new IllegalArgumentException("maxRecordBytes must be >= 0: " + maxRecordBytes);
    }
    long minSegment =
        SegmentFormat.HEADER_BYTES + SegmentFormat.FRAME_HEADER_BYTES + (long) maxRecordBytes;
    if (segmentBytes < minSegment || segmentBytes > MAX_SEGMENT_BYTES) {
      throw new IllegalArgumentException(
          "segmentBytes must be in ["
              + minSegment
              + " (room for one record of maxRecordBytes), "
              + MAX_SEGMENT_BYTES
              + "]: "
              + segmentBytes);
    }
    if (writeBufferBytes < 2 * SegmentFormat.BLOCK || writeBufferBytes % SegmentFormat.BLOCK != 0) {
      throw new IllegalArgumentException(
          "writeBufferBytes must be a multiple of 4096 and at least 8192: " + writeBufferBytes);
    }
    Objects.requireNonNull(stallThreshold, "stallThreshold");
    if (stallThreshold.compareTo(MIN_STALL_THRESHOLD) < 0) {
      throw new IllegalArgumentException("stallThreshold must be at least 1 ms: " + stallThreshold);
    }
  }

  /**
   * The defaults (see the table above) for {@code ./journal}.
   *
   * @return the default options
   */
  public static JournalOptions defaults() {
    return new JournalOptions(
        Path.of("journal"),
        Durability.ALWAYS,
        64L << 20,
        16 << 20,
        IoMode.AUTO,
        JournalListener.NONE,
        Thread.ofPlatform().name("sluice-journal-writer").daemon(true).factory(),
        1 << 20,
        DEFAULT_STALL_THRESHOLD,
        true);
  }

  /**
   * The defaults for a directory.
   *
   * @param directory the journal directory
   * @return the default options with that directory
   */
  public static JournalOptions defaults(Path directory) {
    return defaults().withDirectory(directory);
  }

  /**
   * Returns a copy with another directory.
   *
   * @param directory the journal directory
   * @return the new options
   */
  public JournalOptions withDirectory(Path directory) {
    return with(d -> d.directory = directory);
  }

  /**
   * Returns a copy with another durability policy.
   *
   * @param durability when an append counts as done
   * @return the new options
   */
  public JournalOptions withDurability(Durability durability) {
    return with(d -> d.durability = durability);
  }

  /**
   * Returns a copy with another segment size.
   *
   * @param segmentBytes the size at which a segment is closed
   * @return the new options
   */
  public JournalOptions withSegmentBytes(long segmentBytes) {
    return with(d -> d.segmentBytes = segmentBytes);
  }

  /**
   * Returns a copy with another largest record size.
   *
   * @param maxRecordBytes the largest body an append accepts
   * @return the new options
   */
  public JournalOptions withMaxRecordBytes(int maxRecordBytes) {
    return with(d -> d.maxRecordBytes = maxRecordBytes);
  }

  /**
   * Returns a copy with another I/O mode.
   *
   * @param ioMode direct or buffered writes
   * @return the new options
   */
  public JournalOptions withIoMode(IoMode ioMode) {
    return with(d -> d.ioMode = ioMode);
  }

  /**
   * Returns a copy with another listener.
   *
   * @param listener observes commits, forces and acknowledgements
   * @return the new options
   */
  public JournalOptions withListener(JournalListener listener) {
    return with(d -> d.listener = listener);
  }

  /**
   * Returns a copy with another factory for the writer thread.
   *
   * @param writerThreadFactory makes the writer thread
   * @return the new options
   */
  public JournalOptions withWriterThreadFactory(ThreadFactory writerThreadFactory) {
    return with(d -> d.writerThreadFactory = writerThreadFactory);
  }

  /**
   * Returns a copy with another write buffer size.
   *
   * @param writeBufferBytes the size of the aligned write buffer
   * @return the new options
   */
  public JournalOptions withWriteBufferBytes(int writeBufferBytes) {
    return with(d -> d.writeBufferBytes = writeBufferBytes);
  }

  /**
   * Returns a copy with another stall threshold.
   *
   * @param stallThreshold how long a commit may run before the journal reports a stall, at least 1
   *     ms
   * @return the new options
   */
  public JournalOptions withStallThreshold(Duration stallThreshold) {
    return with(d -> d.stallThreshold = stallThreshold);
  }

  /**
   * Returns a copy that does or does not write the next segment's file ahead (see the table above).
   *
   * @param preallocate whether the next segment's file is written with zeros in the background
   * @return the new options
   */
  public JournalOptions withPreallocate(boolean preallocate) {
    return with(d -> d.preallocate = preallocate);
  }

  /** These options with the changes {@code change} makes to a copy, checked as a whole. */
  private JournalOptions with(Consumer<Draft> change) {
    Draft d = new Draft(this);
    change.accept(d);
    return d.build();
  }

  /** Options being changed by a {@code with} method: the components, checked anew by build. */
  private static final class Draft {
    Path directory;
    Durability durability;
    long segmentBytes;
    int maxRecordBytes;
    IoMode ioMode;
    JournalListener listener;
    ThreadFactory writerThreadFactory;
    int writeBufferBytes;
    Duration stallThreshold;
    boolean preallocate;

    Draft(JournalOptions o) {
      directory = o.directory;
      durability = o.durability;
      segmentBytes = o.segmentBytes;
      maxRecordBytes = o.maxRecordBytes;
      ioMode = o.ioMode;
      listener = o.listener;
      writerThreadFactory = o.writerThreadFactory;
      writeBufferBytes = o.writeBufferBytes;
      stallThreshold = o.stallThreshold;
      preallocate = o.preallocate;
    }

    JournalOptions build() {
      return new JournalOptions(
          directory,
          durability,
          segmentBytes,
          maxRecordBytes,
          ioMode,
          listener,
          writerThreadFactory,
          writeBufferBytes,
          stallThreshold,
          preallocate);
    }
  }
}
