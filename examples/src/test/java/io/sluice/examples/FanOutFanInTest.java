package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.examples.FanOutFanIn.End;
import io.sluice.examples.FanOutFanIn.Outcome;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fan-out/fan-in example transforms every value, reports a failing stage, stops on cancellation
 * — and in each case every thread it started has terminated when {@code run} returns.
 */
@Timeout(60)
class FanOutFanInTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
  private final TrackingThreadFactory threads = new TrackingThreadFactory("fan-out-fan-in-");

  private List<String> lines() {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  /** ITEM0 .. ITEM(n-1): more than the stages can hold, so upstream stages are mid-send. */
  private static List<String> items(int n) {
    return IntStream.range(0, n).mapToObj(i -> "ITEM" + i).toList();
  }

  @ParameterizedTest(name = "{0} worker(s) per stage")
  @ValueSource(ints = {1, 4, 16})
  void aSuccessfulRunTransformsEveryValueAndJoinsEveryThread(int workers) throws Exception {
    Outcome r =
        FanOutFanIn.run(
            Context.background(), items(200), workers, FanOutFanIn::title, threads, out);

    assertEquals(End.DONE, r.end());
    assertEquals(
        IntStream.range(0, 200).mapToObj(i -> "Item" + i).sorted().toList(),
        r.values().stream().sorted().toList());
    assertEquals("done", lines().getLast());
    // producer, N to-lower, N forwarders, N to-title, N forwarders: every one made by the factory
    assertEquals(1 + 4 * workers, threads.threads().size());
    threads.assertAllEndedCleanly();
  }

  @ParameterizedTest(name = "{0} worker(s) per stage")
  @ValueSource(ints = {1, 4, 16})
  void aFailingStageIsReportedAndNoThreadIsLeftRunning(int workers) throws Exception {
    Outcome r =
        FanOutFanIn.run(
            Context.background(),
            items(1000),
            workers,
            s -> {
              if (s.equals("item10")) {
                throw new IllegalArgumentException("oh no");
              }
              return FanOutFanIn.title(s);
            },
            threads,
            out);

    assertEquals(End.FAILED, r.end());
    assertEquals(
        "oh no", assertInstanceOf(IllegalArgumentException.class, r.cause().get()).getMessage());
    assertFalse(r.values().contains("Item10"));
    assertTrue(r.values().size() < 1000, "the failure stopped the producer");
    assertEquals("error: oh no; the group cancelled the other stages", lines().getLast());
    threads.assertAllEndedCleanly();
  }

  @ParameterizedTest(name = "{0} worker(s) per stage")
  @ValueSource(ints = {1, 4, 16})
  void cancellingTheCallersContextStopsTheRunAndNoThreadIsLeftRunning(int workers)
      throws Exception {
    CancelableContext parent = Context.background().withCancel();

    Outcome r =
        FanOutFanIn.run(
            parent,
            items(1000),
            workers,
            s -> {
              if (s.equals("item10")) {
                parent.cancel(); // the sink's owner gives up mid-stream
              }
              return FanOutFanIn.title(s);
            },
            threads,
            out);

    assertEquals(End.CANCELLED, r.end());
    assertFalse(r.values().contains("Item10"), "a send on a cancelled context fails");
    assertTrue(r.values().size() < 1000, "the cancellation stopped the producer");
    assertEquals("cancelled after " + r.values().size() + " value(s)", lines().getLast());
    threads.assertAllEndedCleanly();
  }

  @Test
  void aSendOnAClosedChannelFailsThatSenderAloneAndDeliversNothing() throws Exception {
    // given a channel its owner has closed after one value
    Channel<String> closed = Channel.buffered(2);
    closed.send("on time");
    closed.close();

    // when a late sender sends on it
    ChannelClosedException e = FanOutFanIn.sendAfterClose(closed);

    // then the sender is told, and the receiver sees the value sent in time and then the end
    assertNotNull(e, "the late send should have been refused");
    assertTrue(e.getMessage().contains("send on closed channel"), e.getMessage());
    assertTrue(e.error().isEmpty(), "closed normally, not with an error");
    assertEquals("on time", closed.receive());
    assertThrows(ChannelClosedException.class, closed::receive);
  }
}
