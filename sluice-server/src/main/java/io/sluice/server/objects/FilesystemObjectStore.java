package io.sluice.server.objects;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;

/**
 * An {@link ObjectStore} that keeps each object as a file under a root directory: key {@code
 * a/b/c.json} is the file {@code root/a/b/c.json}. The embedded default, under {@code
 * <data-dir>/objects/}.
 *
 * <p>{@link #put} is atomic: a reader never sees part of an object, and once it returns the object
 * survives a crash of the process. With {@link Sync#EVERY_PUT} (the default) it is also durable: it
 * survives a crash of the machine or a power cut. Puts are performed by writer threads in batches:
 * on Linux one {@code syncfs} makes a whole batch's files durable before their renames and a second
 * the renames before the puts return, of the root's file system and of any other mounted under it
 * that the batch wrote to (elsewhere, or without native access, each file and directory is forced).
 * A put fails if a flush that its durability depended on failed, whichever writer thread saw the
 * failure: the kernel reports a write-back error once, to one thread, and a later flush that
 * succeeds does not make what the failed one lost durable. Putting the object again makes it so.
 * Keys are checked by {@link ObjectKeys#validate}, and each segment must also fit a file name
 * ({@value #MAX_SEGMENT_BYTES} bytes) and not look like one of this store's temporary files ({@code
 * .sluice-tmp-...}); a key can never name a path outside the root.
 *
 * <p>Blocking methods wait for the file system only. Interrupting the calling thread aborts a put
 * or get in progress and the method throws {@link InterruptedException}; the object is then absent
 * or the old one, never partial, and no temporary file of the put remains. A put whose rename has
 * already begun is not aborted: it returns normally once durable, with the interrupt status set. An
 * interrupted put returns within one batch of the writer.
 *
 * <p>Memory consistency effects: as {@link ObjectStore}; puts of different keys do not wait for
 * each other, puts of the same key race and the last rename wins, whole.
 */
public final class FilesystemObjectStore implements ObjectStore {
  private static final System.Logger LOG = System.getLogger(FilesystemObjectStore.class.getName());

  /*
   * Write protocol (the classic one, as in SQLite's and LevelDB's manifests), batched by PutWriter:
   *   1. create the parent directories that are missing;
   *   2. write the content to a new temporary file in the writer's temporary directory under the
   *      root (root/.sluice-tmp-lane-N; in the target's directory if that is on another file
   *      system);
   *   3. make 1-2 durable (one syncfs for the batch);
   *   4. rename it over the target (atomic on POSIX file systems within one file system);
   *   5. make the rename durable (the next batch's syncfs), then return.
   * Where the root's file system gives unnamed files (O_TMPFILE, probed at open) and nothing is
   * forced file by file, step 2 writes an unnamed file whose descriptor stays open and step 4 links
   * it under the key (linkat through /proc/self/fd; a key already taken is linked under a temporary
   * name first and renamed over, since a link cannot replace a name), then closes it. A crash
   * before 4 then leaves nothing at all.
   * Sync.NONE skips every flush: steps 2 and 4 still make the object appear whole or not at all.
   * A crash before 4 leaves only a temporary file (named .sluice-tmp-<random>, which no valid key
   * may name), after 4 the whole new object. Temporary files of a crashed process stay until
   * removeLeftoverLaneFiles() (the writers' directories, at startup) or a sweep (the whole tree)
   * runs.
   *
   * Invariant: every path this class opens is root.resolve(validKey), a temporary file beside it or
   * in a writer's temporary directory, and
   * validKey has no "..", "." or empty segment and is relative, so it is under root.
   */

  /** The longest key segment in UTF-8 bytes: the file name limit of ext4, xfs and most others. */
  public static final int MAX_SEGMENT_BYTES = 255;

  static final String TEMP_PREFIX = ".sluice-tmp-";

  /** Writer threads by default: one flushes while the other writes. */
  public static final int DEFAULT_WRITERS = 2;

