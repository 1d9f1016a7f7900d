package io.sluice.server.objects;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/*
 * The filesystem store's writer: a few platform threads ("lanes", two by default) that perform
 * every put, in batches, with one flush per batch. Why few threads: the objects of a day all go
 * into one directory, and puts from many threads at once queue on that directory's lock in the
 * kernel (spinning on it: a seventh of the CPU on this machine with 64 upload workers); why
 * batches: one syncfs(2) makes a whole batch durable where each put used to force its file and its
 * directory; why more than one lane: while one waits for its flush, another writes.
 *
 * Each lane's loop, one iteration at a time (its "batch" is what it took from the shared queue):
 *   1. write: each new put's content goes to a new temporary file in the lane's own temporary
 *      directory (the target's directories are created as needed); no flush;
 *   2. rename: each put written in the previous iteration (its content made durable by that
 *      iteration's flush) is renamed over its target;
 *   3. flush: one syncfs, which makes this iteration's temporary files and renames durable;
 *   4. complete the renamed puts; this iteration's written puts are renamed in the next.
 * So a put's content is durable before its rename (a crash never leaves a partial object under its
 * key) and its rename is durable before it returns: two flushes per put, each shared by a batch.
 * With unnamed files (the C library given, and files not forced one by one) step 1 opens an
 * unnamed file (O_TMPFILE) in the same directory and keeps its descriptor, and step 2 links it
 * under the target's name and closes it: the same two flushes, without a temporary name to create
 * and remove (measured on this machine's ext4 in C: 33 against 44 µs of CPU per file; the store:
 * 56-60 against 67-71 µs per put). A link cannot replace a name, so a put whose target exists is
 * linked under a temporary name in step 2 and renamed over the target; and a lane takes at most
 * MAX_BATCH puts per iteration so that the descriptors it holds stay bounded. Where opening an
 * unnamed file fails (no descriptor left, a file system under the root without O_TMPFILE), that
 * put's temporary file is named, as without.
 * An iteration blocks for new puts only when nothing waits to be renamed. Without syncfs (not
 * Linux, a kernel older than 5.8, native access denied) step 1 forces each file and step 3 the
 * directories renamed into, and a directory is forced into its parent when first used (shared by
 * the lanes: once per directory); with Sync.NONE step 3 does nothing.
 *
 * Why a temporary directory per lane, not a temporary file beside the target: the day's directory
 * holds hundreds of thousands of entries, and every name looked up, added or removed there costs a
 * search of its index blocks. A temporary file beside the target is added there, then renamed within
 * it (two lookups, an insertion and a removal); one in the lane's small directory costs the day's
 * directory only the rename's lookup and insertion, and lanes no longer take the day's directory
 * lock to create files. Measured on this machine's ext4 (a C program, one thread, 100-byte files
 * into a directory of 200,000, rounds alternated): 46.6 against 62.4 µs per file. The lane's
 * directory is root/.sluice-tmp-lane-N, a name no key may take. A rename cannot cross file
 * systems, so a target directory on another file system than the root (something mounted inside
 * it) gets its temporary files beside the target, as before; each lane checks a directory once.
 * The root's syncfs does not reach such a file system, so with syncfs a lane opens a handle of its
 * own on each one it writes to, and its flush syncs those its iteration touched after the root's.
 *
 * Lanes share the queue (and, without syncfs, the set of durable directories); each has its own
 * syncfs file descriptor, because Linux reports a write-back error to each descriptor once: a lane
 * whose syncfs flushed another lane's failing file must not take that lane's error away. Puts of
 * one key in two lanes race, and the last rename wins, whole. Closing puts one STOP in the queue; a
 * lane that takes it finishes its batches and puts it back for the next.
 *
 * Without syncfs the lanes force shared directories (the day's, their parents when made) through
 * descriptors opened for each force, and the same rule bites there: a descriptor opened after a
 * write-back error was reported to another one does not report it, so the fsync of a directory
 * may fail in one lane and then succeed in the next, whose renames into that directory, made
 * before the failure, may be lost with it. So each directory has an error epoch shared by the
 * lanes (DirectoryFlushes): how many of its forces failed. A lane notes a directory's epoch before
 * it changes the directory (renames into it, makes a directory in it), and a later force counts
 * for those changes only if the epoch has not moved meanwhile; otherwise the puts that depended on
 * them fail with the other lane's failure, as that lane's own do. A directory's forces are
 * serialized, so no force can succeed while another one's failure is being recorded. A put that
 * fails so is retried by its caller and renames again, which dirties the directory again and is
 * made durable by the next force. A directory made by a put (a new day's) whose entry was in a
 * failed force of its parent cannot be dirtied again that way: the puts that depended on it fail,
 * and later ones trust the next successful force of the parent, as the kernel does.
 *
 * Put states: QUEUED -> WRITTEN -> CLAIMED (the writer renames it). A caller interrupted while
 * waiting moves it from QUEUED or WRITTEN to CANCELLED; the writer then deletes its temporary file
 * and completes it with a CancellationException, which the caller waits for, so that nothing of the
 * put is left once it throws. A put already CLAIMED cannot be cancelled: its object is in place.
 */
