package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The filesystem store's writer with unnamed temporary files (O_TMPFILE, then linkat under the
 * key), on this Linux machine: batches, replacing an object, cancellation, directories removed
 * behind its back, and no descriptor left open.
 */
@Timeout(60)
class UnnamedFilesTest {
  @TempDir Path root;
  private Libc libc;
  private final List<FileSystemSync> handles = new ArrayList<>();

  @BeforeEach
  void loadTheCLibrary() throws IOException {
    try {
      libc = Libc.load();
    } catch (UnsupportedOperationException | IllegalCallerException e) {
      assumeTrue(false, "no native calls here: " + e.getMessage());
    }
    assumeTrue(libc.unnamedFileFlags().isPresent(), "O_TMPFILE unknown on this architecture");
  }

  @AfterEach
  void closeHandles() {
    handles.forEach(FileSystemSync::close);
  }

  private PutWriter writer(int lanes) throws IOException {
    for (int i = 0; i < lanes; i++) {
      FileSystemSync.Opened opened = FileSystemSync.open(libc, root);
      assumeTrue(opened.sync() != null, "syncfs is unavailable: " + opened.unavailable());
      handles.add(opened.sync());
    }
    return new PutWriter(root, true, handles, lanes, PutWriter::forceDirectory, libc);
  }

  private static PutWriter.Put put(Path target, String content) {
    return new PutWriter.Put(target, content.getBytes(StandardCharsets.UTF_8));
  }

  /** A put and the gate that holds its writer after the flush of its write, before its link. */
  private record Held(PutWriter.Put put, FlushGate gate) {}

  private Held heldBeforeItsLink(PutWriter writer, String key, String content)
      throws InterruptedException {
    FlushGate gate = new FlushGate(1);
    writer.listener(gate);
    PutWriter.Put p = put(root.resolve(key), content);
    writer.submit(p);
    writer.start();
    assertTrue(gate.reached.await(30, TimeUnit.SECONDS), "the write's flush was reached");
    return new Held(p, gate);
  }

  private void assertWritten(List<PutWriter.Put> puts) throws Exception {
    for (PutWriter.Put p : puts) {
      p.done.get(30, TimeUnit.SECONDS);
      assertArrayEquals(p.content, Files.readAllBytes(p.target));
    }
  }

