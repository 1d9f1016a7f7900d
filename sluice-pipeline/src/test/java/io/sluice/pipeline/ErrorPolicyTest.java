package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ManualClock;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Fail fast, skip to an error sink, retry then dead-letter: per run and per stage. */
@Timeout(30)
class ErrorPolicyTest {
  private static final Context CTX = Context.background();

  @Test
  void failFastThrowsOneExceptionNamingTheStageAndTheItem() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 100)
                    .map(x -> x + 1)
                    .map(
                        x -> {
                          if (x == 42) {
                            throw new IOException("disk full");
                          }
                          return x;
                        })
                    .named("write")
                    .toList(CTX));

    assertEquals("write", e.stage());
    assertEquals(42, e.item().orElseThrow());
    assertInstanceOf(IOException.class, e.getCause());
    assertTrue(e.getMessage().contains("'write'") && e.getMessage().contains("42"), e.getMessage());
    assertEquals(Outcome.FAILED, e.report().outcome());
    assertEquals(1, e.report().stage("write").orElseThrow().failed());
  }

  @Test
  void aFunctionThatLeavesTheInterruptStatusSetFailsTheRunWithAnExplanation() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 10_000)
                    .map(
                        x -> {
                          if (x == 5000) {
                            Thread.currentThread().interrupt(); // as a swallowed interrupt does
                          }
                          return x;
                        })
                    .named("enrich")
                    .toList(CTX));

    assertEquals("enrich", e.stage());
    assertInstanceOf(IllegalStateException.class, e.getCause());
    assertInstanceOf(InterruptedException.class, e.getCause().getCause());
    assertTrue(
        e.getCause().getMessage().contains("leaves the thread's interrupt status set"),
        e.getCause().getMessage());
  }

  @Test
  void anErrorFromUserCodeFailsTheRunLikeAnException() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 10)
                    .peek(
                        x -> {
                          if (x == 3) {
                            throw new StackOverflowError("deep");
                          }
                        })
                    .toList(CTX));

    assertInstanceOf(StackOverflowError.class, e.getCause());
    assertEquals("peek", e.stage());
  }

  @Test
  void theFirstFailureCancelsTheRunAndALaterOneIsSuppressed() {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    Monitor monitor = Monitor.create();
    CountDownLatch terminalActing = new CountDownLatch(1);

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 10)
                    .map(
                        x -> {
                          if (x == 5) {
                            terminalActing.await(); // the terminal holds item 0 by now
                            throw new IllegalStateException("first");
                          }
                          return x;
                        })
                    .named("check")
                    .withOptions(threads.options().withChunkSize(1).withMonitor(monitor))
                    .forEach(
                        CTX,
                        x -> {
                          terminalActing.countDown();
                          // the terminal fails second: once the first failure is recorded
                          TrackingThreadFactory.awaitTrue(
                              () -> monitor.snapshot().stage("check").orElseThrow().failed() == 1);
                          throw new IllegalStateException("later");
                        }));

    assertEquals("check", e.stage());
    assertEquals("first", e.getCause().getMessage());
    assertEquals(1, e.getSuppressed().length);
    assertEquals("later", e.getSuppressed()[0].getMessage());
    threads.assertAllEnded();
  }

  @Test
  void skipWritesTheFailureToTheErrorSinkAndTheRunGoesOn() throws Exception {
    List<Failure> errors = new CopyOnWriteArrayList<>();

    Result<List<Integer>> r =
        Pipeline.range(0, 10)
            .map(
                x -> {
                  if (x % 3 == 0) {
                    throw new IllegalArgumentException("bad " + x);
                  }
                  return x;
                })
            .named("check")
            .withOptions(
                Pipeline.Options.defaults().withErrorPolicy(ErrorPolicy.skip(errors::addAll)))
            .toList(CTX);

    assertEquals(List.of(1, 2, 4, 5, 7, 8), r.value());
    assertEquals(Outcome.COMPLETED, r.outcome());
    assertEquals(List.of(0, 3, 6, 9), errors.stream().map(Failure::item).toList());
    assertTrue(errors.stream().allMatch(f -> f.stage().equals("check") && f.attempts() == 1));
    assertEquals(4, r.report().stage("check").orElseThrow().failed());
  }

  @ParameterizedTest
  @ValueSource(strings = {"failFast", "skip", "retry"})
  void whatTheShutdownInterruptMakesAFunctionThrowIsNeitherReportedNorCounted(String name)
      throws Exception {
    List<Failure> failures = new CopyOnWriteArrayList<>();
    ErrorPolicy policy =
        switch (name) {
          case "skip" -> ErrorPolicy.skip(failures::addAll);
          case "retry" -> ErrorPolicy.retry(1, Duration.ZERO, failures::addAll);
          default -> ErrorPolicy.failFast();
        };
    CountDownLatch othersBlocked = new CountDownLatch(3);

    Result<List<Integer>> r =
        Pipeline.range(0, 4)
            .mapParallel(
                4,
                x -> {
                  if (x == 0) {
                    othersBlocked.await(); // goes out only once the other three are stuck
                    return x;
                  }
                  othersBlocked.countDown();
                  try {
                    new CountDownLatch(1).await(); // never returns: only the shutdown ends it
                  } catch (InterruptedException e) {
                    throw new IOException("closed by interrupt", e); // as NIO does
                  }
                  return x;
                })
            .named("fetch")
            .take(1)
            .withOptions(Pipeline.Options.defaults().withErrorPolicy(policy))
            .toList(CTX);

    assertEquals(List.of(0), r.value());
    assertEquals(Outcome.COMPLETED, r.outcome());
    assertEquals(List.of(), failures);
    assertEquals(0, r.report().stage("fetch").orElseThrow().failed());
  }

  @Test
  void aStageOverrideAppliesToThatStageOnly() {
    List<Failure> errors = new CopyOnWriteArrayList<>();

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 10)
                    .map(
                        x -> {
                          if (x == 1) {
                            throw new IllegalArgumentException("skipped");
                          }
                          return x;
                        })
                    .onError(ErrorPolicy.skip(errors::addAll))
                    .map(
                        x -> {
                          if (x == 5) {
                            throw new IllegalArgumentException("fatal");
                          }
                          return x;
                        })
                    .named("second")
                    .toList(CTX));

    assertEquals("second", e.stage());
    assertEquals(1, errors.size());
  }

  @Test
  void retrySucceedsAfterBackoffsOnTheContextsClock() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    AtomicInteger calls = new AtomicInteger();
    List<Failure> dead = new CopyOnWriteArrayList<>();
    AtomicReference<Result<List<String>>> result = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(
                        Pipeline.from(List.of("a"))
                            .map(
                                s -> {
                                  if (calls.incrementAndGet() < 3) {
                                    throw new IOException("flaky");
                                  }
                                  return s + "!";
                                })
                            .onError(
                                ErrorPolicy.retry(3, Duration.ofSeconds(1), dead::addAll)
                                    .withoutJitter())
                            .toList(Context.background(clock)));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    TrackingThreadFactory.awaitTrue(() -> clock.pendingTimers() > 0);
    clock.advance(Duration.ofSeconds(1)); // first backoff: 1 s
    TrackingThreadFactory.awaitTrue(() -> calls.get() == 2 && clock.pendingTimers() > 0);
    clock.advance(Duration.ofSeconds(1));
    // advance fires what falls due before it returns: a stage still parked on the clock is the
    // proof that the second backoff (2 s) is not over, whether or not its thread has run since
    assertEquals(1, clock.pendingTimers());
    assertEquals(2, calls.get());
    clock.advance(Duration.ofSeconds(1));
    runner.join();

    assertEquals(List.of("a!"), result.get().value());
    assertEquals(3, calls.get());
    assertEquals(List.of(), dead);
  }

  @Test
  void retryDeadLettersTheItemAfterTheLastAttempt() throws Exception {
    List<Failure> dead = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();

    Result<List<Integer>> r =
        Pipeline.range(0, 3)
            .map(
                x -> {
                  if (x == 1) {
                    calls.incrementAndGet();
                    throw new IOException("down");
                  }
                  return x;
                })
            .onError(ErrorPolicy.retry(4, Duration.ZERO, dead::addAll))
            .toList(CTX);

    assertEquals(List.of(0, 2), r.value());
    assertEquals(4, calls.get());
    assertEquals(1, dead.size());
    assertEquals(1, dead.getFirst().item());
    assertEquals(4, dead.getFirst().attempts());
  }

  @Test
  void backoffGrowsByTheMultiplierUpToTheCap() {
    ErrorPolicy.Retry r =
        ErrorPolicy.retry(10, Duration.ofMillis(100), b -> {})
            .withMaxBackoff(Duration.ofMillis(350));

    assertEquals(
        List.of(100L, 200L, 350L, 350L),
        IntStream.rangeClosed(1, 4).mapToObj(k -> r.backoff(k).toMillis()).toList());
  }

  @Test
  void aMaxBackoffTooLongToCountInNanosecondsIsNoCapAndTheRetrySucceeds() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    List<Failure> dead = new CopyOnWriteArrayList<>();
    ErrorPolicy forever =
        ErrorPolicy.retry(2, Duration.ZERO, dead::addAll)
            .withMaxBackoff(ChronoUnit.FOREVER.getDuration());

    List<Integer> got =
        Pipeline.range(0, 3)
            .map(
                x -> {
                  if (x == 1 && calls.getAndIncrement() == 0) {
                    throw new IOException("once");
                  }
                  return x;
                })
            .onError(forever)
            .toList(CTX)
            .value();

    assertEquals(List.of(0, 1, 2), got);
    assertEquals(List.of(), dead);
  }

  @Test
  void anErrorSinkThatThrowsFailsTheRun() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 3)
                    .map(
                        x -> {
                          throw new IOException("x");
                        })
                    .onError(
                        ErrorPolicy.skip(
                            f -> {
                              throw new IllegalStateException("error sink down");
                            }))
                    .toList(CTX));

    assertEquals("map (error sink)", e.stage());
  }

  @Test
  void anErrorSinkEndedByAnImmediateStopIsNoFailureOfTheRun() throws Exception {
    // given an error sink that hands each failure to a reader through the run's context, and no
    // reader: the sink waits until the run stops
    CancelableContext ctx = Context.background().withCancel();
    CountDownLatch inSink = new CountDownLatch(1);
    Channel<Failure> unread = Channel.unbuffered();
    Sink<Failure> errors =
        batch -> {
          inSink.countDown();
          unread.send(Pipeline.context(), batch.getFirst());
        };
    Thread canceller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    inSink.await();
                    ctx.cancel();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    // when the run is stopped while the sink waits
    Result<Long> r =
        Pipeline.range(0, 10)
            .map(
                x -> {
                  if (x == 3) {
                    throw new IOException("bad item");
                  }
                  return x;
                })
            .onError(ErrorPolicy.skip(errors))
            .forEach(ctx, x -> {});

    // then the run reports the stop, not a failure of the error sink
    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    canceller.join();
  }

  @Test
  void anItemWhoseToStringThrowsStillFailsTheRunWithTheFunctionsFailure() {
    record Opaque(int id) {
      @Override
      public String toString() {
        throw new UnsupportedOperationException("no text for this item");
      }
    }
    Opaque item = new Opaque(7);

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.from(List.of(item))
                    .map(
                        x -> {
                          throw new IOException("disk full");
                        })
                    .toList(CTX));

    assertEquals("map", e.stage());
    assertEquals(item, e.item().orElseThrow());
    assertInstanceOf(IOException.class, e.getCause());
    assertTrue(e.getMessage().contains("disk full"), e.getMessage());
  }

  @Test
  void aGeneratorThatThrowsFailsTheSource() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.<Integer>generate(
                        out -> {
                          out.emit(1);
                          throw new IOException("connection reset");
                        })
                    .toList(CTX));

    assertEquals("source", e.stage());
    assertTrue(e.item().isEmpty());
  }

  @Test
  void aChannelClosedWithAnErrorFailsTheSource() throws Exception {
    Channel<Integer> ch = Channel.buffered(2);
    ch.send(1);
    ch.close(new IOException("producer died"));

    PipelineException e =
        assertThrows(PipelineException.class, () -> Pipeline.from(ch).toList(CTX));

    assertEquals("producer died", e.getCause().getMessage());
  }

  @Test
  void anIteratorThatThrowsChannelClosedExceptionFailsTheSource() throws Exception {
    // given an iterable over a channel whose producer died: its iterator throws at the end
    Channel<Integer> ch = Channel.buffered(2);
    ch.send(1);
    ch.close(new IOException("producer died"));
    Iterable<Integer> items = ch::iterator;

    PipelineException e =
        assertThrows(PipelineException.class, () -> Pipeline.from(items).toList(CTX));

    assertEquals("source", e.stage());
    assertInstanceOf(ChannelClosedException.class, e.getCause());
    assertEquals("producer died", e.getCause().getCause().getMessage());
  }

  @Test
  void aFailedSinkBatchIsReportedAsTheBatch() throws Exception {
    List<Failure> errors = new CopyOnWriteArrayList<>();

    Result<Long> r =
        Pipeline.range(0, 5)
            .withOptions(
                Pipeline.Options.defaults().withErrorPolicy(ErrorPolicy.skip(errors::addAll)))
            .to(
                CTX,
                batch -> {
                  throw new IOException("bulk insert failed");
                });

    assertEquals(0L, r.value());
    assertEquals(List.of(0, 1, 2, 3, 4), errors.getFirst().item());
  }

  @Test
  void aNullResultIsAFailureOfTheStage() {
    PipelineException e =
        assertThrows(
            PipelineException.class,
            () -> Pipeline.range(0, 3).map(x -> (String) null).toList(CTX));

    assertInstanceOf(NullPointerException.class, e.getCause());
    assertEquals(0, e.item().orElseThrow());
  }

  @Test
  void retryDoesNotRetryAnErrorButFailsTheRun() {
    List<Failure> dead = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 10)
                    .map(
                        x -> {
                          if (x == 3) {
                            calls.incrementAndGet();
                            throw new StackOverflowError("deep");
                          }
                          return x;
                        })
                    .named("recurse")
                    .onError(ErrorPolicy.retry(3, Duration.ZERO, dead::addAll))
                    .toList(CTX));

    assertInstanceOf(StackOverflowError.class, e.getCause());
    assertEquals("recurse", e.stage());
    assertEquals(3, e.item().orElseThrow());
    assertEquals(1, calls.get());
    assertEquals(List.of(), dead);
    assertEquals(Outcome.FAILED, e.report().outcome());
  }

  @Test
  void aFailureTheRetryPredicateRejectsGoesStraightToTheDeadLetters() throws Exception {
    List<Failure> dead = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();

    Result<List<Integer>> r =
        Pipeline.range(0, 4)
            .map(
                x -> {
                  if (x == 2) {
                    calls.incrementAndGet();
                    throw new IllegalArgumentException("not transient");
                  }
                  return x;
                })
            .onError(
                ErrorPolicy.retry(5, Duration.ofHours(1), dead::addAll)
                    .retryOn(t -> t instanceof IOException))
            .toList(CTX);

    assertEquals(List.of(0, 1, 3), r.value());
    assertEquals(1, calls.get());
    assertEquals(1, dead.size());
    assertEquals(2, dead.getFirst().item());
    assertEquals(1, dead.getFirst().attempts());
    assertInstanceOf(IllegalArgumentException.class, dead.getFirst().error());
  }

  @Test
  void aPredicateThatAcceptsErrorsRetriesThemThenDeadLetters() throws Exception {
    List<Failure> dead = new CopyOnWriteArrayList<>();
    AtomicInteger calls = new AtomicInteger();

    Result<List<Integer>> r =
        Pipeline.range(0, 2)
            .map(
                x -> {
                  if (x == 1) {
                    calls.incrementAndGet();
                    throw new AssertionError("flaky check");
                  }
                  return x;
                })
            .onError(ErrorPolicy.retry(3, Duration.ZERO, dead::addAll).retryOn(t -> true))
            .toList(CTX);

    assertEquals(List.of(0), r.value());
    assertEquals(3, calls.get());
    assertEquals(3, dead.getFirst().attempts());
    assertEquals(Outcome.COMPLETED, r.outcome());
  }

  @Test
  void jitteredDelaysAreUniformBelowTheBackoffAndFollowTheRandomGiven() {
    ErrorPolicy.Retry r =
        ErrorPolicy.retry(10, Duration.ofMillis(100), b -> {})
            .withMaxBackoff(Duration.ofSeconds(1));
    ErrorPolicy.Retry seeded = r.withJitter(new java.util.Random(42));
    java.util.Random same = new java.util.Random(42);

    for (int k = 1; k <= 8; k++) {
      long cap = r.backoff(k).toNanos();
      long d = seeded.delay(k).toNanos();
      assertEquals(same.nextLong(cap + 1), d, "attempt " + k);
      assertTrue(d >= 0 && d <= cap, d + " outside [0, " + cap + "]");
      assertEquals(cap, r.withoutJitter().delay(k).toNanos());
    }
    for (int i = 0; i < 1000; i++) { // the default source: ThreadLocalRandom, same bounds
      long d = r.delay(3).toNanos();
      assertTrue(d >= 0 && d <= r.backoff(3).toNanos(), d + " outside the bound");
    }
  }

  @Test
  void theStageWaitsTheJitteredDelayOnTheContextsClock() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    AtomicInteger calls = new AtomicInteger();
    Duration expected =
        Duration.ofNanos(new java.util.Random(7).nextLong(Duration.ofSeconds(10).toNanos() + 1));
    AtomicReference<Result<List<String>>> result = new AtomicReference<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(
                        Pipeline.from(List.of("a"))
                            .map(
                                s -> {
                                  if (calls.incrementAndGet() < 2) {
                                    throw new IOException("flaky");
                                  }
                                  return s;
                                })
                            .onError(
                                ErrorPolicy.retry(2, Duration.ofSeconds(10), b -> {})
                                    .withJitter(new java.util.Random(7)))
                            .toList(Context.background(clock)));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    TrackingThreadFactory.awaitTrue(() -> clock.pendingTimers() > 0);
    clock.advance(expected.minusNanos(1));
    assertEquals(1, clock.pendingTimers()); // still parked: the jittered wait is not over yet
    assertEquals(1, calls.get());
    clock.advance(Duration.ofNanos(1));
    runner.join();

    assertEquals(2, calls.get());
    assertEquals(List.of("a"), result.get().value());
  }
}