  /**
   * Hears each flush of a batch of puts (with {@link Sync#EVERY_PUT}), on the writer thread that
   * made it: keep it short and non-blocking, like recording a metric.
   */
  @FunctionalInterface
  public interface FlushListener {
    /**
     * One flush finished.
     *
     * @param written temporary files whose content it made durable (puts renamed next)
     * @param renamed renames it made durable (puts that then return)
     * @param nanos how long the flush took
     */
    void flushed(int written, int renamed, long nanos);
  }

  /** Whether a put waits for its object to reach the disk. */
  public enum Sync {
    /**
     * Flush the file before the rename and the rename before the put returns: the object survives a
     * machine crash once {@code put} returns. The default.
     */
    EVERY_PUT,
    /**
     * No fsync: still atomic (temp file + rename), and the object survives a crash of the process
     * (the kernel has it), but a machine crash or power cut may lose recent objects even though
     * their jobs were recorded as done. For benchmarks and for data that can be re-sent.
     */
    NONE
  }

  private final Path root;
  private final boolean fsync;
  private final PutWriter writer;
  private final String flushedBy;
  private volatile boolean closed;
  private final Instant openedAt = Instant.now();
  private final List<Thread> sweepers = new ArrayList<>(); // guarded by itself, with `closed`

  /** Seconds before the store's opening that a temporary file must be older than to be swept. */
  static final int SWEEP_MARGIN_SECONDS = 2;

  private FilesystemObjectStore(
      Path root, Sync sync, List<FileSystemSync> syncfs, Libc unnamed, int writers) {
    this.root = root;
    this.fsync = sync == Sync.EVERY_PUT;
    this.writer =
        new PutWriter(root, fsync, syncfs, writers, PutWriter::forceDirectory, unnamed).start();
    this.flushedBy =
        (!fsync ? "no fsync" : !syncfs.isEmpty() ? "syncfs per batch" : "fsync per file")
            + (unnamed != null ? ", unnamed temporary files" : "");
  }

  /**
   * {@code libc} if an unnamed file (O_TMPFILE) can be made under {@code root} and given a name
   * there, which is how the writers then write objects; null (and why, logged) if not: a file
   * system without O_TMPFILE (some network and FUSE ones), no /proc, an architecture whose flag
   * value is not known here.
   */
  private static Libc unnamedFilesIn(Path root, Libc libc) {
    String unavailable;
    Optional<Integer> flags = libc.unnamedFileFlags();
    if (flags.isEmpty()) {
      unavailable = "O_TMPFILE's value on " + System.getProperty("os.arch") + " is not known";
    } else {
      Path probe = root.resolve(TEMP_PREFIX + "check-" + PutWriter.randomHex());
      try {
        int fd = libc.open(root, flags.get(), 0600);
        try {
          libc.link(fd, probe);
        } finally {
          libc.close(fd);
        }
        return libc;
      } catch (IOException e) {
        unavailable = e.getMessage();
      } finally {
        PutWriter.deleteQuietly(probe);
      }
    }
    LOG.log(
        System.Logger.Level.INFO,
        "unnamed temporary files (O_TMPFILE) are not available ("
            + unavailable
            + "); the filesystem store names each temporary file, which costs more CPU per object");
    return null;
  }

  /**
   * Opens a durable store ({@link Sync#EVERY_PUT}) rooted at {@code root}, creating the directory
   * if it is missing.
   *
   * @param root the directory that holds the objects
   * @return the store
   * @throws IOException if the directory cannot be created, or {@code root} is not a directory
   */
  public static FilesystemObjectStore open(Path root) throws IOException {
    return open(root, Sync.EVERY_PUT);
  }

  /**
   * Opens a store rooted at {@code root}, creating the directory if it is missing.
   *
   * @param root the directory that holds the objects
   * @param sync whether puts fsync
   * @return the store
   * @throws IOException if the directory cannot be created, or {@code root} is not a directory
   */
  public static FilesystemObjectStore open(Path root, Sync sync) throws IOException {
    return open(root, sync, DEFAULT_WRITERS);
  }

