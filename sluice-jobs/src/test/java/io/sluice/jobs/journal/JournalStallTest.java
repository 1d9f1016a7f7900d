package io.sluice.jobs.journal;

import static io.sluice.jobs.journal.JournalTesting.awaitTrue;
import static io.sluice.jobs.journal.JournalTesting.body;
import static io.sluice.jobs.journal.JournalTesting.parked;
import static io.sluice.jobs.journal.JournalTesting.seqOf;
import static io.sluice.jobs.journal.JournalTesting.small;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/*
 * A disk that hangs: a HookedChannel gate holds the writer inside a force of the real segment file
 * for as long as the test wants, then lets it go on (a slow disk that recovers) or fail.
 *
 * The journal measures time with System.nanoTime, so these tests use a small stall threshold and
 * small timeouts and wait on what the journal reports (latches, thread states), never on time:
 * with the force held indefinitely, the stall and the timeout are certain to come, only not when.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class JournalStallTest {
  private static final Duration THRESHOLD = Duration.ofMillis(20);

  @TempDir Path dir;

  /** Records what the journal reports about stalls. */
  private static final class StallListener implements JournalListener {
    final CountDownLatch stalled = new CountDownLatch(1);
    final CountDownLatch resumed = new CountDownLatch(1);
    final AtomicInteger stalls = new AtomicInteger();
    final AtomicInteger resumes = new AtomicInteger();
    final AtomicInteger waiting = new AtomicInteger(-1);
    final AtomicLong segment = new AtomicLong(-1);

    @Override
    public void onStall(long segment, long runningNanos, int waiting) {
      this.segment.set(segment);
      this.waiting.set(waiting);
      stalls.incrementAndGet();
      stalled.countDown();
    }

    @Override
    public void onResume(long stalledNanos) {
      resumes.incrementAndGet();
      resumed.countDown();
    }
  }

  /** A journal whose next force hangs until {@code release} opens; {@code inForce} opens in it. */
  private record HungForce(
      StallListener listener, Journal journal, CountDownLatch inForce, CountDownLatch release) {}

  /** Opens a journal whose next force hangs, then completes or ({@code thenFail}) fails. */
  private HungForce nextForceHangs(boolean thenFail) throws IOException {
    StallListener listener = new StallListener();
    HookedChannel.Gate gate = new HookedChannel.Gate();
    Journal j = Journal.open(options(listener), ReplayVisitor.IGNORE, gate.opener());
    CountDownLatch inForce = new CountDownLatch(1);
    return new HungForce(listener, j, inForce, gate.armNextForce(inForce, thenFail));
  }

  private JournalOptions options(StallListener listener) {
    return small(dir).withStallThreshold(THRESHOLD).withListener(listener);
  }

  @Test
  void aCommitLongerThanTheThresholdIsReportedOnceAsAStallAndClearsWhenItCompletes()
      throws Exception {
    // given a journal whose next force hangs, and three appends waiting behind it
    HungForce hung = nextForceHangs(false);
    Journal j = hung.journal();
    Thread first = Thread.ofVirtual().start(() -> append(j, 0));
    hung.inForce().await();
    List<Thread> behind = new ArrayList<>();
    for (int i = 1; i <= 2; i++) {
      int seq = i;
      behind.add(Thread.ofVirtual().start(() -> append(j, seq)));
    }
    awaitTrue(() -> behind.stream().allMatch(JournalTesting::parked));

    // when the commit runs past the threshold
    hung.listener().stalled.await();

    // then the journal reports the stall once, with the segment and the appends that wait
    assertTrue(j.stalled());
    assertTrue(j.stats().stalled());
    assertEquals(1, j.stats().stalls());
    assertEquals(j.currentSegment(), hung.listener().segment.get());
    // (the watchdog counts when it notices, which may be before the last two were pushed)
    assertTrue(
        hung.listener().waiting.get() >= 1 && hung.listener().waiting.get() <= 3,
        hung.listener().waiting + "");
    assertEquals(0, hung.listener().resumes.get());

    // and when the disk recovers, the appends complete and the stall clears
    hung.release().countDown();
    first.join();
    for (Thread t : behind) {
      t.join();
    }
    hung.listener().resumed.await();
    assertFalse(j.stalled());
    assertFalse(j.stats().stalled());
    assertEquals(1, j.stats().stalls());
    assertEquals(1, hung.listener().stalls.get());
    j.close();
    j.checkInvariants();
    assertEquals(1, hung.listener().resumes.get());
    assertEquals(3, JournalTesting.replay(small(dir)).records.size());
  }

  @Test
  void aTimedAppendGivesUpAfterItsTimeoutAndItsRecordBecomesDurableWhenTheDiskRecovers()
      throws Exception {
    // given a journal whose next force hangs
    HungForce hung = nextForceHangs(false);
    Journal j = hung.journal();

    // when an append with a timeout waits on it
    AppendTimeoutException timedOut =
        assertThrows(
            AppendTimeoutException.class,
            () -> j.appendUninterruptibly(1, body(1, 7, 30), Duration.ofMillis(30)));

    // then it gives up with the outcome still open, and the record is durable once the disk is
    CompletableFuture<Long> outcome = timedOut.outcome();
    assertEquals(0, hung.inForce().getCount(), "the writer was in the force");
    assertFalse(outcome.isDone());
    hung.release().countDown();
    assertEquals(j.currentSegment(), outcome.get());
    j.close();
    j.checkInvariants();
    Recorded r = JournalTesting.replay(small(dir));
    assertEquals(1, r.records.size());
    assertEquals(7, seqOf(r.records.getFirst().body()));
  }

  @Test
  void aTimedAppendThatGaveUpLearnsOfTheFailureIfTheHungForceFails() throws Exception {
    // given an append that gave up waiting on a hung force
    HungForce hung = nextForceHangs(true);
    Journal j = hung.journal();
    AppendTimeoutException timedOut =
        assertThrows(
            AppendTimeoutException.class,
            () -> j.appendUninterruptibly(1, body(1, 7, 30), Duration.ofMillis(30)));

    // when the force fails
    hung.release().countDown();

    // then its outcome fails as the journal does
    ExecutionException e = assertThrows(ExecutionException.class, timedOut.outcome()::get);
    assertInstanceOf(JournalException.class, e.getCause());
    assertFalse(j.stalled(), "a failure ends the stall");
    j.close();
    j.checkInvariants();
  }

  @Test
  void aTimedAppendAcknowledgedInTimeReturnsItsSegment() throws Exception {
    Journal j = Journal.open(options(new StallListener()), ReplayVisitor.IGNORE);
    assertEquals(
        j.currentSegment(), j.appendUninterruptibly(1, body(1, 0, 30), Duration.ofSeconds(30)));
    j.close();
    j.checkInvariants();
  }

  @Test
  void aTimedAppendAlreadyInterruptedStillWaitsAndKeepsTheInterruptStatus() throws Exception {
    Journal j = Journal.open(options(new StallListener()), ReplayVisitor.IGNORE);
    Thread.currentThread().interrupt();
    try {
      j.appendUninterruptibly(1, body(1, 0, 30), Duration.ofSeconds(30));
      assertTrue(Thread.currentThread().isInterrupted());
    } finally {
      Thread.interrupted();
    }
    j.close();
    assertEquals(1, JournalTesting.replay(small(dir)).records.size());
  }

  @Test
  void aTimedAppendInterruptedWhileWaitingKeepsWaitingAndKeepsTheInterruptStatus()
      throws Exception {
    // given a timed append waiting on a hung force, with a timeout that will not pass
    HungForce hung = nextForceHangs(false);
    Journal j = hung.journal();
    AtomicReference<Object> outcome = new AtomicReference<>();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    long segment =
                        j.appendUninterruptibly(1, body(1, 0, 30), Duration.ofMinutes(10));
                    outcome.set(Thread.currentThread().isInterrupted() ? segment : "not kept");
                  } catch (AppendTimeoutException e) {
                    outcome.set(e);
                  }
                });
    hung.inForce().await();
    awaitTrue(() -> parked(t));

    // when it is interrupted, then it keeps waiting
    t.interrupt();
    awaitTrue(() -> parked(t));
    assertEquals(null, outcome.get());

    // and returns the segment once the force completes, with the interrupt status kept
    hung.release().countDown();
    t.join();
    assertEquals(j.currentSegment(), outcome.get());
    j.close();
  }

  @Test
  void closingAfterAStallThatEndedLeavesNoThreadRunning() throws Exception {
    // given a stall that ended
    HungForce hung = nextForceHangs(false);
    Journal j = hung.journal();
    Thread first = Thread.ofVirtual().start(() -> append(j, 0));
    hung.listener().stalled.await();
    hung.release().countDown();
    first.join();

    // when the journal closes
    j.close();

    // then its writer, completer and watchdog have all ended
    for (Thread t : j.threads()) {
      assertFalse(t.isAlive(), t + " still runs");
    }
    j.checkInvariants();
  }

  @Test
  void aStallThresholdBelowOneMillisecondIsRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> JournalOptions.defaults().withStallThreshold(Duration.ofNanos(999_999)));
    assertEquals(
        JournalOptions.DEFAULT_STALL_THRESHOLD, JournalOptions.defaults().stallThreshold());
  }

  private static void append(Journal j, long seq) {
    try {
      j.append(1, body(1, seq, 30));
    } catch (InterruptedException e) {
      throw new AssertionError(e);
    }
  }
}
