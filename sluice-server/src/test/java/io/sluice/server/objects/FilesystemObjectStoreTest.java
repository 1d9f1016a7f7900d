package io.sluice.server.objects;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.JobId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FilesystemObjectStoreTest {

  private static final String JSON = "application/json";

  @TempDir Path base;
  private Path root;
  private FilesystemObjectStore store;

  @BeforeEach
  void openStore() throws IOException {
    root = base.resolve("objects");
    store = FilesystemObjectStore.open(root);
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  @Test
  void openingCreatesTheRootDirectory() {
    assertTrue(Files.isDirectory(root));
    assertEquals(
        "filesystem " + root.toAbsolutePath() + " (syncfs per batch, unnamed temporary files)",
        store.describe());
  }

  @Test
  void anObjectIsAFileUnderTheRootWithTheExactBytes() throws Exception {
    // given a job's key and a payload
    String key = ObjectKeys.forJob("", JobId.next(), Instant.now());
    byte[] payload = "{\"a\": [1, 2.50, \"é\"]}".getBytes(StandardCharsets.UTF_8);

    // when
    store.put(key, payload, JSON);

    // then
    assertArrayEquals(payload, Files.readAllBytes(root.resolve(key)));
    assertArrayEquals(payload, store.get(key).orElseThrow());
    assertTrue(store.checkInvariants(), "no temporary file left");
  }

  @Test
  void withoutFsyncPutsAreStillWholeAndReplaceAtomically() throws Exception {
    // given a store that does not fsync
    try (FilesystemObjectStore unsynced =
        FilesystemObjectStore.open(base.resolve("unsynced"), FilesystemObjectStore.Sync.NONE)) {
      // when
      unsynced.put("d/k.json", "old".getBytes(StandardCharsets.UTF_8), JSON);
      unsynced.put("d/k.json", "new".getBytes(StandardCharsets.UTF_8), JSON);

      // then
      assertEquals("new", new String(unsynced.get("d/k.json").orElseThrow(), UTF_8));
      assertTrue(
          unsynced.describe().endsWith("unsynced (no fsync, unnamed temporary files)"),
          unsynced.describe());
      assertTrue(unsynced.checkInvariants());
    }
  }

  @Test
  void puttingTheSameKeyAgainReplacesTheObject() throws Exception {
    store.put("a/b.json", "old content, longer".getBytes(StandardCharsets.UTF_8), JSON);

    store.put("a/b.json", "new".getBytes(StandardCharsets.UTF_8), JSON);

    assertEquals("new", new String(store.get("a/b.json").orElseThrow(), StandardCharsets.UTF_8));
    assertTrue(store.checkInvariants());
  }

  @Test
  void anEmptyObjectIsStored() throws Exception {
    store.put("empty", new byte[0], JSON);
    assertArrayEquals(new byte[0], store.get("empty").orElseThrow());
  }

  @Test
  void gettingAMissingKeyIsEmpty() throws Exception {
    assertEquals(Optional.empty(), store.get("2026/01/01/none.json"));
  }

  @Test
  void existsIsTrueForAnObjectAndFalseForAMissingKeyOrADirectory() throws Exception {
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);

    assertTrue(store.exists("2026/11/27/a.json"));
    assertFalse(store.exists("2026/11/27/b.json"));
    assertFalse(store.exists("2026/11/27"), "a directory is no object");
    assertFalse(store.exists("nowhere/at/all.json"));
  }

  @Test
  void aKeyThatNamesADirectoryOfOtherObjectsHasNoObject() throws Exception {
    // given an object whose key goes through the directory 2026/11/27
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);

    // when / then the directory's own key is no object, as a key's prefix is none in S3
    assertEquals(Optional.empty(), store.get("2026/11/27"));
    assertFalse(store.exists("2026/11/27"));
  }

  @Test
  void aKeyBelowAnObjectHasNoObject() throws Exception {
    // given an object, and a key that would need that object to be a directory
    store.put("a.json", new byte[] {1}, JSON);

    // when / then there is no object under it: asking is no error
    assertEquals(Optional.empty(), store.get("a.json/b.json"));
    assertFalse(store.exists("a.json/b.json"));
  }

  @Test
  void existsNeverSeesATemporaryFile() throws Exception {
    Files.writeString(root.resolve(FilesystemObjectStore.TEMP_PREFIX + "1234"), "{");

    assertThrows(
        InvalidObjectKeyException.class,
        () -> store.exists(FilesystemObjectStore.TEMP_PREFIX + "1234"));
  }

  @Test
  void keysWithUnicodeAreFilesWithThoseNames() throws Exception {
    String key = "ünïcödé/日本語/😀 x.json";
    store.put(key, new byte[] {1, 2, 3}, JSON);
    assertTrue(Files.isRegularFile(root.resolve("ünïcödé").resolve("日本語").resolve("😀 x.json")));
    assertArrayEquals(new byte[] {1, 2, 3}, store.get(key).orElseThrow());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "../escaped.json",
        "../objects-sibling/x",
        "a/../../escaped.json",
        "/tmp/escaped.json",
        "..\\escaped.json",
        "a//b",
        "a/",
        "",
        "nul\u0000byte",
        "new\nline",
        ".",
        ".."
      })
  void hostileKeysAreRejectedBeforeAnyFileIsTouched(String key) throws Exception {
    // given a sentinel outside the root
    Files.writeString(base.resolve("sentinel"), "untouched");

    // when
    var onPut =
        assertThrows(
            InvalidObjectKeyException.class,
            () -> store.put(key, "x".getBytes(StandardCharsets.UTF_8), JSON));
    var onGet = assertThrows(InvalidObjectKeyException.class, () -> store.get(key));

    // then nothing was written anywhere
    assertEquals(key, onPut.key());
    assertEquals(key, onGet.key());
    try (Stream<Path> all = Files.walk(base)) {
      assertEquals(
          List.of(base, root, base.resolve("sentinel")), all.sorted().toList(), "files under base");
    }
    assertEquals("untouched", Files.readString(base.resolve("sentinel")));
  }

  @Test
  void aSegmentLongerThanAFileNameIsRejectedWithAReason() {
    String key = "d/" + "é".repeat(128) + ".json"; // 256 + 5 bytes
    var e = assertThrows(InvalidObjectKeyException.class, () -> store.put(key, new byte[1], JSON));
    assertTrue(e.getMessage().contains("over the file name limit of 255"), e.getMessage());
  }

  @Test
  void aSegmentOfExactlyTheFileNameLimitIsStored() throws Exception {
    String key = "d/" + "x".repeat(FilesystemObjectStore.MAX_SEGMENT_BYTES);
    store.put(key, new byte[] {7}, JSON);
    assertArrayEquals(new byte[] {7}, store.get(key).orElseThrow());
  }

  @Test
  void keysThatLookLikeTemporaryFilesAreReserved() {
    var e =
        assertThrows(
            InvalidObjectKeyException.class,
            () -> store.put("a/" + FilesystemObjectStore.TEMP_PREFIX + "1234", new byte[1], JSON));
    assertTrue(e.getMessage().contains("reserved"), e.getMessage());
  }

  @Test
  void aKeyThatNeedsADirectoryWhereAnObjectIsFailsWithAnIoError() throws Exception {
    store.put("a.json", new byte[] {1}, JSON);

    assertThrows(IOException.class, () -> store.put("a.json/b.json", new byte[] {2}, JSON));

    assertArrayEquals(new byte[] {1}, store.get("a.json").orElseThrow());
    assertTrue(store.checkInvariants());
  }

  @Test
  void anAlreadyInterruptedPutThrowsWritesNothingAndClearsTheStatus() throws Exception {
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> store.put("k.json", new byte[] {1}, JSON));

    assertFalse(Thread.interrupted(), "the status is reported by the exception, not left set");
    assertEquals(Optional.empty(), store.get("k.json"));
  }

  @Test
  void anAlreadyInterruptedGetThrowsAndClearsTheStatus() throws Exception {
    store.put("k.json", new byte[] {1}, JSON);
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> store.get("k.json"));

    assertFalse(Thread.interrupted());
  }

  /** Puts on a virtual thread; the future says how the put ended. */
  private record BackgroundPut(Thread thread, CompletableFuture<String> outcome) {}

  private BackgroundPut putInBackground(String key, byte[] content) {
    var outcome = new CompletableFuture<String>();
    Thread thread =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    store.put(key, content, JSON);
                    outcome.complete(
                        Thread.currentThread().isInterrupted() ? "done, interrupted" : "done");
                  } catch (InterruptedException e) {
                    outcome.complete(Thread.currentThread().isInterrupted() ? "leaked" : "stopped");
                  } catch (Throwable t) {
                    outcome.completeExceptionally(t);
                  }
                });
    return new BackgroundPut(thread, outcome);
  }

  @Test
  @Timeout(30)
  void aPutInterruptedBeforeItsRenameStopsAndLeavesTheOldObjectAndNoTemporaryFile()
      throws Exception {
    // given an old object, and a put of a new one held after its file is written and flushed
    byte[] old = "old".getBytes(StandardCharsets.UTF_8);
    store.put("k.json", old, JSON);
    FlushGate gate = new FlushGate(1);
    store.onFlush(gate);
    BackgroundPut putter = putInBackground("k.json", "new".getBytes(StandardCharsets.UTF_8));
    gate.reached.await();

    // when the putter is interrupted (and has cancelled the put: it waits for the writer to let
    // go of it), then the writer goes on
    putter.thread().interrupt();
    while (Arrays.stream(putter.thread().getStackTrace())
        .noneMatch(f -> f.getMethodName().equals("awaitQuietly"))) {
      Thread.sleep(1);
    }
    gate.release.countDown();

    // then the put threw InterruptedException (status cleared), the old object is intact, and
    // nothing of the put is left
    assertEquals("stopped", putter.outcome().get(20, TimeUnit.SECONDS));
    assertArrayEquals(old, store.get("k.json").orElseThrow());
    assertTrue(store.checkInvariants(), "no temporary file left");
  }

  @Test
  @Timeout(30)
  void aPutInterruptedAfterItsRenameReturnsOnceDurableWithTheStatusSet() throws Exception {
    // given a put held in the flush that makes its rename durable
    FlushGate gate = new FlushGate(2);
    store.onFlush(gate);
    byte[] content = "new".getBytes(StandardCharsets.UTF_8);
    BackgroundPut putter = putInBackground("k.json", content);
    gate.reached.await();

    // when the putter is interrupted: too late to stop it
    putter.thread().interrupt();
    Thread.sleep(50); // the putter sees the interrupt and waits for the flush, uninterruptibly
    assertFalse(putter.outcome().isDone(), "it waits for the flush");
    gate.release.countDown();

    // then it returns normally with the status set, and the object is the new one
    assertEquals("done, interrupted", putter.outcome().get(20, TimeUnit.SECONDS));
    assertArrayEquals(content, store.get("k.json").orElseThrow());
  }

  @Test
  @Timeout(60)
  void concurrentPutsOfOneKeyNeverShowAReaderAPartialObject() throws Exception {
    // given writers that each put a distinct content, of a distinct length, to one key
    int writers = 16;
    int rounds = 10;
    List<byte[]> contents = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      byte[] content = new byte[100 + w * 997];
      Arrays.fill(content, (byte) ('A' + w));
      contents.add(content);
    }
    store.put("same/key.json", contents.get(0), JSON);
    AtomicBoolean writing = new AtomicBoolean(true);
    CountDownLatch start = new CountDownLatch(1);

    // readers on platform threads: a virtual thread reading in a tight loop would keep its carrier
    // from the writers
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor();
        ExecutorService readers = Executors.newFixedThreadPool(2)) {
      // when they race while readers read
      List<Future<?>> puts = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        byte[] content = contents.get(w);
        puts.add(
            threads.submit(
                () -> {
                  start.await();
                  for (int r = 0; r < rounds; r++) {
                    store.put("same/key.json", content, JSON);
                  }
                  return null;
                }));
      }
      List<Future<Integer>> reads = new ArrayList<>();
      for (int r = 0; r < 2; r++) {
        reads.add(
            readers.submit(
                () -> {
                  start.await();
                  int seen = 0;
                  while (writing.get()) {
                    byte[] got = store.get("same/key.json").orElseThrow();
                    assertTrue(isOneOf(got, contents), "a whole object of one writer");
                    seen++;
                    Thread.yield();
                  }
                  return seen;
                }));
      }
      start.countDown();
      for (Future<?> put : puts) {
        put.get();
      }
      writing.set(false);
      for (Future<Integer> read : reads) {
        assertTrue(read.get() > 0);
      }
    }

    // then the last rename won, whole, and no temporary file is left
    assertTrue(isOneOf(store.get("same/key.json").orElseThrow(), contents));
    assertTrue(store.checkInvariants());
  }

  private static boolean isOneOf(byte[] got, List<byte[]> contents) {
    return contents.stream().anyMatch(c -> Arrays.equals(c, got));
  }

  @Test
  @Timeout(60)
  void manyVirtualThreadsPutDistinctKeysIntoNewDirectoriesAtOnce() throws Exception {
    // given 300 jobs over 3 days, none of whose directories exist yet
    int jobs = 300;
    List<String> keys = new ArrayList<>();
    Instant day = Instant.parse("2026-11-27T12:00:00Z");
    for (int i = 0; i < jobs; i++) {
      keys.add(ObjectKeys.forJob("p/", JobId.next(), day.plusSeconds(86_400L * (i % 3))));
    }
    CountDownLatch start = new CountDownLatch(1);

    // when each is put from its own virtual thread
    try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> puts = new ArrayList<>();
      for (String key : keys) {
        puts.add(
            threads.submit(
                () -> {
                  start.await();
                  store.put(key, key.getBytes(StandardCharsets.UTF_8), JSON);
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> put : puts) {
        put.get();
      }
    }

    // then every object is there with its content
    for (String key : keys) {
      assertArrayEquals(key.getBytes(StandardCharsets.UTF_8), store.get(key).orElseThrow());
    }
    try (Stream<Path> files = Files.walk(root)) {
      assertEquals(jobs, files.filter(Files::isRegularFile).count());
    }
    assertTrue(store.checkInvariants());
  }

  @Test
  void aDirectoryRemovedBehindTheStoresBackIsMadeAgainByTheNextPut() throws Exception {
    // given a day's directory the store has used, then removed by someone else
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);
    Files.delete(root.resolve("2026/11/27/a.json"));
    Files.delete(root.resolve("2026/11/27"));
    Files.delete(root.resolve("2026/11"));

    // when another object goes there
    store.put("2026/11/27/b.json", new byte[] {2}, JSON);

    // then the directories are made again
    assertArrayEquals(new byte[] {2}, store.get("2026/11/27/b.json").orElseThrow());
    assertTrue(store.checkInvariants());
  }

  @Test
  void theRootRemovedBehindTheStoresBackIsMadeAgainByTheNextPut() throws Exception {
    // given a store that has put an object, then its whole root removed by someone else
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);
    deleteTree(root);

    // when another object is put
    store.put("2026/11/27/b.json", new byte[] {2}, JSON);

    // then the root and its directories are made again
    assertArrayEquals(new byte[] {2}, store.get("2026/11/27/b.json").orElseThrow());
    assertTrue(store.checkInvariants());
  }

  private static void deleteTree(Path top) throws IOException {
    try (Stream<Path> files = Files.walk(top)) {
      for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void aDirectoryOnAnotherFileSystemGetsItsTemporaryFilesBesideItsObjects() throws Exception {
    // given a directory under the root that is on another file system (tmpfs, linked in), where a
    // rename from the lanes' temporary directories cannot go
    Path shm = Path.of("/dev/shm");
    Assumptions.assumeTrue(
        Files.isDirectory(shm) && !Files.getFileStore(shm).equals(Files.getFileStore(base)),
        "needs /dev/shm on a file system of its own");
    Path elsewhere = Files.createTempDirectory(shm, "sluice-objects-test");
    try {
      Files.createSymbolicLink(root.resolve("mounted"), elsewhere);

      // when objects go there, one of them twice, and others into the root's own file system
      store.put("mounted/2026/11/28/a.json", "first".getBytes(UTF_8), JSON);
      store.put("mounted/2026/11/28/a.json", "second".getBytes(UTF_8), JSON);
      store.put("mounted/b.json", "b".getBytes(UTF_8), JSON);
      store.put("2026/11/28/c.json", "c".getBytes(UTF_8), JSON);

      // then each is whole where its key says, and no temporary file is left on either side
      assertArrayEquals(
          "second".getBytes(UTF_8), Files.readAllBytes(elsewhere.resolve("2026/11/28/a.json")));
      assertArrayEquals("b".getBytes(UTF_8), Files.readAllBytes(elsewhere.resolve("b.json")));
      assertArrayEquals("c".getBytes(UTF_8), store.get("2026/11/28/c.json").orElseThrow());
      try (Stream<Path> files = Files.walk(elsewhere)) {
        assertEquals(
            List.of(),
            files
                .filter(
                    p -> p.getFileName().toString().startsWith(FilesystemObjectStore.TEMP_PREFIX))
                .toList());
      }
      assertTrue(store.checkInvariants());
    } finally {
      try (Stream<Path> files = Files.walk(elsewhere)) {
        for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
  }

  @Test
  void temporaryFilesLeftByACrashAreRemovedAndObjectsKept() throws Exception {
    // given two objects and the temporary files of puts that a crash cut short
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);
    store.put("b.json", new byte[] {2}, JSON);
    Files.write(
        root.resolve("2026/11/27").resolve(FilesystemObjectStore.TEMP_PREFIX + "1"), new byte[3]);
    Files.write(root.resolve(FilesystemObjectStore.TEMP_PREFIX + "2"), new byte[3]);
    assertFalse(store.checkInvariants());

    // when
    long removed = store.removeLeftoverTemporaryFiles();

    // then
    assertEquals(2, removed);
    assertTrue(store.checkInvariants());
    assertArrayEquals(new byte[] {1}, store.get("2026/11/27/a.json").orElseThrow());
    assertArrayEquals(new byte[] {2}, store.get("b.json").orElseThrow());
  }

  @Test
  void
      givenLeftoversInTheWritersDirectoriesAndBesideObjects_whenLaneFilesAreRemoved_thenOnlyTheWritersGo()
          throws Exception {
    // given an object, and temporary files a crash left in a writer's directory, under the root
    // and (from an older layout) beside the object
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);
    Path lane = Files.createDirectories(root.resolve(FilesystemObjectStore.TEMP_PREFIX + "lane-7"));
    Files.write(lane.resolve(FilesystemObjectStore.TEMP_PREFIX + "1"), new byte[3]);
    Files.write(root.resolve(FilesystemObjectStore.TEMP_PREFIX + "2"), new byte[3]);
    Path beside = root.resolve("2026/11/27").resolve(FilesystemObjectStore.TEMP_PREFIX + "3");
    Files.write(beside, new byte[3]);

    // when
    long removed = store.removeLeftoverLaneFiles();

    // then the quick removal took the writers' leftovers only; the object stays
    assertEquals(2, removed);
    assertTrue(Files.exists(beside));
    assertArrayEquals(new byte[] {1}, store.get("2026/11/27/a.json").orElseThrow());
  }

  @Test
  void givenAnOldLeftoverAndAFreshTemporaryFileBesideObjects_whenSwept_thenOnlyTheOldOneGoes()
      throws Exception {
    // given a temporary file from before the store opened and one as a put in progress makes
    store.put("2026/11/27/a.json", new byte[] {1}, JSON);
    Path day = root.resolve("2026/11/27");
    Path old = Files.write(day.resolve(FilesystemObjectStore.TEMP_PREFIX + "old"), new byte[3]);
    Files.setLastModifiedTime(old, FileTime.from(Instant.now().minus(Duration.ofHours(1))));
    Path fresh = Files.write(day.resolve(FilesystemObjectStore.TEMP_PREFIX + "new"), new byte[3]);

    // when
    long removed = store.sweepLeftoversInBackground().get(30, TimeUnit.SECONDS);

    // then
    assertEquals(1, removed);
    assertFalse(Files.exists(old));
    assertTrue(Files.exists(fresh), "a file as young as the store may be a put in progress");
    assertArrayEquals(new byte[] {1}, store.get("2026/11/27/a.json").orElseThrow());
  }

  @Test
  void givenASweepOfAManyDirectoryTree_whenTheStoreCloses_thenTheSweepHasEnded() throws Exception {
    // given a tree of many directories and a sweep started over it
    for (int i = 0; i < 2_000; i++) {
      Files.createDirectories(root.resolve("d" + i).resolve("e"));
    }
    CompletableFuture<Long> sweep = store.sweepLeftoversInBackground();

    // when
    store.close();

    // then close waited for it: no thread of the store outlives it
    assertTrue(sweep.isDone());
    assertEquals(0L, sweep.get());
  }

  @Test
  void checkPassesOnAWritableRootAndLeavesNothingBehind() throws Exception {
    store.check();
    try (Stream<Path> files = Files.list(root)) {
      assertEquals(0, files.count());
    }
  }

  @Test
  void checkRecreatesARootThatWasRemoved() throws Exception {
    Files.delete(root);
    store.check();
    assertTrue(Files.isDirectory(root));
  }

  @Test
  void checkFailsWithAnActionableMessageWhenTheRootIsAFile() throws Exception {
    // given the root replaced by a file
    Files.delete(root);
    Files.writeString(root, "not a directory");

    // when
    var e = assertThrows(ObjectStoreException.class, () -> store.check());

    // then the message names the directory and what to check
    assertTrue(e.getMessage().contains(root.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("check that it is a directory"), e.getMessage());
    assertFalse(e.retryable());
  }

  @Test
  void openingARootThatIsAFileFailsWithAnActionableMessage() throws Exception {
    Path file = base.resolve("file");
    Files.writeString(file, "x");

    var e = assertThrows(ObjectStoreException.class, () -> FilesystemObjectStore.open(file));

    assertTrue(e.getMessage().contains("is not a directory"), e.getMessage());
  }

  @Test
  void aClosedStoreRefusesPutsAndGets() {
    store.close();
    store.close();

    assertThrows(IllegalStateException.class, () -> store.put("k", new byte[1], JSON));
    assertThrows(IllegalStateException.class, () -> store.get("k"));
  }
}