  /**
   * Opens a store rooted at {@code root} with {@code writers} writer threads, creating the
   * directory if it is missing. More writers overlap one batch's flush with the next batch's
   * writes; past two they mostly contend for the directory (see {@code docs/benchmarks.md}).
   *
   * @param root the directory that holds the objects
   * @param sync whether puts are flushed
   * @param writers how many threads write objects, at least 1 ({@value #DEFAULT_WRITERS} by
   *     default)
   * @return the store
   * @throws IOException if the directory cannot be created, or {@code root} is not a directory
   * @throws IllegalArgumentException if {@code writers} is less than 1
   */
  public static FilesystemObjectStore open(Path root, Sync sync, int writers) throws IOException {
    Objects.requireNonNull(sync, "sync");
    if (writers < 1) {
      throw new IllegalArgumentException("writers must be at least 1, got " + writers);
    }
    Path absolute = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
    try {
      Files.createDirectories(absolute);
    } catch (FileAlreadyExistsException e) {
      throw new ObjectStoreException(
          "object store root "
              + absolute
              + " exists and is not a directory; point the data"
              + " directory elsewhere or remove that file",
          0,
          null,
          false,
          e);
    }
    List<FileSystemSync> syncfs = new ArrayList<>();
    Libc libc = null;
    String noNatives = null;
    try {
      libc = Libc.load();
    } catch (UnsupportedOperationException | IllegalCallerException e) {
      noNatives = e.getMessage();
    }
    try {
      if (sync == Sync.EVERY_PUT) {
        for (int i = 0; i < writers; i++) {
          FileSystemSync.Opened opened =
              libc == null
                  ? new FileSystemSync.Opened(null, noNatives)
                  : FileSystemSync.open(libc, absolute);
          if (opened.sync() == null) {
            LOG.log(
                System.Logger.Level.INFO,
                "syncfs is not available ("
                    + opened.unavailable()
                    + "); the filesystem store forces each object's file and directory instead,"
                    + " which is slower. On Linux, run Java with"
                    + " --enable-native-access=ALL-UNNAMED.");
            break;
          }
          syncfs.add(opened.sync());
        }
      }
      boolean forcing = sync == Sync.EVERY_PUT && syncfs.isEmpty();
      Libc unnamed = forcing || libc == null ? null : unnamedFilesIn(absolute, libc);
      return new FilesystemObjectStore(absolute, sync, syncfs, unnamed, writers);
    } catch (IOException | RuntimeException | Error e) {
      syncfs.forEach(FileSystemSync::close);
      throw e;
    }
  }

