package io.sluice.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataWriter;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The header deadline on its own, with a manual clock and a stand-in for Helidon's connection: the
 * test thread (or one it starts) plays the connection thread and calls the listeners as Helidon
 * does. {@link HeaderTimeoutTest} has it over real connections.
 */
@Timeout(60)
class HeaderDeadlineTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final ManualClock clock = Clock.manual(Instant.EPOCH);
  private final ServerMetrics metrics = new ServerMetrics();
  private final HeaderDeadline deadline = new HeaderDeadline(clock, TIMEOUT, metrics);
  private final Http1ConnectionListener receive = deadline.receiveListener();
  private final Http1ConnectionListener send = deadline.sendListener();

  /** What the deadline wrote to one connection. */
  private static final class RecordingWriter implements DataWriter {
    final List<byte[]> written = new CopyOnWriteArrayList<>();
    final CountDownLatch wrote = new CountDownLatch(1);
    volatile RuntimeException failure;

    @Override
    public void write(BufferData... buffers) {
      throw new UnsupportedOperationException("the deadline writes at once");
    }

    @Override
    public void write(BufferData buffer) {
      throw new UnsupportedOperationException("the deadline writes at once");
    }

    @Override
    public void writeNow(BufferData... buffers) {
      throw new UnsupportedOperationException("the deadline writes one buffer");
    }

    @Override
    public void writeNow(BufferData buffer) {
      try {
        if (failure != null) {
          throw failure;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        buffer.writeTo(out);
        written.add(out.toByteArray());
      } finally {
        wrote.countDown();
      }
    }
  }

  /** A connection whose writer is {@code writer}; nothing else of it is used. */
  private static ConnectionContext connection(DataWriter writer) {
    return (ConnectionContext)
        Proxy.newProxyInstance(
            ConnectionContext.class.getClassLoader(),
            new Class<?>[] {ConnectionContext.class},
            (proxy, method, args) ->
                switch (method.getName()) {
                  case "dataWriter" -> writer;
                  case "toString" -> "a test connection";
                  case "hashCode" -> System.identityHashCode(proxy);
                  case "equals" -> proxy == args[0];
                  default -> throw new UnsupportedOperationException(method.getName());
                });
  }

  private long timeoutsCounted() {
    String prefix = "sluice_http_requests_total{route=\"protocol\",status=\"408\"} ";
    for (String line : metrics.scrape().split("\n")) {
      if (line.startsWith(prefix)) {
        return (long) Double.parseDouble(line.substring(prefix.length()).strip());
      }
    }
    return 0;
  }

  /**
   * Starts a connection thread that reads a request line, arming the deadline, then blocks as in a
   * read of headers that never come; returns once armed. The future tells how the read ended.
   */
  private CompletableFuture<String> readHeadersForever(ConnectionContext ctx)
      throws InterruptedException {
    CountDownLatch armed = new CountDownLatch(1);
    CompletableFuture<String> reader = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              receive.prologue(ctx, null);
              armed.countDown();
              try {
                new CountDownLatch(1).await(); // a read that never ends
                reader.complete("the read ended by itself");
              } catch (InterruptedException e) {
                reader.complete("interrupted");
              }
            });
    armed.await();
    return reader;
  }

  @Test
  void whenTheHeadersDoNotComeInTimeThe408IsWrittenCountedAndTheReadInterrupted() throws Exception {
    // given a connection thread that read a request line and blocks reading the headers
    RecordingWriter writer = new RecordingWriter();
    ConnectionContext ctx = connection(writer);
    CompletableFuture<String> reader = readHeadersForever(ctx);

    // when the header timeout passes
    clock.advance(TIMEOUT);

    // then the read is interrupted, after the 408 was written and counted
    assertEquals("interrupted", reader.get());
    assertEquals(1, writer.written.size());
    assertArrayEquals(HeaderDeadline.response(TIMEOUT), writer.written.getFirst());
    assertEquals(1, timeoutsCounted());
  }

  @Test
  void headersInTimeStopTheTimerSoNothingIsEverWritten() {
    RecordingWriter writer = new RecordingWriter();
    ConnectionContext ctx = connection(writer);
    receive.prologue(ctx, null);
    clock.advance(TIMEOUT.minusNanos(1));

    receive.headers(ctx, null);

    assertEquals(0, clock.pendingTimers(), "the timer was stopped");
    clock.advance(TIMEOUT.multipliedBy(10));
    assertEquals(List.of(), writer.written);
    assertFalse(Thread.currentThread().isInterrupted());
    assertEquals(0, timeoutsCounted());
  }

  @Test
  void headersThatComeAfterThe408CloseTheConnectionAndClearTheTimersInterrupt() throws Exception {
    // given a request whose timer has answered 408 while the connection thread was not reading
    RecordingWriter writer = new RecordingWriter();
    ConnectionContext ctx = connection(writer);
    CountDownLatch armed = new CountDownLatch(1);
    CountDownLatch answered = new CountDownLatch(1);
    CompletableFuture<String> outcome = new CompletableFuture<>();
    Thread.ofVirtual()
        .start(
            () -> {
              receive.prologue(ctx, null);
              armed.countDown();
              Latches.awaitUninterruptibly(answered);
              // when the headers listener is called
              try {
                receive.headers(ctx, null);
                outcome.complete("routed");
              } catch (CloseConnectionException e) {
                outcome.complete(
                    Thread.currentThread().isInterrupted() ? "closed, interrupted" : "closed");
              }
            });
    armed.await();
    clock.advance(TIMEOUT);
    writer.wrote.await();
    answered.countDown();

    // then the request goes no further, and the thread keeps no interrupt meant for a read
    assertEquals("closed", outcome.get());
    assertEquals(1, writer.written.size());
  }

  @Test
  void anAnswerHelidonSendsBeforeTheHeadersDisarmsTheDeadline() {
    RecordingWriter writer = new RecordingWriter();
    ConnectionContext ctx = connection(writer);
    receive.prologue(ctx, null);

    send.status(ctx, Status.BAD_REQUEST_400); // e.g. a malformed header line

    assertEquals(0, clock.pendingTimers());
    clock.advance(TIMEOUT.multipliedBy(2));
    assertEquals(List.of(), writer.written);
  }

  @Test
  void aNewRequestLineOnTheConnectionDisarmsTheDeadlineBeforeIt() {
    RecordingWriter writer = new RecordingWriter();
    ConnectionContext ctx = connection(writer);
    receive.prologue(ctx, null);

    receive.prologue(ctx, null);

    assertEquals(1, clock.pendingTimers(), "only the new request's deadline is armed");
    receive.headers(ctx, null);
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void aResponseToARequestWhoseHeadersCameDoesNothing() {
    RecordingWriter writer = new RecordingWriter();
    ConnectionContext ctx = connection(writer);
    receive.prologue(ctx, null);
    receive.headers(ctx, null);

    send.status(ctx, Status.ACCEPTED_202);
    send.status(ctx, Status.OK_200);

    clock.advance(TIMEOUT.multipliedBy(2));
    assertEquals(List.of(), writer.written);
  }

  @Test
  void a408ThatCannotBeWrittenIsNotCountedButTheReadIsStillInterrupted() throws Exception {
    // given a connection the client has closed, so writing fails
    RecordingWriter writer = new RecordingWriter();
    writer.failure = new UncheckedIOException(new java.io.IOException("Broken pipe"));
    ConnectionContext ctx = connection(writer);
    CompletableFuture<String> reader = readHeadersForever(ctx);

    // when the timeout passes
    clock.advance(TIMEOUT);

    // then
    assertEquals("interrupted", reader.get());
    assertEquals(0, timeoutsCounted());
  }

  @Test
  void the408IsAWholeHttpResponseWithAJsonErrorOfItsContentLength() {
    String response = new String(HeaderDeadline.response(Duration.ofMillis(1500)), UTF_8);

    int end = response.indexOf("\r\n\r\n");
    String head = response.substring(0, end);
    String body = response.substring(end + 4);
    assertTrue(head.startsWith("HTTP/1.1 408 Request Timeout\r\n"), head);
    assertTrue(head.contains("\r\nContent-Type: application/json"), head);
    assertTrue(head.contains("\r\nConnection: close"), head);
    assertTrue(
        head.contains("\r\nContent-Length: " + body.getBytes(UTF_8).length), head + "|" + body);
    Map<String, Object> error = Json.object(body);
    assertEquals("header_timeout", error.get("error"));
    String message = (String) error.get("message");
    assertTrue(message.contains("1500 ms"), message);
    assertTrue(message.contains("--header-timeout"), message);
    assertTrue(message.contains("send the whole head at once"), message);
  }

  @Test
  void racingHeadersAndTimersAnswerEachRequestExactlyOnceAndLeakNoInterrupt() throws Exception {
    // given connection threads that each send many requests, their headers coming at random
    // moments, while another thread moves the clock past their deadlines again and again; every
    // eighth request's headers come only once its 408 is written, so the timer surely wins some
    // (which side wins the others depends on the scheduler: on a busy host either may win them all)
    int threads = 8;
    int requests = Boolean.parseBoolean(System.getenv("CI")) ? 20_000 : 5_000;
    HeaderDeadline racing = new HeaderDeadline(clock, Duration.ofNanos(1_000), metrics);
    AtomicBoolean running = new AtomicBoolean(true);
    Thread ticker =
        Thread.ofPlatform()
            .start(
                () -> {
                  while (running.get()) {
                    clock.advance(Duration.ofNanos(1_000));
                    Thread.yield();
                  }
                });
    List<RecordingWriter> writers = new ArrayList<>();
    List<CompletableFuture<long[]>> results = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      RecordingWriter writer = new RecordingWriter();
      writers.add(writer);
      CompletableFuture<long[]> result = new CompletableFuture<>();
      results.add(result);
      ConnectionContext ctx = connection(writer);
      Thread.ofVirtual()
          .start(
              () -> {
                long closed = 0;
                long leaked = 0;
                for (int i = 0; i < requests; i++) {
                  int answered = writer.written.size();
                  racing.receiveListener().prologue(ctx, null);
                  if (i % 8 == 0) {
                    while (writer.written.size() == answered) {
                      LockSupport.parkNanos(10_000); // frees the carrier for the timer's thread
                    }
                  }
                  for (int spin = ThreadLocalRandom.current().nextInt(200); spin > 0; spin--) {
                    Thread.onSpinWait();
                  }
                  try {
                    racing.receiveListener().headers(ctx, null);
                  } catch (CloseConnectionException e) {
                    closed++;
                  }
                  if (Thread.interrupted()) {
                    leaked++;
                  }
                }
                result.complete(new long[] {closed, leaked});
              });
    }

    // when they have all finished
    AtomicLong closedInAll = new AtomicLong();
    for (int t = 0; t < threads; t++) {
      long[] r = results.get(t).get();
      closedInAll.addAndGet(r[0]);

      // then every request the timer answered was closed, every other one went on, and no
      // interrupt was left behind for a later request
      assertEquals(0, r[1], "interrupts left on connection thread " + t);
      assertEquals(r[0], writers.get(t).written.size(), "408s written vs closed, thread " + t);
    }
    running.set(false);
    ticker.join();
    assertEquals(closedInAll.get(), timeoutsCounted());
    long forced = (long) threads * ((requests + 7) / 8);
    assertTrue(
        closedInAll.get() >= forced,
        "closed "
            + closedInAll.get()
            + " of "
            + threads * requests
            + ", fewer than the "
            + forced
            + " whose 408 was written before their headers came");
  }
}
