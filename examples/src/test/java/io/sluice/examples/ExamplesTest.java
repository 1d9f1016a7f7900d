package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.CancelableContext;
import io.sluice.core.Channel;
import io.sluice.core.Context;
import io.sluice.core.Diagnostics;
import io.sluice.pipeline.Pipeline;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Each example runs to its documented end: no deadlock, no busy loop, errors reported. */
@Timeout(30)
class ExamplesTest {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  private List<String> lines() {
    return bytes.toString(StandardCharsets.UTF_8).lines().toList();
  }

  @Test
  void simplePipelinePrintsEveryValueAndEnds() {
    SimplePipeline.sink(SimplePipeline.producer(List.of("foo", "bar", "bax")), out);

    assertEquals(List.of("foo", "bar", "bax"), lines());
  }

  @Test
  void simplePipelineWithAPipelineReadsTheRendezvousChannelOnTheSameThread() throws Exception {
    TrackingThreadFactory threads = new TrackingThreadFactory("simple-");

    long sent =
        SimplePipeline.withPipeline(
            List.of("foo", "bar", "bax"),
            out,
            Pipeline.Options.defaults().withThreadFactory(threads));

    assertEquals(3, sent);
    assertEquals(List.of("foo", "bar", "bax"), lines());
    threads.assertAllEndedCleanly();
  }

  @Test
  void closedChannelLoopStopsAtTheEndOfTheStream() throws Exception {
    Channel<String> ch = Channel.buffered(2);
    ch.send("foo");
    ch.send("bar");
    ch.close();

    int logged = ClosedChannelLoop.sink(Context.background(), ch, out);

    assertEquals(2, logged);
    assertEquals(List.of("foo", "bar", "done"), lines());
  }

  @Test
  void closedChannelLoopReportsTheProducersError() throws Exception {
    Channel<String> ch = Channel.buffered(1);
    ch.close(new IllegalStateException("disk full"));

    ClosedChannelLoop.sink(Context.background(), ch, out);

    assertEquals(List.of("done with error: java.lang.IllegalStateException: disk full"), lines());
  }

  @Test
  void closedChannelLoopReturnsWhenTheContextIsDoneAndTheStreamStillOpen() throws Exception {
    Channel<String> open = Channel.buffered(1);
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    int logged = ClosedChannelLoop.sink(ctx, open, out);

    assertEquals(0, logged);
    assertEquals(1, lines().size(), lines().toString());
    assertTrue(lines().getFirst().startsWith("stopped: "), lines().getFirst());
  }

  @Test
  void deadlockedSenderIsReportedWithTheChannelAndTheFix() throws Exception {
    List<LogRecord> records = new CopyOnWriteArrayList<>();
    CountDownLatch warned = new CountDownLatch(1);
    Handler capture =
        new Handler() {
          @Override
          public void publish(LogRecord r) {
            records.add(r);
            warned.countDown();
          }

          @Override
          public void flush() {}

          @Override
          public void close() {}
        };
    Logger logger = Logger.getLogger("io.sluice.core");
    logger.addHandler(capture);
    Duration before = Diagnostics.blockedWarning();
    Diagnostics.warnWhenBlockedLongerThan(Duration.ofMillis(50));
    try {
      Thread producer = DeadlockDiagnosed.startNaiveProducer(Channel.unbuffered());

      assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
      assertTrue(producer.isAlive(), "the naive producer should still hang");
      producer.interrupt();
      producer.join();
      assertEquals(1, records.size(), "one warning per blocked wait");
      String message = records.getFirst().getMessage();
      assertTrue(message.contains("'naive-producer'"), message);
      assertTrue(message.contains("send on Channel#"), message);
      assertTrue(message.contains("unbuffered"), message);
      assertTrue(message.contains("deadlock"), message);
    } finally {
      Diagnostics.warnWhenBlockedLongerThan(before);
      logger.removeHandler(capture);
    }
  }

  @Test
  void deadlockDiagnosedPutsBackTheThresholdItFound() throws Exception {
    Duration original = Diagnostics.blockedWarning();
    Duration before = Duration.ofMinutes(7); // neither off nor the example's own 1 s
    Diagnostics.warnWhenBlockedLongerThan(before);
    try {
      DeadlockDiagnosed.main(new String[0]);

      assertEquals(before, Diagnostics.blockedWarning());
    } finally {
      Diagnostics.warnWhenBlockedLongerThan(original);
    }
  }

  @Test
  void deadlockDiagnosedLeavesTheWarningOffWhenItWasOff() throws Exception {
    Duration original = Diagnostics.blockedWarning();
    Diagnostics.warnWhenBlockedLongerThan(Duration.ZERO);
    try {
      DeadlockDiagnosed.main(new String[0]);

      assertEquals(Duration.ZERO, Diagnostics.blockedWarning());
    } finally {
      Diagnostics.warnWhenBlockedLongerThan(original);
    }
  }
}
