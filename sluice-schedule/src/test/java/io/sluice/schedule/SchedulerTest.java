package io.sluice.schedule;

import static io.sluice.schedule.TriggerTest.t;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import java.lang.ref.WeakReference;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The in-process scheduler on a manual clock: milliseconds of test time, no sleeps. */
@Timeout(30)
class SchedulerTest {
  static final Instant T0 = t("2026-03-28T12:00:00Z");
  static final Duration SECOND = Duration.ofSeconds(1);

  final ManualClock clock = Clock.manual(T0);
  final TestThreads threads = new TestThreads();
  final List<Throwable> errors = new CopyOnWriteArrayList<>();
  final List<ScheduleHandle> failedHandles = new CopyOnWriteArrayList<>();
  final Scheduler scheduler =
      Scheduler.create(
          SchedulerOptions.defaults()
              .withClock(clock)
              .withThreadFactory(threads)
              .withErrorHandler(
                  (h, e) -> {
                    failedHandles.add(h);
                    errors.add(e);
                  })
              .withCloseGracePeriod(Duration.ofSeconds(5)));
  final AtomicInteger ran = new AtomicInteger();
  final Runnable count = ran::incrementAndGet;

  @AfterEach
  void noThreadOrTimerOutlivesClose() {
    scheduler.close();
    threads.assertNoneAlive();
    assertEquals(0, clock.pendingTimers());
    ((SchedulerImpl) scheduler).checkInvariants();
    assertEquals(List.of(), threads.uncaught);
  }

  // ---- one-shots ----

  @Test
  void givenAnAtSchedule_whenItsTimeComes_thenTheTaskRunsOnceOnAVirtualThreadOfItsOwn()
      throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    List<Thread> ranOn = new CopyOnWriteArrayList<>();
    ScheduleHandle h =
        scheduler.at(
            T0.plusSeconds(5),
            () -> {
              ranOn.add(Thread.currentThread());
              done.countDown();
            });
    assertEquals(Optional.of(T0.plusSeconds(5)), h.nextFireTime());

    clock.advance(Duration.ofSeconds(4));
    assertEquals(0, h.runCount());
    assertEquals(0, threads.count());
    clock.advance(SECOND);

