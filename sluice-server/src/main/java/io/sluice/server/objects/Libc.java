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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/*
 * The C library calls the filesystem store makes on Linux through the foreign function API, each
 * wrapped so that a failure is an IOException carrying the system's reason and errno: open (with a
 * mode, for O_TMPFILE), write, linkat, close, syncfs. Java has no way to open an unnamed file
 * (O_TMPFILE) or to sync a file system; that is what these are for. Loaded once per store; every
 * call allocates its few bytes of native memory in a confined arena of its own, so any thread may
 * use one instance.
 */
final class Libc {
  static final int O_RDONLY = 0; // the same on every Linux architecture
  static final int O_WRONLY = 1;
  static final int O_CLOEXEC = 02000000; // the same on x86-64, arm, riscv, s390, powerpc
  static final int ENOENT = 2;
  static final int EINTR = 4;
  static final int EEXIST = 17;
  static final int ENFILE = 23;
  static final int EMFILE = 24;
  private static final int AT_FDCWD = -100;
  private static final int AT_SYMLINK_FOLLOW = 0x400;

  private final MethodHandle open;
  private final MethodHandle write;
  private final MethodHandle linkat;
  private final MethodHandle close;
  private final MethodHandle syncfs; // null where the C library lacks it
  private final MethodHandle strerror;
  private final StructLayout callState;
  private final VarHandle errno;
  private final int oTmpfile; // 0 where its value on this architecture is not known here

  // Restricted: the descriptors below match the C prototypes of these functions on Linux (int
  // arguments, NUL-terminated paths, a returned static string read up to its NUL).
  @SuppressWarnings("restricted")
  private Libc() {
    Linker linker = Linker.nativeLinker();
    SymbolLookup libc = linker.defaultLookup();
    Linker.Option errnoOption = Linker.Option.captureCallState("errno");
    callState = Linker.Option.captureStateLayout();
    errno = callState.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    open =
        linker.downcallHandle(
            find(libc, "open"),
            FunctionDescriptor.of(
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT),
            errnoOption,
            Linker.Option.firstVariadicArg(2));
    write =
        linker.downcallHandle(
            find(libc, "write"),
            FunctionDescriptor.of(
                ValueLayout.JAVA_LONG,
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_LONG),
            errnoOption);
    linkat =
        linker.downcallHandle(
            find(libc, "linkat"),
            FunctionDescriptor.of(
                ValueLayout.JAVA_INT,
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT,
                ValueLayout.ADDRESS,
                ValueLayout.JAVA_INT),
            errnoOption);
    close =
        linker.downcallHandle(
            find(libc, "close"), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
    syncfs =
        libc.find("syncfs")
            .map(
                address ->
                    linker.downcallHandle(
                        address,
                        FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT),
                        errnoOption))
            .orElse(null);
    strerror =
        linker.downcallHandle(
            find(libc, "strerror"),
            FunctionDescriptor.of(
                ValueLayout.ADDRESS.withTargetLayout(
                    MemoryLayout.sequenceLayout(1024, ValueLayout.JAVA_BYTE)),
                ValueLayout.JAVA_INT));
    oTmpfile = oTmpfile(System.getProperty("os.arch", ""));
  }

  /**
   * Looks the functions up.
   *
   * @throws UnsupportedOperationException if this is not Linux or the C library lacks one
   * @throws IllegalCallerException if native access is denied
   */
  static Libc load() {
    if (!System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux")) {
      throw new UnsupportedOperationException(
          "the store's native calls are Linux only; this is " + System.getProperty("os.name"));
    }
    return new Libc();
  }

  private static MemorySegment find(SymbolLookup libc, String name) {
    return libc.find(name)
        .orElseThrow(() -> new UnsupportedOperationException("the C library has no " + name));
  }

  /** O_TMPFILE (which includes O_DIRECTORY) on {@code arch}, or 0 if not known here. */
  static int oTmpfile(String arch) {
    return switch (arch) {
      case "amd64", "x86_64", "riscv64", "s390x" -> 020200000;
      case "aarch64", "arm", "ppc64", "ppc64le" -> 020040000;
      default -> 0;
    };
  }

  /** The flags that open an unnamed file for writing, if this architecture's are known. */
  Optional<Integer> unnamedFileFlags() {
    return oTmpfile == 0 ? Optional.empty() : Optional.of(oTmpfile | O_WRONLY | O_CLOEXEC);
  }

  boolean hasSyncfs() {
    return syncfs != null;
  }

