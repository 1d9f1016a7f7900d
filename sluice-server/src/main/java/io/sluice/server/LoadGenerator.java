package io.sluice.server;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import javax.net.ssl.SSLSocketFactory;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/*
 * The engine of 'sluice load': `connections` virtual threads, each sending one request at a time
 * on its own HTTP/1.1 connection (LoadConnection: a blocking socket, kept alive, reopened when the
 * service closes it or a request fails), until the run's end.
 *
 * Open loop (rate > 0). Request number i is due at start + i / rate, whoever sends it: a worker
 * takes the next number from a shared counter, waits until that request is due, sends it, and
 * records the latency from the DUE time, not from when it was actually sent. When the service
 * stalls, every worker is stuck in a request, the due times pass, and the requests sent late
 * carry the stall in their latency — the correction for coordinated omission that wrk2 and
 * HdrHistogram's authors describe (Gil Tene, "How NOT to measure latency"). Once the workers are
 * free again they catch up, so the rate offered over the run stays the target rate as long as
 * `connections` requests in flight are enough for it (Little's law: rate x latency).
 *
 * Closed loop (rate 0). Each worker sends its next request as soon as the previous one is
 * answered; latency runs from the send. This measures the most the service does with
 * `connections` requests in flight, and its latencies are service times, not what users at a
 * fixed arrival rate would see.
 *
 * Warmup. Requests due before start + warmup are counted apart and left out of the figures. Those
 * of them still unsent when the measured window begins are not sent at all (counted as skipped):
 * a generator still cold, or a service still slow, at the end of the warmup would otherwise carry
 * that debt into the window, whose requests would queue behind it and report the warmup's delay
 * as their own. The window's requests are due and counted from their own times as ever.
 * Requests still in flight at the end are waited for (at most the request timeout) and counted,
 * so every 202 the service gave is in the summary; the rate divides by the time until the last
 * answer.
 *
 * Success. A request succeeded only when answered 202 with {"accepted": N, "ids": [N ids]}, N the
 * payloads it sent (AcceptedAnswer, on the body LoadConnection keeps for it). Any other 2xx — a
 * 200 from a proxy or a stub, a 202 that accepted part of the batch or says nothing — is counted
 * as "unexpected", by status, and as a failure: otherwise a broken service would look fast.
 *
 * Recording: an HdrHistogram Recorder per phase (wait-free for the workers, microseconds, 3
 * significant digits); the progress loop moves its interval histograms into a cumulative one
 * each second. Counters are LongAdders. Only the thread that called run() reads the histograms.
 */
final class LoadGenerator {
  /** What to send, how fast, for how long. */
  record Plan(
      URI url,
      Optional<String> token,
      int rate,
      int connections,
      int payloadsPerRequest,
      int payloadBytes,
      Duration duration,
      Duration warmup,
      Duration timeout) {
    boolean openLoop() {
      return rate > 0;
    }
  }

  /**
   * What a run is doing: sending warmup load, sending measured load, or awaiting the last answers.
   */
  enum Phase {
    WARMUP,
    MEASURING,
    DRAINING
  }

  /**
   * A progress report, once a second. {@code errors} counts every request that was not a success,
   * {@code unexpected} the 2xx answers among them (see {@link Result#unexpected()}).
   */
  record Progress(
      double elapsedSeconds,
      Phase phase,
      double requestsPerSecond,
      double payloadsPerSecond,
      long errors,
      long unexpected,
      double p99Millis) {}