    assertTrue(done.await(10, TimeUnit.SECONDS));
    assertEquals(1, h.runCount());
    assertEquals(Optional.of(T0.plusSeconds(5)), h.lastFireTime());
    assertEquals(Optional.empty(), h.nextFireTime());
    assertTrue(h.isDone());
    assertFalse(h.isCancelled());
    assertTrue(ranOn.getFirst().isVirtual());
    assertNotEquals(Thread.currentThread(), ranOn.getFirst());
    assertEquals("test-schedule-0", ranOn.getFirst().getName());
  }

  @Test
  void givenAnAtScheduleInThePast_whenTheClockIsNextAdvanced_thenItRunsAtOnce() throws Exception {
    ScheduleHandle h = scheduler.at(T0.minusSeconds(60), count);

    clock.advance(Duration.ZERO);
    threads.awaitAllEnded();

    assertEquals(1, ran.get());
    assertEquals(1, h.runCount());
  }

  @Test
  void givenAnAfterSchedule_whenTheDelayPasses_thenItRuns() throws Exception {
    ScheduleHandle h = scheduler.after(Duration.ofMillis(1500), count);
    assertEquals("at " + T0.plusMillis(1500), h.name());

    clock.advance(Duration.ofMillis(1499));
    assertEquals(0, h.runCount());
    clock.advance(Duration.ofMillis(1));
    threads.awaitAllEnded();

    assertEquals(1, ran.get());
  }

  @Test
  void givenAPendingOneShot_whenCancelled_thenItNeverRunsAndReportsCancelled() {
    ScheduleHandle h = scheduler.after(Duration.ofSeconds(5), count);

    assertTrue(h.cancel());
    assertFalse(h.cancel());
    clock.advance(Duration.ofSeconds(10));

    assertEquals(0, threads.count());
    assertEquals(0, h.runCount());
    assertTrue(h.isCancelled());
    assertTrue(h.isDone());
    assertEquals(Optional.empty(), h.nextFireTime());
    assertEquals(Optional.empty(), h.lastFireTime());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenCancelledOneShotsTheEngineStillHolds_whenCollecting_thenTheirTasksAreGarbage() {
    List<WeakReference<Runnable>> tasks = new ArrayList<>();
    List<ScheduleHandle> handles = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      Runnable task = new AtomicInteger()::incrementAndGet; // a new object each time
      tasks.add(new WeakReference<>(task));
      handles.add(scheduler.after(Duration.ofHours(1), task));
    }
    clock.advance(Duration.ZERO); // the entries move onto the wheel

    handles.forEach(ScheduleHandle::cancel); // too few for a sweep: the wheel keeps the entries

    for (int attempt = 0;
        attempt < 100 && tasks.stream().anyMatch(r -> r.get() != null);
        attempt++) {
      System.gc();
    }
    assertEquals(0, tasks.stream().filter(r -> r.get() != null).count(), "tasks still reachable");
    assertTrue(handles.stream().allMatch(ScheduleHandle::isCancelled));
  }

  @Test
  void givenAOneShotThatFired_whenCancelled_thenFalseAndItStillCountsItsRun() throws Exception {
    ScheduleHandle h = scheduler.after(SECOND, count);
    clock.advance(SECOND);

    assertFalse(h.cancel());
    threads.awaitAllEnded();
    assertEquals(1, ran.get());
    assertFalse(h.isCancelled());
  }

  // ---- fixed rate ----

  @Test
  void givenAStartInThePast_whenScheduledEvery_thenTheFirstRunIsAtTheNextBoundary()
      throws Exception {
    ScheduleHandle h =
        scheduler.schedule(
            Trigger.every(Duration.ofHours(1), t("2019-09-17T14:30:00Z")),
            count,
            ScheduleOptions.defaults().withName("hourly"));
    assertEquals("hourly", h.name());
    assertEquals(Optional.of(t("2026-03-28T12:30:00Z")), h.nextFireTime());

    clock.advance(Duration.ofMinutes(29));
    assertEquals(0, h.runCount());
    clock.advance(Duration.ofMinutes(1));
    threads.awaitAllEnded();

    assertEquals(1, ran.get());
    assertEquals(Optional.of(t("2026-03-28T12:30:00Z")), h.lastFireTime());
    assertEquals(Optional.of(t("2026-03-28T13:30:00Z")), h.nextFireTime());
  }

  @Test
  void givenEveryWithoutAStart_whenScheduled_thenItRunsNowAndEachPeriodAfter() throws Exception {
    ScheduleHandle h = scheduler.every(Duration.ofSeconds(10), count);
    assertEquals(Optional.of(T0), h.nextFireTime());

    clock.advance(Duration.ZERO);
    threads.awaitAllEnded();
    clock.advance(Duration.ofSeconds(10));
    threads.awaitAllEnded();

    assertEquals(2, ran.get());
    assertEquals(Optional.of(T0.plusSeconds(20)), h.nextFireTime());
    assertEquals("every PT10S from " + T0, h.name());
  }

  @Test
  void givenFixedRateAndASlowBody_whenConcurrentRunsAreAllowed_thenRunsKeepTheirRate()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    ScheduleHandle h =
        scheduler.schedule(
            Trigger.every(SECOND, T0),
            () -> {
              started.incrementAndGet();
              await(release);
            },
            ScheduleOptions.defaults().withOverlapPolicy(OverlapPolicy.ALLOW_CONCURRENT));

    clock.advance(Duration.ofSeconds(3));

    assertEquals(4, h.runCount()); // at 0, 1, 2 and 3 s
    assertEquals(4, threads.count());
    release.countDown();
    threads.awaitAllEnded();
    assertEquals(4, started.get());
  }

  @Test
  void givenFixedDelayAndASlowBody_whenTimePasses_thenTheNextRunIsADelayAfterTheEnd()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ScheduleHandle h = scheduler.everyWithDelay(Duration.ZERO, SECOND, () -> await(release));

    clock.advance(Duration.ofSeconds(3)); // the first run starts at 0 and is still going
    assertEquals(1, h.runCount());
    assertEquals(Optional.empty(), h.nextFireTime());
    assertEquals("every-with-delay PT1S", h.name());

    release.countDown();
    threads.awaitAllEnded();
    assertEquals(Optional.of(T0.plusSeconds(4)), h.nextFireTime()); // ended at 3 s, + 1 s
    clock.advance(SECOND);
    threads.awaitAllEnded();

    assertEquals(2, h.runCount());
    assertEquals(Optional.of(T0.plusSeconds(4)), h.lastFireTime());
    assertEquals(Optional.of(T0.plusSeconds(5)), h.nextFireTime());
  }

  @Test
  void givenFixedDelay_whenCancelledWhileARunIsGoing_thenItDoesNotRearm() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ScheduleHandle h = scheduler.everyWithDelay(SECOND, SECOND, () -> await(release));
    clock.advance(SECOND);

    assertTrue(h.cancel());
    release.countDown();
    threads.awaitAllEnded();

    assertEquals(0, clock.pendingTimers());
    assertEquals(Optional.empty(), h.nextFireTime());
  }

  @Test
  void givenANonPositiveDelay_whenEveryWithDelay_thenIllegalArgument() {
    assertThrows(
        IllegalArgumentException.class,
        () -> scheduler.everyWithDelay(Duration.ZERO, Duration.ZERO, count));
  }

  // ---- overlap ----

  @ParameterizedTest
  @EnumSource(OverlapPolicy.class)
  void givenABodyBlockedOnALatch_whenThreeMoreRunsFallDue_thenTheOverlapPolicyDecides(
      OverlapPolicy overlap) throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    ScheduleHandle h =
        scheduler.schedule(
            Trigger.every(SECOND, T0),
            () -> {
              started.incrementAndGet();
              await(release);
            },
            ScheduleOptions.defaults().withOverlapPolicy(overlap));

    clock.advance(Duration.ofSeconds(3));
    release.countDown();
    threads.awaitAllEnded();

    switch (overlap) {
      case SKIP -> {
        assertEquals(1, started.get());
        assertEquals(1, threads.count());
        assertEquals(Optional.of(T0), h.lastFireTime());
      }
      case QUEUE_ONE -> {
        assertEquals(2, started.get()); // the run due at 1 s waited; 2 s and 3 s were dropped
        assertEquals(1, threads.count()); // and ran on the same thread
        assertEquals(Optional.of(T0.plusSeconds(1)), h.lastFireTime());
      }
      case ALLOW_CONCURRENT -> {
        assertEquals(4, started.get());
        assertEquals(4, threads.count());
      }
    }
    assertEquals(started.get(), h.runCount());
    assertEquals(Optional.of(T0.plusSeconds(4)), h.nextFireTime());
  }

  @Test
  void
      givenQueueOneAndATriggerWhoseLastFireTimeFallsDueDuringARun_whenTheRunEnds_thenTheLastRunStillRuns()
          throws Exception {
    // given: a cron with two fire times in all, and a first run that outlasts the second
    Instant last = t("2027-01-02T12:00:00Z");
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger started = new AtomicInteger();
    ScheduleHandle h =
        scheduler.schedule(
            Trigger.cron("0 0 12 1,2 1 ? 2027", CronDialect.QUARTZ, ZoneOffset.UTC),
            () -> {
              started.incrementAndGet();
              await(release);
            },
            ScheduleOptions.defaults().withOverlapPolicy(OverlapPolicy.QUEUE_ONE));

    // when: the last fire time falls due while the first run waits, and the trigger is exhausted
    clock.advance(Duration.between(T0, last));
    assertFalse(h.isDone()); // a run is still to start
    release.countDown();
    threads.awaitAllEnded();

    // then: the queued last run ran after the first, not dropped because the trigger ran out
    assertEquals(2, started.get());
    assertEquals(2, h.runCount());
    assertEquals(Optional.of(last), h.lastFireTime());
    assertTrue(h.isDone());
    assertFalse(h.isCancelled());
    assertEquals(0, ((SchedulerImpl) scheduler).liveRecurring());
  }

  // ---- misfire ----

  private ScheduleHandle everyMinute(MisfirePolicy policy) {
    return scheduler.schedule(
        Trigger.every(Duration.ofMinutes(1), T0),
        count,
        ScheduleOptions.defaults()
            .withMisfirePolicy(policy)
            .withMisfireThreshold(Duration.ofSeconds(5)));
  }

  @Test
  void givenAPauseOfTenMinutes_whenFireOnce_thenOneRunForTheLatestMissedTime() throws Exception {
    ScheduleHandle h = everyMinute(MisfirePolicy.FIRE_ONCE);
    clock.advance(Duration.ZERO); // runs at T0
    threads.awaitAllEnded();

    clock.jump(Duration.ofSeconds(630)); // the process "pauses" from T0 to T0 + 10m30s

    threads.awaitAllEnded();
    assertEquals(2, ran.get());
    assertEquals(Optional.of(T0.plusSeconds(600)), h.lastFireTime());
    assertEquals(Optional.of(T0.plusSeconds(660)), h.nextFireTime());
  }

  @Test
  void givenAPauseOfTenMinutes_whenSkip_thenNoRunAndTheScheduleGoesOn() throws Exception {
    ScheduleHandle h = everyMinute(MisfirePolicy.SKIP);
    clock.advance(Duration.ZERO);
    threads.awaitAllEnded();

    clock.jump(Duration.ofSeconds(630));

    assertEquals(1, h.runCount());
    assertEquals(Optional.of(T0.plusSeconds(660)), h.nextFireTime());
    clock.advance(Duration.ofSeconds(30));
    threads.awaitAllEnded();
    assertEquals(2, ran.get());
  }

  @Test
  void givenAPauseOfTenMinutes_whenCatchUpThree_thenTheLatestThreeRunOnOneThread()
      throws Exception {
    ScheduleHandle h = everyMinute(MisfirePolicy.catchUp(3));
    clock.advance(Duration.ZERO);
    threads.awaitAllEnded();

    clock.jump(Duration.ofSeconds(630));
    threads.awaitAllEnded();

    assertEquals(4, ran.get());
    assertEquals(4, h.runCount());
    assertEquals(2, threads.count());
    assertEquals(Optional.of(T0.plusSeconds(600)), h.lastFireTime());
  }

  @Test
  void givenACatchUpBatchRunning_whenCancelled_thenItStopsBeforeItsNextRun() throws Exception {
    // given a catch-up of three runs whose first run is held
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger runs = new AtomicInteger();
    ScheduleHandle h =
        scheduler.schedule(
            Trigger.every(Duration.ofMinutes(1), T0.plusSeconds(60)),
            () -> {
              runs.incrementAndGet();
              entered.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            ScheduleOptions.defaults()
                .withMisfirePolicy(MisfirePolicy.catchUp(3))
                .withMisfireThreshold(Duration.ofSeconds(5)));
    clock.jump(Duration.ofSeconds(630));
    entered.await();
    assertEquals(3, h.runCount(), "counted when handed over");

    // when the schedule is cancelled while its first run is going on
    h.cancel();
    release.countDown();
    threads.awaitAllEnded();

    // then the other two never run, and the handle says so
    assertEquals(1, runs.get());
    assertEquals(1, h.runCount());
    assertEquals(Optional.of(T0.plusSeconds(480)), h.lastFireTime());
  }

  @Test
  void givenAJumpWithinTheThreshold_whenAnyPolicy_thenTheLateRunStillRuns() throws Exception {
    ScheduleHandle h = everyMinute(MisfirePolicy.SKIP);
    clock.advance(Duration.ZERO);
    threads.awaitAllEnded();

    clock.jump(Duration.ofSeconds(64)); // 4 s late

    threads.awaitAllEnded();
    assertEquals(2, h.runCount());
  }

  @Test
  void givenFixedDelayAndAPause_whenSkip_thenTheMissedRunIsDroppedAndTheNextIsADelayFromNow() {
    ScheduleHandle h =
        scheduler.everyWithDelay(
            Duration.ofMinutes(1),
            Duration.ofMinutes(1),
            count,
            ScheduleOptions.defaults()
                .withMisfirePolicy(MisfirePolicy.SKIP)
                .withMisfireThreshold(Duration.ofSeconds(5)));

    clock.jump(Duration.ofMinutes(10));

    assertEquals(0, h.runCount());
    assertEquals(Optional.of(T0.plus(Duration.ofMinutes(11))), h.nextFireTime());
  }

  // ---- wall-clock schedules ----

  @Test
  void givenADailyBerlinScheduleOverTheSpringGap_whenTheDayPasses_thenItRunsAtTheShiftedInstant()
      throws Exception {
    ScheduleHandle h = scheduler.daily(LocalTime.of(2, 30), ZoneId.of("Europe/Berlin"), count);
    assertEquals(Optional.of(t("2026-03-29T01:30:00Z")), h.nextFireTime());
    assertEquals("daily 02:30 Europe/Berlin", h.name());

    clock.advance(Duration.between(T0, t("2026-03-29T01:30:00Z")));
    threads.awaitAllEnded();

    assertEquals(1, ran.get());
    assertEquals(Optional.of(t("2026-03-30T00:30:00Z")), h.nextFireTime());
  }

  @Test
  void givenACronSchedule_whenHoursPass_thenItRunsOnTheHourAndCounts() throws Exception {
    ScheduleHandle h = scheduler.cron("0 * * * *", CronDialect.UNIX, ZoneOffset.UTC, count);
    clock.advance(Duration.ZERO); // T0 is on the hour: the first run is now
    threads.awaitAllEnded();

    for (int i = 0; i < 3; i++) {
      clock.advance(Duration.ofHours(1));
      threads.awaitAllEnded();
    }

    assertEquals(4, ran.get());
    assertEquals(Optional.of(t("2026-03-28T15:00:00Z")), h.lastFireTime());
  }

  @Test
  void givenAnExhaustedTrigger_whenScheduled_thenTheHandleIsDoneAtOnce() {
    ScheduleHandle h = scheduler.schedule(Trigger.at(T0.minusSeconds(1)), count);

    assertTrue(h.isDone());
    assertFalse(h.isCancelled());
    assertFalse(h.cancel());
    assertEquals(0, clock.pendingTimers());
  }

  @Test
  void givenATriggerAtThroughScheduleWithSkip_whenMissedByAPause_thenItNeverRuns() {
    ScheduleHandle h =
        scheduler.schedule(
            Trigger.at(T0.plusSeconds(10)),
            count,
            ScheduleOptions.defaults()
                .withMisfirePolicy(MisfirePolicy.SKIP)
                .withMisfireThreshold(SECOND));

    clock.jump(Duration.ofMinutes(5));

    assertEquals(0, h.runCount());
    assertTrue(h.isDone());
  }

  // ---- failures ----

  @Test
  void givenABodyThatThrows_whenItRunsRepeatedly_thenEachFailureIsReportedAndTheScheduleGoesOn()
      throws Exception {
    IllegalStateException boom = new IllegalStateException("boom");
    ScheduleHandle h =
        scheduler.every(
            SECOND,
            () -> {
              throw boom;
            });

    for (int i = 0; i < 3; i++) {
      clock.advance(i == 0 ? Duration.ZERO : SECOND);
      threads.awaitAllEnded();
    }

    assertEquals(List.of(boom, boom, boom), errors);
    assertSame(h, failedHandles.getFirst());
    assertEquals(Optional.of(T0.plusSeconds(3)), h.nextFireTime());
  }

  @Test
  void givenFixedDelayAndAThreadFactoryThatRefusesOnce_whenTimePasses_thenTheScheduleGoesOn()
      throws Exception {
    // given: a fixed-delay schedule whose first run finds the thread factory refusing
    RejectedExecutionException refused = new RejectedExecutionException("no thread now");
    AtomicInteger asked = new AtomicInteger();
    ThreadFactory refusesOnce =
        r -> {
          if (asked.getAndIncrement() == 0) {
            throw refused;
          }
          return threads.newThread(r);
        };
    try (Scheduler refusing =
        Scheduler.create(
            SchedulerOptions.defaults()
                .withClock(clock)
                .withThreadFactory(refusesOnce)
                .withErrorHandler((h, e) -> errors.add(e)))) {
      ScheduleHandle h = refusing.everyWithDelay(SECOND, SECOND, count);

      // when: the first fire time passes (no thread), then a delay more
      clock.advance(SECOND);
      clock.advance(SECOND);
      threads.awaitAllEnded();

      // then: the refusal was reported and the schedule did not stall: the next run came a delay
      // after the refused one, and the schedule waits for another
      assertEquals(List.of(refused), errors);
      assertEquals(1, ran.get());
      assertEquals(1, h.runCount());
      assertFalse(h.isDone());
      assertTrue(h.nextFireTime().isPresent());
    }
  }

  @Test
  void givenAOneShotWhoseBodyThrows_whenItRuns_thenTheErrorHandlerGetsItWithItsHandle()
      throws Exception {
    IllegalStateException boom = new IllegalStateException("boom");
    ScheduleHandle h =
        scheduler.after(
            SECOND,
            () -> {
              throw boom;
            });

    clock.advance(SECOND);
    threads.awaitAllEnded();

    assertEquals(List.of(boom), errors);
    assertSame(h, failedHandles.getFirst());
  }

  @Test
  void givenTheDefaultErrorHandler_whenABodyThrows_thenTheThreadsUncaughtHandlerGetsIt()
      throws Exception {
    TestThreads own = new TestThreads();
    try (Scheduler s =
        Scheduler.create(SchedulerOptions.defaults().withClock(clock).withThreadFactory(own))) {
      IllegalStateException boom = new IllegalStateException("boom");
      s.after(
          SECOND,
          () -> {
            throw boom;
          });
      clock.advance(SECOND);
      own.awaitAllEnded();

      assertEquals(List.of(boom), own.uncaught);
    }
  }

  // ---- shutting down ----

  @Test
  void givenSchedulesOfEveryKind_whenClosed_thenNoThreadNoTimerRemainsAndAllReportCancelled()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    ScheduleHandle oneShot = scheduler.after(Duration.ofHours(1), count);
    ScheduleHandle rate = scheduler.every(SECOND, () -> await(release));
    ScheduleHandle delay = scheduler.everyWithDelay(SECOND, SECOND, count);
    ScheduleHandle cron = scheduler.cron("0 30 * * * ?", CronDialect.QUARTZ, ZoneOffset.UTC, count);
    var times =
        scheduler.fireTimes(io.sluice.core.Context.background(clock), Trigger.every(SECOND, T0));
    clock.advance(Duration.ZERO); // the fixed-rate body starts and blocks
    assertEquals(5, clock.pendingTimers());

    Thread closer = Thread.ofVirtual().start(scheduler::close);
    TestThreads.until(scheduler::isShutdown, "shutdown");
    TestThreads.untilBlocked(closer); // waiting for the blocked body
    release.countDown();
    closer.join();

    threads.assertNoneAlive();
    assertEquals(0, clock.pendingTimers());
    for (ScheduleHandle h : List.of(oneShot, rate, delay, cron)) {
      assertTrue(h.isCancelled(), h.toString());
      assertTrue(h.isDone(), h.toString());
      assertFalse(h.cancel(), h.toString());
    }
    assertTrue(times.isClosed());
    assertEquals(0, ran.get()); // nothing but the blocked body ran
  }

  @Test
  void
      givenABodyWaitingInterruptibly_whenClosed_thenAfterTheGracePeriodItIsInterruptedAndCloseReturns()
          throws Exception {
    AtomicInteger interrupted = new AtomicInteger();
    TestThreads own = new TestThreads();
    Scheduler s =
        Scheduler.create(
            SchedulerOptions.defaults()
                .withClock(clock)
                .withThreadFactory(own)
                .withCloseGracePeriod(Duration.ofSeconds(2)));
    CountDownLatch never = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    s.after(
        SECOND,
        () -> {
          started.countDown();
          try {
            never.await();
          } catch (InterruptedException e) {
            interrupted.incrementAndGet();
          }
        });
    clock.advance(SECOND);
    assertTrue(started.await(10, TimeUnit.SECONDS));

    s.close();

    own.assertNoneAlive();
    assertEquals(1, interrupted.get());
  }

  @Test
  void givenABodyThatIgnoresInterrupts_whenClosedWithNoGrace_thenIllegalStateNamesItsThread()
      throws Exception {
    TestThreads own = new TestThreads();
    Scheduler s =
        Scheduler.create(
            SchedulerOptions.defaults()
                .withClock(clock)
                .withThreadFactory(own)
                .withCloseGracePeriod(Duration.ZERO));
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch started = new CountDownLatch(1);
    s.after(
        SECOND,
        () -> {
          started.countDown();
          awaitUninterruptibly(release);
        });
    clock.advance(SECOND);
    assertTrue(started.await(10, TimeUnit.SECONDS));

    IllegalStateException e = assertThrows(IllegalStateException.class, s::close);

    assertTrue(e.getMessage().contains("test-schedule-0"), e.getMessage());
    release.countDown();
    assertTrue(s.awaitTermination(Duration.ofSeconds(10)));
    own.awaitAllEnded();
  }

  @Test
  void givenAnInterruptedCaller_whenClosing_thenBodiesAreInterruptedAtOnceAndTheStatusStays()
      throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    AtomicInteger interrupted = new AtomicInteger();
    scheduler.after(
        SECOND,
        () -> {
          started.countDown();
          try {
            new CountDownLatch(1).await();
          } catch (InterruptedException e) {
            interrupted.incrementAndGet();
          }
        });
    clock.advance(SECOND);
    assertTrue(started.await(10, TimeUnit.SECONDS));

    Thread.currentThread().interrupt();
    try {
      scheduler.close();
      assertTrue(Thread.currentThread().isInterrupted());
    } finally {
      Thread.interrupted();
    }
    assertEquals(1, interrupted.get());
  }

  @Test
  void givenAnInterruptedThread_whenAwaitingTermination_thenInterruptedExceptionAtOnce() {
    scheduler.shutdown();
    Thread.currentThread().interrupt();
    try {
      assertThrows(
          InterruptedException.class, () -> scheduler.awaitTermination(Duration.ofHours(1)));
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void givenAThreadBlockedAwaitingTermination_whenInterrupted_thenInterruptedException()
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    scheduler.after(SECOND, () -> await(release));
    clock.advance(SECOND);
    scheduler.shutdown();
    AtomicInteger outcome = new AtomicInteger();
    Thread waiter =
        Thread.ofVirtual()
            .start(
                () -> {
                  try {
                    scheduler.awaitTermination(Duration.ofHours(1));
                    outcome.set(1);
                  } catch (InterruptedException e) {
                    outcome.set(2);
                  }
                });
    TestThreads.untilBlocked(waiter);

    waiter.interrupt();
    waiter.join();

    assertEquals(2, outcome.get());
    release.countDown();
    assertTrue(scheduler.awaitTermination(Duration.ofSeconds(10)));
  }

  @Test
  @Timeout(60)
  void givenARunThatHasJustEnded_whenClosed_thenItsThreadIsNoLongerAlive() throws Exception {
    // A body that has ended still has to exit; close() must wait for that too. The window is a few
    // instructions wide, so this tries it many times.
    for (int i = 0; i < 2_000; i++) {
      TestThreads mine = new TestThreads();
      ManualClock c = Clock.manual(T0);
      Scheduler s =
          Scheduler.create(SchedulerOptions.defaults().withClock(c).withThreadFactory(mine));
      CountDownLatch ended = new CountDownLatch(1);
      s.after(SECOND, ended::countDown);
      c.advance(SECOND);
      ended.await();

      s.close();

      mine.assertNoneAlive();
    }
  }

  @Test
  void givenNoShutdown_whenAwaitingTerminationWithATimeout_thenFalse() throws Exception {
    assertFalse(scheduler.awaitTermination(Duration.ZERO));
    assertFalse(scheduler.awaitTermination(Duration.ofMillis(1)));
  }

  @Test
  void givenAShutDownScheduler_whenMakingSchedules_thenIllegalState() {
    scheduler.shutdown();
    scheduler.shutdown(); // idempotent

    assertTrue(scheduler.isShutdown());
    assertThrows(IllegalStateException.class, () -> scheduler.at(T0, count));
    assertThrows(IllegalStateException.class, () -> scheduler.after(SECOND, count));
    assertThrows(IllegalStateException.class, () -> scheduler.every(SECOND, count));
    assertThrows(
        IllegalStateException.class, () -> scheduler.everyWithDelay(SECOND, SECOND, count));
    assertThrows(
        IllegalStateException.class,
        () ->
            scheduler.fireTimes(
                io.sluice.core.Context.background(clock), Trigger.every(SECOND, T0)));
  }

  @Test
  void givenABodyThatClosesItsOwnScheduler_whenItRuns_thenCloseDoesNotWaitForItself()
      throws Exception {
    CountDownLatch closed = new CountDownLatch(1);
    scheduler.after(
        SECOND,
        () -> {
          scheduler.close();
          closed.countDown();
        });

    clock.advance(SECOND);

    assertTrue(closed.await(10, TimeUnit.SECONDS));
    threads.awaitAllEnded();
  }

  @Test
  void givenManyOneShots_whenShutDown_thenTheEngineDropsThemAll() {
    for (int i = 0; i < 5000; i++) {
      scheduler.after(Duration.ofSeconds(1 + i), count);
    }
    ScheduleHandle other = scheduler.every(SECOND, count);
    assertEquals(5001, clock.pendingTimers());

    scheduler.shutdown();

    assertEquals(0, clock.pendingTimers());
    assertTrue(other.isCancelled());
    clock.advance(Duration.ofHours(2));
    assertEquals(0, threads.count());
  }

  @Test
  void givenAScheduleOnAnotherScheduler_whenThisOneShutsDown_thenTheOtherKeepsItsTimer() {
    try (Scheduler other = Scheduler.create(SchedulerOptions.defaults().withClock(clock))) {
      ScheduleHandle theirs = other.after(Duration.ofHours(1), count);
      scheduler.after(Duration.ofHours(1), count);

      scheduler.shutdown();

      assertEquals(1, clock.pendingTimers());
      assertTrue(theirs.cancel());
    }
  }

  static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void awaitUninterruptibly(CountDownLatch latch) {
    boolean interrupted = false;
    while (latch.getCount() > 0) {
      try {
        latch.await();
      } catch (InterruptedException e) {
        interrupted = true;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void givenOneShotAndRecurringHandles_whenPrinted_thenTheyShowTheirNames() {
    assertInstanceOf(String.class, scheduler.after(SECOND, count).toString());
    assertTrue(scheduler.every(SECOND, count).toString().contains("every PT1S from " + T0));
  }
}