final class PutWriter implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(FilesystemObjectStore.class.getName());
  private static final int CHUNK = 1 << 20; // cancellation is checked between chunks of a write
  // The most puts a lane takes from the queue at once: with unnamed files each holds a descriptor
  // until it is linked, the iteration after (a lane whose open fails names that put's file
  // instead).
  private static final int MAX_BATCH = 1024;

  /** One put on its way through the writer. */
  static final class Put {
    static final int QUEUED = 0;
    static final int WRITTEN = 1;
    static final int CLAIMED = 2;
    static final int CANCELLED = 3;

    final Path target;
    final byte[] content;
    final AtomicInteger state = new AtomicInteger(QUEUED);
    final CompletableFuture<Void> done = new CompletableFuture<>();
    private Path temp; // writer thread only: the temporary file's name, if it has one
    private int fd = -1; // writer thread only: the unnamed file's descriptor while it is open

    Put(Path target, byte[] content) {
      this.target = target;
      this.content = content;
    }

    /** True if the writer will not rename it; the caller then waits for {@link #done}. */
    boolean cancel() {
      return state.compareAndSet(QUEUED, CANCELLED) || state.compareAndSet(WRITTEN, CANCELLED);
    }
  }

  private static final Put STOP = new Put(null, null);

  private final Path root;
  private final boolean durable;
  // Directories known to exist, and without syncfs also to be durable in their parents; shared by
  // the lanes. One that is removed behind the store's back is forgotten when a put finds it gone.
  private final Set<Path> knownDirs = ConcurrentHashMap.newKeySet();
  // Without syncfs: each forced directory's error epoch, and for each directory a lane made and
  // has not yet made durable in its parent, the parent's epoch from before it was made.
  private final Map<Path, DirectoryFlushes> dirFlushes = new ConcurrentHashMap<>();
  private final Map<Path, Long> madeSince = new ConcurrentHashMap<>();
  private final DirectoryForcer forcer;
  private final Libc unnamed; // null: temporary files are named
  private final LinkedBlockingQueue<Put> queue = new LinkedBlockingQueue<>();
  private final Object submitLock = new Object();
  private final List<Thread> lanes = new ArrayList<>();
  private final List<FileSystemSync> handles = new ArrayList<>();
  private String refusal; // guarded by submitLock; why puts are refused, null while open
  private final AtomicLong iterations = new AtomicLong(); // for tests
  private final AtomicLong flushes = new AtomicLong(); // syncfs calls or flush steps, for tests
  private volatile FilesystemObjectStore.FlushListener listener = (written, renamed, nanos) -> {};

  /**
   * A writer whose threads are not started yet: puts handed to it queue until {@link #start}.
   *
   * @param syncfs one handle per lane (each file descriptor reports a write-back error once, so
   *     lanes must not share one; the writer closes them), or empty to force files and directories
   *     one by one
   * @param lanes how many threads write, at least 1
   */
  PutWriter(Path root, boolean durable, List<FileSystemSync> syncfs, int lanes) {
    this(root, durable, syncfs, lanes, PutWriter::forceDirectory);
  }

  /** A writer that names its temporary files. */
  PutWriter(
      Path root, boolean durable, List<FileSystemSync> syncfs, int lanes, DirectoryForcer forcer) {
    this(root, durable, syncfs, lanes, forcer, null);
  }

  /**
   * A writer that forces directories (without syncfs) through {@code forcer}: {@link
   * #forceDirectory} but in tests, which make a force fail as a disk would.
   *
   * @param unnamed the C library, to write each object to an unnamed file (O_TMPFILE) and link it
   *     under its key; null to name the temporary files and rename them. Unnamed files are used
   *     only where no file is forced one by one (with syncfs, or not durable)
   */
  PutWriter(
      Path root,
      boolean durable,
      List<FileSystemSync> syncfs,
      int lanes,
      DirectoryForcer forcer,
      Libc unnamed) {
    this.forcer = forcer;
    this.unnamed = durable && syncfs.isEmpty() ? null : unnamed;
    if (lanes < 1) {
      throw new IllegalArgumentException("lanes must be at least 1, got " + lanes);
    }
    if (!syncfs.isEmpty() && syncfs.size() != lanes) {
      throw new IllegalArgumentException(syncfs.size() + " syncfs handles for " + lanes + " lanes");
    }
    this.root = root;
    this.durable = durable;
    this.handles.addAll(syncfs);
    for (int i = 0; i < lanes; i++) {
      this.lanes.add(
          Thread.ofPlatform()
              .daemon()
              .name("sluice-objects-writer-" + i)
              .unstarted(new Lane(i, syncfs.isEmpty() ? null : syncfs.get(i))::run));
    }
  }

  PutWriter start() {
    synchronized (submitLock) {
      for (Thread lane : lanes) {
        if (lane.getState() == Thread.State.NEW) {
          lane.start();
        }
      }
    }
    return this;
  }

  /**
   * Hands a put to the writer.
   *
   * @throws IllegalStateException if the writer is closed or has failed
   */
  void submit(Put put) {
    synchronized (submitLock) {
      if (refusal != null) {
        throw new IllegalStateException(refusal);
      }
      queue.add(put);
    }
  }

  /** Lets the writer finish every put handed to it, then stops it. Idempotent. */
  @Override
  public void close() {
    synchronized (submitLock) {
      if (refusal == null) {
        refusal = "object store closed";
        queue.add(STOP);
      }
    }
    start(); // if never started: the lanes finish what was queued, then stop
    boolean interrupted = false;
    for (Thread lane : lanes) {
      while (lane.isAlive()) {
        try {
          lane.join();
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
    }
    for (FileSystemSync handle : handles) {
      handle.close();
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  void listener(FilesystemObjectStore.FlushListener listener) {
    this.listener = listener;
  }

  long iterations() {
    return iterations.get();
  }

  long flushes() {
    return flushes.get();
  }

  /** Whether any lane still runs; for tests. */
  boolean running() {
    return lanes.stream().anyMatch(Thread::isAlive);
  }

  /** Makes a directory's entries durable: {@link #forceDirectory}, or a test's failing disk. */
  @FunctionalInterface
  interface DirectoryForcer {
    void force(Path dir) throws IOException;
  }

  /**
   * One directory's forces, one at a time across the lanes (under its monitor), and how many of
   * them failed: written under the monitor, read without it, so that noting an epoch does not wait
   * for a force in progress.
   */
  private static final class DirectoryFlushes {
    private volatile long failures;
    private IOException lastFailure; // guarded by this
  }

  private DirectoryFlushes flushesOf(Path dir) {
    return dirFlushes.computeIfAbsent(dir, d -> new DirectoryFlushes());
  }

  /** The directory's error epoch: note it before changing the directory. */
  private long epochOf(Path dir) {
    return flushesOf(dir).failures;
  }

  /**
   * Forces {@code dir}, and fails unless this force and every other since {@code since} (the epoch
   * noted before the changes it is to make durable) succeeded: a failure another lane saw may have
   * lost those changes, and this force, on a new descriptor, would not report it.
   */
  private void forceShared(Path dir, long since) throws IOException {
    DirectoryFlushes d = flushesOf(dir);
    synchronized (d) {
      try {
        forcer.force(dir);
      } catch (IOException e) {
        d.failures = d.failures + 1; // only under the monitor
        d.lastFailure = e;
        throw e;
      }
      if (d.failures != since) {
        throw new IOException(
            "a flush of directory "
                + dir
                + " failed after this put changed it, so the change may not be durable: "
                + d.lastFailure.getMessage(),
            d.lastFailure);
      }
    }
  }

  /** One writing thread and what it alone touches. */
  private final class Lane {
    private final FileSystemSync handle; // null: force files and directories one by one
    private final int unnamedFlags; // O_TMPFILE | O_WRONLY | O_CLOEXEC, when unnamed is not null
    // No-syncfs mode: the directories this iteration changed, each with its epoch from before.
    private final Map<Path, Long> changedDirs = new LinkedHashMap<>();
    private final Path tempDir; // made on the first put
    private boolean tempDirMade;
    // Target directories on another file system than tempDir (their temporary files go beside the
    // target), and those checked to be on the same one.
    private final Set<Path> foreignDirs = new HashSet<>();
    private final Set<Path> sameStoreDirs = new HashSet<>();
    // With syncfs: a handle per other file system written to (each lane its own, as for the root),
    // the handle of each foreign directory, and those this iteration wrote or renamed into.
    private final Map<FileStore, FileSystemSync> foreignSyncs = new HashMap<>();
    private final Map<Path, FileSystemSync> foreignDirSyncs = new HashMap<>();
    private final Set<FileSystemSync> touchedForeign = new LinkedHashSet<>();

    Lane(int index, FileSystemSync handle) {
      this.handle = handle;
      this.unnamedFlags = unnamed == null ? 0 : unnamed.unnamedFileFlags().orElseThrow();
      this.tempDir = root.resolve(FilesystemObjectStore.TEMP_PREFIX + "lane-" + index);
    }

    void run() {
      try {
        loop();
      } finally {
        foreignSyncs.values().forEach(FileSystemSync::close);
      }
    }

    private void loop() {
      List<Put> fresh = new ArrayList<>();
      List<Put> ready = new ArrayList<>();
      try {
        boolean stopping = false;
        while (!stopping || !ready.isEmpty()) {
          fresh.clear();
          if (ready.isEmpty()) {
            fresh.add(queue.take());
          }
          queue.drainTo(fresh, MAX_BATCH - fresh.size());
          stopping |= fresh.removeIf(p -> p == STOP);
          iterations.incrementAndGet();
          for (Put put : fresh) {
            write(put);
          }
          for (Put put : ready) {
            rename(put);
          }
          IOException failure = flush(fresh.size(), ready.size());
          for (Put put : ready) {
            if (put.state.get() == Put.CLAIMED) {
              if (failure == null) {
                put.done.complete(null);
              } else {
                put.done.completeExceptionally(failure);
              }
            }
          }
          ready.clear();
          for (Put put : fresh) {
            if (failure != null && put.state.compareAndSet(Put.WRITTEN, Put.CLAIMED)) {
              discard(put);
              put.done.completeExceptionally(failure);
            } else if (!put.done.isDone()) {
              ready.add(put);
            }
          }
        }
        queue.add(STOP); // for the next lane
      } catch (Throwable t) {
        // a bug or the JVM failing: refuse new puts and fail every waiting one rather than hang
        // them; what was renamed may be in place, what was not is removed
        synchronized (submitLock) {
          refusal = "the object store's writer stopped unexpectedly; restart the service";
          queue.drainTo(fresh);
          queue.add(STOP); // the other lanes finish their batches and stop
        }
        IOException failure = new IOException("the object store's writer stopped: " + t, t);
        for (List<Put> puts : List.of(fresh, ready)) {
          for (Put put : puts) {
            if (put != STOP) {
              if (put.state.get() != Put.CLAIMED) {
                discard(put);
              } else {
                closeUnnamed(put); // it has its name
              }
              put.done.completeExceptionally(failure);
            }
          }
        }
        LOG.log(System.Logger.Level.ERROR, "the object store's writer stopped unexpectedly", t);
      }
    }

    /**
     * Step 1: the content to a new temporary file, unnamed or in the lane's directory, unless
     * cancelled.
     */
    private void write(Put put) {
      if (put.state.get() == Put.CANCELLED) {
        put.done.completeExceptionally(new CancellationException());
        return;
      }
      Path dir = put.target.getParent();
      try {
        createDirectories(dir);
        boolean written;
        try {
          written = writeTemporary(dir, put);
        } catch (NoSuchFileException e) {
          // a directory was removed behind the store's back: make them again, once
          discard(put);
          knownDirs.removeIf(dir::startsWith);
          tempDirMade = false;
          createDirectories(dir);
          written = writeTemporary(dir, put);
        }
        if (!written) {
          discard(put);
          put.done.completeExceptionally(new CancellationException());
          return;
        }
      } catch (IOException | RuntimeException e) {
        discard(put);
        put.done.completeExceptionally(e);
        return;
      }
      touchForeign(dir);
      if (!put.state.compareAndSet(Put.QUEUED, Put.WRITTEN)) {
        discard(put);
        put.done.completeExceptionally(new CancellationException());
      }
    }

    /**
     * Writes the put's content to an unnamed file where the writer has unnamed files and the file
     * system gives one, otherwise to a new named one; false if cancelled meanwhile. Either is noted
     * in the put as soon as it exists, for {@link #discard}.
     */
    private boolean writeTemporary(Path dir, Put put) throws IOException {
      Path tempDir = tempDirFor(dir);
      if (unnamed != null) {
        try {
          put.fd = unnamed.open(tempDir, unnamedFlags, 0666);
        } catch (Libc.Failure e) {
          // no descriptor left (EMFILE, ENFILE), or a file system under the root without
          // O_TMPFILE: this put's temporary file gets a name
        }
        if (put.fd >= 0) {
          for (int at = 0; at < put.content.length; at += CHUNK) {
            if (put.state.get() == Put.CANCELLED) {
              return false;
            }
            int length = Math.min(CHUNK, put.content.length - at);
            unnamed.writeFully(put.fd, put.content, at, length, put.target);
          }
          return true;
        }
      }
      put.temp = tempDir.resolve(FilesystemObjectStore.TEMP_PREFIX + randomHex());
      return writeFile(put.temp, put);
    }

    /** Writes the whole content, forcing it in the no-syncfs mode; false if cancelled meanwhile. */
    private boolean writeFile(Path temp, Put put) throws IOException {
      try (FileChannel channel =
          FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
        ByteBuffer buffer = ByteBuffer.wrap(put.content);
        while (buffer.hasRemaining()) {
          if (put.state.get() == Put.CANCELLED) {
            return false;
          }
          buffer.limit(Math.min(buffer.capacity(), buffer.position() + CHUNK));
          while (buffer.hasRemaining()) {
            channel.write(buffer);
          }
          buffer.limit(buffer.capacity());
        }
        if (durable && handle == null) {
          channel.force(true);
        }
      }
      return true;
    }

    /** Closes the put's unnamed file, if open, and deletes its named one, if any. */
    private void discard(Put put) {
      closeUnnamed(put);
      deleteQuietly(put.temp);
      put.temp = null;
    }

    private void closeUnnamed(Put put) {
      if (put.fd >= 0) {
        unnamed.close(put.fd);
        put.fd = -1;
      }
    }

    /** Step 2: renames a put written (and flushed) in the previous iteration, unless cancelled. */
    private void rename(Put put) {
      if (!put.state.compareAndSet(Put.WRITTEN, Put.CLAIMED)) {
        discard(put);
        put.done.completeExceptionally(new CancellationException());
        return;
      }
      boolean forcing = durable && handle == null; // then the temporary file has a name
      Path tempDir = forcing ? put.temp.getParent() : null;
      Path targetDir = put.target.getParent();
      long tempEpoch = forcing ? epochOf(tempDir) : 0;
      long targetEpoch = forcing ? epochOf(targetDir) : 0;
      try {
        try {
          place(put);
        } catch (NoSuchFileException e) {
          // the target's directory was removed behind the store's back since the write: make it
          // again, once (its entry is made durable with this iteration's flush, or forced now
          // without syncfs)
          Path dir = put.target.getParent();
          knownDirs.removeIf(dir::startsWith);
          createDirectories(dir);
          place(put);
        }
        closeUnnamed(put);
        if (forcing) {
          changedDirs.putIfAbsent(tempDir, tempEpoch); // the temporary entry's removal
          changedDirs.putIfAbsent(targetDir, targetEpoch);
        }
        touchForeign(put.target.getParent());
      } catch (IOException | RuntimeException e) {
        discard(put);
        put.state.set(Put.CANCELLED); // not renamed: not completed as a success below
        put.done.completeExceptionally(e);
      }
    }

    /**
     * Gives the put's object its key: links the unnamed file under it, or renames the named one
     * over it. A link cannot replace an existing object (a retried or repeated put), so then the
     * unnamed file is linked under a temporary name first and renamed over it.
     */
    private void place(Put put) throws IOException {
      if (put.fd >= 0 && put.temp == null) {
        try {
          unnamed.link(put.fd, put.target);
          return;
        } catch (FileAlreadyExistsException e) {
          put.temp =
              tempDirFor(put.target.getParent())
                  .resolve(FilesystemObjectStore.TEMP_PREFIX + randomHex());
          unnamed.link(put.fd, put.temp);
        }
      }
      move(put);
    }

    private static void move(Put put) throws IOException {
      Files.move(
          put.temp,
          put.target,
          StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    }

    /** Step 3: one flush for everything written and renamed in this iteration; null if it held. */
    private IOException flush(int written, int renamed) {
      if (!durable || written + renamed == 0) {
        return null;
      }
      long start = System.nanoTime();
      try {
        if (handle != null) {
          handle.sync();
          flushes.incrementAndGet();
          for (FileSystemSync other : touchedForeign) {
            other.sync();
            flushes.incrementAndGet();
          }
          touchedForeign.clear();
        } else {
          for (Map.Entry<Path, Long> dir : changedDirs.entrySet()) {
            forceShared(dir.getKey(), dir.getValue());
          }
          changedDirs.clear();
          flushes.incrementAndGet();
        }
      } catch (IOException e) {
        changedDirs.clear(); // what they hold is forced again by the puts' retries
        touchedForeign.clear();
        return e;
      }
      try {
        listener.flushed(written, renamed, System.nanoTime() - start);
      } catch (RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "an object store flush listener failed", e);
      }
      return null;
    }

    /**
     * Where the temporary file of a put into {@code dir} goes: the lane's directory (made if
     * missing), or {@code dir} itself if it is on another file system, which a rename cannot cross.
     */
    private Path tempDirFor(Path dir) throws IOException {
      if (!tempDirMade) {
        try {
          Files.createDirectory(tempDir);
        } catch (FileAlreadyExistsException e) {
          if (!Files.isDirectory(tempDir)) {
            throw e;
          }
        }
        tempDirMade = true;
      }
      if (sameStoreDirs.contains(dir)) {
        return tempDir;
      }
      if (foreignDirs.contains(dir)) {
        return dir;
      }
      FileStore store = Files.getFileStore(dir);
      if (store.equals(Files.getFileStore(tempDir))) {
        sameStoreDirs.add(dir);
        return tempDir;
      }
      if (durable && handle != null) {
        FileSystemSync sync = foreignSyncs.get(store);
        if (sync == null) {
          sync = FileSystemSync.open(dir).sync();
          if (sync == null) {
            throw new IOException("syncfs is unavailable for " + dir);
          }
          foreignSyncs.put(store, sync);
        }
        foreignDirSyncs.put(dir, sync);
      }
      foreignDirs.add(dir);
      return dir;
    }

    /** Notes that this iteration wrote or renamed into {@code dir}: its file system is synced. */
    private void touchForeign(Path dir) {
      FileSystemSync sync = foreignDirSyncs.get(dir);
      if (sync != null) {
        touchedForeign.add(sync);
      }
    }

    /**
     * Creates the missing directories from the root (itself too, if it was removed behind the
     * store's back) down to {@code dir}. Their entries become durable with this iteration's flush,
     * before any rename into them is completed; without syncfs each is forced into its parent now,
     * the root's into the data directory once.
     */
    private void createDirectories(Path dir) throws IOException {
      if (knownDirs.contains(dir)) {
        return;
      }
      boolean forcing = durable && handle == null;
      Deque<Path> missing = new ArrayDeque<>();
      for (Path p = dir;
          !knownDirs.contains(p) && (forcing || !Files.isDirectory(p));
          p = p.getParent()) {
        missing.push(p);
        if (p.equals(root)) {
          break;
        }
      }
      while (!missing.isEmpty()) {
        Path p = missing.pop();
        Path parent = p.getParent();
        boolean forceParent = forcing && parent != null;
        long since = forceParent ? epochOf(parent) : 0;
        boolean noted = forceParent && madeSince.putIfAbsent(p, since) == null;
        try {
          Files.createDirectory(p);
        } catch (FileAlreadyExistsException e) {
          if (!Files.isDirectory(p)) {
            forgetMaking(noted, p, since);
            throw e; // a file where the key needs a directory: the key clashes with another object
          }
          // made by another lane (since the epoch it noted), or before this store opened: its
          // entry may not be durable yet
        } catch (IOException | RuntimeException e) {
          forgetMaking(noted, p, since);
          throw e;
        }
        if (forceParent) {
          // Forced now, not with the batch: another lane may find it and complete a put into it
          // before this lane's flush. Once per directory while the store runs.
          Long made = madeSince.get(p);
          try {
            forceShared(parent, made != null ? Math.min(made, since) : since);
          } catch (IOException e) {
            madeSince.remove(p); // reported to every put that depended on it so far
            throw e;
          }
          madeSince.remove(p);
        }
        knownDirs.add(p);
      }
      knownDirs.add(dir);
    }

    /**
     * Forgets the epoch this lane noted for making {@code dir} when it did not make it: kept, it
     * would make a later put that makes the directory answer for a parent's force that failed
     * before that put changed anything, and fail although all it depends on is durable.
     */
    private void forgetMaking(boolean noted, Path dir, long since) {
      if (noted) {
        madeSince.remove(dir, since);
      }
    }
  }

  static void forceDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  static void deleteQuietly(Path path) {
    if (path == null) {
      return;
    }
    try {
      Files.deleteIfExists(path);
    } catch (IOException e) {
      // the failure that brought us here is the one to report
    }
  }

  static String randomHex() {
    return HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong());
  }
}
