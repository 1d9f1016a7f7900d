package io.sluice.server.objects;

import java.io.IOException;
import java.nio.file.Path;

/*
 * Linux's syncfs(2) through the foreign function API: one call writes back every dirty page and
 * inode of the file system that holds a directory and flushes the device, which is what a batch of
 * puts needs (their files' contents before their renames, their renames before they return) at
 * the cost of one flush instead of one per file and directory. The file descriptor is opened once
 * and kept for the life of the store.
 *
 * Where the call is unavailable or not to be trusted (not Linux; a kernel before 5.8, whose syncfs
 * does not report write-back errors; no syncfs in the C library; native access denied with
 * --illegal-native-access=deny) open() returns no handle but the reason, and the store forces files
 * and directories one by one instead. Each handle reports a write-back error once (the kernel
 * tracks errors per open file), so every thread that needs to learn of errors needs its own.
 */
final class FileSystemSync implements AutoCloseable {
  private final Libc libc;
  private final Path dir;
  private final int fd;
  private boolean closed; // guarded by this

  private FileSystemSync(Libc libc, Path dir, int fd) {
    this.libc = libc;
    this.dir = dir;
    this.fd = fd;
  }

  /** The outcome of {@link #open}: a sync, or why there is none. */
  record Opened(FileSystemSync sync, String unavailable) {}

  /**
   * Opens the file system that holds {@code dir} for syncing.
   *
   * @return the sync, or the reason it is unavailable
   * @throws IOException if syncfs exists but {@code dir} cannot be opened
   */
  static Opened open(Path dir) throws IOException {
    Libc libc;
    try {
      libc = Libc.load();
    } catch (UnsupportedOperationException | IllegalCallerException e) {
      return new Opened(null, e.getMessage());
    }
    return open(libc, dir);
  }

  /** As {@link #open(Path)}, with the C library's functions already loaded. */
  static Opened open(Libc libc, Path dir) throws IOException {
    String kernel = System.getProperty("os.version", "");
    if (!reportsErrors(kernel)) {
      return new Opened(
          null,
          "Linux " + kernel + "'s syncfs does not report write-back errors (5.8 and later do)");
    }
    if (!libc.hasSyncfs()) {
      return new Opened(null, "the C library has no syncfs");
    }
    return new Opened(new FileSystemSync(libc, dir, libc.open(dir, Libc.O_RDONLY, 0)), null);
  }

  /**
   * Makes everything written to the file system so far durable: file contents, new files, renames,
   * directories.
   *
   * @throws IOException with the system's reason if the file system reported a failure (EIO,
   *     ENOSPC, EDQUOT); the durability of what was written before is then unknown
   */
  synchronized void sync() throws IOException {
    if (closed) {
      throw new IllegalStateException("syncfs handle for " + dir + " closed");
    }
    libc.syncfs(fd, dir);
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    libc.close(fd);
  }

  /** Whether a kernel version like {@code 6.18.44-fc} is 5.8 or later. */
  static boolean reportsErrors(String kernel) {
    String[] parts = kernel.split("[.-]", 3);
    try {
      int major = Integer.parseInt(parts[0]);
      int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
      return major > 5 || (major == 5 && minor >= 8);
    } catch (NumberFormatException e) {
      return false;
    }
  }
}
