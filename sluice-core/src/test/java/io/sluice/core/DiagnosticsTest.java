package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.parallel.Isolated;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The blocked-operation warning: what enables it, what it says, and that it changes nothing else.
 */
@Isolated
@Timeout(30)
class DiagnosticsTest {
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final CountDownLatch warned = new CountDownLatch(1);
  private final Handler capture =
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
  private final Logger logger = Logger.getLogger("io.sluice.core");

  /** A log handler that throws, as a broken appender can; added after {@code capture}. */
  private final Handler failing =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          throw new IllegalStateException("the log handler failed");
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private Duration before;

  @BeforeEach
  void captureWarnings() {
    before = Diagnostics.blockedWarning();
    logger.addHandler(capture);
  }

  @AfterEach
  void restore() {
    Diagnostics.warnWhenBlockedLongerThan(before);
    logger.removeHandler(capture);
  }

  @Test
  void durationsParseInEveryDocumentedForm() {
    assertEquals(Duration.ofSeconds(30).toNanos(), Diagnostics.parse("30s"));
    assertEquals(Duration.ofMillis(500).toNanos(), Diagnostics.parse("500ms"));
    assertEquals(Duration.ofMinutes(2).toNanos(), Diagnostics.parse("2m"));
    assertEquals(Duration.ofSeconds(30).toNanos(), Diagnostics.parse("PT30S"));
    assertEquals(0, Diagnostics.parse(null));
    assertEquals(0, Diagnostics.parse(" "));
  }

  @Test
  void aValueThatIsNoDurationIsRejectedWithTheFormsThatWork() {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Diagnostics.parse("soon"));

    assertTrue(e.getMessage().contains("'soon'"), e.getMessage());
    assertTrue(e.getMessage().contains("30s, 500ms, 2m or PT30S"), e.getMessage());
  }

  @Test
  void aNegativeThresholdIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> Diagnostics.warnWhenBlockedLongerThan(Duration.ofSeconds(-1)));
  }

  @Test
  void aThresholdTooLongToCountInNanosecondsIsAcceptedAsNearlyNever() {
    Diagnostics.warnWhenBlockedLongerThan(ChronoUnit.FOREVER.getDuration());

    assertEquals(Duration.ofNanos(Long.MAX_VALUE), Diagnostics.blockedWarning());
    assertEquals(Long.MAX_VALUE, Diagnostics.parse("PT" + Long.MAX_VALUE + "S"));
  }

  @Test
  void aWarningThatFailsToBeLoggedLeavesTheReceiverWaitingForItsValue() throws Exception {
    // given: a log handler that throws, as a broken appender or a value's toString can
    logger.addHandler(failing);
    try {
      Diagnostics.warnWhenBlockedLongerThan(Duration.ofMillis(1));
      Channel<String> ch = Channel.unbuffered();
      Spawned<String> receiver = Spawned.start(ThreadKind.VIRTUAL, ch::receive);
      assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");

      // when
      ch.send("v");

      // then: the value reached the receiver, which went on waiting after the failed warning
      assertEquals("v", receiver.join());
      ChannelTest.assertSound(ch);
    } finally {
      logger.removeHandler(failing);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void aStrandedTimerReceiveWhoseWarningFailsToLogStillGetsTheValueOfTheNextReset(boolean select)
      throws Exception {
    // given: a plain receive on a stopped timer's channel, whose warning the handler fails to log
    Diagnostics.timerWarnings().reset(); // earlier tests in this JVM may have used the budget
    ManualClock clock = Clock.manual(Instant.parse("2024-01-01T00:00:00Z"));
    Timer timer = clock.newTimer(Duration.ofSeconds(1));
    timer.stop();
    logger.addHandler(failing);
    try {
      Spawned<Instant> receiver =
          Spawned.start(
              ThreadKind.VIRTUAL,
              () ->
                  select
                      ? Select.select(timer.channel().onReceive(v -> v))
                      : timer.channel().receive());
      assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");

      // when
      timer.reset(Duration.ofSeconds(1));
      clock.advance(Duration.ofSeconds(1));

      // then: the tick reached the receiver, which went on waiting after the failed warning
      assertEquals(Instant.parse("2024-01-01T00:00:01Z"), receiver.join());
    } finally {
      logger.removeHandler(failing);
    }
  }

  @Test
  void givenAReceiverOnATimersChannel_whenStopsWarningFailsToLog_thenStopStillReturnsTrue()
      throws Exception {
    // given: a plain receive waiting on an active timer's channel, and a log handler that throws
    Diagnostics.timerWarnings().reset(); // earlier tests in this JVM may have used the budget
    ManualClock clock = Clock.manual(Instant.parse("2024-01-01T00:00:00Z"));
    Timer timer = clock.newTimer(Duration.ofSeconds(1));
    Spawned<Instant> receiver =
        Spawned.start(ThreadKind.VIRTUAL, () -> timer.channel().receive()).awaitBlocked();
    logger.addHandler(failing);
    try {
      // when: the stop's warning about the receiver it leaves waiting fails to log
      boolean stopped = timer.stop();

      // then: the stop happened and says so; the receiver still gets the value of a reset
      assertTrue(stopped);
      assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
      timer.reset(Duration.ofSeconds(1));
      clock.advance(Duration.ofSeconds(1));
      assertEquals(Instant.parse("2024-01-01T00:00:01Z"), receiver.join());
    } finally {
      logger.removeHandler(failing);
    }
  }

  @Test
  void aSelectBlockedPastTheThresholdIsReportedWithItsClausesAndStillCompletes() throws Exception {
    Diagnostics.warnWhenBlockedLongerThan(Duration.ofMillis(20));
    Channel<String> a = Channel.unbuffered();
    Channel<String> b = Channel.buffered(1);
    String[] got = new String[1];
    Thread t =
        Thread.ofVirtual()
            .name("stuck-select")
            .start(
                () -> {
                  try {
                    got[0] = Select.select(a.onReceive(v -> "a:" + v), b.onReceive(v -> "b:" + v));
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });

    assertTrue(warned.await(20, TimeUnit.SECONDS), "no warning was logged");
    b.send("late");
    t.join();

    assertEquals("b:late", got[0]);
    assertEquals(1, records.size());
    String message = records.getFirst().getMessage();
    assertTrue(message.contains("'stuck-select'"), message);
    assertTrue(message.contains("select over [receive from Channel#"), message);
    assertTrue(message.contains("buffered(1)"), message);
  }

  @Test
  void nothingIsReportedWhileTheWarningIsOff() throws Exception {
    Diagnostics.warnWhenBlockedLongerThan(Duration.ZERO);
    Channel<String> ch = Channel.unbuffered();
    Thread t =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    ch.receive();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
    while (t.getState() != Thread.State.WAITING) {
      Thread.onSpinWait();
    }

    ch.send("done");
    t.join();

    assertTrue(records.isEmpty(), () -> "unexpected warning: " + records);
  }

  @Test
  void aTimedWaitIsNeverReported() throws Exception {
    Diagnostics.warnWhenBlockedLongerThan(Duration.ofNanos(1));
    Channel<String> ch = Channel.unbuffered();

    TryReceived<String> r = ch.tryReceive(Duration.ofMillis(30));

    assertTrue(r instanceof TryReceived.WouldBlock<String>);
    assertTrue(records.isEmpty(), () -> "unexpected warning: " + records);
  }
}