  /**
   * Sets who hears about each flush (replacing the previous listener); for metrics.
   *
   * @param listener the listener
   */
  public void onFlush(FlushListener listener) {
    writer.listener(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * The root directory.
   *
   * @return the absolute, normalised root
   */
  public Path root() {
    return root;
  }

  @Override
  public void put(String key, byte[] content, String contentType)
      throws IOException, InterruptedException {
    Objects.requireNonNull(content, "content");
    Objects.requireNonNull(contentType, "contentType");
    Path target = pathOf(key);
    ensureOpen();
    throwIfInterrupted();
    PutWriter.Put put = new PutWriter.Put(target, content);
    writer.submit(put);
    try {
      put.done.get();
    } catch (InterruptedException e) {
      if (put.cancel()) {
        awaitQuietly(put); // the writer deletes what it wrote; nothing of the put remains
        throw e;
      }
      // already being renamed: the object is in place, only its flush is pending
      try {
        awaitOutcome(put);
      } finally {
        Thread.currentThread().interrupt();
      }
    } catch (ExecutionException e) {
      throw rethrown(e.getCause());
    }
  }

  private static void awaitQuietly(PutWriter.Put put) {
    try {
      put.done.join();
    } catch (CompletionException | CancellationException e) {
      // cancelled, or failed anyway: the caller reports its interrupt
    }
  }

  private static void awaitOutcome(PutWriter.Put put) throws IOException {
    try {
      put.done.join();
    } catch (CompletionException e) {
      throw rethrown(e.getCause());
    }
  }

  /** The writer's failure, rethrown in the caller with its own type (a message names the path). */
  private static IOException rethrown(Throwable cause) {
    return switch (cause) {
      case IOException io -> io;
      case RuntimeException re -> throw re;
      case Error error -> throw error;
      default -> new IOException(cause);
    };
  }

  @Override
  public Optional<byte[]> get(String key) throws IOException, InterruptedException {
    Path path = pathOf(key);
    ensureOpen();
    throwIfInterrupted();
    try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ)) {
      long size = channel.size();
      if (size > Integer.MAX_VALUE - 8) {
        throw new IOException("object " + ObjectKeys.quote(key) + " is too large to read whole");
      }
      ByteBuffer buffer = ByteBuffer.allocate((int) size);
      while (buffer.hasRemaining() && channel.read(buffer) >= 0) {
        // reads until full or end of file
      }
      return Optional.of(buffer.hasRemaining() ? copyOf(buffer) : buffer.array());
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (ClosedByInterruptException e) {
      throw interrupted(e);
    } catch (IOException e) {
      if (noObjectAt(path)) {
        return Optional.empty(); // a directory (EISDIR), or a file where a directory would be
      }
      throw e;
    }
  }

  /**
   * After a failed look at {@code path}: whether that is because no object can be there, the path
   * being a directory of other objects or going through an object's file (ENOTDIR), as a key that
   * is a prefix of another, or has another as its prefix, holds no object in S3.
   */
  private boolean noObjectAt(Path path) {
    if (Files.isDirectory(path)) {
      return true;
    }
    for (Path p = path.getParent(); p != null && !p.equals(root); p = p.getParent()) {
      if (Files.isRegularFile(p)) {
        return true;
      }
    }
    return false;
  }

  /** Whether the key's file exists: one {@code stat}, which never sees a temporary file. */
  @Override
  public boolean exists(String key) throws IOException, InterruptedException {
    Path path = pathOf(key);
    ensureOpen();
    throwIfInterrupted();
    try {
      return Files.readAttributes(path, BasicFileAttributes.class).isRegularFile();
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      if (noObjectAt(path)) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public String describe() {
    return "filesystem " + root + " (" + flushedBy + ")";
  }

  /**
   * Checks that the root is a directory in which this process can create, sync and delete a file,
   * by doing so.
   */
  @Override
  public void check() throws IOException {
    ensureOpen();
    Path probe = root.resolve(TEMP_PREFIX + "check-" + PutWriter.randomHex());
    try {
      Files.createDirectories(root);
      write(probe, new byte[] {'o', 'k'}, true);
    } catch (AccessDeniedException e) {
      throw new ObjectStoreException(
          "object store directory "
              + root
              + " is not writable by this process ("
              + e
              + ");"
              + " fix its permissions or choose another data directory",
          0,
          null,
          false,
          e);
    } catch (IOException e) {
      throw new ObjectStoreException(
          "object store directory "
              + root
              + " cannot be written ("
              + e
              + "); check that it is a"
              + " directory on a writable file system with free space",
          0,
          null,
          false,
          e);
    } finally {
      PutWriter.deleteQuietly(probe);
    }
  }

  /**
   * Deletes the temporary files that puts interrupted by a crash of the process or the machine left
   * where this store writes them: in its writers' directories ({@code .sluice-tmp-lane-N}) and
   * directly under the root. It lists those directories only, so it is quick however many objects
   * the store holds: run it at startup, before any put (a put in progress has a temporary file
   * too). The rest, temporary files beside objects on another file system mounted under the root
   * and those an older Sluice left in the objects' directories, take the walk of {@link
   * #sweepLeftoversInBackground()}.
   *
   * @return how many files were deleted
   * @throws IOException if a directory cannot be listed or a file cannot be deleted
   */
  public long removeLeftoverLaneFiles() throws IOException {
    ensureOpen();
    long removed = removeTemporaryFilesIn(root);
    try (Stream<Path> entries = Files.list(root)) {
      for (Path lane : (Iterable<Path>) entries::iterator) {
        if (lane.getFileName().toString().startsWith(TEMP_PREFIX + "lane-")
            && Files.isDirectory(lane, LinkOption.NOFOLLOW_LINKS)) {
          removed += removeTemporaryFilesIn(lane);
        }
      }
    } catch (NoSuchFileException e) {
      return removed; // no root yet: nothing was ever put
    }
    return removed;
  }

  private static long removeTemporaryFilesIn(Path dir) throws IOException {
    long removed = 0;
    try (Stream<Path> entries = Files.list(dir)) {
      for (Path p : (Iterable<Path>) entries::iterator) {
        if (isTemporaryFile(p) && Files.deleteIfExists(p)) {
          removed++;
        }
      }
    } catch (NoSuchFileException e) {
      return removed;
    }
    return removed;
  }

  private static boolean isTemporaryFile(Path p) {
    return p.getFileName().toString().startsWith(TEMP_PREFIX)
        && Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS);
  }

  /**
   * Deletes every temporary file under the root that puts interrupted by a crash left behind. Walks
   * the whole tree, so it costs time in proportion to the number of objects; run it before any put
   * (a put in progress has a temporary file too), or from maintenance. A running service uses
   * {@link #removeLeftoverLaneFiles()} and {@link #sweepLeftoversInBackground()} instead.
   *
   * @return how many files were deleted
   * @throws IOException if the tree cannot be walked or a file cannot be deleted
   */
  public long removeLeftoverTemporaryFiles() throws IOException {
    ensureOpen();
    return sweep(null);
  }

  /**
   * Starts a walk of the whole tree, on a virtual thread, that deletes the temporary files a crash
   * left beyond the reach of {@link #removeLeftoverLaneFiles()}, while puts go on. A file last
   * modified after this store opened, less {@value #SWEEP_MARGIN_SECONDS} seconds for file systems
   * with coarse file times, may be a put in progress and is left alone (so is the leftover of a
   * crash that came within those seconds before the start; the next start's sweep takes it). The
   * walk ends early when the store closes, and {@link #close()} waits for it. Its outcome is
   * logged.
   *
   * @return completes with how many files it deleted, or exceptionally if the walk failed
   */
  public CompletableFuture<Long> sweepLeftoversInBackground() {
    ensureOpen();
    Instant cutoff = openedAt.minusSeconds(SWEEP_MARGIN_SECONDS);
    CompletableFuture<Long> done = new CompletableFuture<>();
    Thread t =
        Thread.ofVirtual()
            .name("sluice-objects-sweep")
            .unstarted(
                () -> {
                  try {
                    long removed = sweep(cutoff);
                    LOG.log(
                        removed == 0 ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
                        "removed "
                            + removed
                            + " temporary files left under "
                            + root
                            + " by a crash");
                    done.complete(removed);
                  } catch (IOException | RuntimeException e) {
                    LOG.log(
                        System.Logger.Level.WARNING,
                        "could not remove the temporary files left under "
                            + root
                            + " by a crash; they waste space but harm nothing",
                        e);
                    done.completeExceptionally(e);
                  }
                });
    synchronized (sweepers) {
      if (closed) {
        done.complete(0L);
        return done;
      }
      sweepers.add(t);
      t.start();
    }
    return done;
  }

  /**
   * Walks the tree and deletes the temporary files last modified before {@code cutoff} (all of them
   * if null). With a cutoff (beside running puts) it skips the writers' directories, where every
   * file is a put in progress once removeLeftoverLaneFiles() ran, passes over files that a put
   * renames away as the walk reaches them, and stops once the store is closed.
   */
  private long sweep(Instant cutoff) throws IOException {
    boolean live = cutoff != null;
    long[] removed = {0};
    Files.walkFileTree(
        root,
        new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
            if (live && closed) {
              return FileVisitResult.TERMINATE;
            }
            boolean lane =
                dir.getParent() != null
                    && dir.getParent().equals(root)
                    && dir.getFileName().toString().startsWith(TEMP_PREFIX + "lane-");
            return live && lane ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFile(Path p, BasicFileAttributes attrs) throws IOException {
            if (live && closed) {
              return FileVisitResult.TERMINATE;
            }
            if (attrs.isRegularFile()
                && p.getFileName().toString().startsWith(TEMP_PREFIX)
                && (!live || attrs.lastModifiedTime().toInstant().isBefore(cutoff))
                && Files.deleteIfExists(p)) {
              removed[0]++;
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path p, IOException e) throws IOException {
            if (e instanceof NoSuchFileException) {
              return FileVisitResult.CONTINUE; // renamed away or removed as the walk reached it
            }
            throw e;
          }
        });
    return removed[0];
  }

  /**
   * Marks the store closed, lets the puts in progress finish and stops the writer thread; later
   * puts and gets throw {@link IllegalStateException}. Idempotent.
   */
  @Override
  public void close() {
    synchronized (sweepers) {
      closed = true;
    }
    writer.close();
    boolean interrupted = false;
    for (Thread t : sweepers) {
      while (true) {
        try {
          t.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  private static void write(Path file, byte[] content, boolean fsync) throws IOException {
    try (FileChannel channel =
        FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      ByteBuffer buffer = ByteBuffer.wrap(content);
      while (buffer.hasRemaining()) {
        channel.write(buffer);
      }
      if (fsync) {
        channel.force(true);
      }
    }
  }

  /**
   * {@inheritDoc} Besides the rules of {@link ObjectKeys}, no segment may start with {@code
   * .sluice-tmp-} (the temporary files' names) or be longer than a file name may be.
   */
  @Override
  public void validateKey(String key) {
    pathOf(key);
  }

  private Path pathOf(String key) {
    ObjectKeys.validate(key);
    int start = 0;
    for (int i = 0; i <= key.length(); i++) {
      if (i == key.length() || key.charAt(i) == '/') {
        String segment = key.substring(start, i);
        if (segment.startsWith(TEMP_PREFIX)) {
          throw new InvalidObjectKeyException(
              key,
              "invalid object key "
                  + ObjectKeys.quote(key)
                  + ": segments starting with "
                  + TEMP_PREFIX
                  + " are reserved for the filesystem store's temporary files");
        }
        int bytes = segment.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_SEGMENT_BYTES) {
          throw new InvalidObjectKeyException(
              key,
              "invalid object key "
                  + ObjectKeys.quote(key)
                  + ": segment at index "
                  + start
                  + " is "
                  + bytes
                  + " bytes in UTF-8, over the file name limit of "
                  + MAX_SEGMENT_BYTES);
        }
        start = i + 1;
      }
    }
    Path path = root.resolve(key).normalize();
    if (!path.startsWith(root) || path.equals(root)) {
      // unreachable for a valid key; kept so that a future change to the rules cannot escape
      throw new InvalidObjectKeyException(
          key, "invalid object key " + ObjectKeys.quote(key) + ": it resolves outside " + root);
    }
    return path;
  }

  private void ensureOpen() {
    if (closed) {
      throw new IllegalStateException("object store closed: " + describe());
    }
  }

  private static void throwIfInterrupted() throws InterruptedException {
    if (Thread.interrupted()) {
      throw new InterruptedException("interrupted before the object store call");
    }
  }

  private static InterruptedException interrupted(ClosedByInterruptException cause) {
    Thread.interrupted(); // the channel left the status set; InterruptedException reports it
    InterruptedException e = new InterruptedException("interrupted during the object store call");
    e.initCause(cause);
    return e;
  }

  private static byte[] copyOf(ByteBuffer buffer) {
    byte[] bytes = new byte[buffer.position()];
    buffer.flip().get(bytes);
    return bytes;
  }

  /** Whether a writer thread still runs; for tests. */
  boolean writerRunning() {
    return writer.running();
  }

  /** Checks the design invariant for tests: no temporary file is left anywhere under the root. */
  boolean checkInvariants() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files.noneMatch(
          p -> p.getFileName().toString().startsWith(TEMP_PREFIX) && Files.isRegularFile(p));
    }
  }
}
