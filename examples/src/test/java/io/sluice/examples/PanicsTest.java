package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.TaskFailedException;
import io.sluice.core.TaskGroup;
import io.sluice.examples.Panics.Recovered;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Panics in a task group are captured with their stacks, reach no uncaught handler and leave no
 * thread; recover turns a panic into a value but not a fatal error.
 */
@Timeout(60)
class PanicsTest {
  private final TrackingThreadFactory threads = new TrackingThreadFactory("panics-");

  /** Whether {@code t} was thrown from {@code method} of {@link Panics}. */
  private static boolean thrownIn(Throwable t, String method) {
    return Arrays.stream(t.getStackTrace())
        .anyMatch(
            f ->
                f.getClassName().equals(Panics.class.getName())
                    && f.getMethodName().equals(method));
  }

  @Test
  void everyPanicOfAGroupIsReportedWithItsStackAndNoneReachesAnUncaughtHandler() throws Exception {
    Optional<TaskFailedException> report =
        Panics.runAll(
            threads,
            List.of(
                ctx -> Panics.divide(1, 0),
                ctx -> Panics.length(null),
                ctx -> Panics.invariant(false, "never negative"),
                ctx -> {
                  throw new IllegalStateException("explicit");
                }));

    TaskFailedException e = report.orElseThrow();
    List<Throwable> all = new ArrayList<>(List.of(e.getCause()));
    all.addAll(List.of(e.getSuppressed()));
    Map<Class<?>, Throwable> byType =
        all.stream().collect(Collectors.toMap(Throwable::getClass, t -> t));
    assertEquals(4, byType.size(), "each panic once: " + all);
    assertTrue(thrownIn(byType.get(ArithmeticException.class), "divide"));
    assertTrue(thrownIn(byType.get(NullPointerException.class), "length"));
    assertTrue(thrownIn(byType.get(AssertionError.class), "invariant"));
    assertEquals("explicit", byType.get(IllegalStateException.class).getMessage());
    assertEquals(4, threads.threads().size());
    threads.assertAllEndedCleanly(); // ended, and nothing reached an uncaught-exception handler
  }

  @Test
  void aFatalErrorInATaskIsCapturedToo() throws Exception {
    OutOfMemoryError oom = new OutOfMemoryError("simulated");

    Optional<TaskFailedException> report =
        Panics.runAll(
            threads,
            List.of(
                ctx -> {
                  throw oom;
                }));

    assertSame(oom, report.orElseThrow().getCause());
    threads.assertAllEndedCleanly();
  }

  @Test
  void aGroupWithoutPanicsReportsNothingAndRanEveryTask() throws Exception {
    AtomicInteger ran = new AtomicInteger();

    Optional<TaskFailedException> report =
        Panics.runAll(
            threads,
            Stream.generate(() -> (TaskGroup.Task) ctx -> ran.incrementAndGet()).limit(5).toList());

    assertTrue(report.isEmpty());
    assertEquals(5, ran.get());
    threads.assertAllEndedCleanly();
  }

  @Test
  void recoverTurnsAPanicIntoAValueWithTheThrowersStack() {
    Recovered<Integer> r = Panics.recover(() -> Panics.divide(1, 0));

    Throwable panic = assertInstanceOf(Recovered.Panicked.class, r).panic();
    assertInstanceOf(ArithmeticException.class, panic);
    assertTrue(thrownIn(panic, "divide"));
    assertEquals(new Recovered.Value<>(2), Panics.recover(() -> Panics.divide(6, 3)));
  }

  @Test
  void aLoopThatRecoversEachRequestServesTheRequestsAfterAPanic() {
    List<String> requests = new ArrayList<>(List.of("6/3", "1/0"));
    requests.add(null);
    requests.add("8/2");

    List<String> answers = Panics.serve(requests, Panics::quotient);

    assertEquals(4, answers.size());
    assertEquals("200 2", answers.get(0));
    assertEquals("500 java.lang.ArithmeticException: / by zero", answers.get(1));
    assertTrue(answers.get(2).startsWith("500 java.lang.NullPointerException"), answers.get(2));
    assertEquals("200 4", answers.get(3));
  }

  @Test
  void recoverRethrowsAFatalErrorAsGoCannotRecoverOne() {
    StackOverflowError fatal = new StackOverflowError("simulated");

    StackOverflowError thrown =
        assertThrows(
            StackOverflowError.class,
            () ->
                Panics.recover(
                    () -> {
                      throw fatal;
                    }));

    assertSame(fatal, thrown);
  }

  @Test
  void recoverKeepsTheInterruptStatusOfARecoveredInterruption() {
    try {
      Recovered<Object> r =
          Panics.recover(
              () -> {
                throw new InterruptedException("stop");
              });

      assertInstanceOf(InterruptedException.class, ((Recovered.Panicked<Object>) r).panic());
      assertTrue(Thread.currentThread().isInterrupted());
    } finally {
      Thread.interrupted();
    }
  }
}
