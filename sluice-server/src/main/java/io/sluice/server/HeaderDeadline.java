package io.sluice.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.sluice.core.Clock;
import io.sluice.core.Timer;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/*
 * The header timeout (--header-timeout): a request's header fields must arrive within this time of
 * its request line, or the client gets 408 header_timeout and its connection is closed.
 *
 * Helidon 4.5 has no such timeout. Its idle-connection check only interrupts a connection while it
 * reads a request line, and restarts its idle clock once the line is read, so a client that sends
 * "POST /v1/payloads HTTP/1.1\r\n" and then stalls (or trickles) inside its headers would hold a
 * connection, and a slot of --max-connections, for ever. Helidon does tell its HTTP/1 receive
 * listeners, on the connection's own virtual thread, when it has read a request line (prologue)
 * and when it has read the headers (headers); this class is such a listener.
 *
 * Algorithm, after the body timeout (Http.BodyDeadline). On prologue: make a Request for this
 * request, arm a timer for it, and keep it in a ThreadLocal of the connection's thread (one
 * connection, one virtual thread, one request at a time). On headers: the connection thread
 * claims the request (CAS ARMED -> DONE) and stops the timer. If the timer claims it first (CAS
 * ARMED -> EXPIRING), the timer's thread writes a raw 408 through the connection's writer (the
 * connection thread is blocked reading, not writing), counts it, interrupts the connection thread
 * (interrupting a virtual thread blocked in a socket read closes the socket: Helidon's own
 * close(true) relies on the same), and marks the request EXPIRED. Whoever claims first owns the
 * answer; the other stays silent. Each request gets its own Request, so a late timer of an old
 * request finds it DONE and does nothing to a later one on the same connection.
 *
 * Helidon may give up on a request between the two callbacks (a malformed header, a bad path, a
 * missing Host): it then answers the error itself, and tells its send listeners the status first,
 * so the send listener here disarms the request as headers does. A connection that ends with an
 * I/O error (the client went away) leaves its Request armed; its timer then fires on a closed
 * connection, the write fails (logged at DEBUG, not counted) and the interrupt reaches a thread
 * that has ended. A new request line on the same connection disarms any request still armed.
 *
 * If the connection thread comes to disarm a request the timer has claimed (the last header byte
 * came just as the deadline passed), it waits the moment it takes the 408 to be written, clears
 * the timer's interrupt and throws CloseConnectionException, which Helidon takes as a request to
 * close the connection (logged at TRACE): the request is never routed, and Helidon writes nothing
 * after the 408. When the timer interrupts a read instead, Helidon's socket turns the interrupt
 * into a ServerConnectionException (a CloseConnectionException too): the same quiet close.
 *
 * States: ARMED -> DONE (connection thread) | ARMED -> EXPIRING -> EXPIRED (timer). DONE and
 * EXPIRED are final; the interrupt is sent before EXPIRED is set, so a connection thread that
 * sees EXPIRED and clears its interrupt status clears the timer's interrupt and no later one.
 *
 * Cost per request: one Request, one timer scheduled and stopped, a ThreadLocal write and a read
 * or two (one more for each response), and one compare-and-set; no lock.
 */
final class HeaderDeadline {
  private static final System.Logger LOG = System.getLogger(HeaderDeadline.class.getName());

  private final Clock clock;
  private final Duration timeout;
  private final ServerMetrics metrics;
  private final byte[] answer;
  private final ThreadLocal<Request> current = new ThreadLocal<>();
  private final Http1ConnectionListener receiveListener = new ReceiveListener();
  private final Http1ConnectionListener sendListener = new SendListener();

  /**
   * @param clock schedules the deadlines ({@link Clock#system()} but in tests)
   * @param timeout how long the header fields may take after the request line; positive
   * @param metrics where each 408 sent is counted, under the route {@value ProtocolErrors#ROUTE}
   */
  HeaderDeadline(Clock clock, Duration timeout, ServerMetrics metrics) {
    this.clock = clock;
    this.timeout = timeout;
    this.metrics = metrics;
    this.answer = response(timeout);
  }

