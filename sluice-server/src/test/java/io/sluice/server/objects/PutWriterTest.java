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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
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

  /**
   * Forces directories for real, but the first force of {@code failing} is held until released and
   * then fails, as a disk's write-back error reported once: later forces of it, on descriptors
   * opened afterwards, succeed, as Linux's do. Counts down {@code otherLaneFlushing} when another
   * lane forces a directory while the failing force is held (a lane forces its own temporary
   * directory first, after its renames). Closing it releases the held force, so that a test that
   * fails early does not leave the writer held for ever.
   */
  private static final class DiskFailingOnce implements PutWriter.DirectoryForcer, AutoCloseable {
    volatile Thread heldLane;
    final CountDownLatch held = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    final CountDownLatch otherLaneFlushing = new CountDownLatch(1);
    private final Path failing;
    private final AtomicInteger forcesOfFailing = new AtomicInteger();

    DiskFailingOnce(Path failing) {
      this.failing = failing;
    }

    @Override
    public void force(Path dir) throws IOException {
      if (dir.equals(failing) && forcesOfFailing.incrementAndGet() == 1) {
        heldLane = Thread.currentThread();
        held.countDown();
        try {
          release.await();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
        PutWriter.forceDirectory(dir);
        throw new IOException("fsync " + dir + ": Input/output error (injected)");
      }
      if (!dir.equals(failing) && held.getCount() == 0) {
        otherLaneFlushing.countDown();
      }
      PutWriter.forceDirectory(dir);
    }

    @Override
    public void close() {
      release.countDown();
    }
  }

  @Test
  void withoutSyncfsADirectoryFlushFailingInOneLaneFailsThePutsAnotherLaneRenamedIntoIt()
      throws Exception {
    // given two lanes that force directories one by one, the first force of the day's directory
    // held (after one lane renamed a put into it) and then failing once
    Path day = root.resolve("2026/11/28");
    DiskFailingOnce disk = new DiskFailingOnce(day);
    try (PutWriter writer = new PutWriter(root, true, List.of(), 2, disk).start();
        disk) {
      PutWriter.Put first = put(day.resolve("first.json"), "1");
      writer.submit(first);
      assertTrue(disk.held.await(30, TimeUnit.SECONDS), "the force was never held");

      // when the other lane renames a put into the same directory and reaches its flush, and
      // then the held force fails
      PutWriter.Put second = put(day.resolve("second.json"), "2");
      writer.submit(second);
      assertTrue(
          disk.otherLaneFlushing.await(30, TimeUnit.SECONDS), "the other lane never flushed");
      disk.release.countDown();

      // then both puts fail: the failed write-back may have lost either rename, and the other
      // lane's later force succeeding says nothing about it
      var firstFailure = assertThrows(ExecutionException.class, () -> first.done.get());
      assertInstanceOf(IOException.class, firstFailure.getCause());
      var secondFailure = assertThrows(ExecutionException.class, () -> second.done.get());
      assertInstanceOf(IOException.class, secondFailure.getCause());
      assertTrue(
          secondFailure.getCause().getMessage().contains("injected"),
          secondFailure.getCause().getMessage());

      // and the same put retried renames again and completes once its directory is forced
      PutWriter.Put retried = put(day.resolve("second.json"), "2");
      writer.submit(retried);
      assertWritten(List.of(retried));
    }
  }

  @Test
  void withoutSyncfsAParentFlushFailingInOneLaneFailsThePutAnotherLaneMadeInTheNewDirectory()
      throws Exception {
    // given two lanes that force directories one by one, and the force of a new day's entry into
    // its month's directory held (once the day's directory was made) and then failing once
    Path month = root.resolve("2026/11");
    Path day = month.resolve("28");
    DiskFailingOnce disk = new DiskFailingOnce(month);
    try (PutWriter writer = new PutWriter(root, true, List.of(), 2, disk).start();
        disk) {
      PutWriter.Put first = put(day.resolve("first.json"), "1");
      writer.submit(first);
      assertTrue(disk.held.await(30, TimeUnit.SECONDS), "the force was never held");

      // when the other lane, with a put into that day, finds its directory made and forces the
      // month (or, unfixed, goes on to its flush), and then the held force fails
      PutWriter.Put second = put(day.resolve("second.json"), "2");
      writer.submit(second);
      awaitOtherLaneBlockedOrFlushing(disk);
      disk.release.countDown();

      // then both puts fail: the failed write-back may have lost the day's entry in the month
      var firstFailure = assertThrows(ExecutionException.class, () -> first.done.get());
      assertInstanceOf(IOException.class, firstFailure.getCause());
      var secondFailure = assertThrows(ExecutionException.class, () -> second.done.get());
      assertTrue(
          secondFailure.getCause().getMessage().contains("injected"),
          secondFailure.getCause().getMessage());
      assertFalse(Files.exists(second.target), "a failed put leaves no object");

      // and a put retried afterwards completes once the month is forced again
      PutWriter.Put retried = put(day.resolve("second.json"), "2");
      writer.submit(retried);
      assertWritten(List.of(retried));
    }
  }

  @Test
  void withoutSyncfsAPutWhoseDirectoryCouldNotBeMadeDoesNotFailALaterPutIntoItAfterAnOtherFailure()
      throws Exception {
    // given a lane that forces directories one by one, a file where a put needs its day's
    // directory, and a disk whose next force of the month's directory fails when asked to
    Path month = root.resolve("2026/11");
    Path day = month.resolve("28");
    Files.createDirectories(month);
    Files.writeString(day, "in the way");
    java.util.concurrent.atomic.AtomicBoolean failMonth =
        new java.util.concurrent.atomic.AtomicBoolean();
    PutWriter.DirectoryForcer disk =
        dir -> {
          if (dir.equals(month) && failMonth.compareAndSet(true, false)) {
            throw new IOException("fsync " + dir + ": Input/output error (injected)");
          }
          PutWriter.forceDirectory(dir);
        };
    try (PutWriter writer = new PutWriter(root, true, List.of(), 1, disk).start()) {
      PutWriter.Put blocked = put(day.resolve("a.json"), "1");
      writer.submit(blocked);
      var blockedFailure = assertThrows(ExecutionException.class, () -> blocked.done.get());
      assertInstanceOf(java.nio.file.FileAlreadyExistsException.class, blockedFailure.getCause());
      // and, once the file is gone, a force of the month failing for a put into another day
      Files.delete(day);
      failMonth.set(true);
      PutWriter.Put other = put(month.resolve("27/b.json"), "2");
      writer.submit(other);
      assertThrows(ExecutionException.class, () -> other.done.get());

      // when the first put is made again, after that failure
      PutWriter.Put again = put(day.resolve("a.json"), "1");
      writer.submit(again);

      // then it completes: it made the day's directory after the failed force, and the next
      // force of the month succeeded, so nothing it depends on was in a failed force
      assertWritten(List.of(again));
    }
  }

  /**
   * Waits (asking again, without sleeping) until the writer lane other than the held one waits for
   * the held directory's force to end, or reaches the flush of its batch.
   */
  private static void awaitOtherLaneBlockedOrFlushing(DiskFailingOnce disk) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (disk.otherLaneFlushing.getCount() > 0) {
      assertTrue(System.nanoTime() < deadline, "the other lane never reached the force");
      boolean blocked =
          Thread.getAllStackTraces().keySet().stream()
              .anyMatch(
                  t ->
                      t != disk.heldLane
                          && t.getName().startsWith("sluice-objects-writer-")
                          && t.getState() == Thread.State.BLOCKED);
      if (blocked) {
        return;
      }
      Thread.yield();
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