  /**
   * The figures of the measured part of a run. A success ({@code succeeded}) is a 202 whose body
   * says the whole batch was accepted ({@link AcceptedAnswer}); {@code unexpected} counts the other
   * 2xx answers (any 2xx but 202, or a 202 that says something else), by status in {@code
   * unexpectedByStatus}: they are failures, and {@code byStatus} counts them under their status as
   * it counts every answer.
   */
  record Result(
      Plan plan,
      double seconds,
      long requests,
      long succeeded,
      long status202,
      long status429,
      long status503,
      long otherStatus,
      long unexpected,
      Map<Integer, Long> unexpectedByStatus,
      long connectionErrors,
      long timeouts,
      long warmupRequests,
      long warmupSkipped,
      long unanswered,
      Histogram latencyMicros,
      Map<Integer, Long> byStatus,
      Map<String, String> firstProblems) {
    long payloads() {
      return succeeded * plan.payloadsPerRequest();
    }

    /**
     * Requests that were not a success: other statuses, unexpected 2xx, errors, and those due but
     * never answered.
     */
    long failed() {
      return requests - succeeded + unanswered;
    }

    double errorRate() {
      long due = requests + unanswered;
      return due == 0 ? 1.0 : (double) failed() / due;
    }

    double millis(double percentile) {
      return latencyMicros.getTotalCount() == 0
          ? 0
          : latencyMicros.getValueAtPercentile(percentile) / 1000.0;
    }

    double maxMillis() {
      return latencyMicros.getTotalCount() == 0 ? 0 : latencyMicros.getMaxValue() / 1000.0;
    }
  }

  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private static final long HIGHEST_MICROS = TimeUnit.HOURS.toMicros(1);

  /** Counters and latencies of one phase (warmup or measured). */
  private static final class Tally {
    final Recorder latency = new Recorder(HIGHEST_MICROS, 3);
    final LongAdder started = new LongAdder();
    final LongAdder requests = new LongAdder();
    final LongAdder succeeded = new LongAdder();
    final LongAdder unexpected = new LongAdder();
    final LongAdder connectionErrors = new LongAdder();
    final LongAdder timeouts = new LongAdder();
    final ConcurrentHashMap<Integer, LongAdder> byStatus = new ConcurrentHashMap<>();
    final ConcurrentHashMap<Integer, LongAdder> unexpectedByStatus = new ConcurrentHashMap<>();
    final ConcurrentHashMap<String, String> firstProblems = new ConcurrentHashMap<>();

    /**
     * Counts an answer; {@code mismatch} says what is wrong with a 2xx (null: it is a success), and
     * is ignored for other statuses.
     */
    void answered(int status, long nanos, String body, String mismatch) {
      latency.recordValue(Math.min(HIGHEST_MICROS, Math.max(0, nanos / 1000)));
      byStatus.computeIfAbsent(status, s -> new LongAdder()).increment();
      if (status / 100 != 2) {
        firstProblems.putIfAbsent("HTTP " + status, body == null ? "" : body.strip());
      } else if (mismatch == null) {
        succeeded.increment();
      } else {
        unexpected.increment();
        unexpectedByStatus.computeIfAbsent(status, s -> new LongAdder()).increment();
        firstProblems.putIfAbsent(
            "unexpected HTTP " + status,
            mismatch + (body == null || body.isBlank() ? "" : ": " + startOf(body.strip())));
      }
      requests.increment();
    }

    void failed(IOException e) {
      if (e instanceof SocketTimeoutException) {
        timeouts.increment();
      } else {
        connectionErrors.increment();
      }
      firstProblems.putIfAbsent(e.getClass().getSimpleName(), String.valueOf(e.getMessage()));
      requests.increment();
    }

    /** A request this generator failed to make by a defect of its own; counted with the errors. */
    void defect(RuntimeException e) {
      connectionErrors.increment();
      firstProblems.putIfAbsent(
          "defect in sluice load (please report it)",
          e + " at " + (e.getStackTrace().length > 0 ? e.getStackTrace()[0] : "?"));
      requests.increment();
    }

    /** As much of a success's body as is kept of an error's. */
    private static String startOf(String body) {
      return body.length() <= LoadConnection.KEPT_BODY_BYTES
          ? body
          : body.substring(0, LoadConnection.KEPT_BODY_BYTES) + "...";
    }

    long errors() {
      return requests.sum() - succeeded.sum();
    }

    long status(int code) {
      LongAdder a = byStatus.get(code);
      return a == null ? 0 : a.sum();
    }
  }