  /** The listener to add to Helidon's HTTP/1 receive listeners: it arms and disarms. */
  Http1ConnectionListener receiveListener() {
    return receiveListener;
  }

  /**
   * The listener to add to Helidon's HTTP/1 send listeners: it disarms a request that Helidon
   * answers before its headers were read (with an error of its own).
   */
  Http1ConnectionListener sendListener() {
    return sendListener;
  }

  /** The whole 408 response, head and JSON body, as written to the socket. */
  static byte[] response(Duration timeout) {
    byte[] body =
        Http.problemBody(
            "header_timeout",
            "the request's header fields did not arrive within "
                + timeout.toMillis()
                + " ms of its request line (--header-timeout); send the whole head at once, or"
                + " raise the limit");
    byte[] head =
        ("HTTP/1.1 408 Request Timeout\r\n"
                + "Content-Type: application/json\r\n"
                + "Connection: close\r\n"
                + "Content-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  /** A request line was read: arm a deadline for this request's headers. */
  private void arm(ConnectionContext ctx) {
    finishCurrent();
    Request r = new Request(ctx, Thread.currentThread());
    r.timer = clock.afterFunc(timeout, r);
    current.set(r);
  }

  /**
   * The headers phase of the connection's current request is over (its headers were read, or
   * Helidon is answering it, or another request line came): disarm its deadline. If the timer has
   * answered 408 already, the request must go no further: close the connection.
   */
  private void finishCurrent() {
    Request r = current.get();
    if (r != null && !r.finish()) {
      current.set(null); // told once
      throw new CloseConnectionException("the header timeout has answered this request with 408");
    }
  }

  private static final int ARMED = 0;
  private static final int DONE = 1;
  private static final int EXPIRING = 2;
  private static final int EXPIRED = 3;

  private static final VarHandle STATE;

  static {
    try {
      STATE = MethodHandles.lookup().findVarHandle(Request.class, "state", int.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** One request's deadline; its state is the only thing the two threads share. */
  private final class Request implements Runnable {
    private final ConnectionContext ctx;
    private final Thread connection;
    private volatile int state = ARMED;

    /** Set and read by the connection thread only. */
    private Timer timer;

    Request(ConnectionContext ctx, Thread connection) {
      this.ctx = ctx;
      this.connection = connection;
    }

    private boolean casState(int expected, int next) {
      return STATE.compareAndSet(this, expected, next);
    }

    /** The timer: answer 408 and close the connection, unless the headers came first. */
    @Override
    public void run() {
      if (!casState(ARMED, EXPIRING)) {
        return;
      }
      try {
        ctx.dataWriter().writeNow(BufferData.create(answer));
        metrics.request(ProtocolErrors.ROUTE, 408);
      } catch (RuntimeException e) {
        LOG.log(
            System.Logger.Level.DEBUG, "the 408 for headers that did not arrive was not sent", e);
      } finally {
        connection.interrupt();
        state = EXPIRED;
        LockSupport.unpark(connection);
      }
    }

    /**
     * Called on the connection thread when the headers phase of the request ended. Waits for
     * nothing unless the timer claimed the request; then waits (uninterruptibly, the moment the 408
     * takes to write) until it is sent, and clears the timer's interrupt.
     *
     * @return true if the connection thread owns the request; false if the timer answered 408
     */
    boolean finish() {
      int s = state;
      if (s == DONE) {
        return true;
      }
      if (s == ARMED && casState(ARMED, DONE)) {
        timer.stop();
        return true;
      }
      // the timer claimed the request (only this thread sets DONE)
      while (state != EXPIRED) {
        LockSupport.park(this);
      }
      Thread.interrupted();
      return false;
    }
  }

  private final class ReceiveListener implements Http1ConnectionListener {
    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
      arm(ctx);
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
      finishCurrent();
    }
  }

  private final class SendListener implements Http1ConnectionListener {
    @Override
    public void status(ConnectionContext ctx, Status status) {
      finishCurrent();
    }
  }
}
