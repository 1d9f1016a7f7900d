package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The filesystem store's writer thread: batches, flushes, cancellation, closing. */
@Timeout(60)
class PutWriterTest {
  @TempDir Path root;

  private static PutWriter.Put put(Path target, String content) {
    return new PutWriter.Put(target, content.getBytes(StandardCharsets.UTF_8));
  }

  private List<PutWriter.Put> queueInto(PutWriter writer, int count) {
    List<PutWriter.Put> puts = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      PutWriter.Put p = put(root.resolve("2026/11/" + (i % 3) + "/o" + i + ".json"), "c" + i);
      writer.submit(p);
      puts.add(p);
    }
    return puts;
  }

  private void assertWritten(List<PutWriter.Put> puts) throws Exception {
    for (PutWriter.Put p : puts) {
      p.done.get(30, TimeUnit.SECONDS);
      assertArrayEquals(p.content, Files.readAllBytes(p.target));
    }
    assertNoTemporaryFile();
  }

  private void assertNoTemporaryFile() throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      assertTrue(
          files.noneMatch(
              f ->
                  f.getFileName().toString().startsWith(FilesystemObjectStore.TEMP_PREFIX)
                      && Files.isRegularFile(f)));
    }
  }

  @Test
  void aBatchIsWrittenInOneIterationAndRenamedInTheNextWithOneSyncfsEach() throws Exception {
    // given syncfs on this (Linux) machine, and 200 puts queued before the writer starts
    FileSystemSync.Opened syncfs = FileSystemSync.open(root);
    assumeTrue(syncfs.sync() != null, "syncfs is unavailable: " + syncfs.unavailable());
    try (PutWriter writer = new PutWriter(root, true, List.of(syncfs.sync()), 1)) {
      List<PutWriter.Put> puts = queueInto(writer, 200);

      // when it starts
      writer.start();

      // then the first iteration writes all 200, the second renames them: two flushes in all
      assertWritten(puts);
      assertEquals(2, writer.iterations());
      assertEquals(2, writer.flushes());
    }
  }

  @Test
  void withoutSyncfsTheBatchIsStillWrittenAndRenamedWithAFlushEach() throws Exception {
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      List<PutWriter.Put> puts = queueInto(writer, 50);

      writer.start();

      assertWritten(puts);
      assertEquals(2, writer.flushes());
    }
  }

  @Test
  void withoutSyncfsADirectoryRemovedBehindTheWritersBackIsMadeAndForcedAgain() throws Exception {
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1).start()) {
      PutWriter.Put first = put(root.resolve("a/b/one.json"), "1");
      writer.submit(first);
      assertWritten(List.of(first));
      Files.delete(first.target);
      Files.delete(root.resolve("a/b"));

      PutWriter.Put second = put(root.resolve("a/b/two.json"), "2");
      writer.submit(second);

      assertWritten(List.of(second));
    }
  }

  @Test
  void withoutSyncfsTheRootRemovedBehindTheWritersBackIsMadeAgain() throws Exception {
    // given a writer that forces files and directories one by one, which has put an object, and
    // then its whole root removed by someone else
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1).start()) {
      PutWriter.Put first = put(root.resolve("a/b/one.json"), "1");
      writer.submit(first);
      assertWritten(List.of(first));
      try (Stream<Path> files = Files.walk(root)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }

      // when another object is put
      PutWriter.Put second = put(root.resolve("a/b/two.json"), "2");
      writer.submit(second);

      // then the root and its directories are made again
      assertWritten(List.of(second));
    }
  }

  @Test
  void withoutDurabilityNothingIsFlushed() throws Exception {
    try (PutWriter writer = new PutWriter(root, false, List.of(), 1)) {
      List<PutWriter.Put> puts = queueInto(writer, 50);

      writer.start();

      assertWritten(puts);
      assertEquals(0, writer.flushes());
    }
  }

  @Test
  void aPutCancelledWhileQueuedIsNeverWrittenAndIsCompletedAsCancelled() throws Exception {
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      PutWriter.Put cancelled = put(root.resolve("a/gone.json"), "x");
      PutWriter.Put kept = put(root.resolve("a/kept.json"), "y");
      writer.submit(cancelled);
      writer.submit(kept);
      assertTrue(cancelled.cancel());

      writer.start();

      assertThrows(CancellationException.class, () -> cancelled.done.get());
      assertWritten(List.of(kept));
      assertFalse(Files.exists(cancelled.target));
      assertFalse(cancelled.cancel(), "cancelling twice does nothing");
    }
  }

  @Test
  void aFailingPutFailsAloneAndTheOthersOfItsBatchComplete() throws Exception {
    // given an object where a later key needs a directory
    Files.writeString(root.resolve("taken"), "a file");
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      PutWriter.Put clash = put(root.resolve("taken/x.json"), "x");
      writer.submit(clash);
      List<PutWriter.Put> others = queueInto(writer, 5);

      writer.start();

      var e = assertThrows(ExecutionException.class, () -> clash.done.get());
      assertInstanceOf(IOException.class, e.getCause());
      assertWritten(others);
    }
  }

  @Test
  void closingFinishesWhatWasQueuedThenRefusesNewPuts() throws Exception {
    PutWriter writer = new PutWriter(root, true, List.of(), 1);
    List<PutWriter.Put> puts = queueInto(writer, 20);

    writer.close(); // never started: close starts it to drain the queue
    writer.close();

    assertWritten(puts);
    var e =
        assertThrows(
            IllegalStateException.class, () -> writer.submit(put(root.resolve("late"), "z")));
    assertTrue(e.getMessage().contains("closed"), e.getMessage());
  }

  @Test
  void severalLanesShareTheQueueAndEveryLaneStopsOnClose() throws Exception {
    // given three lanes, each with its own syncfs handle, and puts from 500 virtual threads
    List<FileSystemSync> handles = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      FileSystemSync.Opened opened = FileSystemSync.open(root);
      assumeTrue(opened.sync() != null, "syncfs is unavailable: " + opened.unavailable());
      handles.add(opened.sync());
    }
    PutWriter writer = new PutWriter(root, true, handles, 3).start();
    try {
      List<PutWriter.Put> puts = new ArrayList<>();
      try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
        for (int i = 0; i < 500; i++) {
          PutWriter.Put p = put(root.resolve("d" + (i % 7) + "/o" + i + ".json"), "c" + i);
          puts.add(p);
          threads.submit(() -> writer.submit(p));
        }
      }

      // when they are done and the writer closes
      assertWritten(puts);
      assertTrue(writer.running());
    } finally {
      writer.close();
    }

    // then no lane is left running
    assertFalse(writer.running(), "every lane stopped");
  }

  @Test
  void aPutCancelledOnceWrittenIsNotRenamedAndItsTemporaryFileIsDeleted() throws Exception {
    // given a put written and flushed, the writer held before its rename
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      FlushGate gate = new FlushGate(1);
      writer.listener(gate);
      PutWriter.Put p = put(root.resolve("a/b.json"), "new");
      writer.submit(p);
      writer.start();
      gate.reached.await();
      assertEquals(PutWriter.Put.WRITTEN, p.state.get());

      // when it is cancelled, then released
      assertTrue(p.cancel());
      gate.release.countDown();

      // then it completes as cancelled, with no object and no temporary file
      assertThrows(CancellationException.class, () -> p.done.get());
      assertFalse(Files.exists(p.target));
      assertNoTemporaryFile();
    }
  }

  @Test
  void aPutsTemporaryFileIsWrittenInItsLanesOwnDirectoryNotBesideItsTarget() throws Exception {
    // given a put written and flushed, the writer held before its rename
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      FlushGate gate = new FlushGate(1);
      writer.listener(gate);
      PutWriter.Put p = put(root.resolve("2026/11/27/a.json"), "new");
      writer.submit(p);
      writer.start();
      gate.reached.await();

      // then its temporary file is in the lane's directory under the root, a name no key may take,
      // and the target's directory holds nothing yet
      Path laneDir = root.resolve(FilesystemObjectStore.TEMP_PREFIX + "lane-0");
      try (Stream<Path> inLane = Files.list(laneDir);
          Stream<Path> inTarget = Files.list(p.target.getParent())) {
        List<Path> temporary = inLane.toList();
        assertEquals(1, temporary.size(), temporary.toString());
        assertArrayEquals(p.content, Files.readAllBytes(temporary.getFirst()));
        assertEquals(List.of(), inTarget.toList());
      }
      gate.release.countDown();

      // and once renamed, the object is whole and the lane's directory empty
      assertWritten(List.of(p));
      try (Stream<Path> inLane = Files.list(laneDir)) {
        assertEquals(List.of(), inLane.toList());
      }
    }
  }

  @Test
  void aPutAlreadyRenamedCannotBeCancelledAndCompletesOnceFlushed() throws Exception {
    // given a put renamed, the writer held in the flush that makes the rename durable
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      FlushGate gate = new FlushGate(2);
      writer.listener(gate);
      PutWriter.Put p = put(root.resolve("a/b.json"), "new");
      writer.submit(p);
      writer.start();
      gate.reached.await();

      // when cancelled, it refuses: the object is in place
      assertFalse(p.cancel());
      assertEquals(PutWriter.Put.CLAIMED, p.state.get());
      assertFalse(p.done.isDone(), "not complete before its flush is over");
      gate.release.countDown();

      // then it completes normally
      p.done.get(30, TimeUnit.SECONDS);
      assertWritten(List.of(p));
    }
  }

  @Test
  void aPutIntoADirectoryOnAnotherFileSystemIsSyncedThereBeforeItCompletes() throws Exception {
    // given syncfs, and a directory under the root that is on another file system (tmpfs, linked
    // in), which the root's syncfs does not reach
    FileSystemSync.Opened syncfs = FileSystemSync.open(root);
    assumeTrue(syncfs.sync() != null, "syncfs is unavailable: " + syncfs.unavailable());
    Path shm = Path.of("/dev/shm");
    assumeTrue(
        Files.isDirectory(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(root)),
        "needs /dev/shm on a file system of its own");
    Path elsewhere = Files.createTempDirectory(shm, "sluice-put-writer-test");
    try (PutWriter writer = new PutWriter(root, true, List.of(syncfs.sync()), 1)) {
      Files.createSymbolicLink(root.resolve("mounted"), elsewhere);
      PutWriter.Put p = put(root.resolve("mounted/2026/11/28/a.json"), "a");
      writer.submit(p);

      // when the writer writes it (one iteration) and renames it (the next)
      writer.start();

      // then each iteration synced the root's file system and the other one: four syncfs calls
      assertWritten(List.of(p));
      assertEquals(2, writer.iterations());
      assertEquals(4, writer.flushes());
    } finally {
      try (Stream<Path> files = Files.walk(elsewhere)) {
        for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }

  @Test
  void aFailingFlushListenerIsLoggedAndTheWriterGoesOn() throws Exception {
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1)) {
      writer.listener(
          (written, renamed, nanos) -> {
            throw new IllegalStateException("listener bug");
          });
      List<PutWriter.Put> puts = queueInto(writer, 10);

      writer.start();

      assertWritten(puts);
      assertTrue(writer.running());
    }
  }
}