  private final Plan plan;
  private final String runId = Long.toHexString(ThreadLocalRandom.current().nextLong() >>> 16);
  private final AtomicLong sequence = new AtomicLong();
  private final Tally warmup = new Tally();
  private final Tally measured = new Tally();
  private final LongAdder warmupSkipped = new LongAdder(); // see "Warmup" above
  private final String padding;
  private final LoadConnection.Endpoint endpoint;
  private final String path;
  private final SSLSocketFactory tlsSockets;
  private final int keptAnswerBytes;
  private final Set<LoadConnection> openConnections = ConcurrentHashMap.newKeySet();
  private long start;
  private long measureStart;
  private long end;
  private volatile boolean stopSending;
  private long stoppedAt = Long.MAX_VALUE;

  LoadGenerator(Plan plan) {
    this(plan, (SSLSocketFactory) SSLSocketFactory.getDefault());
  }

  /** A generator whose https connections are made by {@code tlsSockets}. */
  LoadGenerator(Plan plan, SSLSocketFactory tlsSockets) {
    this.plan = plan;
    this.padding = "x".repeat(Math.max(0, plan.payloadBytes()));
    URI target = URI.create(plan.url() + "/v1/payloads");
    this.endpoint = LoadConnection.Endpoint.of(target, plan.timeout());
    this.path = target.getRawPath();
    this.tlsSockets = tlsSockets;
    // Room for a 202 naming every payload's id (36 characters, in quotes, a comma) with plenty to
    // spare for whitespace; a longer body is not the answer expected, and is read but not kept.
    this.keptAnswerBytes =
        (int) Math.min(Integer.MAX_VALUE, 1024 + 128L * plan.payloadsPerRequest());
    plan.token()
        .filter(t -> t.chars().anyMatch(c -> c < 0x20 || c == 0x7f))
        .ifPresent(
            t -> {
              throw new IllegalArgumentException("the token holds a control character");
            });
  }

  /**
   * Runs the plan: blocks for warmup + duration, then until the requests in flight are answered or
   * time out. Interruption stops the workers at once and returns what was measured so far.
   *
   * @param progress called on this thread once a second
   */
  Result run(Consumer<Progress> progress) {
    start = System.nanoTime();
    measureStart = start + plan.warmup().toNanos();
    end = measureStart + plan.duration().toNanos();
    List<Thread> workers = new ArrayList<>();
    for (int i = 0; i < plan.connections(); i++) {
      workers.add(Thread.ofVirtual().name("sluice-load-" + i).start(this::work));
    }
    Histogram warmupLatency = new Histogram(HIGHEST_MICROS, 3);
    Histogram latency = new Histogram(HIGHEST_MICROS, 3);
    long finished = reportUntilEnd(progress, warmupLatency, latency, workers);
    latency.add(measured.latency.getIntervalHistogram());
    openConnections.forEach(LoadConnection::close); // any a worker left (interrupted at the end)
    return result(Math.max(1_000_000, finished - measureStart) / 1e9, latency);
  }

  /**
   * Reports once a second until the end, then waits for the requests in flight (still reporting) at
   * most the request timeout; returns when the workers ended.
   */
  private long reportUntilEnd(
      Consumer<Progress> progress,
      Histogram warmupLatency,
      Histogram latency,
      List<Thread> workers) {
    Reporter reporter = new Reporter(progress, warmupLatency, latency);
    long tick = start + SECOND;
    boolean interrupted = false;
    for (; tick <= end && !interrupted; tick += SECOND) {
      interrupted = !sleepUntil(tick);
      reporter.report(false);
    }
    interrupted = interrupted || !sleepUntil(end);
    if (interrupted) {
      stoppedAt = System.nanoTime();
      workers.forEach(Thread::interrupt);
      return stoppedAt;
    }
    // Overdue requests may still be sent until one timeout past the end; those then in flight get
    // one more timeout to be answered.
    long sendDeadline = end + plan.timeout().toNanos();
    long deadline = sendDeadline + plan.timeout().toNanos() + SECOND;
    for (Thread w : workers) {
      while (w.isAlive()) {
        long now = System.nanoTime();
        if (now >= sendDeadline) {
          stopSending = true;
        }
        if (now >= deadline) {
          w.interrupt();
          break;
        }
        try {
          if (!w.join(Duration.ofNanos(Math.min(tick, Math.min(sendDeadline, deadline)) - now))
              && System.nanoTime() >= tick) {
            reporter.report(true);
            tick += SECOND;
          }
        } catch (InterruptedException e) {
          stoppedAt = System.nanoTime();
          workers.forEach(Thread::interrupt);
          Thread.currentThread().interrupt();
          return stoppedAt;
        }
      }
    }
    return System.nanoTime();
  }

