package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A run's context stops it — immediately or gracefully — and the terminal says which; an
 * interrupted caller stops it too. Every thread the run started has ended when the terminal
 * returns.
 */
@Timeout(30)
class CancellationTest {

  /** A generator that emits 0, 1, 2 ... forever, counting what the pipeline accepted. */
  private static Pipeline<Long> endless(AtomicLong emitted, CountDownLatch afterMany) {
    return Pipeline.generate(
        out -> {
          for (long i = 0; ; i++) {
            out.emit(i);
            if (emitted.incrementAndGet() == 10_000) {
              afterMany.countDown();
            }
          }
        });
  }

  private static Thread cancelWhen(CountDownLatch latch, CancelableContext ctx) {
    return Thread.ofVirtual()
        .start(
            () -> {
              try {
                latch.await();
                ctx.cancel();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
  }

  @Test
  void immediateStopEndsAStageBlockedInUserCodeAndReportsIt() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CountDownLatch blocked = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller = cancelWhen(blocked, ctx);

    Result<Long> r =
        Pipeline.range(0, 1_000_000)
            .map(
                x -> {
                  if (x == 5000) {
                    blocked.countDown();
                    new CountDownLatch(1).await(); // never opens: only an interrupt ends it
                  }
                  return x;
                })
            .withOptions(threads.options())
            .forEach(ctx, x -> {});

    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertTrue(r.value() <= 5000, "consumed " + r.value());
    canceller.join();
    threads.assertAllEnded();
  }

  @Test
  void gracefulStopStopsTheSourceAndDrainsEveryItemAlreadyTaken() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    AtomicLong emitted = new AtomicLong();
    CountDownLatch many = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller = cancelWhen(many, ctx);

    Result<Long> r =
        endless(emitted, many)
            .map(x -> x * 2)
            .mapParallel(8, x -> x + 1)
            .withOptions(threads.options().withStopMode(StopMode.GRACEFUL))
            .forEach(ctx, x -> {});

    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    assertEquals(emitted.get(), r.value());
    assertTrue(r.value() >= 10_000);
    canceller.join();
    threads.assertAllEnded();
  }

  @Test
  void gracefulStopLetsAnItemInsideAStageFinish() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    inside.await();
                    ctx.cancel();
                    release.countDown();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    Result<List<Integer>> r =
        Pipeline.range(0, 3)
            .map(
                x -> {
                  if (x == 0) {
                    inside.countDown();
                    release.await();
                  }
                  return x * 10;
                })
            .withOptions(Pipeline.Options.defaults().withStopMode(StopMode.GRACEFUL))
            .toList(ctx);

    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    assertEquals(List.of(0, 10, 20), r.value()); // the range was taken as one chunk before the stop
    canceller.join();
  }

  @Test
  void aDeadlineOnTheContextsClockStopsTheRun() throws Exception {
    ManualClock clock = Clock.manual(Instant.EPOCH);
    CancelableContext ctx = Context.background(clock).withTimeout(Duration.ofSeconds(5));
    AtomicReference<Result<Long>> result = new AtomicReference<>();
    AtomicLong emitted = new AtomicLong();
    CountDownLatch many = new CountDownLatch(1);
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(endless(emitted, many).forEach(ctx, x -> {}));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    many.await();

    clock.advance(Duration.ofSeconds(5));
    runner.join();

    assertEquals(Outcome.STOPPED_IMMEDIATELY, result.get().outcome());
  }