  /** open(2) with a mode; returns the descriptor. */
  int open(Path path, int flags, int mode) throws IOException {
    return (int)
        call(
            "open",
            path,
            (arena, state) ->
                (int) open.invokeExact(state, arena.allocateFrom(path.toString()), flags, mode));
  }

  /** A C function's call, given a confined arena for its arguments and its errno. */
  @FunctionalInterface
  private interface NativeCall {
    long invoke(Arena arena, MemorySegment state) throws Throwable;
  }

  /**
   * Makes {@code call} in an arena of its own; a negative result is a failure of {@code what} on
   * {@code path} (see {@link #failure}). Returns the result.
   */
  private long call(String what, Path path, NativeCall call) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(callState);
      long result = call.invoke(arena, state);
      if (result < 0) {
        throw failure(what, path, state);
      }
      return result;
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError("unexpected from " + what + "(2)", t);
    }
  }

  /**
   * Writes {@code length} bytes of {@code content} from {@code offset} to {@code fd}, through as
   * many write(2) calls as it takes.
   *
   * @param path what {@code fd} is, for the message of a failure
   */
  void writeFully(int fd, byte[] content, int offset, int length, Path path) throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment state = arena.allocate(callState);
      MemorySegment buffer = arena.allocate(Math.max(1, length));
      MemorySegment.copy(content, offset, buffer, ValueLayout.JAVA_BYTE, 0, length);
      long done = 0;
      while (done < length) {
        long n = (long) write.invokeExact(state, fd, buffer.asSlice(done), (long) length - done);
        if (n < 0) {
          if ((int) errno.get(state, 0L) == EINTR) {
            continue;
          }
          throw failure("write", path, state);
        }
        done += n;
      }
    } catch (IOException | RuntimeException | Error e) {
      throw e;
    } catch (Throwable t) {
      throw new AssertionError("unexpected from write(2)", t);
    }
  }

  /**
   * Gives the file open as {@code fd} (an unnamed one, or any) the name {@code target}: linkat(2)
   * through {@code /proc/self/fd}. Fails with {@link FileAlreadyExistsException} if the name is
   * taken, {@link NoSuchFileException} if its directory is missing.
   */
  void link(int fd, Path target) throws IOException {
    call(
        "link",
        target,
        (arena, state) ->
            (int)
                linkat.invokeExact(
                    state,
                    AT_FDCWD,
                    arena.allocateFrom("/proc/self/fd/" + fd),
                    AT_FDCWD,
                    arena.allocateFrom(target.toString()),
                    AT_SYMLINK_FOLLOW));
  }

  /** close(2); its result is not looked at (a flush that follows reports write-back errors). */
  void close(int fd) {
    try {
      int ignored = (int) close.invokeExact(fd);
    } catch (Throwable t) {
      throw new AssertionError("unexpected from close(2)", t);
    }
  }

  /** syncfs(2) of the file system holding the open {@code fd}, which is {@code dir}. */
  void syncfs(int fd, Path dir) throws IOException {
    if (syncfs == null) {
      throw new UnsupportedOperationException("the C library has no syncfs");
    }
    call(
        "syncfs of the file system holding",
        dir,
        (arena, state) -> (int) syncfs.invokeExact(state, fd));
  }

  /**
   * The failure of {@code what} on {@code path} as Java reports file failures: {@link
   * NoSuchFileException} for ENOENT, {@link FileAlreadyExistsException} for EEXIST, otherwise a
   * {@link Failure} holding the errno; each with the system's reason and the errno in its message.
   */
  private IOException failure(String what, Path path, MemorySegment state) throws Throwable {
    int code = (int) errno.get(state, 0L);
    MemorySegment text = (MemorySegment) strerror.invokeExact(code);
    String reason = what + " failed: " + text.getString(0) + " (errno " + code + ")";
    return switch (code) {
      case ENOENT -> new NoSuchFileException(path.toString(), null, reason);
      case EEXIST -> new FileAlreadyExistsException(path.toString(), null, reason);
      default -> new Failure(path, reason, code);
    };
  }

  /** A failed call whose errno is neither ENOENT nor EEXIST (those have their own types). */
  static final class Failure extends FileSystemException {
    private static final long serialVersionUID = 1L;

    /** The errno the call failed with. */
    final int errno;

    Failure(Path path, String reason, int errno) {
      super(path.toString(), null, reason);
      this.errno = errno;
    }
  }
}