  /** Turns the counters into a progress report, each second's rates against the last. */
  private final class Reporter {
    private final Consumer<Progress> progress;
    private final Histogram warmupLatency;
    private final Histogram latency;
    private long lastTick = start;
    private long lastRequests;
    private long lastSucceeded;

    Reporter(Consumer<Progress> progress, Histogram warmupLatency, Histogram latency) {
      this.progress = progress;
      this.warmupLatency = warmupLatency;
      this.latency = latency;
    }

    void report(boolean draining) {
      long now = System.nanoTime();
      for (LoadConnection c : openConnections) {
        c.closeIfWriteOverdue(now); // its worker then counts a timeout
      }
      warmupLatency.add(warmup.latency.getIntervalHistogram());
      latency.add(measured.latency.getIntervalHistogram());
      Phase phase = draining ? Phase.DRAINING : now < measureStart ? Phase.WARMUP : Phase.MEASURING;
      long requests = warmup.requests.sum() + measured.requests.sum();
      long succeeded = warmup.succeeded.sum() + measured.succeeded.sum();
      double seconds = (now - lastTick) / 1e9;
      Histogram shown =
          phase == Phase.WARMUP || latency.getTotalCount() == 0 ? warmupLatency : latency;
      progress.accept(
          new Progress(
              (now - start) / 1e9,
              phase,
              (requests - lastRequests) / seconds,
              (succeeded - lastSucceeded) * (double) plan.payloadsPerRequest() / seconds,
              warmup.errors() + measured.errors(),
              warmup.unexpected.sum() + measured.unexpected.sum(),
              shown.getTotalCount() == 0 ? 0 : shown.getValueAtPercentile(99) / 1000.0));
      lastTick = now;
      lastRequests = requests;
      lastSucceeded = succeeded;
    }
  }

  private void work() {
    double nanosPerRequest = plan.openLoop() ? 1e9 / plan.rate() : 0;
    LoadConnection conn = null;
    try {
      while (!Thread.currentThread().isInterrupted()) {
        long seq = sequence.getAndIncrement();
        long due;
        if (plan.openLoop()) {
          due = start + (long) (seq * nanosPerRequest);
          if (due >= end || !sleepUntil(due) || stopSending) {
            return;
          }
          if (due < measureStart && System.nanoTime() >= measureStart) {
            warmupSkipped.increment(); // a warmup request overdue into the window: not sent
            continue;
          }
        } else {
          due = System.nanoTime();
          if (due >= end) {
            return;
          }
        }
        byte[] request = request(seq);
        Tally tally = due < measureStart ? warmup : measured;
        tally.started.increment();
        try {
          if (conn == null || !conn.usable()) {
            forget(conn);
            conn = endpoint.open(tlsSockets);
            openConnections.add(conn);
          }
          LoadConnection.Response r =
              conn.exchange(request, LoadConnection.deadlineAfter(plan.timeout()), keptAnswerBytes);
          tally.answered(r.status(), System.nanoTime() - due, r.body().orElse(null), mismatch(r));
        } catch (IOException e) {
          if (Thread.currentThread().isInterrupted()) {
            return; // the run stopped it: not an answer, not a failure of the service
          }
          tally.failed(e);
        } catch (RuntimeException e) {
          tally.defect(e); // a bug here, not the service's failure; the worker goes on
        }
      }
    } finally {
      forget(conn);
    }
  }

  /** What is wrong with a 2xx answer for this run's batches; null for a success (or not a 2xx). */
  private String mismatch(LoadConnection.Response r) {
    if (r.status() / 100 != 2) {
      return null;
    }
    if (r.status() != 202) {
      return "a success is 202, not " + r.status();
    }
    if (r.length() > keptAnswerBytes) {
      return "a body of " + r.length() + " bytes is longer than any answer to the batch";
    }
    return AcceptedAnswer.mismatch(r.body().orElse(""), plan.payloadsPerRequest());
  }

