package io.sluice.server;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.Headers;
import io.helidon.http.HttpLogConfig;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1LoggingConnectionListener;
import io.sluice.core.Clock;
import io.sluice.jobs.HandlerOptions;
import io.sluice.jobs.JobEngine;
import io.sluice.jobs.JobHandler;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.jobs.PermanentJobFailure;
import io.sluice.jobs.RetryPolicy;
import io.sluice.jobs.StoreObserver;
import io.sluice.schedule.DurableScheduler;
import io.sluice.server.objects.FilesystemObjectStore;
import io.sluice.server.objects.InvalidObjectKeyException;
import io.sluice.server.objects.ObjectKeys;
import io.sluice.server.objects.ObjectStore;
import io.sluice.server.objects.ObjectStoreException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The running ingest service: the HTTP API on Helidon SE, the durable job store under {@code
 * <dataDir>/journal}, upload workers writing each payload to an {@link ObjectStore}, and the
 * metrics.
 *
 * <p>{@link #start} listens at once (so {@code /health/live} answers and {@code /health/ready} says
 * "starting" during a long journal replay), replays the journal, then accepts payloads. A start can
 * be abandoned part way, a long replay included ({@link StartObserver#stopRequested()}). {@link
 * #close()} shuts down gracefully: new payloads are refused with 503, uploads in progress get the
 * configured grace period, then the HTTP server stops. Whatever was accepted and not yet uploaded
 * is uploaded after the next start.
 */
public final class SluiceServer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(SluiceServer.class.getName());
  private static final Duration IDLE_CONNECTION_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration IDLE_CONNECTION_PERIOD = Duration.ofSeconds(10);

  private final ServerConfig config;
  private final ObjectStore objects;
  private final WebServer web;
  private final IngestApi api;
  private final ScheduleApi schedules;
  private final ServerMetrics metrics;
  private final Http http;
  private final StoreOpener storeOpener;
  private final Object closeLock = new Object();
  private JobEngine engine;
  private DurableScheduler scheduler;
  private boolean closed;
  private boolean journalClosed; // the first stop's answer; under closeLock
  private final java.util.concurrent.atomic.AtomicBoolean storeUnverified =
      new java.util.concurrent.atomic.AtomicBoolean();

  private SluiceServer(ServerConfig config, ObjectStore objects, StoreOpener storeOpener) {
    this.config = config;
    this.objects = objects;
    this.storeOpener = storeOpener;
    this.metrics = new ServerMetrics();
    this.http = new Http(config, metrics);
    this.api = new IngestApi(config, objects, metrics, http);
    this.schedules = new ScheduleApi(config, http);
    HeaderDeadline headerDeadline =
        new HeaderDeadline(Clock.system(), config.headerTimeout(), metrics);
    this.web =
        WebServer.builder()
            .host(config.host())
            .port(config.port())
            .shutdownHook(false)
            .shutdownGracePeriod(Duration.ofSeconds(5))
            // Each open connection costs a virtual thread and buffers even when it sends nothing;
            // past the limit Helidon stops accepting and new connections wait in the backlog.
            .maxTcpConnections(config.maxConnections())
            // A connection that sends nothing (before its first request or between requests), or
            // stops inside a request line, is closed after this long, so idle connections cannot
            // hold the slots above for Helidon's default 5 minutes. Helidon restarts this clock
            // once it has read a request line, and acts on it only while it waits for the next
            // one, so the rest of a request needs timeouts of its own: one stalled in its headers
            // gets 408 after --header-timeout (HeaderDeadline, through the HTTP/1 listeners below),
            // one stalled in its body gets 408 after --body-timeout (Http.BodyDeadline).
            .idleConnectionTimeout(IDLE_CONNECTION_TIMEOUT)
            .idleConnectionPeriod(IDLE_CONNECTION_PERIOD)
            .addProtocol(http1(headerDeadline))
            // Helidon's own refusals (unparseable requests) as JSON errors, with its messages.
            .errorHandling(e -> e.includeEntity(true))
            .directHandlers(handlers -> ProtocolErrors.register(handlers, metrics))
            .routing(
                routing -> {
                  schedules.routes(routing);
                  api.routes(routing); // last: it answers 404 for everything else
                })
            .build();
  }

  /**
   * Helidon's default HTTP/1 settings, with the header deadline's listeners. Named as the settings
   * Helidon discovers by itself ({@code http_1_1}), which these then replace: under another name
   * they would be a second HTTP/1 protocol beside the default one, and Helidon would no longer tell
   * some requests that are not HTTP/1.1 apart (HostileInputTest). Listeners given here replace
   * Helidon's own wire-logging ones (it adds those only when there are none), so they are kept,
   * first, as Helidon would. Each side gets one listener, a {@link BothListeners}: Helidon 4.5
   * combines a list of several into a listener that calls none of them.
   */
  static Http1Config http1(HeaderDeadline headerDeadline) {
    Http1Config.Builder http1 = Http1Config.builder().name(HTTP1_PROTOCOL);
    HttpLogConfig log = http1.log();
    Http1ConnectionListener receive = headerDeadline.receiveListener();
    Http1ConnectionListener send = headerDeadline.sendListener();
    if (log.receiveLog()) {
      receive = new BothListeners(Http1LoggingConnectionListener.create(log, "recv"), receive);
    }
    if (log.sendLog()) {
      send = new BothListeners(Http1LoggingConnectionListener.create(log, "send"), send);
    }
    return http1.addReceiveListener(receive).addSendListener(send).build();
  }

  /**
   * Two HTTP/1 listeners as one: each event goes to {@code first}, then to {@code second}. (Helidon
   * 4.5's own combination, Http1ConnectionListenerUtil.ListFrameListener, overrides none of the
   * callbacks, so it silently drops every event.)
   */
  record BothListeners(Http1ConnectionListener first, Http1ConnectionListener second)
      implements Http1ConnectionListener {
    @Override
    public void prologue(ConnectionContext ctx, HttpPrologue prologue) {
      first.prologue(ctx, prologue);
      second.prologue(ctx, prologue);
    }

    @Override
    public void headers(ConnectionContext ctx, Headers headers) {
      first.headers(ctx, headers);
      second.headers(ctx, headers);
    }

    @Override
    public void status(ConnectionContext ctx, Status status) {
      first.status(ctx, status);
      second.status(ctx, status);
    }

    @Override
    public void data(ConnectionContext ctx, BufferData data) {
      first.data(ctx, data);
      second.data(ctx, data);
    }

    @Override
    public void data(ConnectionContext ctx, byte[] bytes, int offset, int length) {
      first.data(ctx, bytes, offset, length);
      second.data(ctx, bytes, offset, length);
    }
  }

  /** The name of Helidon's HTTP/1 protocol settings (Http1ProtocolConfigProvider's key). */
  static final String HTTP1_PROTOCOL = "http_1_1";

  /**
   * Starts the service and returns once it accepts payloads. A start that fails, at any step,
   * closes what it had opened, the last first: the scheduler, the engine, the journal (its threads
   * and its directory's lock), the HTTP server, then the object store; it throws the step's own
   * failure, with any failure to close added as suppressed. A start may then be tried again on the
   * same data directory (with a new object store); it replays the journal. Closing the journal is
   * bounded as {@link #stop()} bounds it: on a disk that hangs, once the grace period has passed
   * and the journal has been stalled for the acknowledgement timeout, the start gives up on it,
   * logs an error, closes the HTTP server and the object store, and throws with a suppressed
   * exception saying the journal could not be closed; its threads then hold the data directory
   * until the disk answers.
   *
   * @param config the settings
   * @param objects where payloads go; the server closes it when it closes, or when it fails to
   *     start
   * @param replayProgress hears journal replay progress as a percentage (for a progress display)
   * @return the running service
   * @throws java.net.BindException if the HTTP server cannot listen on the configured host and port
   *     (the port is in use, say)
   * @throws IOException if the object store refuses its startup check in a way only a settings
   *     change fixes (a store that is down for a while does not stop the start), or the journal
   *     cannot be opened; the message says what to fix
   */
  public static SluiceServer start(
      ServerConfig config, ObjectStore objects, LongConsumer replayProgress) throws IOException {
    Objects.requireNonNull(replayProgress, "replayProgress");
    return start(
        config,
        objects,
        new StartObserver() {
          @Override
          public void replayProgress(long percent) {
            replayProgress.accept(percent);
          }
        });
  }

  /**
   * What a start reports as it goes: to the command line's progress bar, and to tests that need to
   * act while the service is starting. Both are called on the starting thread; while one runs, the
   * start waits.
   */
  interface StartObserver {
    /**
     * The HTTP server listens (and answers 503 to payloads until the journal is replayed).
     *
     * @param port the port
     */
    default void listening(int port) {}

    /**
     * Journal replay has reached this percentage.
     *
     * @param percent 0..100
     */
    default void replayProgress(long percent) {}

    /**
     * Whether the start should be abandoned (a SIGTERM came while starting). Asked between the
     * steps of the start and at each replay progress report (every MiB of journal); once it says
     * true, the start closes what it opened and throws {@link StartCancelled}.
     *
     * @return true to abandon the start
     */
    default boolean stopRequested() {
      return false;
    }
  }

  /**
   * A start abandoned because its {@link StartObserver#stopRequested()}: everything it had opened
   * (the HTTP server, the journal, the object store) is closed again, and nothing was lost: what
   * the journal holds is replayed at the next start.
   */
  static final class StartCancelled extends RuntimeException {
    private static final long serialVersionUID = 1L;

    StartCancelled(String when) {
      super(when, null, false, false);
    }
  }

  /**
   * Added (suppressed) to the failure of a start that failed after its journal opened and then gave
   * up closing the journal, as {@link #stop()} gives up: its disk hung. The message says where, for
   * how long, and what to check; the journal's threads stay in the disk, holding its directory
   * until the disk answers.
   */
  static final class JournalNotClosedException extends IOException {
    private static final long serialVersionUID = 1L;

    JournalNotClosedException(String message) {
      super(message);
    }
  }

  private static void stopIfRequested(StartObserver observer, String when) {
    if (observer.stopRequested()) {
      throw new StartCancelled(when);
    }
  }

  static SluiceServer start(ServerConfig config, ObjectStore objects, StartObserver observer)
      throws IOException {
    return start(config, objects, observer, JobStore::open);
  }

  /**
   * Opens the job store: {@link JobStore#open} in production, a store over a hung disk in tests.
   */
  @FunctionalInterface
  interface StoreOpener {
    JobStore open(JobStoreOptions options) throws IOException;
  }

  static SluiceServer start(
      ServerConfig config, ObjectStore objects, StartObserver observer, StoreOpener storeOpener)
      throws IOException {
    Objects.requireNonNull(objects, "objects");
    Opened opened = new Opened();
    opened.add(objects::close);
    try {
      SluiceServer server =
          new SluiceServer(Objects.requireNonNull(config, "config"), objects, storeOpener);
      opened.boundBy(server);
      server.listen(opened);
      observer.listening(server.port());
      stopIfRequested(observer, "before the object store was checked");
      server.open(observer, opened);
      return server;
    } catch (IOException | RuntimeException | Error e) {
      opened.closeAll(e);
      throw e;
    }
  }

  /*
   * What a start has opened so far, closed again in reverse order when a later step fails: the
   * object store (handed to the start, which owns it from then on), the HTTP server, the job store
   * (its journal's threads and its directory's lock), the engine (which closes the job store too),
   * the scheduler. So a failed start leaves nothing running, and a start that tries again on the
   * same data directory is not refused by the journal's lock. The closes that wait for the journal
   * (the scheduler's, the engine's, the job store's) run on a thread of their own, bounded as stop()
   * bounds them: on a hung disk the start gives up on them, says so in its failure, and goes on to
   * close the HTTP server and the object store. Used by the starting thread only.
   */
  private static final class Opened {
    /** A close, and whether it may wait for the journal's disk. */
    private record Step(AutoCloseable closer, boolean waitsForTheDisk) {}

    private final Deque<Step> steps = new ArrayDeque<>();
    private SluiceServer server; // bounds the closes that wait for the disk

    void boundBy(SluiceServer server) {
      this.server = server;
    }

    void add(AutoCloseable closer) {
      steps.push(new Step(closer, false));
    }

    /** Adds a close that may wait for the journal's disk (see the class comment). */
    void addWaitingForTheDisk(AutoCloseable closer) {
      steps.push(new Step(closer, true));
    }

    /** Closes everything, the last opened first; each close failure is added to {@code failure}. */
    void closeAll(Throwable failure) {
      while (!steps.isEmpty()) {
        if (!steps.peek().waitsForTheDisk()) {
          close(steps.pop().closer(), failure::addSuppressed);
          continue;
        }
        List<AutoCloseable> run = new ArrayList<>();
        while (!steps.isEmpty() && steps.peek().waitsForTheDisk()) {
          run.add(steps.pop().closer());
        }
        Queue<Throwable> failed = new ConcurrentLinkedQueue<>();
        Thread closing =
            Thread.ofVirtual()
                .name("sluice-start-rollback")
                .start(() -> run.forEach(closer -> close(closer, failed::add)));
        String gaveUp = server.awaitUnlessTheDiskHangs(closing, "sluice gave up a failed start");
        failed.forEach(failure::addSuppressed); // (those that failed before it gave up)
        if (gaveUp != null) {
          failure.addSuppressed(new JournalNotClosedException(gaveUp));
        }
      }
    }

    private static void close(AutoCloseable closer, Consumer<Throwable> failed) {
      try {
        closer.close();
      } catch (Exception | Error e) {
        failed.accept(e);
      }
    }
  }

  /**
   * Starts the HTTP server. Helidon does not throw when it cannot listen: it logs why, stops itself
   * and returns, so whether it runs is asked.
   */
  private void listen(Opened opened) throws BindException {
    opened.add(web::stop);
    web.start();
    if (!web.isRunning()) {
      throw new BindException(
          "cannot listen on "
              + config.host()
              + ":"
              + config.port()
              + ": the port is in use, or the address is not one of this machine's (the log"
              + " above says which); choose another --port or --host");
    }
  }

  private void open(StartObserver startObserver, Opened opened) throws IOException {
    checkPrefix();
    checkObjectStore();
    stopIfRequested(startObserver, "after the object store was checked");
    if (objects instanceof FilesystemObjectStore filesystem) {
      filesystem.onFlush(metrics::objectsFlushed);
    }
    api.starting("replaying the journal");
    Path journal = config.dataDir().resolve("journal");
    StoreObserver observer = new ReplayReporter(metrics, api, startObserver);
    JobStore store =
        storeOpener.open(
            JobStoreOptions.defaults()
                .withDirectory(journal)
                .withCapacity(config.queueCapacity())
                .withPayloadBytesLimit(config.queueBytes())
                .withDurability(config.durability())
                .withFinishedRetention(config.finishedRetention())
                .withAckTimeout(config.journalAckTimeout())
                .withStallThreshold(config.journalStallThreshold())
                .withPreallocate(config.journalPreallocate())
                .withObserver(observer));
    opened.addWaitingForTheDisk(store::close);
    stopIfRequested(startObserver, "once the journal was replayed");
    removeLeftoverTemporaryFiles();
    String prefix = config.objectPrefix();
    JobHandler upload =
        (job, ctx) -> {
          try {
            objects.put(
                ObjectKeys.forJob(prefix, job.id(), job.createdAt()),
                job.payloadBytes(),
                "application/json",
                job.source().map(source -> Map.of("source", source)).orElse(Map.of()));
            if (storeUnverified.get() && storeUnverified.compareAndSet(true, false)) {
              storeVerified();
            }
          } catch (ObjectStoreException e) {
            if (e.retryable()) {
              throw e;
            }
            // A refusal only a settings change fixes (403, a missing bucket): no more attempts.
            throw new PermanentJobFailure(
                "the object store refused the upload and trying again cannot help; fix the"
                    + " store's settings, then retry the dead letters"
                    + " (sluice dead-letters retry --all)",
                e);
          }
        };
    RetryPolicy retry =
        RetryPolicy.defaults()
            .withMaxAttempts(config.maxAttempts())
            .withDelays(config.retryDelay(), ServerConfig.MAX_RETRY_DELAY);
    engine =
        JobEngine.builder(store)
            .workers(config.workers())
            .handle(
                IngestApi.PAYLOAD_TYPE,
                upload,
                HandlerOptions.defaults().withTimeout(config.uploadTimeout()).withRetry(retry))
            .listener(metrics)
            .shutdownGrace(config.shutdownGrace())
            .start();
    // closes the job store too (closing it again does nothing)
    opened.addWaitingForTheDisk(engine::close);
    metrics.readStatsFrom(engine::stats);
    scheduler = DurableScheduler.start(store, Clock.system());
    opened.addWaitingForTheDisk(scheduler::close);
    DurableScheduler running = scheduler;
    metrics.readSchedulesFrom(() -> running.list().size());
    schedules.ready(scheduler);
    api.ready(engine);
    // first undone if a later step fails: the engine's close closes the journal while the HTTP
    // server still answers, and draining APIs refuse what the journal could no longer record
    opened.add(
        () -> {
          api.draining();
          schedules.draining();
        });
    sweepLeftoverTemporaryFiles();
    LOG.log(
        System.Logger.Level.INFO,
        "sluice listening on http://"
            + config.host()
            + ":"
            + port()
            + " with "
            + store.counts().pending()
            + " payloads and "
            + store.schedules().size()
            + " schedules recovered; journal "
            + journal
            + ", objects "
            + objects.describe());
  }

  /**
   * Refuses to start with an object prefix the store cannot hold keys under (the filesystem store
   * reserves {@code .sluice-tmp-} segments): every payload accepted would become a dead letter.
   */
  private void checkPrefix() throws IOException {
    String prefix = config.objectPrefix();
    try {
      objects.validateKey(ObjectKeys.forJob(prefix, io.sluice.jobs.JobId.next(), Instant.now()));
    } catch (InvalidObjectKeyException e) {
      throw new IOException(
          "--object-prefix "
              + "\""
              + prefix
              + "\""
              + " cannot be used with "
              + objects.describe()
              + ": no object could be stored under it ("
              + e.getMessage()
              + "); choose another prefix",
          e);
    }
  }

  /**
   * Asks the object store whether it is usable ({@link ObjectStore#check()}). A refusal that only a
   * settings change fixes (403, a missing bucket, no credentials, a wrong region) stops the start,
   * as every upload would fail the same way. A failure that often passes by itself (a 5xx, a
   * timeout, a refused connection, DNS) does not: the journal makes accepted payloads durable
   * without the store, and their uploads are retried as usual, so the service starts, warns once,
   * and reports the store as unverified in /health/ready until an upload succeeds.
   */
  private void checkObjectStore() throws IOException {
    api.starting("checking the object store");
    try {
      objects.check();
    } catch (ObjectStoreException e) {
      if (!e.retryable()) {
        throw e;
      }
      storeUnverified.set(true);
      api.objectStoreUnverified(e.getMessage());
      LOG.log(
          System.Logger.Level.WARNING,
          "the object store did not answer the startup check, starting anyway: accepted payloads"
              + " are journaled and their uploads retried until it answers, and /health/ready"
              + " says \"objectStore\": \"unverified\" until one succeeds. "
              + e.getMessage());
    }
  }

  /** The first upload after a failed startup check succeeded: the store answers. */
  private void storeVerified() {
    api.objectStoreVerified();
    LOG.log(
        System.Logger.Level.INFO,
        "the object store answers now: an upload to " + objects.describe() + " succeeded");
  }

  /**
   * Checks the invariants of the parts that hold request state: the in-flight body budget. For
   * tests, once the requests they sent are answered.
   */
  void checkInvariants() {
    http.checkInvariants();
  }

  /**
   * Deletes the temporary files of filesystem puts that a crash interrupted in the store's writers'
   * directories, which nothing else ever removes. Safe only here: the journal's lock is held (so no
   * other service writes to this data directory) and the engine has not started (so no put of this
   * one is in progress). The rest of the tree is swept in the background once the service is ready
   * ({@link #sweepLeftoverTemporaryFiles()}), so a start does not wait for a walk of every object.
   * A failure is logged and the start goes on: the files waste space but harm nothing.
   */
  private void removeLeftoverTemporaryFiles() {
    if (!(objects instanceof FilesystemObjectStore filesystem)) {
      return;
    }
    api.starting("removing temporary files left by a crash");
    try {
      long removed = filesystem.removeLeftoverLaneFiles();
      LOG.log(
          removed == 0 ? System.Logger.Level.DEBUG : System.Logger.Level.INFO,
          "removed "
              + removed
              + " temporary files left under "
              + filesystem.root()
              + " by uploads a crash interrupted");
    } catch (IOException | UncheckedIOException e) {
      LOG.log(
          System.Logger.Level.WARNING,
          "could not remove the temporary files left under "
              + filesystem.root()
              + " by uploads a crash interrupted; they waste space but harm nothing",
          e);
    }
  }

  /**
   * Starts the filesystem store's background sweep of the rest of the tree; it logs its outcome.
   */
  private void sweepLeftoverTemporaryFiles() {
    if (objects instanceof FilesystemObjectStore filesystem) {
      filesystem.sweepLeftoversInBackground();
    }
  }

  /**
   * The port the service listens on (useful with port 0).
   *
   * @return the port
   */
  public int port() {
    return web.port();
  }

  /**
   * Refuses new payloads, lets uploads in progress finish within the grace period, stops the HTTP
   * server and closes the journal and the object store; see {@link #stop()}, which says whether the
   * journal closed. Calling it again does nothing. Waits through interrupts and sets the interrupt
   * status again afterwards.
   */
  @Override
  public void close() {
    stop();
  }

  /**
   * Stops the service as {@link #close()} does and says whether everything closed. Payloads are
   * refused with 503 at once; uploads in progress get the grace period; then the journal is closed.
   * A journal whose disk hangs cannot be closed (its writer is stuck in a system call no Java code
   * can end): once the grace period has passed and the journal has been stalled for the
   * acknowledgement timeout ({@code --journal-ack-timeout}), the stop gives up waiting for it, logs
   * an error, stops the HTTP server and the object store and returns false, leaving the journal's
   * threads waiting on the disk. Everything answered 202 was durable before its answer, so the next
   * start uploads it; uploads that finished while the disk hung may run again. Calling it again
   * returns the first call's answer.
   *
   * @return true if the journal closed; false if the stop gave up on a hung disk
   */
  public boolean stop() {
    synchronized (closeLock) {
      if (closed) {
        return journalClosed;
      }
      closed = true;
      api.draining();
      schedules.draining();
      LOG.log(
          System.Logger.Level.INFO,
          "sluice shutting down: uploads in progress get "
              + config.shutdownGrace().toSeconds()
              + " s");
      // On a thread of its own, so that a disk that hangs cannot hold this one for ever.
      Thread stopping = Thread.ofVirtual().name("sluice-stop").start(this::stopSchedulesAndJobs);
      try {
        journalClosed = awaitUnlessTheDiskHangs(stopping, "sluice stopped") == null;
      } finally {
        web.stop();
        objects.close();
      }
      return journalClosed;
    }
  }

  private void stopSchedulesAndJobs() {
    if (scheduler != null) {
      scheduler.close();
    }
    if (engine != null) {
      boolean graceful = true;
      try {
        graceful = engine.shutdown(config.shutdownGrace());
      } catch (InterruptedException e) {
        engine.close(); // nothing interrupts this thread; close waits all the same
      }
      if (!graceful) {
        LOG.log(
            System.Logger.Level.WARNING,
            "some uploads did not finish in time; they run again after the next start");
      }
    }
  }

  /**
   * Waits for {@code closing} (a thread closing the scheduler, the engine and the journal) to end,
   * or until the grace period has passed and the journal has been stalled for the acknowledgement
   * timeout. Returns null if it ended; otherwise logs, as an error, that it gave up, and returns
   * that message, which begins with {@code who} (the stop, or a failed start's rollback). Waits
   * through interrupts, keeping the status.
   */
  private String awaitUnlessTheDiskHangs(Thread closing, String who) {
    long started = System.nanoTime();
    Duration look =
        Duration.ofMillis(Math.clamp(config.journalAckTimeout().toMillis() / 4, 1, 1000));
    boolean interrupted = false;
    try {
      while (true) {
        try {
          if (closing.join(look)) {
            return null;
          }
        } catch (InterruptedException e) {
          interrupted = true;
        }
        Duration stalled = api.journalStalledFor();
        boolean graceOver = System.nanoTime() - started >= config.shutdownGrace().toNanos();
        if (graceOver && stalled.compareTo(config.journalAckTimeout()) >= 0) {
          String gaveUp =
              who
                  + " without closing its journal in "
                  + config.dataDir().resolve("journal")
                  + ": a write and fsync has been running for "
                  + stalled.toMillis()
                  + " ms (the disk may be hung; --journal-ack-timeout "
                  + config.journalAckTimeout().toMillis()
                  + " ms). Everything answered 202 was durable first and is uploaded after the"
                  + " next start; uploads that finished while the disk hung may run again. Check"
                  + " the device before restarting: a start on a hung disk hangs in the same"
                  + " place.";
          LOG.log(System.Logger.Level.ERROR, gaveUp);
          return gaveUp;
        }
      }
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /**
   * Turns journal activity into metrics, replay progress into the readiness detail, and a journal
   * failure into failed health checks.
   */
  private record ReplayReporter(ServerMetrics metrics, IngestApi api, StartObserver progress)
      implements StoreObserver {
    @Override
    public void journalCommitted(int records, long bytes, long writeNanos, long forceNanos) {
      metrics.journalCommitted(records, bytes, writeNanos, forceNanos);
    }

    @Override
    public void journalForced(long nanos) {
      metrics.journalForced(nanos);
    }

    @Override
    public void journalAcknowledged(long latencyNanos) {
      metrics.journalAcknowledged(latencyNanos);
    }

    @Override
    public void journalRelocated(int jobs, long bytes) {
      metrics.journalRelocated(jobs, bytes);
    }

    @Override
    public void journalFailed(RuntimeException failure) {
      api.journalFailed(failure.getMessage());
    }

    @Override
    public void journalStalled(long runningNanos, int waiting) {
      metrics.journalStalled(runningNanos, waiting);
      api.journalStalled(runningNanos, waiting);
    }

    @Override
    public void journalResumed(long stalledNanos) {
      metrics.journalResumed(stalledNanos);
      api.journalResumed();
    }

    /** Also abandons the replay, by throwing {@link StartCancelled}, once a stop is requested. */
    @Override
    public void replayProgress(long bytesDone, long bytesTotal) {
      long percent = bytesTotal == 0 ? 100 : bytesDone * 100 / bytesTotal;
      api.starting("replaying the journal: " + percent + "%");
      progress.replayProgress(percent);
      stopIfRequested(progress, "during the journal replay, at " + percent + "%");
    }
  }
}
