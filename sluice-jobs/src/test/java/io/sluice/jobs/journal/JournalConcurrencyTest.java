package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.awaitTrue;
import static io.sluice.jobs.journal.JournalTesting.body;
import static io.sluice.jobs.journal.JournalTesting.idOf;
import static io.sluice.jobs.journal.JournalTesting.parked;
import static io.sluice.jobs.journal.JournalTesting.seqOf;
import static io.sluice.jobs.journal.JournalTesting.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/*
 * Many submitters, group commit, close and failure while appends are pending, interruption.
 *
 * Determinism without sleeps: a HookedChannel gate holds the writer inside a force; appends made
 * meanwhile are pushed and their (virtual) threads park, which the tests observe as
 * Thread.State.WAITING. Releasing the gate then lets the writer take all of them in one commit, or
 * fails the force.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalConcurrencyTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "{0} submitters")
  @ValueSource(ints = {1, 2, 16, 256, 1024})
  void concurrentSubmittersLoseNothingDuplicateNothingAndKeepTheirOrder(int submitters)
      throws Exception {
    // given a journal with small segments (many rolls) and N virtual-thread submitters
    int each = submitters <= 16 ? 300 : 20_000 / submitters;
    JournalOptions options = small(dir).withIoMode(IoMode.DIRECT);
    Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
    Journal j = Journal.open(options, ReplayVisitor.IGNORE);
    // when each appends its sequence, every third one asynchronously
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    for (int s = 0; s < submitters; s++) {
      int id = s;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      List<CompletableFuture<Long>> async = new ArrayList<>();
                      for (int i = 0; i < each; i++) {
                        byte[] b = body(id, i, 40 + (i % 5) * 50);
                        if (i % 3 == 2) {
                          async.add(j.appendAsync(id, b));
                        } else {
                          j.append(id, b);
                        }
                        acknowledged.add(((long) id << 32) | i);
                      }
                      for (CompletableFuture<Long> f : async) {
                        f.get();
                      }
                    } catch (Throwable t) {
                      failed.compareAndSet(null, t);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failed.get() != null) {
      throw new AssertionError(failed.get());
    }
    JournalStats stats = j.stats();
    j.close();
    j.checkInvariants();
    // then a replay holds every record exactly once, in each submitter's order
    Recorded r = JournalTesting.replay(options);
    assertEquals(submitters * each, r.records.size());
    long[] next = new long[submitters];
    Set<Long> seen = new HashSet<>();
    for (Recorded.Rec rec : r.records) {
      int id = idOf(rec.body());
      long seq = seqOf(rec.body());
      assertEquals(id, rec.type());
      assertTrue(seen.add(((long) id << 32) | seq), "twice: " + id + "/" + seq);
      assertEquals(next[id]++, seq, "submitter " + id + " out of order");
    }
    assertEquals(acknowledged, seen);
    assertEquals(submitters * each, stats.recordsAppended());
    assertTrue(stats.segmentsCreated() >= 2, stats.toString());
  }

  @Test
  void concurrentAppendsShareForces() throws Exception {
    // given the writer held inside the force of a first append
    HeldForce held = holdForce();
    Journal j = held.journal();
    CountDownLatch release = held.release();
    Thread first = held.first();
    // when 100 more appends arrive meanwhile (all parked, so all pushed)
    List<Thread> more =
        IntStream.range(1, 101)
            .mapToObj(i -> Thread.ofVirtual().start(() -> append(j, i)))
            .toList();
    awaitTrue(() -> more.stream().allMatch(JournalTesting::parked));
    release.countDown();
    first.join();
    for (Thread t : more) {
      t.join();
    }
    // then the 100 went out in one commit with one force: 2 forces for 101 records
    JournalStats stats = j.stats();
    j.close();
    assertEquals(101, stats.recordsAppended());
    assertEquals(2, stats.commits(), stats.toString());
    assertEquals(2, stats.forces(), stats.toString());
    assertEquals(100, stats.maxRecordsPerCommit());
    assertEquals(101, JournalTesting.replay(small(dir)).records.size());
  }

  @Test
  void closeWhileAppendsArePendingMakesThemDurableFirst() throws Exception {
    // given 50 appends pending behind a held force
    HeldForce held = holdForce();
    Journal j = held.journal();
    CountDownLatch release = held.release();
    Thread first = held.first();
    List<Thread> more =
        IntStream.range(1, 51).mapToObj(i -> Thread.ofVirtual().start(() -> append(j, i))).toList();
    List<CompletableFuture<Long>> async = new ArrayList<>();
    for (int i = 51; i < 61; i++) {
      async.add(j.appendAsync(1, body(1, i, 30)));
    }
    awaitTrue(() -> more.stream().allMatch(JournalTesting::parked));
    // when close is called (it waits for the writer) and the force then goes on
    Thread closer = Thread.ofVirtual().start(j::close);
    awaitTrue(() -> parked(closer) || closer.getState() == Thread.State.BLOCKED);
    release.countDown();
    closer.join();
    // then every pending append completed successfully, and all are in the journal
    first.join();
    for (Thread t : more) {
      t.join();
    }
    for (CompletableFuture<Long> f : async) {
      assertEquals(1L, f.get());
    }
    assertThrows(JournalClosedException.class, () -> j.append(1, new byte[1]));
    j.checkInvariants();
    assertEquals(61, JournalTesting.replay(small(dir)).records.size());
  }

  @Test
  void aFailedForceFailsEveryPendingAndLaterAppendWithJournalException() throws Exception {
    // given appends pending behind a force that will fail
    HookedChannel.Gate gate = new HookedChannel.Gate();
    Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE, gate.opener());
    j.append(1, body(1, 0, 30)); // durable before the failure
    CountDownLatch inForce = new CountDownLatch(1);
    CountDownLatch release = gate.armNextForce(inForce, true);
    List<Throwable> outcomes = new ArrayList<>();
    Thread first = Thread.ofVirtual().start(() -> outcomes.add(appendOutcome(j, 1)));
    inForce.await();
    List<AtomicReference<Throwable>> results = new ArrayList<>();
    List<Thread> more = new ArrayList<>();
    for (int i = 2; i < 22; i++) {
      AtomicReference<Throwable> result = new AtomicReference<>();
      results.add(result);
      int seq = i;
      more.add(Thread.ofVirtual().start(() -> result.set(appendOutcome(j, seq))));
    }
    CompletableFuture<Long> async = j.appendAsync(1, body(1, 99, 30));
    awaitTrue(() -> more.stream().allMatch(JournalTesting::parked));
    // when the force fails
    release.countDown();
    first.join();
    for (Thread t : more) {
      t.join();
    }
    // then the append in that commit and every pending one fail with JournalException
    assertInstanceOf(JournalException.class, outcomes.getFirst());
    for (AtomicReference<Throwable> r : results) {
      assertInstanceOf(JournalException.class, r.get());
    }
    ExecutionException e = assertThrows(ExecutionException.class, async::get);
    assertInstanceOf(JournalException.class, e.getCause());
    // and so does every later append, with a message that says what to do
    JournalException later = assertThrows(JournalException.class, () -> j.append(1, new byte[1]));
    assertTrue(later.getMessage().contains("restart"), later.getMessage());
    assertTrue(later.getCause().getCause().getMessage().contains("injected"));
    assertInstanceOf(
        JournalException.class,
        assertThrows(ExecutionException.class, () -> j.appendAsync(1, new byte[1]).get())
            .getCause());
    j.close();
    j.checkInvariants();
    // and the record acknowledged before the failure is still there
    Recorded r = JournalTesting.replay(small(dir));
    assertEquals(0, seqOf(r.records.getFirst().body()));
  }

  @Test
  void aFailedWriteFailsTheAppendAndEveryLaterOne() throws Exception {
    // given a journal whose disk fills up after the first record
    HookedChannel.Gate gate = new HookedChannel.Gate();
    Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE, gate.opener());
    j.append(1, body(1, 0, 30));
    gate.failWrites();
    // when the next append is written, then it fails, and so does every later one
    JournalException e = assertThrows(JournalException.class, () -> j.append(1, body(1, 1, 30)));
    assertTrue(e.getMessage().contains("failed to write or force"), e.getMessage());
    assertThrows(JournalException.class, () -> j.append(1, body(1, 2, 30)));
    j.close();
    j.checkInvariants();
    assertEquals(1, JournalTesting.replay(small(dir)).records.size());
  }

  @Test
  void anAppendInterruptedBeforeItStartsThrowsAndAppendsNothing() throws Exception {
    try (Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE)) {
      Thread.currentThread().interrupt();
      assertThrows(InterruptedException.class, () -> j.append(1, new byte[10]));
      assertTrue(!Thread.currentThread().isInterrupted(), "interrupt status consumed");
      j.append(2, new byte[10]);
    }
    Recorded r = JournalTesting.replay(small(dir));
    assertEquals(1, r.records.size());
    assertEquals(2, r.records.getFirst().type());
  }

  @Test
  void anAppendInterruptedWhileWaitingThrowsAndTheJournalGoesOn() throws Exception {
    // given an append waiting behind a held force
    HeldForce held = holdForce();
    Journal j = held.journal();
    CountDownLatch release = held.release();
    Thread first = held.first();
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread waiting = Thread.ofVirtual().start(() -> outcome.set(appendOutcome(j, 1)));
    awaitTrue(() -> parked(waiting));
    // when it is interrupted
    waiting.interrupt();
    waiting.join();
    // then it throws InterruptedException (the record may still become durable)
    assertInstanceOf(InterruptedException.class, outcome.get());
    release.countDown();
    first.join();
    j.append(1, body(1, 2, 30));
    j.close();
    j.checkInvariants();
    List<Long> seqs =
        JournalTesting.replay(small(dir)).records.stream().map(x -> seqOf(x.body())).toList();
    assertTrue(seqs.equals(List.of(0L, 1L, 2L)), seqs.toString());
  }

  @Test
  void anUninterruptibleAppendWaitsThroughAnInterruptUntilDurableAndKeepsTheStatus()
      throws Exception {
    // given an uninterruptible append waiting behind a held force
    HeldForce held = holdForce();
    Journal j = held.journal();
    CountDownLatch release = held.release();
    Thread first = held.first();
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread waiting =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    long segment = j.appendUninterruptibly(1, body(1, 1, 30));
                    outcome.set(
                        Thread.currentThread().isInterrupted() ? segment : "not interrupted");
                  } catch (Throwable t) {
                    outcome.set(t);
                  }
                });
    awaitTrue(() -> parked(waiting));
    // when it is interrupted, it goes on waiting
    waiting.interrupt();
    awaitTrue(() -> parked(waiting));
    assertEquals(null, outcome.get());
    // then, once the force is done, it returns the segment with the interrupt status set
    release.countDown();
    waiting.join();
    first.join();
    assertEquals(1L, outcome.get());
    j.close();
    List<Long> seqs =
        JournalTesting.replay(small(dir)).records.stream().map(x -> seqOf(x.body())).toList();
    assertEquals(List.of(0L, 1L), seqs);
  }

  /** A journal whose first append (seq 0, by {@code first}) is held in its force until released. */
  @Test
  void aCloseInterruptedWhileTheWriterFinishesGoesOnWaitingAndKeepsTheStatus() throws Exception {
    // given a close waiting for the writer, which is held inside the force of append 0
    HeldForce held = holdForce();
    Journal j = held.journal();
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread closer =
        Thread.ofVirtual()
            .start(
                () -> {
                  j.close();
                  outcome.set(Thread.currentThread().isInterrupted());
                });
    awaitTrue(() -> parked(closer));
    // when it is interrupted, it goes on waiting
    closer.interrupt();
    awaitTrue(() -> parked(closer));
    assertEquals(null, outcome.get());
    // then, once the force is done, it returns with the interrupt status set, the record durable
    held.release().countDown();
    closer.join();
    held.first().join();
    assertEquals(Boolean.TRUE, outcome.get());
    assertThrows(JournalClosedException.class, () -> j.append(1, body(1, 1, 30)));
    List<Long> seqs =
        JournalTesting.replay(small(dir)).records.stream().map(x -> seqOf(x.body())).toList();
    assertEquals(List.of(0L), seqs);
  }

  private record HeldForce(Journal journal, CountDownLatch release, Thread first) {}

  private HeldForce holdForce() throws Exception {
    HookedChannel.Gate gate = new HookedChannel.Gate();
    Journal j = Journal.open(small(dir), ReplayVisitor.IGNORE, gate.opener());
    CountDownLatch inForce = new CountDownLatch(1);
    CountDownLatch release = gate.armNextForce(inForce, false);
    Thread first = Thread.ofVirtual().start(() -> append(j, 0));
    inForce.await();
    return new HeldForce(j, release, first);
  }

  private static void append(Journal j, int seq) {
    try {
      j.append(1, body(1, seq, 30));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }

  private static Throwable appendOutcome(Journal j, int seq) {
    try {
      j.append(1, body(1, seq, 30));
      return null;
    } catch (Throwable t) {
      return t;
    }
  }
}
