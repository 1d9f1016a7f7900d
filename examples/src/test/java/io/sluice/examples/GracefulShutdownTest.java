package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Clock;
import io.sluice.core.Context;
import io.sluice.core.ContextCancelledException;
import io.sluice.core.DeadlineExceededException;
import io.sluice.core.ManualClock;
import io.sluice.examples.GracefulShutdown.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The graceful-shutdown example: cancelled or timed out in the middle of the stream, both sides
 * stop, every value the producer sent was handled or reported by the sink, and no thread is left.
 */
@Timeout(60)
class GracefulShutdownTest {
  private static final List<String> SOURCE =
      IntStream.range(0, 1_000).mapToObj(i -> "item" + i).toList();

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private final TrackingThreadFactory threads = new TrackingThreadFactory("graceful-shutdown-");

  private List<String> lines() {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return Stream.concat(a.stream(), b.stream()).toList();
  }

  @Test
  void givenNoCancellation_whenRun_thenEveryValueIsSentAndHandledAndTheProducerEnded()
      throws Exception {
    // when
    Outcome o =
        GracefulShutdown.run(Context.background(), SOURCE, Duration.ZERO, v -> {}, threads, out);

    // then
    assertEquals(SOURCE, o.sent());
    assertEquals(SOURCE, o.handled());
    assertEquals(List.of(), o.drained());
    assertTrue(o.stoppedBy().isEmpty());
    assertTrue(lines().contains("producer: sent all 1000"), lines().toString());
    assertTrue(lines().contains("sink: end of stream after 1000"), lines().toString());
    threads.assertAllEndedCleanly();
  }

  @Test
  void givenACancellationMidStream_whenRun_thenBothSidesStopNoValueIsLostAndNoThreadIsLeft()
      throws Exception {
    // given a sink whose work cancels the context at the eleventh value
    CancelableContext ctx = Context.background().withCancel();
    IllegalStateException why = new IllegalStateException("operator pressed Ctrl-C");
    List<String> seen = new ArrayList<>();

    // when
    Outcome o =
        GracefulShutdown.run(
            ctx,
            SOURCE,
            Duration.ZERO,
            v -> {
              seen.add(v);
              if (v.equals("item10")) {
                ctx.cancel(why); // from inside the sink: the next receive sees the context done
              }
            },
            threads,
            out);

    // then the sink stopped right after the value that cancelled, with the cancellation's cause
    assertEquals(SOURCE.subList(0, 11), o.handled());
    assertEquals(o.handled(), seen);
    var stoppedBy = assertInstanceOf(ContextCancelledException.class, o.stoppedBy().orElseThrow());
    assertSame(why, stoppedBy.getCause());
    // the producer stopped too, long before the end of its list
    assertTrue(o.sent().size() < SOURCE.size(), "sent " + o.sent().size());
    assertTrue(
        lines().stream().anyMatch(l -> l.startsWith("producer: stopped after ")),
        lines().toString());
    // nothing lost between them: what was sent is what was handled, then what was drained
    assertEquals(o.sent(), concat(o.handled(), o.drained()));
    assertEquals(SOURCE.subList(0, o.sent().size()), o.sent());
    // and the producer's thread has terminated
    threads.assertAllEndedCleanly();
  }

  @Test
  void givenTheSeedsTimings_whenTheDeadlinePassesMidStream_thenOneValueIsSentAndNoneIsLost()
      throws Exception {
    // given the seed's numbers on a manual clock: a value every 3 s, the context ends at 5 s
    ManualClock clock = Clock.manual(Instant.EPOCH);
    CancelableContext ctx = Context.background(clock).withTimeout(Duration.ofSeconds(5));
    CompletableFuture<Outcome> outcome = new CompletableFuture<>();
    Thread runner =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    outcome.complete(
                        GracefulShutdown.run(
                            ctx,
                            List.of("foo", "bar", "bax"),
                            Duration.ofSeconds(3),
                            v -> {},
                            threads,
                            out));
                  } catch (Throwable t) {
                    outcome.completeExceptionally(t);
                  }
                });
    awaitPendingTimers(clock, 2); // the deadline and the producer's first sleep
    clock.advance(Duration.ofSeconds(3));
    awaitPendingTimers(clock, 2); // "foo" sent, the producer sleeps again

    // when
    clock.advance(Duration.ofSeconds(2));

    // then
    Outcome o = outcome.get();
    runner.join();
    assertEquals(List.of("foo"), o.sent());
    assertEquals(o.sent(), concat(o.handled(), o.drained()));
    assertInstanceOf(DeadlineExceededException.class, o.stoppedBy().orElseThrow());
    assertTrue(
        lines().contains("producer: stopped after 1 of 3: context deadline exceeded"),
        lines().toString());
    assertEquals(0, clock.pendingTimers());
    threads.assertAllEndedCleanly();
  }

  /** Spins until the clock has {@code n} timers pending; the test's timeout bounds it. */
  private static void awaitPendingTimers(ManualClock clock, int n) {
    while (clock.pendingTimers() != n) {
      if (Thread.interrupted()) {
        throw new AssertionError("interrupted (timed out?) waiting for " + n + " pending timers");
      }
      Thread.onSpinWait();
    }
  }
}