  @Test
  void aContextDoneBeforeTheRunStopsItAtOnce() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    Result<List<Integer>> r =
        Pipeline.range(0, 10_000_000).map(x -> x).withOptions(threads.options()).toList(ctx);

    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertTrue(r.value().size() < 10_000_000);
    threads.assertAllEnded();
  }

  @Test
  void interruptingTheCallerStopsTheRunAndThrows() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    CountDownLatch many = new CountDownLatch(1);
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    endless(new AtomicLong(), many)
                        .withOptions(threads.options())
                        .forEach(Context.background(), x -> {});
                  } catch (Throwable t) {
                    thrown.set(t);
                  }
                });
    many.await();

    caller.interrupt();
    caller.join();

    assertTrue(thrown.get() instanceof InterruptedException, String.valueOf(thrown.get()));
    threads.assertAllEnded();
  }

  @Test
  void toChannelClosesTheChannelWithTheFailure() throws Exception {
    Channel<Integer> out = Channel.buffered(100);

    assertThrows(
        PipelineException.class,
        () ->
            Pipeline.range(0, 10)
                .map(
                    x -> {
                      if (x == 5) {
                        throw new IllegalStateException("boom");
                      }
                      return x;
                    })
                .toChannel(Context.background(), out));

    assertTrue(out.isClosed());
    List<Integer> got = new java.util.ArrayList<>();
    ChannelClosedException e =
        assertThrows(
            ChannelClosedException.class,
            () -> {
              for (Integer x : out) {
                got.add(x);
              }
            });
    assertEquals(List.of(0, 1, 2, 3, 4).subList(0, got.size()), got); // at most what passed
    PipelineException why = (PipelineException) e.error().orElseThrow();
    assertEquals("boom", why.getCause().getMessage());
  }

  @Test
  void whatTheShutdownInterruptMakesAFunctionThrowIsNotAFailure() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    Result<List<Integer>> r =
        Pipeline.range(0, 1000)
            .mapParallel(
                4,
                x -> {
                  if (x > 0) {
                    try {
                      new CountDownLatch(1).await(); // a blocking call that never returns
                    } catch (InterruptedException e) {
                      throw new java.io.IOException("closed by interrupt", e); // as NIO does
                    }
                  }
                  return x;
                })
            .take(1)
            .withOptions(threads.options())
            .toList(Context.background());

    assertEquals(Outcome.COMPLETED, r.outcome());
    assertEquals(List.of(0), r.value());
    threads.assertAllEnded();
  }

  // ---------------------------------------------------------------- every terminal, interrupted

  /** The terminals that run on the caller's thread; {@code channel} is for toChannel only. */
  enum Terminal {
    FOR_EACH((p, ctx, channel) -> p.forEach(ctx, x -> {})),
    TO_LIST((p, ctx, channel) -> p.toList(ctx)),
    REDUCE((p, ctx, channel) -> p.reduce(ctx, 0L, Long::sum)),
    TO_CHANNEL((p, ctx, channel) -> p.toChannel(ctx, channel)),
    TO_SINK((p, ctx, channel) -> p.to(ctx, batch -> {})),
    BROADCAST((p, ctx, channel) -> p.broadcast(ctx, List.<Sink<Long>>of(batch -> {}, batch -> {}))),
    SPLIT(
        (p, ctx, channel) ->
            p.split(ctx, x -> (int) (x % 2), List.<Sink<Long>>of(batch -> {}, batch -> {})));

    private final Run run;

    Terminal(Run run) {
      this.run = run;
    }

    void run(Pipeline<Long> p, Context ctx, Channel<Long> channel) throws InterruptedException {
      run.run(p, ctx, channel);
    }

    /** One terminal's call. */
    interface Run {
      void run(Pipeline<Long> p, Context ctx, Channel<Long> channel) throws InterruptedException;
    }
  }

  @ParameterizedTest
  @EnumSource(Terminal.class)
  void aCallerAlreadyInterruptedWhenTheTerminalStartsGetsInterruptedExceptionAndNoThreadIsLeft(
      Terminal terminal) {
    // given a finite pipeline, which an ignored interrupt would let complete
    TrackingThreadFactory threads = new TrackingThreadFactory();
    Pipeline<Long> p =
        Pipeline.range(0, 1000).map(x -> (long) x).map(x -> x + 1).withOptions(threads.options());
    Channel<Long> channel = Channel.unlimited();
    Thread.currentThread().interrupt();

    // when
    InterruptedException e =
        assertThrows(
            InterruptedException.class, () -> terminal.run(p, Context.background(), channel));

    // then
    assertFalse(Thread.interrupted(), "throwing InterruptedException clears the status");
    threads.assertNoneAlive();
    if (terminal == Terminal.TO_CHANNEL) {
      assertEndedByTheInterrupt(channel, e, List.of());
    }
  }

  @ParameterizedTest
  @EnumSource(Terminal.class)
  void aCallerInterruptedWhileTheTerminalWaitsGetsInterruptedExceptionAndNoThreadIsLeft(
      Terminal terminal) throws Exception {
    // given a run whose source emitted one item and then waits for the run to stop
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CountDownLatch flowing = new CountDownLatch(1);
    Pipeline<Long> p =
        Pipeline.<Long>generate(
                out -> {
                  out.emit(0L);
                  out.context().awaitDone();
                })
            .map(
                x -> {
                  flowing.countDown();
                  return x;
                })
            .withOptions(threads.options());
    Channel<Long> channel = Channel.unlimited();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicBoolean interruptedAtEnd = new AtomicBoolean();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    terminal.run(p, Context.background(), channel);
                  } catch (Throwable t) {
                    thrown.set(t);
                  } finally {
                    interruptedAtEnd.set(Thread.currentThread().isInterrupted());
                  }
                });
    flowing.await();
    awaitParked(caller);

    // when
    caller.interrupt();
    caller.join();

    // then
    InterruptedException e = assertInstanceOf(InterruptedException.class, thrown.get());
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
    threads.assertAllEnded();
    if (terminal == Terminal.TO_CHANNEL) {
      List<Long> got = new ArrayList<>();
      assertEndedByTheInterrupt(channel, e, got);
      assertTrue(got.isEmpty() || got.equals(List.of(0L)), "sent " + got);
    }
  }

  /** The terminals that run user code on the caller's thread, each calling {@code blocking}. */
  enum CallerCode {
    FOR_EACH((p, ctx, blocking) -> p.forEach(ctx, blocking::accept)),
    SINK((p, ctx, blocking) -> p.to(ctx, batch -> blocking.accept(batch.getFirst())));

    private final Run run;

    CallerCode(Run run) {
      this.run = run;
    }

    Result<Long> run(Pipeline<Long> p, Context ctx, Pipeline.Action<Long> blocking)
        throws InterruptedException {
      return run.run(p, ctx, blocking);
    }

    interface Run {
      Result<Long> run(Pipeline<Long> p, Context ctx, Pipeline.Action<Long> blocking)
          throws InterruptedException;
    }
  }

  @ParameterizedTest
  @EnumSource(CallerCode.class)
  void aCallerInterruptedInsideItsOwnActionGetsInterruptedExceptionWhateverTheErrorPolicy(
      CallerCode terminal) throws Exception {
    // given a run that skips failing items, whose terminal blocks in the caller's own code
    TrackingThreadFactory threads = new TrackingThreadFactory();
    List<Failure> errors = new CopyOnWriteArrayList<>();
    CountDownLatch blocked = new CountDownLatch(1);
    Pipeline<Long> p =
        Pipeline.range(0, 1000)
            .map(x -> (long) x)
            .withOptions(threads.options().withErrorPolicy(ErrorPolicy.skip(errors::addAll)));
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    terminal.run(
                        p,
                        Context.background(),
                        x -> {
                          if (blocked.getCount() > 0) { // the first item only
                            blocked.countDown();
                            new CountDownLatch(1).await(); // only an interrupt ends it
                          }
                        });
                  } catch (Throwable t) {
                    thrown.set(t);
                  }
                });
    blocked.await();
    awaitParked(caller);

    // when
    caller.interrupt();
    caller.join();

    // then the interrupt is the caller's, not a failure of an item to skip
    assertInstanceOf(InterruptedException.class, thrown.get());
    assertEquals(List.of(), errors);
    threads.assertAllEnded();
  }

  @Test
  void toChannelWhoseRunCannotStartClosesTheChannelWithTheFailure() {
    // given a thread factory that makes no thread, so the run fails before its terminal starts
    Channel<Long> channel = Channel.unlimited();
    Pipeline<Long> p =
        Pipeline.range(0, 10)
            .map(x -> (long) x)
            .withOptions(Pipeline.Options.defaults().withThreadFactory(r -> null));

    // when
    PipelineException e =
        assertThrows(PipelineException.class, () -> p.toChannel(Context.background(), channel));

    // then a reader of the channel learns that the stream ended, and why
    assertTrue(channel.isClosed(), "the reader of the channel would wait for ever");
    ChannelClosedException end = assertThrows(ChannelClosedException.class, channel::receive);
    assertSame(e, end.error().orElseThrow());
  }

  /** {@code channel} holds some items (into {@code got}), then ends by the caller's interrupt. */
  private static void assertEndedByTheInterrupt(
      Channel<Long> channel, InterruptedException interrupt, List<Long> got) {
    assertTrue(channel.isClosed(), "the reader of the channel would wait for ever");
    ChannelClosedException end =
        assertThrows(
            ChannelClosedException.class,
            () -> {
              for (Long x : channel) {
                got.add(x);
              }
            });
    Throwable why = end.error().orElseThrow();
    assertInstanceOf(CancellationException.class, why);
    assertSame(interrupt, why.getCause());
  }

  private static void awaitParked(Thread t) {
    TrackingThreadFactory.awaitTrue(
        () -> {
          assertTrue(t.isAlive(), "the thread ended instead of waiting");
          Thread.State s = t.getState();
          return s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING;
        });
  }

  // ---------------------------------------------------------------- the generator's emit

  /** Whether {@code t} is parked inside {@link Emitter#emit}. */
  private static boolean parkedInEmit(Thread t) {
    if (t.getState() != Thread.State.WAITING) {
      return false;
    }
    for (StackTraceElement e : t.getStackTrace()) {
      if (e.getMethodName().equals("emit")) {
        return t.getState() == Thread.State.WAITING;
      }
    }
    return false;
  }

  @Test
  void anEmitByAnInterruptedGeneratorThrowsAndTheItemIsNotEmitted() throws Exception {
    // given a generator that emits 1, then 2 with its interrupt status set, then 3
    AtomicReference<Throwable> caught = new AtomicReference<>();
    AtomicBoolean interruptedAfter = new AtomicBoolean();
    Pipeline<Integer> p =
        Pipeline.generate(
            out -> {
              out.emit(1);
              Thread.currentThread().interrupt();
              try {
                out.emit(2);
              } catch (InterruptedException e) {
                caught.set(e);
              }
              interruptedAfter.set(Thread.currentThread().isInterrupted());
              out.emit(3);
            });

    // when
    Result<List<Integer>> r = p.toList(Context.background());

    // then
    assertInstanceOf(InterruptedException.class, caught.get());
    assertFalse(interruptedAfter.get(), "throwing InterruptedException clears the status");
    assertEquals(List.of(1, 3), r.value());
    assertEquals(Outcome.COMPLETED, r.outcome());
  }

  @Test
  void anEmitInterruptedWhileWaitingForRoomThrowsAndTheItemIsNotEmitted() throws Exception {
    // given a generator blocked in emit behind a terminal that does not take items yet
    TrackingThreadFactory threads = new TrackingThreadFactory();
    AtomicReference<Thread> generator = new AtomicReference<>();
    AtomicLong interruptedAt = new AtomicLong(-1);
    CountDownLatch release = new CountDownLatch(1);
    Pipeline<Long> p =
        Pipeline.<Long>generate(
                out -> {
                  generator.set(Thread.currentThread());
                  for (long i = 0; ; i++) {
                    try {
                      out.emit(i);
                    } catch (InterruptedException e) {
                      interruptedAt.set(i);
                      out.emit(-1L);
                      return;
                    }
                  }
                })
            .withOptions(threads.options());
    List<Long> got = new CopyOnWriteArrayList<>();
    AtomicReference<Result<Long>> result = new AtomicReference<>();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(
                        p.forEach(
                            Context.background(),
                            x -> {
                              release.await();
                              got.add(x);
                            }));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    TrackingThreadFactory.awaitTrue(() -> generator.get() != null && parkedInEmit(generator.get()));

    // when
    generator.get().interrupt();
    release.countDown();
    caller.join();

    // then every item before the interrupted one arrives, then the marker; that one never does
    long at = interruptedAt.get();
    assertTrue(at > 0, "interrupted at " + at);
    List<Long> expected = new ArrayList<>(LongStream.range(0, at).boxed().toList());
    expected.add(-1L);
    assertEquals(expected, got);
    assertEquals(Outcome.COMPLETED, result.get().outcome());
    threads.assertAllEnded();
  }

  @Test
  void anEmitWaitingForRoomWhenTheRunStopsThrowsContextCancelledAndLosesNoEmittedItem()
      throws Exception {
    // given a generator blocked in emit behind a terminal that does not take items yet
    TrackingThreadFactory threads = new TrackingThreadFactory();
    AtomicReference<Thread> generator = new AtomicReference<>();
    AtomicLong emitted = new AtomicLong();
    AtomicReference<Throwable> caught = new AtomicReference<>();
    CountDownLatch stopped = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    IllegalStateException why = new IllegalStateException("shutting down");
    Pipeline<Long> p =
        Pipeline.<Long>generate(
                out -> {
                  generator.set(Thread.currentThread());
                  try {
                    for (long i = 0; ; i++) {
                      out.emit(i);
                      emitted.incrementAndGet();
                    }
                  } catch (ContextCancelledException e) {
                    caught.set(e);
                    stopped.countDown();
                    throw e;
                  }
                })
            .withOptions(threads.options().withStopMode(StopMode.GRACEFUL));
    AtomicReference<Result<Long>> result = new AtomicReference<>();
    Thread caller =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    result.set(p.forEach(ctx, x -> release.await()));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    TrackingThreadFactory.awaitTrue(() -> generator.get() != null && parkedInEmit(generator.get()));

    // when
    ctx.cancel(why);
    stopped.await();
    release.countDown();
    caller.join();

    // then the emit ended with the stop, and every item emitted before it was drained
    ContextCancelledException e = assertInstanceOf(ContextCancelledException.class, caught.get());
    assertSame(why, e.getCause());
    assertEquals(Outcome.STOPPED_GRACEFULLY, result.get().outcome());
    assertEquals(emitted.get(), result.get().value());
    threads.assertAllEnded();
  }

  @Test
  void forEachCountsTheItemsItsActionAcceptedBeforeAStopEndedTheirChunk() throws Exception {
    // given one chunk of ten items, whose sixth the action waits on until the run stops
    CountDownLatch waiting = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Thread canceller = cancelWhen(waiting, ctx);
    List<Integer> accepted = new ArrayList<>();

    // when
    Result<Long> r =
        Pipeline.range(0, 10)
            .forEach(
                ctx,
                x -> {
                  if (x == 5) {
                    waiting.countDown();
                    Channel.<Integer>unbuffered().send(Pipeline.context(), x); // until the stop
                  }
                  accepted.add(x);
                });

    // then the value and the report count the five items the action accepted
    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertEquals(List.of(0, 1, 2, 3, 4), accepted);
    assertEquals(5L, r.value());
    assertEquals(5L, r.report().stage("forEach").orElseThrow().out());
    canceller.join();
  }

  @Test
  void aStreamIsClosedEvenWhenTheRunStopsBeforeItsSourceStarts() throws Exception {
    // given a context already cancelled, and a thread factory that hands out the source's thread
    // only once the run's first thread (the one that sees the context done) has ended, so the
    // run is stopped before it can start the source
    AtomicBoolean closed = new AtomicBoolean();
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();
    List<Thread> made = new ArrayList<>();
    ThreadFactory afterTheFirstEnded =
        r -> {
          Thread t = Thread.ofVirtual().unstarted(r);
          synchronized (made) {
            if (!made.isEmpty()) {
              try {
                made.getFirst().join();
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            }
            made.add(t);
          }
          return t;
        };
    Pipeline<Integer> p =
        Pipeline.from(Stream.of(1, 2, 3).onClose(() -> closed.set(true)))
            .withOptions(Pipeline.Options.defaults().withThreadFactory(afterTheFirstEnded));

    // when
    Result<List<Integer>> r = p.toList(ctx);

    // then the stream was closed all the same
    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertEquals(List.of(), r.value());
    assertTrue(closed.get(), "the stream was not closed");
  }
}