  /** Every file under the root whose name is a temporary one: none may be left. */
  private List<Path> temporaryFiles() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(
              f ->
                  f.getFileName().toString().startsWith(FilesystemObjectStore.TEMP_PREFIX)
                      && Files.isRegularFile(f))
          .toList();
    }
  }

  /** This process's open descriptors on files under the root (an unnamed one shows its dir). */
  private List<String> descriptorsUnderRoot() throws IOException {
    List<String> open = new ArrayList<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith(root.toString())) {
            open.add(fd.getFileName() + " -> " + target);
          }
        } catch (NoSuchFileException | java.nio.file.NotLinkException gone) {
          // closed while listed (the listing's own descriptor, another test's)
        }
      }
    }
    return open;
  }

  /** As {@link #descriptorsUnderRoot}, less the syncfs handles, open on the root itself. */
  private List<String> openFilesBelowRoot() throws IOException {
    return descriptorsUnderRoot().stream().filter(d -> !d.endsWith(" -> " + root)).toList();
  }

  @Test
  void aBatchIsWrittenUnnamedInOneIterationAndLinkedInTheNextLeavingNoFileOrDescriptor()
      throws Exception {
    // given 200 puts queued before the writer starts
    try (PutWriter writer = writer(1)) {
      FlushGate gate = new FlushGate(1);
      writer.listener(gate);
      List<PutWriter.Put> puts = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        PutWriter.Put p = put(root.resolve("2026/11/" + (i % 3) + "/o" + i + ".json"), "c" + i);
        writer.submit(p);
        puts.add(p);
      }

      // when it has written them and flushed (held before the links)
      writer.start();
      assertTrue(gate.reached.await(30, TimeUnit.SECONDS));

      // then no object has a name yet, no temporary file has one either, and each is open
      assertTrue(puts.stream().noneMatch(p -> Files.exists(p.target)), "none linked yet");
      assertEquals(List.of(), temporaryFiles());
      assertEquals(200, openFilesBelowRoot().size());
      gate.release.countDown();

      // and once linked, in the next iteration, every object is whole: two flushes in all, and
      // every descriptor is closed
      assertWritten(puts);
      assertEquals(2, writer.iterations());
      assertEquals(2, writer.flushes());
      assertEquals(List.of(), openFilesBelowRoot());
    }
    assertEquals(List.of(), temporaryFiles());
  }

  @Test
  void aSecondPutOfAKeyReplacesTheObjectWholeThoughALinkCannotReplaceAName() throws Exception {
    // given an object in place
    try (PutWriter writer = writer(1).start()) {
      PutWriter.Put first = put(root.resolve("2026/11/29/a.json"), "first");
      writer.submit(first);
      assertWritten(List.of(first));

      // when it is put again with other content
      PutWriter.Put second = put(first.target, "second, longer than the first");
      writer.submit(second);

      // then the new content replaced it, with no temporary file left
      assertWritten(List.of(second));
      assertEquals(List.of(), temporaryFiles());
    }
    assertEquals(List.of(), openFilesBelowRoot());
  }

  @Test
  void aPutCancelledOnceWrittenGetsNoNameAndItsDescriptorIsClosed() throws Exception {
    // given a put written to an unnamed file and flushed, the writer held before its link
    try (PutWriter writer = writer(1)) {
      Held held = heldBeforeItsLink(writer, "a/b.json", "new");
      PutWriter.Put p = held.put();
      FlushGate gate = held.gate();
      assertEquals(PutWriter.Put.WRITTEN, p.state.get());

      // when it is cancelled, then released
      assertTrue(p.cancel());
      gate.release.countDown();

      // then it completes as cancelled: no object, no temporary file, no descriptor open
      assertThrows(CancellationException.class, () -> p.done.get(30, TimeUnit.SECONDS));
      assertFalse(Files.exists(p.target));
      assertEquals(List.of(), temporaryFiles());
      assertEquals(List.of(), openFilesBelowRoot());
    }
  }

  @Test
  void aTargetDirectoryRemovedBetweenTheWriteAndTheLinkIsMadeAgain() throws Exception {
    // given an object written, the writer held before its link
    try (PutWriter writer = writer(1)) {
      Held held = heldBeforeItsLink(writer, "2026/11/29/a.json", "content");
      PutWriter.Put p = held.put();
      FlushGate gate = held.gate();

      // when its directories are removed behind the store's back
      try (Stream<Path> all = Files.walk(root.resolve("2026"))) {
        for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
      gate.release.countDown();

      // then the link makes them again and the object is in place
      assertWritten(List.of(p));
      assertEquals(List.of(), openFilesBelowRoot());
    }
  }

  @Test
  void moreQueuedPutsThanOneBatchHoldsAreWrittenInSeveralWithBoundedDescriptors() throws Exception {
    // given 2,500 puts queued before the writer starts: more than one iteration takes (1,024)
    try (PutWriter writer = writer(1)) {
      List<PutWriter.Put> puts = new ArrayList<>();
      for (int i = 0; i < 2_500; i++) {
        PutWriter.Put p = put(root.resolve("d/o" + i + ".json"), "c" + i);
        writer.submit(p);
        puts.add(p);
      }

      // when it runs them
      writer.start();

      // then every object is whole, in more iterations than the two one batch would take
      assertWritten(puts);
      assertTrue(writer.iterations() >= 4, "iterations: " + writer.iterations());
      assertEquals(List.of(), openFilesBelowRoot());
    }
  }

  @Test
  void twoLanesLinkEveryObjectOfManyThreads() throws Exception {
    // given two lanes and 1,000 puts from virtual threads into a few directories
    PutWriter writer = writer(2).start();
    List<PutWriter.Put> puts = new ArrayList<>();
    try (var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 1_000; i++) {
        PutWriter.Put p = put(root.resolve("d" + (i % 5) + "/o" + i + ".json"), "c" + i);
        puts.add(p);
        threads.submit(() -> writer.submit(p));
      }
    }
    try {
      // then every one is in place
      assertWritten(puts);
    } finally {
      writer.close();
    }
    assertEquals(List.of(), temporaryFiles());
    assertEquals(List.of(), openFilesBelowRoot());
  }

  @Test
  void theCLibrarysFailuresCarryJavasTypesTheReasonAndTheErrno() throws Exception {
    int fd = libc.open(root, libc.unnamedFileFlags().orElseThrow(), 0600);
    try {
      Path taken = Files.writeString(root.resolve("taken"), "x");
      var exists = assertThrows(FileAlreadyExistsException.class, () -> libc.link(fd, taken));
      assertTrue(exists.getMessage().contains("(errno 17)"), exists.getMessage());
      Path missing = root.resolve("missing/dir/name");
      var absent = assertThrows(NoSuchFileException.class, () -> libc.link(fd, missing));
      assertTrue(absent.getMessage().contains(missing.toString()), absent.getMessage());
      assertTrue(absent.getMessage().contains("(errno 2)"), absent.getMessage());
    } finally {
      libc.close(fd);
    }
    var notADirectory =
        assertThrows(
            Libc.Failure.class,
            () -> libc.open(root.resolve("taken"), libc.unnamedFileFlags().orElseThrow(), 0600));
    assertEquals(20, notADirectory.errno, notADirectory.getMessage()); // ENOTDIR
  }

  @Test
  void oTmpfileIsKnownForTheCommonArchitecturesOnly() {
    assertEquals(020200000, Libc.oTmpfile("amd64"));
    assertEquals(020040000, Libc.oTmpfile("aarch64"));
    assertEquals(0, Libc.oTmpfile("sparcv9")); // O_DIRECTORY differs there: not guessed
  }

  @Test
  void theStoreSaysItWritesUnnamedFilesAndStillPutsAndReplacesObjects() throws Exception {
    try (FilesystemObjectStore store = FilesystemObjectStore.open(root)) {
      assertTrue(store.describe().contains("unnamed temporary files"), store.describe());
      store.put(
          "2026/11/29/k.json", "{\"a\":1}".getBytes(StandardCharsets.UTF_8), "application/json");
      store.put(
          "2026/11/29/k.json", "{\"a\":2}".getBytes(StandardCharsets.UTF_8), "application/json");
      assertArrayEquals(
          "{\"a\":2}".getBytes(StandardCharsets.UTF_8),
          store.get("2026/11/29/k.json").orElseThrow());
    }
    assertEquals(List.of(), temporaryFiles());
  }
}
