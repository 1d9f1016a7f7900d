package io.sluice.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.sluice.jobs.EngineListener;
import io.sluice.jobs.EngineStats;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobCounts;
import io.sluice.jobs.StoreObserver;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import java.util.function.ToDoubleFunction;

/*
 * The service's meters, in one Prometheus registry served at GET /metrics.
 *
 * The job engine and the store know nothing of Micrometer: this class implements their listener
 * interfaces (EngineListener, StoreObserver) and turns what they report into meters. Gauges read
 * the engine's stats, cached for a short time so a scrape costs one stats() call, not one per gauge.
 */
final class ServerMetrics implements EngineListener, StoreObserver {
  private static final long STATS_TTL_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ConcurrentHashMap<String, Counter> requests = new ConcurrentHashMap<>();
  private final Counter payloadsAccepted;
  private final Timer upload;
  private final Timer delivery;
  private final ConcurrentHashMap<String, TypeMeters> byType = new ConcurrentHashMap<>();
  private final Timer fsync;
  private final Timer append;
  private final DistributionSummary commitRecords;
  private final Counter relocatedJobs;
  private final Counter relocatedBytes;
  private final Counter journalStalls;
  private volatile boolean journalStalled;
  private final Timer objectFlush;
  private final DistributionSummary objectFlushPuts;
  private volatile Supplier<EngineStats> stats = () -> null;
  private volatile IntSupplier schedules = () -> 0;
  private volatile EngineStats cached;
  private volatile long cachedAt;

