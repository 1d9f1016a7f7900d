package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
              f -> f.getFileName().toString().startsWith(FilesystemObjectStore.TEMP_PREFIX)));
    }
  }

  @Test
  void aBatchIsWrittenInOneIterationAndRenamedInTheNextWithOneSyncfsEach() throws Exception {
    // given syncfs on this (Linux) machine, and 200 puts queued before the writer starts
    FileSystemSync.Opened syncfs = FileSystemSync.open(root);
    assertTrue(syncfs.sync() != null, "syncfs is available: " + syncfs.unavailable());
    try (PutWriter writer = new PutWriter(root, true, syncfs.sync(), 1)) {
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
  void withoutSyncfsEachFileAndChangedDirectoryIsForcedAndTheBatchStillCompletes()
      throws Exception {
    try (PutWriter writer = new PutWriter(root, true, null, 1)) {
      List<PutWriter.Put> puts = queueInto(writer, 50);

      writer.start();

      assertWritten(puts);
      assertEquals(2, writer.flushes());
    }
  }

  @Test
  void withoutDurabilityNothingIsFlushed() throws Exception {
    try (PutWriter writer = new PutWriter(root, false, null, 1)) {
      List<PutWriter.Put> puts = queueInto(writer, 50);

      writer.start();

      assertWritten(puts);
      assertEquals(0, writer.flushes());
    }
  }

  @Test
  void aPutCancelledWhileQueuedIsNeverWrittenAndIsCompletedAsCancelled() throws Exception {
    try (PutWriter writer = new PutWriter(root, true, null, 1)) {
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
    try (PutWriter writer = new PutWriter(root, true, null, 1)) {
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
    PutWriter writer = new PutWriter(root, true, null, 1);
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
    // given three lanes, started, and puts from 500 virtual threads at once
    FileSystemSync syncfs = FileSystemSync.open(root).sync();
    PutWriter writer = new PutWriter(root, true, syncfs, 3).start();
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
    writer.close();

    // then no lane is left running
    assertFalse(
        Thread.getAllStackTraces().keySet().stream()
            .anyMatch(t -> t.getName().startsWith("sluice-objects-writer") && t.isAlive()),
        "every lane stopped");
  }
}
