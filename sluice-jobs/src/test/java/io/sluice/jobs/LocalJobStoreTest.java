package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class LocalJobStoreTest {
  private static final JobStore.TypeGate ANY = type -> true;

  private final ManualClock clock = Clock.manual(Instant.parse("2026-11-27T10:00:00Z"));
  private LocalJobStore store = storeWithCapacity(10);

  private LocalJobStore storeWithCapacity(int capacity) {
    return LocalJobStore.inMemory(
        JobStoreOptions.defaults()
            .withCapacity(capacity)
            .withClock(clock)
            .withFinishedRetention(3));
  }

  @AfterEach
  void checkAndClose() {
    store.checkInvariants();
    store.close();
  }

  private static JobSpec spec(String type, String payload) {
    return JobSpec.of(type, payload.getBytes(UTF_8));
  }

  private List<JobId> accept(JobSpec... specs) throws InterruptedException {
    Admission admission = store.submit(List.of(specs), Duration.ZERO);
    return assertInstanceOf(Admission.Accepted.class, admission).ids();
  }

  private Job claim() throws InterruptedException {
    return store.claim(ANY).orElseThrow();
  }

  private void assertRetried(JobId dead) {
    assertEquals(new Admission.Accepted(List.of(dead)), store.retryDead(dead));
  }

  private static String text(Job job) {
    return new String(job.payloadBytes(), UTF_8);
  }

  @Test
  void anAcceptedBatchGetsOrderedIdsAndIsQueuedInOrder() throws Exception {
    List<JobId> ids = accept(spec("a", "1"), spec("a", "2"), spec("a", "3"));

    assertEquals(3, ids.size());
    assertTrue(ids.get(0).compareTo(ids.get(1)) < 0 && ids.get(1).compareTo(ids.get(2)) < 0);
    assertEquals(3, store.counts().queued());
    assertEquals("1", text(claim()));
    assertEquals("2", text(claim()));
    assertEquals("3", text(claim()));
  }

  @Test
  void ofCopiesThePayloadAndWrapKeepsTheCallersArray() throws Exception {
    byte[] copied = "copied".getBytes(UTF_8);
    byte[] wrapped = "wrapped".getBytes(UTF_8);
    accept(JobSpec.of("a", copied), JobSpec.wrap("a", wrapped));

    copied[0] = 'C';
    wrapped[0] = 'W';

    assertEquals("copied", text(claim()));
    assertEquals(
        "Wrapped", text(claim()), "wrap hands the array over: the caller must not change it");
  }

  @Test
  void wrapChecksTheTypeAsOfDoes() {
    assertThrows(IllegalArgumentException.class, () -> JobSpec.wrap("", new byte[0]));
    assertThrows(IllegalArgumentException.class, () -> JobSpec.wrap("a\nb", new byte[0]));
    assertThrows(NullPointerException.class, () -> JobSpec.wrap("a", null));
  }

  @Test
  void aClaimStartsAnAttempt() throws Exception {
    JobId id = accept(spec("a", "x")).getFirst();

    Job job = claim();

    assertEquals(id, job.id());
    assertEquals(JobState.RUNNING, job.state());
    assertEquals(1, job.attempts());
    assertEquals(JobState.RUNNING, store.find(id).orElseThrow().state());
    assertEquals(1, store.counts().running());
  }

  @Test
  void aBatchThatDoesNotFitIsRejectedWholeAndNothingIsKept() throws Exception {
    accept(
        spec("a", "1"),
        spec("a", "2"),
        spec("a", "3"),
        spec("a", "4"),
        spec("a", "5"),
        spec("a", "6"),
        spec("a", "7"),
        spec("a", "8"));

    Admission admission =
        store.submit(List.of(spec("a", "9"), spec("a", "10"), spec("a", "11")), Duration.ZERO);

    Admission.Rejected rejected = assertInstanceOf(Admission.Rejected.class, admission);
    assertEquals(Admission.Reason.QUEUE_FULL, rejected.reason());
    assertEquals(LocalJobStore.RETRY_AFTER, rejected.retryAfter());
    assertTrue(rejected.message().contains("room for 2 more jobs, not 3"), rejected.message());
    assertEquals(8, store.counts().queued());
  }

  @Test
  void aBatchLargerThanTheCapacityCanNeverFitAndSaysSo() throws Exception {
    List<JobSpec> eleven = Collections.nCopies(11, spec("a", "x"));

    Admission.Rejected rejected =
        assertInstanceOf(Admission.Rejected.class, store.submit(eleven, Duration.ofHours(1)));

    assertEquals(Admission.Reason.TOO_LARGE, rejected.reason());
    assertEquals(Duration.ZERO, rejected.retryAfter());
    assertTrue(rejected.message().contains("submit smaller batches"), rejected.message());
  }

  @Test
  void runningAndWaitingJobsTakeRoomButDeadOnesDoNot() throws Exception {
    store = storeWithCapacity(2);
    accept(spec("a", "1"), spec("a", "2"));
    Job first = claim();
    Job second = claim();
    store.failed(first.id(), "boom", Optional.of(clock.now().plusSeconds(5)));
    assertInstanceOf(
        Admission.Rejected.class, store.submit(List.of(spec("a", "3")), Duration.ZERO));

    store.failed(second.id(), "boom", Optional.empty());

    accept(spec("a", "3"));
    assertEquals(1, store.counts().dead());
  }

  @Test
  void aDeadLetterIsQueuedAgainOnlyWhenTheQueueHasRoomForIt() throws Exception {
    // given: a queue of 2, filled by two pending jobs beside a dead letter (which takes no room)
    store = storeWithCapacity(2);
    JobId dead = accept(spec("a", "1")).getFirst();
    store.failed(claim().id(), "fatal", Optional.empty());
    accept(spec("a", "2"), spec("a", "3"));

    // when
    Admission.Rejected refused = assertInstanceOf(Admission.Rejected.class, store.retryDead(dead));

    // then: refused as a full queue, with a time to wait; it stays a dead letter
    assertEquals(Admission.Reason.QUEUE_FULL, refused.reason());
    assertEquals(LocalJobStore.RETRY_AFTER, refused.retryAfter());
    assertTrue(refused.message().contains("stays a dead letter"), refused.message());
    assertEquals(JobState.DEAD, store.find(dead).orElseThrow().state());
    assertEquals(2, store.counts().pending());
    assertEquals(1, store.counts().dead());
    store.checkInvariants();

    // and once a job finishes it fits, and fills the queue to its capacity, not beyond
    store.succeeded(claim().id());
    assertRetried(dead);
    assertEquals(2, store.counts().pending());
    assertEquals(0, store.counts().dead());
  }

  @Test
  void retryingEveryDeadLetterNeverPushesTheQueuePastItsCapacity() throws Exception {
    // given: five dead letters in a queue of 3 with one job pending
    store = storeWithCapacity(3);
    List<JobId> dead = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      dead.add(accept(spec("a", "d" + i)).getFirst());
      store.failed(claim().id(), "fatal", Optional.empty());
    }
    accept(spec("a", "pending"));

    // when every one is retried
    List<Admission> answers = new ArrayList<>();
    for (JobId id : dead) {
      answers.add(store.retryDead(id));
    }

    // then: two fit, the other three are refused and stay dead letters
    assertEquals(
        List.of(true, true, false, false, false),
        answers.stream().map(a -> a instanceof Admission.Accepted).toList());
    assertEquals(3, store.counts().pending());
    assertEquals(3, store.counts().dead());
  }

  @Test
  void afterStopAdmissionADeadLetterIsNotQueuedAgain() throws Exception {
    JobId dead = accept(spec("a", "1")).getFirst();
    store.failed(claim().id(), "fatal", Optional.empty());
    store.stopAdmission();

    Admission.Rejected refused = assertInstanceOf(Admission.Rejected.class, store.retryDead(dead));

    assertEquals(Admission.Reason.SHUTTING_DOWN, refused.reason());
    assertEquals(1, store.counts().dead());
  }

  @Test
  void aRejectionSaysToRetryWhenEnoughJobsShouldHaveFinishedAtTheRecentRate() throws Exception {
    // given: a full queue of 10, and no rate measured yet
    store = storeWithCapacity(10);
    for (int i = 0; i < 10; i++) {
      accept(spec("a", "" + i));
    }
    assertEquals(LocalJobStore.RETRY_AFTER, rejectedRetryAfter(1));

    // when 4 jobs finish in the next 2 seconds, a batch of 8 needs 4 more to finish: 2 s at 2/s
    for (int i = 0; i < 4; i++) {
      store.succeeded(claim().id());
    }
    clock.advance(Duration.ofSeconds(2));
    assertEquals(Duration.ofSeconds(2), rejectedRetryAfter(8));

    // when nothing finishes for 2 seconds (say every upload fails), the longest wait
    clock.advance(Duration.ofSeconds(2));
    assertEquals(LocalJobStore.MAX_RETRY_AFTER, rejectedRetryAfter(8));

    // and a fast rate never asks for less than a second
    for (int i = 0; i < 6; i++) {
      store.succeeded(claim().id());
    }
    accept(spec("a", "x"), spec("a", "y"), spec("a", "z"), spec("a", "w"));
    accept(spec("a", "v"), spec("a", "u"), spec("a", "t"), spec("a", "s"));
    accept(spec("a", "r"), spec("a", "q"));
    clock.advance(Duration.ofSeconds(1));
    assertEquals(LocalJobStore.RETRY_AFTER, rejectedRetryAfter(1));
  }

  private Duration rejectedRetryAfter(int n) throws InterruptedException {
    List<JobSpec> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      batch.add(spec("a", "more"));
    }
    Admission admission = store.submit(batch, Duration.ZERO);
    return assertInstanceOf(Admission.Rejected.class, admission).retryAfter();
  }

  /** A store with room for 10 jobs but only {@code limit} bytes of payloads. */
  private LocalJobStore storeWithPayloadLimit(long limit) {
    return LocalJobStore.inMemory(
        JobStoreOptions.defaults()
            .withCapacity(10)
            .withPayloadBytesLimit(limit)
            .withClock(clock)
            .withFinishedRetention(3));
  }

  @Test
  void aBatchWhosePayloadsPassTheByteLimitIsRefusedWholeAndAtOnceWithoutAWait() throws Exception {
    // given: 10 bytes of payloads at most, 6 held
    store = storeWithPayloadLimit(10);
    accept(spec("a", "123456"));

    // when: a batch of 2 + 3 bytes asks for room, with no time to wait
    Admission admission = store.submit(List.of(spec("a", "12"), spec("a", "123")), Duration.ZERO);

    // then: refused at once, whole, saying what holds the memory; the room it took is given back
    Admission.Rejected rejected = assertInstanceOf(Admission.Rejected.class, admission);
    assertEquals(Admission.Reason.QUEUE_FULL, rejected.reason());
    assertEquals(Duration.ofSeconds(1), rejected.retryAfter());
    assertTrue(
        rejected.message().contains("already holds 6 bytes of payloads (its limit is 10)"),
        rejected.message());
    JobCounts counts = store.counts();
    assertEquals(1, counts.queued());
    assertEquals(6, counts.payloadBytes());
    accept(spec("a", "1234")); // exactly up to the limit fits
    assertEquals(10, store.counts().payloadBytes());
  }

  @Test
  void aBatchLargerThanTheWholeByteLimitCanNeverFit() throws Exception {
    store = storeWithPayloadLimit(4);

    Admission admission = store.submit(List.of(spec("a", "12345")), Duration.ofMinutes(5));

    Admission.Rejected rejected = assertInstanceOf(Admission.Rejected.class, admission);
    assertEquals(Admission.Reason.TOO_LARGE, rejected.reason());
    assertEquals(Duration.ZERO, rejected.retryAfter());
    assertTrue(rejected.message().contains("can never fit"), rejected.message());
    assertEquals(0, store.counts().payloadBytes());
  }

  @Test
  void theInMemoryStoreWritesNoRecordSoABatchOfMoreThan16MiBFits() throws Exception {
    // (a durable store refuses it: see DurableJobStoreTest)
    JobId id = accept(JobSpec.wrap("a", new byte[17 << 20])).getFirst();

    assertEquals(17 << 20, claim().payloadBytes().length);
    assertEquals(id, store.find(id).orElseThrow().id());
  }

  @Test
  void finishedJobsGiveTheirBytesBackAndDeadLettersKeepThemUntilDeleted() throws Exception {
    // given: the limit full with two jobs
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345"), spec("a", "abcde"));
    assertInstanceOf(
        Admission.Rejected.class, store.submit(List.of(spec("a", "x")), Duration.ZERO));

    // when one succeeds: its bytes are free again
    store.succeeded(claim().id());
    assertEquals(5, store.counts().payloadBytes());
    JobId third = accept(spec("a", "vwxyz")).getFirst();

    // when one dies: a dead letter keeps its payload (it can be retried), so its bytes stay held
    store.failed(claim().id(), "boom", Optional.empty());
    JobCounts counts = store.counts();
    assertEquals(10, counts.payloadBytes());
    assertEquals(5, counts.deadPayloadBytes());
    Admission.Rejected rejected =
        assertInstanceOf(
            Admission.Rejected.class, store.submit(List.of(spec("a", "x")), Duration.ZERO));
    assertTrue(
        rejected.message().contains("Dead letters hold 5 of those bytes: retry or delete them"),
        rejected.message());

    // a retried dead letter is pending again, with the same bytes; a deleted one frees them
    JobId dead = store.deadLetters(Optional.empty(), 1).getFirst().id();
    assertRetried(dead);
    assertEquals(0, store.counts().deadPayloadBytes());
    assertEquals(10, store.counts().payloadBytes());
    store.failed(claim().id(), "boom again", Optional.empty());
    store.failed(claim().id(), "boom too", Optional.empty());
    assertEquals(10, store.counts().deadPayloadBytes());
    assertTrue(store.deleteDead(dead));
    assertTrue(store.deleteDead(third));
    assertEquals(0, store.counts().payloadBytes());
    accept(spec("a", "0123456789"));
  }

  @Test
  void aSubmitterWaitingForRoomGetsInWhenAJobFinishes() throws Exception {
    store = storeWithCapacity(1);
    accept(spec("a", "1"));
    Job running = claim();
    CompletableFuture<Admission> waiting = new CompletableFuture<>();
    Thread submitter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    waiting.complete(store.submit(List.of(spec("a", "2")), Duration.ofMinutes(5)));
                  } catch (Throwable t) {
                    waiting.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(submitter);
    assertFalse(waiting.isDone());

    store.succeeded(running.id());

    assertInstanceOf(Admission.Accepted.class, waiting.get(10, TimeUnit.SECONDS));
  }

  /** Starts a virtual thread that submits {@code n} jobs, waiting up to five minutes for room. */
  private CompletableFuture<Admission> submitWaiting(int n) throws InterruptedException {
    CompletableFuture<Admission> admission = new CompletableFuture<>();
    Thread submitter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    List<JobSpec> batch = Collections.nCopies(n, spec("a", "w"));
                    admission.complete(store.submit(batch, Duration.ofMinutes(5)));
                  } catch (Throwable t) {
                    admission.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(submitter);
    return admission;
  }

  @Test
  void aSmallBatchWaitingBehindALargeOneGetsInAsSoonAsItFits() throws Exception {
    store = storeWithCapacity(4);
    accept(spec("a", "1"), spec("a", "2"), spec("a", "3"), spec("a", "4"));
    List<Job> running = List.of(claim(), claim(), claim(), claim());
    CompletableFuture<Admission> large = submitWaiting(3); // waits first, so it is woken first
    CompletableFuture<Admission> small = submitWaiting(1);

    store.succeeded(running.get(0).id()); // room for 1: the large batch is woken, and passes it on

    assertInstanceOf(Admission.Accepted.class, small.get(10, TimeUnit.SECONDS));
    assertFalse(large.isDone());
    store.succeeded(running.get(1).id());
    store.succeeded(running.get(2).id());
    assertFalse(large.isDone()); // room for 2 of its 3
    store.succeeded(running.get(3).id());
    assertInstanceOf(Admission.Accepted.class, large.get(10, TimeUnit.SECONDS));
    assertEquals(4, store.counts().pending());
  }

  @Test
  void submittersOfManySizesWaitingForRoomAllGetInAsWorkersFinish() throws Exception {
    int capacity = 24;
    int submitters = 48;
    int batchesEach = 40;
    store = storeWithCapacity(capacity);
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    java.util.concurrent.atomic.AtomicLong accepted = new java.util.concurrent.atomic.AtomicLong();
    for (int s = 0; s < submitters; s++) {
      int size = 1 + s % 8;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int b = 0; b < batchesEach; b++) {
                        Admission a =
                            store.submit(
                                Collections.nCopies(size, spec("a", "x")), Duration.ofMinutes(5));
                        assertInstanceOf(Admission.Accepted.class, a);
                        accepted.addAndGet(size);
                      }
                    } catch (Throwable t) {
                      failure.compareAndSet(null, t);
                    }
                  }));
    }
    long expected = 0;
    for (int s = 0; s < submitters; s++) {
      expected += (long) (1 + s % 8) * batchesEach;
    }
    long finished = 0;
    while (finished < expected) {
      store.succeeded(claim().id());
      finished++;
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    assertEquals(expected, accepted.get());
    assertEquals(0, store.counts().pending());
  }

  @Test
  void aBoundedWaitForRoomEndsInARejection() throws Exception {
    store = storeWithCapacity(1);
    accept(spec("a", "1"));

    Admission admission = store.submit(List.of(spec("a", "2")), Duration.ofMillis(20));

    assertInstanceOf(Admission.Rejected.class, admission);
    assertEquals(1, store.counts().pending());
  }

  @Test
  void anAlreadyInterruptedSubmitterWaitingForRoomAcceptsNothing() throws Exception {
    store = storeWithCapacity(1);
    accept(spec("a", "1"));

    Thread.currentThread().interrupt();
    assertThrows(
        InterruptedException.class,
        () -> store.submit(List.of(spec("a", "2")), Duration.ofMinutes(1)));

    assertEquals(1, store.counts().pending());
  }

  @Test
  void aSubmitterInterruptedWhileWaitingForRoomAcceptsNothing() throws Exception {
    store = storeWithCapacity(1);
    accept(spec("a", "1"));
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread submitter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    store.submit(List.of(spec("a", "2")), Duration.ofMinutes(5));
                  } catch (Throwable t) {
                    outcome.set(t);
                  }
                });
    Waits.untilBlocked(submitter);

    submitter.interrupt();
    submitter.join();

    assertInstanceOf(InterruptedException.class, outcome.get());
    assertEquals(1, store.counts().pending());
  }

  /** Starts a virtual thread that submits {@code specs}, waiting up to five minutes for room. */
  private CompletableFuture<Admission> submitWaiting(List<JobSpec> specs) {
    CompletableFuture<Admission> admission = new CompletableFuture<>();
    Thread submitter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    admission.complete(store.submit(specs, Duration.ofMinutes(5)));
                  } catch (Throwable t) {
                    admission.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(submitter);
    return admission;
  }

  @Test
  void aSubmitterWaitingForPayloadBytesGetsInWhenAJobFinishes() throws Exception {
    // given: room for 10 jobs but 10 payload bytes, 8 of them held by a running job
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345678"));
    Job running = claim();

    // when: a batch of 5 bytes waits; it fits the queue, not the bytes
    CompletableFuture<Admission> waiting = submitWaiting(List.of(spec("a", "abcde")));
    assertFalse(waiting.isDone());
    store.succeeded(running.id());

    // then: it gets in, and holds its bytes
    assertInstanceOf(Admission.Accepted.class, waiting.get(10, TimeUnit.SECONDS));
    assertEquals(5, store.counts().payloadBytes());
    assertEquals(1, store.counts().queued());
  }

  @Test
  void aSubmitterWaitingForPayloadBytesGetsInWhenADeadLetterIsDeleted() throws Exception {
    // given: a dead letter holding 8 of 10 bytes (dead letters keep their payload)
    store = storeWithPayloadLimit(10);
    JobId dead = accept(spec("a", "12345678")).getFirst();
    store.failed(claim().id(), "boom", Optional.empty());
    CompletableFuture<Admission> waiting = submitWaiting(List.of(spec("a", "abcde")));

    // when
    assertTrue(store.deleteDead(dead));

    // then
    assertInstanceOf(Admission.Accepted.class, waiting.get(10, TimeUnit.SECONDS));
    assertEquals(5, store.counts().payloadBytes());
  }

  @Test
  void aSmallPayloadWaitingBehindALargeOneGetsInAsSoonAsItsBytesFit() throws Exception {
    // given: 10 of 10 bytes held by two running jobs, a waiter for 8 bytes, then one for 2
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345"), spec("a", "abcde"));
    List<Job> running = List.of(claim(), claim());
    CompletableFuture<Admission> large = submitWaiting(List.of(spec("a", "LLLLLLLL")));
    CompletableFuture<Admission> small = submitWaiting(List.of(spec("a", "ss")));

    // when 5 bytes free: the large batch is woken first, and passes the wake-up on
    store.succeeded(running.get(0).id());

    // then the small one gets in, the large one only when its 8 bytes are free
    assertInstanceOf(Admission.Accepted.class, small.get(10, TimeUnit.SECONDS));
    assertFalse(large.isDone());
    store.succeeded(running.get(1).id());
    assertInstanceOf(Admission.Accepted.class, large.get(10, TimeUnit.SECONDS));
    assertEquals(10, store.counts().payloadBytes());
  }

  @Test
  void waitersThatNeedJobRoomAndWaitersThatNeedBytesAllGetInAsJobsFinish() throws Exception {
    // Mixed needs: some batches are many small jobs (the capacity binds), some few large ones
    // (the bytes bind), so a woken waiter often lacks what another one needs.
    int capacity = 12;
    long limit = 64;
    int submitters = 32;
    int batchesEach = 30;
    store =
        LocalJobStore.inMemory(
            JobStoreOptions.defaults()
                .withCapacity(capacity)
                .withPayloadBytesLimit(limit)
                .withClock(clock)
                .withFinishedRetention(3));
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long expected = 0;
    for (int s = 0; s < submitters; s++) {
      boolean manySmall = s % 2 == 0;
      int jobs = manySmall ? 1 + s % 6 : 1;
      String payload = manySmall ? "x" : "y".repeat(8 + s % 24);
      expected += (long) jobs * batchesEach;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int b = 0; b < batchesEach; b++) {
                        Admission a =
                            store.submit(
                                Collections.nCopies(jobs, spec("a", payload)),
                                Duration.ofMinutes(5));
                        assertInstanceOf(Admission.Accepted.class, a);
                      }
                    } catch (Throwable t) {
                      failure.compareAndSet(null, t);
                    }
                  }));
    }
    for (long finished = 0; finished < expected; finished++) {
      store.succeeded(claim().id());
    }
    for (Thread t : threads) {
      t.join();
    }
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    JobCounts counts = store.counts();
    assertEquals(0, counts.pending());
    assertEquals(0, counts.payloadBytes());
    assertEquals(expected, counts.succeeded());
  }

  @Test
  void aBoundedWaitForPayloadBytesEndsInARejectionThatNamesTheBytes() throws Exception {
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345678"));

    Admission admission = store.submit(List.of(spec("a", "abcde")), Duration.ofMillis(20));

    Admission.Rejected rejected = assertInstanceOf(Admission.Rejected.class, admission);
    assertEquals(Admission.Reason.QUEUE_FULL, rejected.reason());
    assertTrue(rejected.message().contains("already holds 8 bytes"), rejected.message());
    assertEquals(1, store.counts().pending());
    assertEquals(8, store.counts().payloadBytes());
  }

  @Test
  void anAlreadyInterruptedSubmitterWaitingForPayloadBytesAcceptsNothing() throws Exception {
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345678"));

    Thread.currentThread().interrupt();
    assertThrows(
        InterruptedException.class,
        () -> store.submit(List.of(spec("a", "abcde")), Duration.ofMinutes(1)));

    assertEquals(1, store.counts().pending());
    assertEquals(8, store.counts().payloadBytes());
  }

  @Test
  void aSubmitterInterruptedWhileWaitingForPayloadBytesAcceptsNothing() throws Exception {
    // given: a waiter for bytes, and a running job that will free them
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345678"));
    Job running = claim();
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread submitter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    store.submit(List.of(spec("a", "abcde")), Duration.ofMinutes(5));
                  } catch (Throwable t) {
                    outcome.set(t);
                  }
                });
    Waits.untilBlocked(submitter);

    // when it is interrupted
    submitter.interrupt();
    submitter.join();

    // then nothing was admitted, and the room it waited for is whole for the next one
    assertInstanceOf(InterruptedException.class, outcome.get());
    assertEquals(1, store.counts().pending());
    assertEquals(8, store.counts().payloadBytes());
    store.succeeded(running.id());
    accept(spec("a", "0123456789"));
  }

  @Test
  void aWaiterForPayloadBytesIsRejectedAsShuttingDownWhenAdmissionStops() throws Exception {
    store = storeWithPayloadLimit(10);
    accept(spec("a", "12345678"));
    CompletableFuture<Admission> waiting = submitWaiting(List.of(spec("a", "abcde")));

    store.stopAdmission();

    Admission.Rejected rejected =
        assertInstanceOf(Admission.Rejected.class, waiting.get(10, TimeUnit.SECONDS));
    assertEquals(Admission.Reason.SHUTTING_DOWN, rejected.reason());
    assertEquals(8, store.counts().payloadBytes());
  }

  @Test
  void anEmptyBatchIsAMistake() {
    assertThrows(IllegalArgumentException.class, () -> store.submit(List.of(), Duration.ZERO));
  }

  @Test
  void afterStopAdmissionEverySubmitIsRejectedAsShuttingDown() throws Exception {
    store.stopAdmission();

    Admission.Rejected rejected =
        assertInstanceOf(
            Admission.Rejected.class, store.submit(List.of(spec("a", "1")), Duration.ofMinutes(1)));

    assertEquals(Admission.Reason.SHUTTING_DOWN, rejected.reason());
  }

  @Test
  void aClaimWaitsUntilAJobIsSubmitted() throws Exception {
    CompletableFuture<Job> claimed = new CompletableFuture<>();
    Thread worker =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    claimed.complete(claim());
                  } catch (Throwable t) {
                    claimed.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(worker);

    JobId id = accept(spec("a", "x")).getFirst();

    assertEquals(id, claimed.get(10, TimeUnit.SECONDS).id());
  }

  @Test
  void anAlreadyInterruptedClaimThrows() {
    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> store.claim(ANY));
  }

  @Test
  void aClaimInterruptedWhileWaitingThrowsAndTakesNothing() throws Exception {
    AtomicReference<Throwable> outcome = new AtomicReference<>();
    Thread worker =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    store.claim(ANY);
                  } catch (Throwable t) {
                    outcome.set(t);
                  }
                });
    Waits.untilBlocked(worker);

    worker.interrupt();
    worker.join();
    accept(spec("a", "x"));

    assertInstanceOf(InterruptedException.class, outcome.get());
    assertEquals(1, store.counts().queued());
  }

  @Test
  void stopClaimsReleasesWaitingWorkersWithNothing() throws Exception {
    CompletableFuture<Optional<Job>> claimed = new CompletableFuture<>();
    Thread worker =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    claimed.complete(store.claim(ANY));
                  } catch (Throwable t) {
                    claimed.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(worker);

    store.stopClaims();

    assertTrue(claimed.get(10, TimeUnit.SECONDS).isEmpty());
    assertTrue(store.claim(ANY).isEmpty());
  }

  @Test
  void typesTakeTurnsSoABusyTypeCannotStarveAnother() throws Exception {
    accept(spec("bulk", "1"), spec("bulk", "2"), spec("bulk", "3"), spec("bulk", "4"));
    accept(spec("urgent", "u"));

    List<String> order = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      order.add(claim().type());
    }

    assertTrue(order.subList(0, 2).contains("urgent"), "urgent among the first two: " + order);
  }

  @Test
  void aClaimSkipsTypesTheGateRefusesAndWakesWhenTheGateOpens() throws Exception {
    accept(spec("slow", "s"), spec("fast", "f"));
    AtomicReference<Boolean> slowOpen = new AtomicReference<>(false);
    JobStore.TypeGate gate = type -> !type.equals("slow") || slowOpen.get();

    assertEquals("fast", store.claim(gate).orElseThrow().type());
    CompletableFuture<Job> claimed = new CompletableFuture<>();
    Thread worker =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    claimed.complete(store.claim(gate).orElseThrow());
                  } catch (Throwable t) {
                    claimed.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(worker);
    slowOpen.set(true);
    store.gateOpened();

    assertEquals("slow", claimed.get(10, TimeUnit.SECONDS).type());
  }

  @Test
  void aJobWithAStartTimeWaitsForIt() throws Exception {
    JobId id = accept(spec("a", "later").withRunAt(clock.now().plusSeconds(60))).getFirst();
    Job waiting = store.find(id).orElseThrow();
    assertEquals(JobState.QUEUED, waiting.state());
    assertEquals(Optional.of(clock.now().plusSeconds(60)), waiting.nextAttemptAt());
    CompletableFuture<Job> claimed = new CompletableFuture<>();
    Thread worker =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    claimed.complete(claim());
                  } catch (Throwable t) {
                    claimed.completeExceptionally(t);
                  }
                });
    Waits.untilBlocked(worker);

    clock.advance(Duration.ofSeconds(59));
    assertFalse(claimed.isDone());
    clock.advance(Duration.ofSeconds(1));

    assertEquals(id, claimed.get(10, TimeUnit.SECONDS).id());
  }

  @Test
  void aStartTimeInThePastMeansNow() throws Exception {
    JobId id = accept(spec("a", "x").withRunAt(clock.now().minusSeconds(60))).getFirst();

    assertEquals(id, claim().id());
  }

  @Test
  void aFailedAttemptWithARetryTimeWaitsAndThenRunsAgain() throws Exception {
    JobId id = accept(spec("a", "x")).getFirst();
    store.failed(claim().id(), "boom", Optional.of(clock.now().plusSeconds(10)));

    Job waiting = store.find(id).orElseThrow();
    assertEquals(JobState.RETRY_WAIT, waiting.state());
    assertEquals(Optional.of("boom"), waiting.lastError());
    assertEquals(Optional.of(clock.now().plusSeconds(10)), waiting.nextAttemptAt());
    assertEquals(1, store.counts().retryWait());

    clock.advance(Duration.ofSeconds(10));
    Job again = claim();

    assertEquals(id, again.id());
    assertEquals(2, again.attempts());
    assertEquals(Optional.of("boom"), again.lastError());
  }

  @Test
  void aJobKnowsWhenItWasCreatedWhenItsLastAttemptStartedAndWhenItFinished() throws Exception {
    Instant t0 = clock.now();
    List<JobId> ids = accept(spec("a", "ok"), spec("a", "dead"));
    Job queued = store.find(ids.get(0)).orElseThrow();
    assertEquals(t0, queued.createdAt());
    assertEquals(Optional.empty(), queued.lastAttemptAt());
    assertEquals(Optional.empty(), queued.finishedAt());

    clock.advance(Duration.ofSeconds(1));
    Job first = claim();
    assertEquals(Optional.of(t0.plusSeconds(1)), first.lastAttemptAt());
    clock.advance(Duration.ofSeconds(2));
    store.succeeded(first.id());
    Job done = store.find(ids.get(0)).orElseThrow();
    assertEquals(Optional.of(t0.plusSeconds(1)), done.lastAttemptAt());
    assertEquals(Optional.of(t0.plusSeconds(3)), done.finishedAt());

    Job second = claim();
    clock.advance(Duration.ofSeconds(1));
    store.failed(second.id(), "boom", Optional.of(clock.now().plusSeconds(5)));
    Job waiting = store.find(ids.get(1)).orElseThrow();
    assertEquals(Optional.of(t0.plusSeconds(3)), waiting.lastAttemptAt());
    assertEquals(Optional.empty(), waiting.finishedAt(), "waiting to retry is not finished");
    clock.advance(Duration.ofSeconds(5));
    store.failed(claim().id(), "fatal", Optional.empty());
    Job dead = store.find(ids.get(1)).orElseThrow();
    assertEquals(Optional.of(t0.plusSeconds(9)), dead.lastAttemptAt());
    assertEquals(Optional.of(t0.plusSeconds(9)), dead.finishedAt());

    assertRetried(ids.get(1));
    Job again = store.find(ids.get(1)).orElseThrow();
    assertEquals(Optional.empty(), again.lastAttemptAt(), "queued again: it starts over");
    assertEquals(Optional.empty(), again.finishedAt());
  }

  @Test
  void aRetryDueAtOnceIsQueuedAtOnce() throws Exception {
    accept(spec("a", "x"));
    store.failed(claim().id(), "boom", Optional.of(clock.now()));

    assertEquals(2, claim().attempts());
  }

  @Test
  void deadLettersAreListedInPagesRetriedWithFreshAttemptsAndDeleted() throws Exception {
    store = storeWithCapacity(10);
    List<JobId> ids = accept(spec("a", "1"), spec("a", "2"), spec("a", "3"));
    for (int i = 0; i < 3; i++) {
      store.failed(claim().id(), "fatal " + i, Optional.empty());
    }

    List<Job> first = store.deadLetters(Optional.empty(), 2);
    List<Job> second = store.deadLetters(Optional.of(first.getLast().id()), 2);
    assertEquals(ids.subList(0, 2), first.stream().map(Job::id).toList());
    assertEquals(ids.subList(2, 3), second.stream().map(Job::id).toList());
    assertEquals(JobState.DEAD, first.getFirst().state());
    assertEquals(Optional.of("fatal 0"), first.getFirst().lastError());
    assertEquals("1", text(first.getFirst()));

    assertRetried(ids.get(0));
    assertTrue(store.deleteDead(ids.get(1)));
    assertEquals(
        Admission.Reason.NOT_A_DEAD_LETTER,
        assertInstanceOf(Admission.Rejected.class, store.retryDead(ids.get(1))).reason());
    assertFalse(store.deleteDead(ids.get(0)));

    Job retried = claim();
    assertEquals(ids.get(0), retried.id());
    assertEquals(1, retried.attempts());
    assertTrue(store.find(ids.get(1)).isEmpty());
    assertEquals(1, store.counts().dead());
  }

  @Test
  void aFinishedJobIsRememberedWithoutItsPayloadUntilRetentionForgetsIt() throws Exception {
    List<JobId> ids = accept(spec("a", "1"), spec("a", "2"), spec("a", "3"), spec("a", "4"));
    for (int i = 0; i < 4; i++) {
      store.succeeded(claim().id());
    }

    Job done = store.find(ids.get(3)).orElseThrow();
    assertEquals(JobState.SUCCEEDED, done.state());
    assertEquals(0, done.payload().remaining());
    assertTrue(store.find(ids.get(0)).isEmpty(), "retention is 3");
    assertEquals(4, store.counts().succeeded());
  }

  @Test
  void withNoRetentionAFinishedJobIsForgottenAtOnceAndADeadOneIsKept() throws Exception {
    store.close();
    store =
        LocalJobStore.inMemory(
            JobStoreOptions.defaults().withClock(clock).withFinishedRetention(0));
    List<JobId> ids = accept(spec("a", "1"), spec("a", "2"));
    store.succeeded(claim().id());
    store.failed(claim().id(), "boom", Optional.empty());

    assertTrue(store.find(ids.get(0)).isEmpty());
    assertEquals(JobState.DEAD, store.find(ids.get(1)).orElseThrow().state());
    assertEquals(java.util.Set.of(ids.get(1)), store.liveIds());
  }

  @Test
  void anAbandonedAttemptIsQueuedAgainAndNotCounted() throws Exception {
    JobId id = accept(spec("a", "x")).getFirst();
    store.abandoned(claim().id());

    assertEquals(JobState.QUEUED, store.find(id).orElseThrow().state());
    assertEquals(1, claim().attempts());
    assertEquals(0, store.counts().failedAttempts());
  }

  @Test
  void reportingOnAJobWithoutARunningAttemptIsAnError() throws Exception {
    JobId id = accept(spec("a", "x")).getFirst();

    var e = assertThrows(IllegalStateException.class, () -> store.succeeded(id));
    assertTrue(e.getMessage().contains("QUEUED"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> store.succeeded(JobId.next()));
  }

  @Test
  void aRecoveredJobIsAdmittedEvenBeyondCapacity() throws Exception {
    store = storeWithCapacity(1);
    for (int i = 0; i < 3; i++) {
      store.recover(new Entry(JobId.next(), "a", new byte[0], null, clock.now(), null));
    }

    assertEquals(3, store.counts().queued());
    assertEquals(3, store.counts().recovered());
    assertInstanceOf(
        Admission.Rejected.class, store.submit(List.of(spec("a", "x")), Duration.ZERO));
    store.checkInvariants(); // beyond the capacity, as far as the recovered jobs go
  }

  /** A gate that admits every type, without limit (so claims may take several). */
  static final JobStore.TypeGate UNLIMITED =
      new JobStore.TypeGate() {
        @Override
        public boolean tryEnter(String type) {
          return true;
        }

        @Override
        public boolean unlimited(String type) {
          return true;
        }
      };

  /** The workers' claim of one job, after recording {@code succeeded}. */
  private Entry claimAfter(JobStore.Claim... succeeded) throws InterruptedException {
    List<JobStore.Claim> claims = store.claim(List.of(succeeded), new JobStore.Claimer(ANY, 1, 1));
    return claims.isEmpty() ? null : (Entry) claims.getFirst();
  }

  private List<JobStore.Claim> claimBatch(int batch, int claimers) throws InterruptedException {
    return store.claim(List.of(), new JobStore.Claimer(UNLIMITED, batch, claimers));
  }

  @Test
  void aClaimAfterASuccessRecordsItAndHandsOutTheNextEntry() throws Exception {
    List<JobId> ids = accept(spec("a", "1"), spec("a", "2"));
    Entry first = claimAfter();

    Entry second = claimAfter(first);

    assertEquals(ids.get(1), second.id);
    assertEquals(JobState.RUNNING, second.state);
    Job done = store.find(ids.get(0)).orElseThrow();
    assertEquals(JobState.SUCCEEDED, done.state());
    assertEquals(1, done.attempts());
    assertEquals(1, store.counts().succeeded());
    assertEquals(1, store.counts().running());
  }

  @Test
  void aClaimAfterASuccessThatFindsNothingStillRecordsTheSuccessWhenStopped() throws Exception {
    JobId id = accept(spec("a", "1")).getFirst();
    Entry entry = claimAfter();
    store.stopClaims();

    assertEquals(null, claimAfter(entry));

    assertEquals(JobState.SUCCEEDED, store.find(id).orElseThrow().state());
    assertEquals(0, store.counts().running());
  }

  @Test
  void anInterruptedClaimAfterASuccessRecordsTheSuccessBeforeItThrows() throws Exception {
    JobId id = accept(spec("a", "1")).getFirst();
    Entry entry = claimAfter();

    Thread.currentThread().interrupt();
    assertThrows(InterruptedException.class, () -> claimAfter(entry));

    assertEquals(JobState.SUCCEEDED, store.find(id).orElseThrow().state());
    assertEquals(1, store.counts().succeeded());
  }

  @Test
  void reportingOnAClaimedEntryWorksWithoutTheIdAndOnlyOnce() throws Exception {
    List<JobId> ids = accept(spec("a", "1"), spec("a", "2"), spec("a", "3"));
    Entry failed = claimAfter();
    Entry abandoned = claimAfter();
    Entry succeeded = claimAfter();

    store.failed(failed, "boom", Optional.empty());
    store.abandoned(abandoned);
    store.succeeded(succeeded);

    Job dead = store.find(ids.get(0)).orElseThrow();
    assertEquals(JobState.DEAD, dead.state());
    assertEquals(Optional.of("boom"), dead.lastError());
    assertEquals(JobState.QUEUED, store.find(ids.get(1)).orElseThrow().state());
    assertEquals(JobState.SUCCEEDED, store.find(ids.get(2)).orElseThrow().state());
    var e = assertThrows(IllegalStateException.class, () -> store.succeeded(succeeded));
    assertTrue(e.getMessage().contains("SUCCEEDED"), e.getMessage());
    assertThrows(IllegalStateException.class, () -> claimAfter(failed));
  }

  @Test
  void aBatchClaimTakesAnEvenShareOfTheDueJobsUpToTheBatch() throws Exception {
    List<JobId> ids = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      ids.addAll(accept(spec("a", "" + i)));
    }

    List<JobStore.Claim> first = claimBatch(16, 4); // 10 due among 4 claimers: 3
    List<JobStore.Claim> second = claimBatch(16, 4); // 7 left: 2
    List<JobStore.Claim> third = claimBatch(2, 1); // 5 left, but a batch of 2

    assertEquals(ids.subList(0, 3), first.stream().map(c -> c.job().id()).toList());
    assertEquals(ids.subList(3, 5), second.stream().map(c -> c.job().id()).toList());
    assertEquals(ids.subList(5, 7), third.stream().map(c -> c.job().id()).toList());
    for (JobStore.Claim c : first) {
      assertEquals(JobState.RUNNING, c.job().state());
      assertEquals(1, c.job().attempts());
    }
    assertEquals(7, store.counts().running());
    assertEquals(3, store.counts().queued());
  }

  @Test
  void aBatchClaimTakesOneJobOfATypeItsGateLimits() throws Exception {
    accept(spec("a", "1"), spec("a", "2"), spec("a", "3"));

    List<JobStore.Claim> claims = store.claim(List.of(), new JobStore.Claimer(ANY, 16, 1));

    assertEquals(1, claims.size());
  }

  @Test
  void aBatchIsStartedAndItsSuccessesRecordedInOneRecordEach() throws Exception {
    List<String> records = new ArrayList<>();
    store =
        new LocalJobStore(
            JobStoreOptions.defaults().withCapacity(10).withClock(clock), recordingLog(records));
    accept(spec("a", "1"), spec("a", "2"), spec("a", "3"));
    List<JobStore.Claim> claims = claimBatch(16, 1);

    assertEquals(List.of("started 3"), records);
    store.stopClaims();
    assertEquals(List.of(), store.claim(claims, new JobStore.Claimer(UNLIMITED, 16, 1)));

    assertEquals(List.of("started 3", "succeeded 3"), records);
    assertEquals(3, store.counts().succeeded());
  }

  /** A JobLog that notes the size of each STARTED and SUCCEEDED record and records nothing. */
  private static JobLog recordingLog(List<String> records) {
    return (JobLog)
        java.lang.reflect.Proxy.newProxyInstance(
            JobLog.class.getClassLoader(),
            new Class<?>[] {JobLog.class},
            (proxy, method, args) -> {
              if (method.isDefault()) { // maxRecordBytes: unlimited, as for the in-memory store
                return java.lang.reflect.InvocationHandler.invokeDefault(proxy, method, args);
              }
              if (method.getName().equals("started") || method.getName().equals("succeeded")) {
                records.add(method.getName() + " " + ((List<?>) args[0]).size());
              }
              return method.getReturnType() == long.class ? 0L : null;
            });
  }
}
