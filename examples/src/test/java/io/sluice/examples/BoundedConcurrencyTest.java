package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import io.sluice.core.ReceiveChannel;
import io.sluice.core.Semaphore;
import io.sluice.core.TaskFailedException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The bounded-concurrency example: limits hold, every item is processed, failures stop the rest.
 */
@Timeout(60)
class BoundedConcurrencyTest {

  private static ReceiveChannel<Integer> numbers(int n) throws InterruptedException {
    Channel<Integer> ch = Channel.buffered(n);
    for (int i = 0; i < n; i++) {
      ch.send(i);
    }
    ch.close();
    return ch;
  }

  @Test
  void stepProcessesEveryItemWithNoMoreThanTheLimitInFlight() throws Exception {
    AtomicInteger inFlight = new AtomicInteger();
    AtomicInteger maxInFlight = new AtomicInteger();

    ReceiveChannel<Integer> out =
        BoundedConcurrency.step(
            Context.background(),
            numbers(500),
            4,
            i -> {
              maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
              Thread.yield();
              inFlight.decrementAndGet();
              return i * 2;
            });
    List<Integer> got = new ArrayList<>();
    for (int v : out) {
      got.add(v);
    }

    assertEquals(
        IntStream.range(0, 500).map(i -> i * 2).boxed().toList(), got.stream().sorted().toList());
    assertTrue(maxInFlight.get() <= 4, "in flight at once: " + maxInFlight.get());
  }

  @Test
  void stepClosesItsOutputWithTheFirstFailure() throws Exception {
    ReceiveChannel<Integer> out =
        BoundedConcurrency.step(
            Context.background(),
            numbers(100),
            3,
            i -> {
              if (i == 42) {
                throw new IllegalArgumentException("bad item 42");
              }
              return i;
            });

    ChannelClosedException e =
        assertThrows(
            ChannelClosedException.class,
            () -> {
              for (int ignored : out) {
                // drain until the failure arrives
              }
            });
    assertEquals("bad item 42", e.getCause().getMessage());
  }

  @Test
  void stepPassesAnUpstreamFailureDownstream() throws Exception {
    Channel<Integer> in = Channel.buffered(2);
    in.send(1);
    in.close(new IllegalStateException("source broke"));

    ReceiveChannel<Integer> out = BoundedConcurrency.step(Context.background(), in, 2, i -> i);

    assertEquals(1, out.receive());
    ChannelClosedException e = assertThrows(ChannelClosedException.class, out::receive);
    assertEquals("source broke", e.getCause().getMessage());
  }

  @Test
  void weightedStepNeverExceedsTheBudget() throws Exception {
    Semaphore budget = Semaphore.weighted(10);
    AtomicInteger held = new AtomicInteger();
    AtomicInteger maxHeld = new AtomicInteger();
    List<Integer> weights = IntStream.range(0, 200).map(i -> 1 + i % 7).boxed().toList();

    BoundedConcurrency.weightedStep(
        Context.background(),
        weights,
        budget,
        w -> w,
        w -> {
          maxHeld.accumulateAndGet(held.addAndGet(w), Math::max);
          Thread.yield();
          held.addAndGet(-w);
          return null;
        });

    assertTrue(maxHeld.get() <= 10, "held at once: " + maxHeld.get());
    assertTrue(budget.tryAcquire(10), "all budget returned");
  }

  @Test
  void weightedStepReportsTheFirstFailure() {
    TaskFailedException e =
        assertThrows(
            TaskFailedException.class,
            () ->
                BoundedConcurrency.weightedStep(
                    Context.background(),
                    List.of(1, 2, 3),
                    Semaphore.weighted(4),
                    w -> w,
                    w -> {
                      throw new IllegalStateException("item " + w);
                    }));
    assertTrue(e.getCause().getMessage().startsWith("item "), e.toString());
  }

  @Test
  void fixedWorkersDoEveryTaskOnNoMoreThreadsThanWorkers() throws Exception {
    BoundedConcurrency.Workers w = BoundedConcurrency.fixedWorkers(10_000, 3);

    assertEquals(10_000, w.done());
    assertTrue(w.threads() >= 1 && w.threads() <= 3, "threads: " + w.threads());
  }
}
