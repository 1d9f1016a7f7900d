package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Random puts of a few keys from many virtual threads while another thread interrupts them at
 * random, against stores with 1 to 3 writers, durable or not. After every round: no temporary file
 * anywhere, every object holds the whole content of a put that returned normally (never one that
 * threw {@link InterruptedException}), a key whose every put was stopped has no object, and no
 * writer thread outlives {@code close()}.
 */
class FilesystemObjectStoreStressTest {
  private static final String JSON = "application/json";

  @TempDir Path base;

  @Test
  @Timeout(120)
  void randomPutsAndInterruptsKeepEveryObjectWholeAndEveryStoppedPutAbsent() throws Exception {
    rounds(6, 600);
  }

  @Test
  @Tag("stress-long")
  @Timeout(1800)
  void longRun() throws Exception {
    rounds(40, 5_000);
  }

  private void rounds(int rounds, int putsPerRound) throws Exception {
    SplittableRandom random = new SplittableRandom(42);
    for (int round = 0; round < rounds; round++) {
      int writers = 1 + round % 3;
      FilesystemObjectStore.Sync sync =
          round % 2 == 0 ? FilesystemObjectStore.Sync.EVERY_PUT : FilesystemObjectStore.Sync.NONE;
      round(base.resolve("r" + round), writers, sync, putsPerRound, random.split());
    }
  }

  private static void round(
      Path root, int writers, FilesystemObjectStore.Sync sync, int puts, SplittableRandom random)
      throws Exception {
    FilesystemObjectStore store = FilesystemObjectStore.open(root, sync, writers);
    List<String> keys = new ArrayList<>();
    for (int k = 0; k < 12; k++) {
      keys.add("2026/11/" + (27 + k % 3) + "/k" + k + ".json");
    }
    Map<String, Set<String>> returned = new ConcurrentHashMap<>();
    Map<String, Set<String>> stopped = new ConcurrentHashMap<>();
    Set<Thread> putters = ConcurrentHashMap.newKeySet();
    AtomicLong next = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Throwable> failures = new ArrayList<>();
    int threads = 24;
    List<Thread> started = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      SplittableRandom mine = random.split();
      Thread putter =
          Thread.ofVirtual()
              .unstarted(
                  () -> {
                    while (true) {
                      long n = next.getAndIncrement();
                      if (n >= puts) {
                        return;
                      }
                      String key = keys.get(mine.nextInt(keys.size()));
                      // distinct lengths, so a partial object could not pass for another
                      String content = "put-" + n + "-" + "x".repeat(mine.nextInt(1, 3000));
                      try {
                        store.put(key, content.getBytes(StandardCharsets.UTF_8), JSON);
                        Thread.interrupted(); // "done, interrupted" is a normal return
                        returned
                            .computeIfAbsent(key, x -> ConcurrentHashMap.newKeySet())
                            .add(content);
                      } catch (InterruptedException e) {
                        stopped
                            .computeIfAbsent(key, x -> ConcurrentHashMap.newKeySet())
                            .add(content);
                      } catch (Throwable e) {
                        synchronized (failures) {
                          failures.add(e);
                        }
                        return;
                      }
                    }
                  });
      putters.add(putter);
      started.add(putter);
    }
    Thread chaos =
        Thread.ofPlatform()
            .start(
                () -> {
                  SplittableRandom r = random.split();
                  List<Thread> all = new ArrayList<>(putters);
                  while (running.get()) {
                    all.get(r.nextInt(all.size())).interrupt();
                    try {
                      Thread.sleep(0, r.nextInt(1, 500_000));
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                });
    started.forEach(Thread::start);
    for (Thread t : started) {
      t.join();
    }
    running.set(false);
    chaos.join();
    store.close();

    assertEquals(List.of(), failures);
    try (Stream<Path> files = Files.walk(root)) {
      assertFalse(
          files.anyMatch(
              f ->
                  f.getFileName().toString().startsWith(FilesystemObjectStore.TEMP_PREFIX)
                      && Files.isRegularFile(f)),
          "no temporary file left");
    }
    for (String key : keys) {
      Path file = root.resolve(key);
      Set<String> ok = returned.getOrDefault(key, Set.of());
      if (ok.isEmpty()) {
        assertFalse(Files.exists(file), key + ": only stopped puts, so no object");
        continue;
      }
      String content = Files.readString(file);
      assertTrue(ok.contains(content), key + ": the object is a put that returned normally");
      assertFalse(
          stopped.getOrDefault(key, Set.of()).contains(content), key + ": not a stopped put");
    }
    long total =
        returned.values().stream().mapToLong(Set::size).sum()
            + stopped.values().stream().mapToLong(Set::size).sum();
    assertEquals(puts, total, "every put accounted for");
    assertTrue(
        stopped.values().stream().mapToLong(Set::size).sum() > 0,
        "the chaos thread stopped some puts");
    assertFalse(store.writerRunning(), "no writer thread outlives close");
    deleteTree(root);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      for (Path p : (Iterable<Path>) files.sorted(java.util.Comparator.reverseOrder())::iterator) {
        Files.delete(p);
      }
    }
  }
}
