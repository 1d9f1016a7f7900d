package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link Pipeline#open}: the seed's first bug — a producer whose channel fills before anyone reads
 * it — cannot happen when the caller reads the channel on its own thread; leaving early, a failure
 * and a cancelled context all end the stream with the reason, and leave no thread behind.
 */
@Timeout(30)
class OutletTest {
  private static final Context CTX = Context.background();

  /** 0, 1, 2 ... until the run stops it. */
  private static Pipeline<Long> endless() {
    return Pipeline.generate(
        out -> {
          for (long i = 0; ; i++) {
            out.emit(i);
          }
        });
  }

  @ParameterizedTest(name = "capacity {0}")
  @ValueSource(ints = {0, 1, 2, 16})
  void aSmallChannelReadOnTheCallersThreadDeliversEveryItemInOrder(int capacity) throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    List<Integer> got = new ArrayList<>();

    Result<Long> r;
    try (Outlet<Integer> out =
        Pipeline.range(0, 10_000)
            .map(x -> x * 2)
            .withOptions(threads.options())
            .open(CTX, capacity)) {
      for (int x : out.channel()) {
        got.add(x);
      }
      r = out.result();
    }

    assertEquals(IntStream.range(0, 10_000).map(x -> x * 2).boxed().toList(), got);
    assertEquals(Outcome.COMPLETED, r.outcome());
    assertEquals(10_000L, r.value());
    threads.assertAllEnded();
  }

  @Test
  void theRunsOwnThreadIsMadeByTheOptionsFactoryToo() throws Exception {
    TrackingThreadFactory inline = new TrackingThreadFactory();
    Pipeline.range(0, 3).withOptions(inline.options()).toList(CTX);
    TrackingThreadFactory threads = new TrackingThreadFactory();

    try (Outlet<Integer> out = Pipeline.range(0, 3).withOptions(threads.options()).open(CTX, 1)) {
      List<Integer> got = new ArrayList<>();
      out.channel().forEach(got::add);
      assertEquals(List.of(0, 1, 2), got);
      out.result();
    }

    // the same run as a terminal on the caller's thread, plus the thread that runs it
    assertEquals(inline.threads().size() + 1, threads.threads().size());
    threads.assertAllEnded();
  }

  @ParameterizedTest
  @EnumSource(StopMode.class)
  void closingTheOutletBeforeTheEndStopsTheRunAndEndsEveryThread(StopMode mode) throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    Pipeline<Long> p = endless().map(x -> x + 1).withOptions(threads.options().withStopMode(mode));
    List<Long> got = new ArrayList<>();

    Outlet<Long> out = p.open(CTX, 4);
    try (out) {
      for (long x : out.channel()) {
        got.add(x);
        if (got.size() == 10) {
          break;
        }
      }
    }

    threads.assertAllEnded();
    Result<Long> r = out.result();
    assertEquals(
        mode == StopMode.GRACEFUL ? Outcome.STOPPED_GRACEFULLY : Outcome.STOPPED_IMMEDIATELY,
        r.outcome());
    assertEquals(List.of(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L), got);
    assertTrue(r.value() >= 10, r.toString());
  }

  @Test
  void aFailureEndsTheStreamWithThePipelineExceptionThatResultThrows() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    Pipeline<Long> p =
        endless()
            .map(
                x -> {
                  if (x == 50) {
                    throw new IllegalStateException("boom");
                  }
                  return x;
                })
            .withOptions(threads.options());
    List<Long> got = new ArrayList<>();

    try (Outlet<Long> out = p.open(CTX, 2)) {
      ChannelClosedException end =
          assertThrows(
              ChannelClosedException.class,
              () -> {
                for (long x : out.channel()) {
                  got.add(x);
                }
              });
      PipelineException thrown = assertThrows(PipelineException.class, out::result);

      assertSame(thrown, end.error().orElseThrow());
      assertEquals(50L, thrown.item().orElseThrow());
    }

    assertTrue(got.size() <= 50, "items after the failing one: " + got);
    assertEquals(LongRange.upTo(got.size()), got); // a prefix: what was passed on before 50
    threads.assertAllEnded();
  }

  @Test
  void cancellingTheContextEndsTheStreamWithItsCause() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CancelableContext ctx = Context.background().withCancel();
    IllegalStateException cause = new IllegalStateException("shutting down");
    List<Long> got = new ArrayList<>();

    try (Outlet<Long> out = endless().withOptions(threads.options()).open(ctx, 2)) {
      ChannelClosedException end =
          assertThrows(
              ChannelClosedException.class,
              () -> {
                for (long x : out.channel()) {
                  got.add(x);
                  if (x == 20) {
                    ctx.cancel(cause);
                  }
                }
              });

      assertSame(cause, end.error().orElseThrow());
      Result<Long> r = out.result();
      assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
      assertEquals(r.value(), (long) got.size());
    }
    threads.assertAllEnded();
  }

  @Test
  void askingForTheResultBeforeTheStreamEndedIsRefusedRatherThanDeadlocked() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();

    try (Outlet<Long> out = endless().withOptions(threads.options()).open(CTX, 1)) {
      out.channel().receive();

      IllegalStateException e = assertThrows(IllegalStateException.class, out::result);
      assertTrue(e.getMessage().contains("has not ended"), e.getMessage());
    }
    threads.assertAllEnded();
  }

  @Test
  void closingTwiceIsHarmlessAndTheResultStaysTheSame() throws Exception {
    Outlet<Long> out = endless().open(CTX, 1);
    out.channel().receive();

    out.close();
    Result<Long> first = out.result();
    out.close();

    assertSame(first, out.result());
    assertTrue(out.channel().isClosed());
  }

  @Test
  void aNegativeCapacityIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> Pipeline.range(0, 1).open(CTX, -1));
  }

  @Test
  void closingWhileTheReaderIsInterruptedStillWaitsForTheRunAndKeepsTheInterrupt()
      throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    Outlet<Long> out = endless().withOptions(threads.options()).open(CTX, 1);
    out.channel().receive();

    Thread.currentThread().interrupt();
    out.close();

    assertTrue(Thread.interrupted());
    threads.assertAllEnded();
    assertEquals(Outcome.STOPPED_IMMEDIATELY, out.result().outcome());
  }

  @Test
  void anOutletsCancellationCauseSaysItWasClosed() throws Exception {
    Outlet<Long> out = endless().open(CTX, 1);
    out.channel().receive();

    out.close();

    ChannelClosedException end =
        assertThrows(
            ChannelClosedException.class,
            () -> {
              while (true) {
                out.channel().receive();
              }
            });
    Throwable why = end.error().orElseThrow();
    assertTrue(why instanceof CancellationException, why.toString());
    assertTrue(why.getMessage().contains("outlet was closed"), why.getMessage());
  }

  /** 0 .. n-1 as longs. */
  private static final class LongRange {
    static List<Long> upTo(long n) {
      List<Long> l = new ArrayList<>();
      for (long i = 0; i < n; i++) {
        l.add(i);
      }
      return l;
    }
  }

  /**
   * Makes the outlet's own thread (the first one asked for) wait for {@code hold} after the run has
   * ended, so that {@link Outlet#result()} has a thread to wait for after the stream ended.
   */
  private static ThreadFactory holdingTheOutletsThread(
      TrackingThreadFactory threads, CountDownLatch hold) {
    AtomicBoolean first = new AtomicBoolean(true);
    return r ->
        threads.newThread(
            !first.getAndSet(false)
                ? r
                : () -> {
                  r.run();
                  try {
                    hold.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
  }

  @ParameterizedTest(name = "already interrupted: {0}")
  @ValueSource(booleans = {true, false})
  void anInterruptedWaitForTheResultThrowsInterruptedExceptionAndTheRunGoesOn(
      boolean alreadyInterrupted) throws Exception {
    // given a stream read to its end, whose run's thread has not ended yet
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CountDownLatch hold = new CountDownLatch(1);
    Outlet<Integer> out =
        Pipeline.range(0, 100)
            .withOptions(
                Pipeline.Options.defaults()
                    .withThreadFactory(holdingTheOutletsThread(threads, hold)))
            .open(CTX, 4);
    AtomicBoolean readAll = new AtomicBoolean();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    AtomicBoolean interruptedAtEnd = new AtomicBoolean();
    Thread reader =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    for (int x : out.channel()) {
                      assertTrue(x >= 0);
                    }
                    if (alreadyInterrupted) {
                      Thread.currentThread().interrupt();
                    }
                    readAll.set(true);
                    out.result();
                  } catch (Throwable t) {
                    thrown.set(t);
                  } finally {
                    interruptedAtEnd.set(Thread.currentThread().isInterrupted());
                  }
                });

    // when
    TrackingThreadFactory.awaitTrue(readAll::get);
    if (!alreadyInterrupted) {
      TrackingThreadFactory.awaitTrue(() -> reader.getState() == Thread.State.WAITING);
      reader.interrupt();
    }
    reader.join();

    // then the wait ended, and the run was left alone: it ends and reports as it would have
    assertInstanceOf(InterruptedException.class, thrown.get());
    assertFalse(interruptedAtEnd.get(), "throwing InterruptedException clears the status");
    hold.countDown();
    Result<Long> r = out.result();
    assertEquals(Outcome.COMPLETED, r.outcome());
    assertEquals(100L, r.value());
    threads.assertAllEnded();
  }
}