  ServerMetrics() {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmGcMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    payloadsAccepted =
        Counter.builder("sluice.payloads.accepted")
            .description("payloads accepted (journaled and queued)")
            .register(registry);
    upload =
        Timer.builder("sluice.upload")
            .description("time of each upload attempt, by outcome")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofSeconds(60))
            .tag("outcome", "all")
            .register(registry);
    delivery =
        Timer.builder("sluice.payload.delivery")
            .description(
                "time from a payload's acceptance (202) to the end of its successful upload:"
                    + " how far the uploads run behind")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofMillis(1))
            .maximumExpectedValue(Duration.ofHours(1))
            .register(registry);
    fsync =
        diskTimer(
            "sluice.journal.fsync",
            "time to force the journal to stable storage: every force, in a group commit, on the"
                + " interval, at a segment roll and at close");
    append =
        diskTimer(
            "sluice.journal.append",
            "time from a journal append to its acknowledgement (durable per policy)");
    commitRecords =
        DistributionSummary.builder("sluice.journal.commit.records")
            .description("records written per group commit")
            .register(registry);
    relocatedJobs =
        Counter.builder("sluice.journal.relocated")
            .description(
                "jobs that compaction rewrote into the newest journal segment (dead letters, long"
                    + " retry waits, far-future start times) so that older segments could go")
            .register(registry);
    relocatedBytes =
        Counter.builder("sluice.journal.relocated.bytes")
            .description("bytes of the records of those rewrites")
            .baseUnit("bytes")
            .register(registry);
    journalStalls =
        Counter.builder("sluice.journal.stalls")
            .description(
                "journal commits (write and fsync) that ran past --journal-stall-threshold: a hung"
                    + " or very slow disk")
            .register(registry);
    Gauge.builder("sluice.journal.stalled", this, m -> m.journalStalled ? 1 : 0)
        .description(
            "1 while a journal commit has run past --journal-stall-threshold and not ended (POST"
                + " and /health/ready answer 503 journal_stalled), else 0")
        .register(registry);
    objectFlush =
        diskTimer(
            "sluice.objects.flush",
            "time of each flush of a batch of objects (filesystem store, syncfs)");
    objectFlushPuts =
        DistributionSummary.builder("sluice.objects.flush.puts")
            .description("files and renames made durable per flush (filesystem store)")
            .register(registry);
    gauge(
        "sluice.queue.depth",
        "jobs queued (waiting for a worker or their time)",
        s -> s.jobs().queued());
    gauge("sluice.jobs.running", "jobs with an attempt running", s -> s.jobs().running());
    gauge("sluice.jobs.retry.wait", "jobs waiting to retry", s -> s.jobs().retryWait());
    gauge("sluice.dead.letters", "dead letters held", s -> s.jobs().dead());
    gauge("sluice.queue.capacity", "the most pending jobs admitted", s -> s.jobs().capacity());
    gauge(
        "sluice.queue.payload.bytes",
        "payload bytes held in memory (pending jobs and dead letters)",
        s -> s.jobs().payloadBytes());
    gauge(
        "sluice.dead.letters.payload.bytes",
        "payload bytes the dead letters hold",
        s -> s.jobs().deadPayloadBytes());
    gauge(
        "sluice.queue.payload.bytes.limit",
        "the most payload bytes held before POST answers 429",
        s -> s.jobs().payloadBytesLimit());
    gauge("sluice.workers.busy", "workers running an attempt", EngineStats::busy);
    gauge("sluice.workers", "worker threads", EngineStats::workers);
    gauge(
        "sluice.workers.stuck",
        "threads held by stuck attempts (past their timeout, ignoring the interrupt), beyond"
            + " sluice.workers",
        EngineStats::stuck);
    Gauge.builder("sluice.schedules", this, m -> m.schedules.getAsInt())
        .description("recurring jobs (GET /v1/schedules)")
        .register(registry);
  }

  /** A latency histogram for disk operations: 10 µs to 1 s. */
  private Timer diskTimer(String name, String description) {
    return Timer.builder(name)
        .description(description)
        .publishPercentileHistogram()
        .minimumExpectedValue(Duration.ofNanos(10_000))
        .maximumExpectedValue(Duration.ofSeconds(1))
        .register(registry);
  }

  private void gauge(String name, String description, ToDoubleFunction<EngineStats> value) {
    Gauge.builder(
            name,
            this,
            m -> {
              EngineStats s = m.stats();
              return s == null ? Double.NaN : value.applyAsDouble(s);
            })
        .description(description)
        .register(registry);
  }

  private EngineStats stats() {
    long now = System.nanoTime();
    EngineStats s = cached;
    if (s == null || now - cachedAt > STATS_TTL_NANOS) {
      s = stats.get();
      cached = s;
      cachedAt = now;
    }
    return s;
  }

  /** Records one flush of the filesystem store's writer. */
  void objectsFlushed(int written, int renamed, long nanos) {
    objectFlush.record(nanos, TimeUnit.NANOSECONDS);
    objectFlushPuts.record(written + renamed);
  }

  /** Where the gauges of request body bytes being received read from. */
  void readBodyBytesFrom(LongSupplier inFlight, long limit) {
    Gauge.builder("sluice.http.body.bytes.in.flight", inFlight, LongSupplier::getAsLong)
        .strongReference(true) // a gauge holds its state weakly, and nothing else holds this one
        .description("request body bytes being received and handled (reserved of the budget)")
        .register(registry);
    Gauge.builder("sluice.http.body.bytes.limit", () -> limit)
        .description("the most request body bytes held at once before POST answers 503")
        .register(registry);
  }

  /** Where the schedule gauge reads from, once the scheduler runs. */
  void readSchedulesFrom(IntSupplier count) {
    this.schedules = count;
  }

  /**
   * Where the gauges read from, once the engine runs. The per-type meters of every type the engine
   * handles are registered now, so they show zero before anything happens.
   */
  void readStatsFrom(Supplier<EngineStats> source) {
    this.stats = source;
    this.cached = null;
    EngineStats s = source.get();
    if (s != null) {
      s.byType().keySet().forEach(this::meters);
    }
  }

  /** The meters of one job type, labelled {@code type}. */
  private TypeMeters meters(String type) {
    TypeMeters m = byType.get(type); // no lambda, no lock on the common path
    return m != null ? m : byType.computeIfAbsent(type, t -> new TypeMeters(registry, t));
  }

  /** The meters of one job type: the job engine reports its events with the job, so its type. */
  private static final class TypeMeters {
    final Counter retries;
    final Counter died;
    final Counter stuck;
    final Timer[] attempts = new Timer[Outcome.values().length];

    TypeMeters(MeterRegistry registry, String type) {
      retries =
          Counter.builder("sluice.retries")
              .description("retries scheduled, by job type")
              .tag("type", type)
              .register(registry);
      died =
          Counter.builder("sluice.jobs.died")
              .description("jobs that became dead letters, by job type")
              .tag("type", type)
              .register(registry);
      stuck =
          Counter.builder("sluice.jobs.stuck")
              .description(
                  "attempts reported stuck (not returned after their timeout and interrupt), by job"
                      + " type")
              .tag("type", type)
              .register(registry);
      for (Outcome outcome : Outcome.values()) {
        attempts[outcome.ordinal()] =
            Timer.builder("sluice.upload.attempts")
                .description("upload attempts by job type and outcome")
                .tag("type", type)
                .tag("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT))
                .register(registry);
      }
    }
  }

  MeterRegistry registry() {
    return registry;
  }

  String scrape() {
    return registry.scrape();
  }

  void request(String route, int status) {
    requests
        .computeIfAbsent(
            route + " " + status,
            k ->
                Counter.builder("sluice.http.requests")
                    .description("HTTP requests by route and status")
                    .tag("route", route)
                    .tag("status", Integer.toString(status))
                    .register(registry))
        .increment();
  }

  void accepted(int payloads) {
    payloadsAccepted.increment(payloads);
  }

  @Override
  public void attemptFinished(Job job, Outcome outcome, Duration elapsed) {
    upload.record(elapsed);
    if (outcome == Outcome.SUCCEEDED) {
      Duration sinceAccepted = Duration.between(job.createdAt(), java.time.Instant.now());
      delivery.record(sinceAccepted.isNegative() ? Duration.ZERO : sinceAccepted);
    }
    meters(job.type()).attempts[outcome.ordinal()].record(elapsed);
  }

  @Override
  public void retryScheduled(Job job, Duration delay) {
    meters(job.type()).retries.increment();
  }

  @Override
  public void died(Job job, String error) {
    meters(job.type()).died.increment();
  }

  @Override
  public void attemptStuck(Job job, Duration overdue) {
    meters(job.type()).stuck.increment();
  }

  @Override
  public void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {
    commitRecords.record(records); // its force, if any, is also reported to journalForced
  }

  @Override
  public void journalForced(long nanos) {
    fsync.record(nanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void journalAcknowledged(long latencyNanos) {
    append.record(latencyNanos, TimeUnit.NANOSECONDS);
  }

  @Override
  public void journalRelocated(int jobs, long bytes) {
    relocatedJobs.increment(jobs);
    relocatedBytes.increment(bytes);
  }

  @Override
  public void journalStalled(long runningNanos, int waiting) {
    journalStalls.increment();
    journalStalled = true;
  }

  @Override
  public void journalResumed(long stalledNanos) {
    journalStalled = false;
  }

  /** For tests and the status line: the counts the gauges show. */
  JobCounts counts() {
    EngineStats s = stats();
    return s == null ? null : s.jobs();
  }
}
