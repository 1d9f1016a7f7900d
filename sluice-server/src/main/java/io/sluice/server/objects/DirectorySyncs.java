package io.sluice.server.objects;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/*
 * Group commit for directory fsyncs: many puts rename into the same directory at once (a day's
 * directory holds every object of the day), and each must not return before its rename is durable.
 * An fsync of the directory makes durable every entry change made before it started, so one fsync
 * can serve every put that renamed before it began.
 *
 * Per directory: `requested` counts renames that need a sync (a put takes a ticket after its
 * rename), `covered` is the highest ticket a finished fsync has made durable. A put whose ticket is
 * not covered either starts an fsync (if none runs), covering every ticket taken before it starts,
 * or waits for the running one to finish and looks again: the running fsync may have started
 * before its rename, so it cannot count on it. A failed fsync covers nothing and its error goes to
 * the put that ran it; the waiters try themselves.
 *
 * Waiting is uninterruptible: an fsync is short, and a put that returned early on an interrupt
 * would leave its rename's durability unknown. Directories are remembered for the life of the
 * store (one small object per day's directory).
 */
final class DirectorySyncs {
  private final ConcurrentHashMap<Path, Dir> dirs = new ConcurrentHashMap<>();

  /** Returns once an fsync of {@code dir} that started after the caller's rename has finished. */
  void syncAfterRename(Path dir) throws IOException {
    dirs.computeIfAbsent(dir, Dir::new).sync();
  }

  /** How many fsyncs of {@code dir} finished: at most one per call, fewer when calls overlap. */
  long forces(Path dir) {
    Dir d = dirs.get(dir);
    if (d == null) {
      return 0;
    }
    d.lock.lock();
    try {
      return d.forces;
    } finally {
      d.lock.unlock();
    }
  }

  private static final class Dir {
    private final Path path;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition done = lock.newCondition();
    private long requested; // guarded by lock
    private long covered; // guarded by lock
    private boolean syncing; // guarded by lock
    private long forces; // guarded by lock; for tests

    Dir(Path path) {
      this.path = path;
    }

    void sync() throws IOException {
      lock.lock();
      try {
        long ticket = ++requested;
        while (covered < ticket) {
          if (syncing) {
            done.awaitUninterruptibly();
            continue;
          }
          syncing = true;
          long upTo = requested;
          boolean ok = false;
          lock.unlock();
          try {
            force(path);
            ok = true;
          } finally {
            lock.lock();
            syncing = false;
            if (ok) {
              covered = Math.max(covered, upTo);
              forces++;
            }
            done.signalAll();
          }
        }
      } finally {
        lock.unlock();
      }
    }

    private static void force(Path dir) throws IOException {
      try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
        channel.force(true);
      }
    }
  }
}
