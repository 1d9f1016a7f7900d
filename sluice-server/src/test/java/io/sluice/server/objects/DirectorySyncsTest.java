package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class DirectorySyncsTest {
  @TempDir Path dir;
  private final DirectorySyncs syncs = new DirectorySyncs();

  @Test
  void callsOneAfterAnotherEachGetAnFsyncOfTheirOwn() throws Exception {
    for (int i = 0; i < 5; i++) {
      syncs.syncAfterRename(dir);
    }

    assertEquals(5, syncs.forces(dir));
  }

  @Test
  void overlappingCallsAllReturnAndShareFsyncs() throws Exception {
    int threads = 64;
    int perThread = 50;
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger returned = new AtomicInteger();
    List<Thread> all = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      all.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      start.await();
                      for (int i = 0; i < perThread; i++) {
                        syncs.syncAfterRename(dir);
                        returned.incrementAndGet();
                      }
                    } catch (IOException | InterruptedException e) {
                      throw new AssertionError(e);
                    }
                  }));
    }
    start.countDown();
    for (Thread t : all) {
      t.join();
    }

    assertEquals(threads * perThread, returned.get());
    long forces = syncs.forces(dir);
    assertTrue(forces >= 1 && forces <= threads * perThread, "fsyncs: " + forces);
  }

  @Test
  void aDirectoryThatCannotBeOpenedFailsTheCallAndALaterCallTriesAgain() throws Exception {
    Path missing = dir.resolve("gone");

    assertThrows(IOException.class, () -> syncs.syncAfterRename(missing));
    java.nio.file.Files.createDirectory(missing);
    syncs.syncAfterRename(missing);

    assertEquals(1, syncs.forces(missing));
  }
}
