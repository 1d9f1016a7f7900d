package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.sluice.core.CancelableContext;
import io.sluice.core.Context;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A fan-out terminal stops like any other: when one of its sinks fails, or the run is stopped at
 * once, it returns without waiting for a sink that is blocked in its write, and the shutdown ends
 * that sink's thread as it ends every stage's.
 */
@Timeout(30)
class FanOutStopTest {

  /** A sink whose write blocks until its thread is interrupted, saying when it started to. */
  private static Sink<Integer> blockingSink(CountDownLatch writing) {
    return batch -> {
      writing.countDown();
      new CountDownLatch(1).await(); // never opens: only an interrupt ends it
    };
  }

  /**
   * A branch that writes everything it got to {@code sink} in one batch, once its input has ended:
   * after the fan-out has dealt its last item.
   */
  private static Sink<Integer> atTheEnd(Sink<List<Integer>> sink) {
    return Sink.<Integer, List<Integer>>through(
        p -> p.batch(Integer.MAX_VALUE, Duration.ofDays(1)), sink);
  }

  @Test
  void aSinkFailingWhileAnotherIsBlockedInItsWriteFailsTheBroadcast() {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CountDownLatch writing = new CountDownLatch(1);
    Sink<List<Integer>> failing =
        batch -> {
          writing.await();
          throw new IOException("disk full");
        };

    PipelineException e =
        assertThrows(
            PipelineException.class,
            () ->
                Pipeline.range(0, 10)
                    .withOptions(threads.options())
                    .broadcast(
                        Context.background(), List.of(blockingSink(writing), atTheEnd(failing))));

    assertEquals(IOException.class, e.getCause().getClass());
    assertEquals(Outcome.FAILED, e.report().outcome());
    threads.assertAllEnded();
  }

  @Test
  void anImmediateStopEndsASplitWhoseSinkIsBlockedInItsWrite() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory();
    CountDownLatch writing = new CountDownLatch(1);
    CancelableContext ctx = Context.background().withCancel();
    Sink<List<Integer>> cancelling =
        batch -> {
          writing.await();
          ctx.cancel();
        };

    Result<Long> r =
        Pipeline.range(0, 10)
            .withOptions(threads.options())
            .split(ctx, x -> x % 2, List.of(blockingSink(writing), atTheEnd(cancelling)));

    assertEquals(Outcome.STOPPED_IMMEDIATELY, r.outcome());
    threads.assertAllEnded();
  }
}
