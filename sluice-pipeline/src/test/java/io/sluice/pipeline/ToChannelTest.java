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
import io.sluice.core.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * What the reader of a {@code toChannel} channel sees at the end of the stream: a clean close only
 * when the run completed, otherwise the reason the stream ended early, and always the same verdict
 * as the run's {@link Result}.
 */
@Timeout(30)
class ToChannelTest {

  /** 0, 1, 2 ... until the run stops it. */
  private static Pipeline<Long> endless() {
    return Pipeline.generate(
        out -> {
          for (long i = 0; ; i++) {
            out.emit(i);
          }
        });
  }

  /** Runs {@code p} into {@code ch} on a thread of its own; what it returned or threw. */
  private record Caller(Thread thread, AtomicReference<Object> outcome) {
    static Caller start(Pipeline<Long> p, Context ctx, Channel<Long> ch) {
      AtomicReference<Object> outcome = new AtomicReference<>();
      Thread t =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      outcome.set(p.toChannel(ctx, ch));
                    } catch (Throwable e) {
                      outcome.set(e);
                    }
                  });
      return new Caller(t, outcome);
    }

    Object join() throws InterruptedException {
      thread.join();
      return outcome.get();
    }
  }

  /** Reads until the channel is closed; the closing exception, or null for a clean close. */
  private static ChannelClosedException readToEnd(Channel<Long> ch, List<Long> got)
      throws InterruptedException {
    for (Long x : ch) {
      got.add(x);
      if (got.size() > 10_000_000) {
        throw new AssertionError("the channel never closed");
      }
    }
    return null;
  }

  private static ChannelClosedException closeOf(Channel<Long> ch, List<Long> got) {
    return assertThrows(ChannelClosedException.class, () -> readToEnd(ch, got));
  }

  @Test
  void aCompletedRunClosesTheChannelNormally() throws Exception {
    Channel<Long> ch = Channel.unlimited();

    Result<Long> r = Pipeline.range(0, 100).map(x -> (long) x).toChannel(Context.background(), ch);

    List<Long> got = new ArrayList<>();
    assertEquals(null, readToEnd(ch, got));
    assertEquals(100, got.size());
    assertEquals(Outcome.COMPLETED, r.outcome());
  }

  @Test
  void interruptingTheCallerClosesTheChannelWithACancellationCausedByTheInterrupt()
      throws Exception {
    Channel<Long> ch = Channel.unbuffered();
    Caller caller = Caller.start(endless(), Context.background(), ch);
    List<Long> got = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      got.add(ch.receive());
    }

    caller.thread().interrupt();
    ChannelClosedException e = closeOf(ch, got);

    assertInstanceOf(InterruptedException.class, caller.join());
    Throwable why = e.error().orElseThrow();
    assertInstanceOf(CancellationException.class, why);
    assertInstanceOf(InterruptedException.class, why.getCause());
    assertEquals(0L, got.getFirst());
  }

  @Test
  void anImmediateStopClosesTheChannelWithTheContextsCause() throws Exception {
    Channel<Long> ch = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Caller caller = Caller.start(endless(), ctx, ch);
    List<Long> got = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      got.add(ch.receive());
    }
    IllegalStateException cause = new IllegalStateException("shutting down");

    ctx.cancel(cause);
    ChannelClosedException e = closeOf(ch, got);

    Result<?> r = (Result<?>) caller.join();
    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    assertSame(cause, e.error().orElseThrow());
    assertEquals(r.value(), (long) got.size());
  }

  @Test
  void aGracefulStopDeliversTheDrainedItemsThenTheContextsCause() throws Exception {
    Channel<Long> ch = Channel.unbuffered();
    CancelableContext ctx = Context.background().withCancel();
    Pipeline<Long> p =
        endless()
            .map(x -> x + 1)
            .withOptions(
                Pipeline.Options.defaults()
                    .withStopMode(StopMode.GRACEFUL)
                    .withChunkSize(16)
                    .withBufferSize(64));
    Caller caller = Caller.start(p, ctx, ch);
    List<Long> got = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      got.add(ch.receive());
    }
    IllegalStateException cause = new IllegalStateException("shutting down");

    ctx.cancel(cause);
    ChannelClosedException e = closeOf(ch, got);

    Result<?> r = (Result<?>) caller.join();
    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    assertSame(cause, e.error().orElseThrow());
    assertEquals(r.value(), (long) got.size());
    for (int i = 0; i < got.size(); i++) {
      assertEquals(i + 1L, got.get(i)); // every item taken drained through, none lost
    }
  }

  @Test
  void aContextDoneBeforeAGracefulRunEndsItAsAGracefulStopOnBothSides() throws Exception {
    Channel<Long> ch = Channel.unlimited();
    CancelableContext ctx = Context.background().withCancel();
    IllegalStateException cause = new IllegalStateException("already over");
    ctx.cancel(cause);

    Result<Long> r =
        Pipeline.range(0, 3)
            .map(x -> (long) x)
            .withOptions(Pipeline.Options.defaults().withStopMode(StopMode.GRACEFUL))
            .toChannel(ctx, ch);

    // Whether the watcher or the end of the stream came first, the verdict is a graceful stop,
    // and the reader is told so.
    assertEquals(Outcome.STOPPED_GRACEFULLY, r.outcome());
    List<Long> got = new ArrayList<>();
    ChannelClosedException e = closeOf(ch, got);
    assertSame(cause, e.error().orElseThrow());
    assertEquals(r.value(), (long) got.size());
  }

  @Test
  void aFailedRunClosesTheChannelWithThePipelineException() throws Exception {
    Channel<Long> ch = Channel.unlimited();

    PipelineException thrown =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 100)
                    .map(
                        x -> {
                          if (x == 50) {
                            throw new IllegalStateException("boom");
                          }
                          return (long) x;
                        })
                    .toChannel(Context.background(), ch));

    ChannelClosedException e = closeOf(ch, new ArrayList<>());
    assertSame(thrown, e.error().orElseThrow());
    assertTrue(ch.isClosed());
    assertFalse(thrown.report().outcome() == Outcome.COMPLETED);
  }
}
