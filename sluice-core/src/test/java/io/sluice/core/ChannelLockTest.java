package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitTrue;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The channel lock's waits must leave the lock's holder a carrier to run on. A timer channel's
 * source takes the timer's monitor under the channel lock, and a virtual thread that meets a
 * contended monitor is unmounted with the channel lock held; when the monitor is free it needs a
 * carrier again. Waiters that only spun and yielded kept every carrier, and every thread touching
 * the channel hung for good.
 */
@Timeout(60)
class ChannelLockTest {
  private static final Instant START = Instant.parse("2024-01-01T00:00:00Z");

  /** More waiters than carriers, so that waiters alone could occupy every carrier. */
  private static final int WAITERS = 2 * Runtime.getRuntime().availableProcessors() + 2;

  @Test
  void givenAHolderUnmountedOnItsTimersMonitor_whenTheMonitorIsFreed_thenItRunsDespiteLockWaiters()
      throws Exception {
    // given: a virtual thread that holds a timer channel's lock, unmounted on the timer's monitor
    TimerImpl timer = (TimerImpl) Clock.manual(START).newTimer(Duration.ofHours(1));
    ChannelImpl<Instant> ch = (ChannelImpl<Instant>) timer.channel();
    MonitorHolder monitor = MonitorHolder.hold(timer.core());
    Thread holder = Thread.ofVirtual().start(ch::tryReceive);
    awaitTrue(() -> holder.getState() == Thread.State.BLOCKED);
    // and more virtual threads waiting for that lock than there are carriers
    List<Thread> waiters = new ArrayList<>();
    for (int i = 0; i < WAITERS; i++) {
      waiters.add(Thread.ofVirtual().start(ch::len));
    }
    for (Thread w : waiters) {
      awaitTrue(() -> inMethod(w, "lockSlow"));
    }

    // when
    monitor.release();

    // then: the holder gets a carrier, finishes, and every waiter gets the lock in turn
    holder.join();
    for (Thread w : waiters) {
      w.join();
    }
    ch.checkInvariants();
  }

  @Test
  void givenAHolderUnmountedOnItsTimersMonitor_whenSelectsWaitForTheLockHoldingOthers_thenItRuns()
      throws Exception {
    // given: other channels, locked first (lower ids) as a select locks them
    List<ChannelImpl<String>> others = new ArrayList<>();
    for (int i = 0; i < WAITERS; i++) {
      others.add((ChannelImpl<String>) Channel.<String>unbuffered());
    }
    TimerImpl timer = (TimerImpl) Clock.manual(START).newTimer(Duration.ofHours(1));
    ChannelImpl<Instant> ch = (ChannelImpl<Instant>) timer.channel();
    MonitorHolder monitor = MonitorHolder.hold(timer.core());
    Thread holder = Thread.ofVirtual().start(ch::tryReceive);
    awaitTrue(() -> holder.getState() == Thread.State.BLOCKED);
    // and selects in their register step: each holds another channel's lock and waits for this one
    List<Thread> waiters = new ArrayList<>();
    for (ChannelImpl<String> other : others) {
      waiters.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    other.lock();
                    ch.lockHoldingOthers();
                    ch.unlock();
                    other.unlock();
                  }));
    }
    for (Thread w : waiters) {
      awaitTrue(() -> inMethod(w, "lockHoldingOthers"));
    }

    // when
    monitor.release();

    // then
    holder.join();
    for (Thread w : waiters) {
      w.join();
    }
    ch.checkInvariants();
  }

  @Test
  void givenAnInterruptedThreadWaitingForTheLock_whenItGetsIt_thenItsInterruptStatusIsKept()
      throws Exception {
    // given: the lock held by a virtual thread unmounted on the timer's monitor
    TimerImpl timer = (TimerImpl) Clock.manual(START).newTimer(Duration.ofHours(1));
    ChannelImpl<Instant> ch = (ChannelImpl<Instant>) timer.channel();
    MonitorHolder monitor = MonitorHolder.hold(timer.core());
    Thread holder = Thread.ofVirtual().start(ch::tryReceive);
    awaitTrue(() -> holder.getState() == Thread.State.BLOCKED);
    AtomicBoolean statusAfter = new AtomicBoolean();
    List<Thread> waiters = new ArrayList<>();
    for (int i = 0; i < WAITERS; i++) {
      waiters.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    Thread.currentThread().interrupt(); // a park would return at once
                    ch.len();
                    statusAfter.set(Thread.currentThread().isInterrupted());
                  }));
    }
    for (Thread w : waiters) {
      awaitTrue(() -> inMethod(w, "lockSlow"));
    }

    // when
    monitor.release();

    // then
    holder.join();
    for (Thread w : waiters) {
      w.join();
    }
    assertEquals(true, statusAfter.get(), "the lock wait keeps the interrupt status");
  }

  @Test
  void givenSelectsOnAChannelAndATimerThatIsResetAgainAndAgain_whenTheyRun_thenAllComplete()
      throws Exception {
    // given: workers selecting over their own channel and one timer's channel, a feeder that
    // completes them, and a thread resetting the timer, which contends for the timer's monitor
    int workers = 8;
    int selectsPerWorker = SyncTestSupport.scaled(50_000, 200_000);
    TimerImpl timer = (TimerImpl) Clock.manual(START).newTimer(Duration.ofHours(1));
    List<Channel<String>> inputs = new ArrayList<>();
    for (int i = 0; i < workers; i++) {
      inputs.add(Channel.unbuffered());
    }
    AtomicLong selected = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> threads = new ArrayList<>();
    for (Channel<String> in : inputs) {
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int k = 0; k < selectsPerWorker; k++) {
                        Select.select(in.onReceive(v -> v), timer.channel().onReceive(t -> "t"));
                        selected.incrementAndGet();
                      }
                    } catch (InterruptedException e) {
                      Thread.currentThread().interrupt();
                    }
                  }));
    }
    Thread feeder =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  while (!stop.get()) {
                    for (Channel<String> in : inputs) {
                      in.trySend("v");
                    }
                  }
                });
    Thread resetter =
        Thread.ofPlatform()
            .daemon()
            .start(
                () -> {
                  while (!stop.get()) {
                    timer.reset(Duration.ofHours(1));
                    LockSupport.parkNanos(20_000);
                  }
                });

    // when
    try {
      for (Thread t : threads) {
        t.join();
      }
    } finally {
      stop.set(true);
    }
    feeder.join();
    resetter.join();

    // then (the class's @Timeout fails the test if the selects hang)
    assertEquals((long) workers * selectsPerWorker, selected.get());
    ((ChannelImpl<Instant>) timer.channel()).checkInvariants();
  }

  private static boolean inMethod(Thread t, String method) {
    return Arrays.stream(t.getStackTrace()).anyMatch(e -> e.getMethodName().equals(method));
  }

  /** A platform thread that holds an object's monitor until released. */
  private record MonitorHolder(CountDownLatch gate, Thread thread) {
    static MonitorHolder hold(Object monitor) throws InterruptedException {
      CountDownLatch held = new CountDownLatch(1);
      CountDownLatch release = new CountDownLatch(1);
      Thread t =
          Thread.ofPlatform()
              .daemon()
              .start(
                  () -> {
                    synchronized (monitor) {
                      held.countDown();
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                    }
                  });
      held.await();
      return new MonitorHolder(release, t);
    }

    void release() throws InterruptedException {
      gate.countDown();
      thread.join();
    }
  }
}
