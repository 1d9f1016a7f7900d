package io.sluice.server.objects;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;
import java.util.Locale;

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
  private static final int O_RDONLY = 0; // the same on every Linux architecture

  private final Natives natives;
  private final Path dir;
  private final int fd;
  private boolean closed; // guarded by this

  private FileSystemSync(Natives natives, Path dir, int fd) {
    this.natives = natives;
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
    Natives natives;
    try {
      natives = Natives.load();
    } catch (UnsupportedOperationException | IllegalCallerException e) {
      return new Opened(null, e.getMessage());
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(natives.callState);
      int fd = (int) natives.open.invokeExact(state, arena.allocateFrom(dir.toString()), O_RDONLY);
      if (fd < 0) {
        throw natives.failure("open " + dir + " for syncfs", state);
      }
      return new Opened(new FileSystemSync(natives, dir, fd), null);
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError("unexpected from a native call", t);
    }
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
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(natives.callState);
      int result = (int) natives.syncfs.invokeExact(state, fd);
      if (result != 0) {
        throw natives.failure("syncfs of the file system holding " + dir, state);
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError("unexpected from a native call", t);
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      int ignored = (int) natives.close.invokeExact(fd);
    } catch (Throwable t) {
      throw new AssertionError("unexpected from close(2)", t);
    }
  }

  /** The C functions, looked up once per store. */
  record Natives(
      MethodHandle syncfs,
      MethodHandle open,
      MethodHandle close,
      MethodHandle strerror,
      StructLayout callState,
      VarHandle errno) {

    // Restricted: the descriptors below match the C prototypes of syncfs, open, close and strerror
    // on Linux (int arguments, a NUL-terminated path, a returned static string read up to its NUL).
    @SuppressWarnings("restricted")
    static Natives load() {
      if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
        throw new UnsupportedOperationException(
            "syncfs is Linux only; this is " + System.getProperty("os.name"));
      }
      String kernel = System.getProperty("os.version", "");
      if (!reportsErrors(kernel)) {
        throw new UnsupportedOperationException(
            "Linux " + kernel + "'s syncfs does not report write-back errors (5.8 and later do)");
      }
      Linker linker = Linker.nativeLinker();
      SymbolLookup libc = linker.defaultLookup();
      Linker.Option errnoOption = Linker.Option.captureCallState("errno");
      StructLayout callState = Linker.Option.captureStateLayout();
      MemorySegment syncfsAddress =
          libc.find("syncfs")
              .orElseThrow(() -> new UnsupportedOperationException("the C library has no syncfs"));
      return new Natives(
          linker.downcallHandle(
              syncfsAddress,
              FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
              errnoOption),
          linker.downcallHandle(
              find(libc, "open"),
              FunctionDescriptor.of(
                  ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT),
              errnoOption,
              Linker.Option.firstVariadicArg(2)),
          linker.downcallHandle(
              find(libc, "close"),
              FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
          linker.downcallHandle(
              find(libc, "strerror"),
              FunctionDescriptor.of(
                  ValueLayout.ADDRESS.withTargetLayout(
                      MemoryLayout.sequenceLayout(1024, ValueLayout.JAVA_BYTE)),
                  ValueLayout.JAVA_INT)),
          callState,
          callState.varHandle(MemoryLayout.PathElement.groupElement("errno")));
    }

    private static MemorySegment find(SymbolLookup libc, String name) {
      return libc.find(name)
          .orElseThrow(() -> new UnsupportedOperationException("the C library has no " + name));
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

    IOException failure(String what, MemorySegment state) throws Throwable {
      int code = (int) errno.get(state, 0L);
      MemorySegment text = (MemorySegment) strerror.invokeExact(code);
      return new IOException(what + " failed: " + text.getString(0) + " (errno " + code + ")");
    }
  }
}