  private void forget(LoadConnection conn) {
    if (conn != null) {
      conn.close();
      openConnections.remove(conn);
    }
  }

  /**
   * A batch of unique payloads, each a JSON object padded to the payload size: the whole request.
   */
  private byte[] request(long seq) {
    StringBuilder body =
        new StringBuilder(32 + plan.payloadsPerRequest() * (plan.payloadBytes() + 1));
    body.append("{\"payloads\":[");
    for (int i = 0; i < plan.payloadsPerRequest(); i++) {
      if (i > 0) {
        body.append(',');
      }
      int mark = body.length();
      body.append("{\"run\":\"").append(runId).append("\",\"seq\":").append(seq);
      body.append(",\"n\":").append(i).append(",\"pad\":\"");
      int used = body.length() - mark + 2;
      body.append(padding, 0, Math.max(0, plan.payloadBytes() - used)).append("\"}");
    }
    body.append("]}");
    byte[] content = body.toString().getBytes(StandardCharsets.UTF_8);
    byte[] head = LoadConnection.postHead(endpoint, path, content.length, plan.token());
    byte[] request = Arrays.copyOf(head, head.length + content.length);
    System.arraycopy(content, 0, request, head.length, content.length);
    return request;
  }

  /**
   * Measured requests without an answer: in open loop those due in the measured window that were
   * never sent or never answered before the run stopped (at its end, or when interrupted); in
   * closed loop those cut off in flight.
   */
  private long unanswered() {
    long answered = measured.requests.sum();
    if (!plan.openLoop()) {
      return Math.max(0, measured.started.sum() - answered);
    }
    double nanosPerRequest = 1e9 / plan.rate();
    long windowEnd = Math.max(measureStart, Math.min(end, stoppedAt));
    long due =
        firstDueAtOrAfter(windowEnd, nanosPerRequest)
            - firstDueAtOrAfter(measureStart, nanosPerRequest);
    return Math.max(0, due - answered);
  }

  /** The number of the first request due at or after {@code time}, as work() computes due times. */
  private long firstDueAtOrAfter(long time, double nanosPerRequest) {
    long i = Math.max(0, (long) ((time - start) / nanosPerRequest) - 1);
    while (start + (long) (i * nanosPerRequest) < time) {
      i++;
    }
    return i;
  }

  /** Parks until the time comes; false if interrupted. */
  private static boolean sleepUntil(long nanoTime) {
    long wait;
    while ((wait = nanoTime - System.nanoTime()) > 0) {
      LockSupport.parkNanos(wait);
      if (Thread.currentThread().isInterrupted()) {
        return false;
      }
    }
    return true;
  }

  private Result result(double seconds, Histogram latency) {
    Map<Integer, Long> byStatus = new HashMap<>();
    measured.byStatus.forEach((k, v) -> byStatus.put(k, v.sum()));
    Map<Integer, Long> unexpectedByStatus = new HashMap<>();
    measured.unexpectedByStatus.forEach((k, v) -> unexpectedByStatus.put(k, v.sum()));
    long other =
        byStatus.entrySet().stream()
            .filter(e -> e.getKey() != 202 && e.getKey() != 429 && e.getKey() != 503)
            .mapToLong(Map.Entry::getValue)
            .sum();
    Map<String, String> problems = new HashMap<>(warmup.firstProblems);
    problems.putAll(measured.firstProblems);
    return new Result(
        plan,
        seconds,
        measured.requests.sum(),
        measured.succeeded.sum(),
        measured.status(202),
        measured.status(429),
        measured.status(503),
        other,
        measured.unexpected.sum(),
        unexpectedByStatus,
        measured.connectionErrors.sum(),
        measured.timeouts.sum(),
        warmup.requests.sum(),
        warmupSkipped.sum(),
        unanswered(),
        latency,
        byStatus,
        problems);
  }
}
