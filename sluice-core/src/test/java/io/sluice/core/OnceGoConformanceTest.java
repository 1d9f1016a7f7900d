package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.ThreadKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The documentation of Go's {@code sync.Once}, {@code sync.OnceFunc} and {@code sync.OnceValue},
 * one test per sentence. Where Sluice differs on purpose, the test says so and checks Sluice's
 * documented behaviour.
 */
@Timeout(30)
class OnceGoConformanceTest {
  private final AtomicInteger calls = new AtomicInteger();

  // "Once is an object that will perform exactly one action."
  @Test
  void givenManyThreadsRunningTheSameOnce_whenAllReturn_thenTheActionWasPerformedExactlyOnce()
      throws Exception {
    Once once = Once.create();
    CountDownLatch go = new CountDownLatch(1);
    List<Call<Void>> callers = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      callers.add(
          run(
              ThreadKind.VIRTUAL,
              () -> {
                go.await();
                once.run(calls::incrementAndGet);
              }));
    }

    go.countDown();
    for (Call<Void> c : callers) {
      c.join();
    }

    assertEquals(1, calls.get());
  }

  // "Do calls the function f if and only if Do is being called for the first time for this
  // instance of Once."
  @Test
  void givenTwoOnces_whenEachIsRunTwice_thenEachCallsItsFunctionOnlyOnTheFirstCall()
      throws Exception {
    Once a = Once.create();
    Once b = Once.create();

    a.run(calls::incrementAndGet);
    a.run(calls::incrementAndGet);
    b.run(calls::incrementAndGet);
    b.run(calls::incrementAndGet);

    assertEquals(2, calls.get());
  }

  // "if once.Do(f) is called multiple times, only the first call will invoke f, even if f has a
  // different value in each invocation."
  @Test
  void givenDifferentFunctions_whenRunOnTheSameOnce_thenOnlyTheFirstIsInvoked() throws Exception {
    Once once = Once.create();
    List<String> invoked = new ArrayList<>();

    once.run(() -> invoked.add("first"));
    once.run(() -> invoked.add("second"));

    assertEquals(List.of("first"), invoked);
  }

  // "A new instance of Once is required for each function to execute."
  @Test
  void givenTwoFunctionsToExecute_whenEachHasItsOwnOnce_thenBothExecute() throws Exception {
    List<String> invoked = new ArrayList<>();

    Once.create().run(() -> invoked.add("first"));
    Once.create().run(() -> invoked.add("second"));

    assertEquals(List.of("first", "second"), invoked);
  }

  // "In the terminology of the Go memory model, the return from f "synchronizes before" the
  // return from any call of once.Do(f)."
  @Test
  void givenAPlainFieldWrittenByTheAction_whenAnotherThreadsRunReturns_thenItSeesTheWrite()
      throws Exception {
    Once once = Once.create();
    int[] config = new int[1]; // deliberately not volatile
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    Call<Void> runner =
        run(
            ThreadKind.VIRTUAL,
            () ->
                once.run(
                    () -> {
                      started.countDown();
                      finish.await();
                      config[0] = 42;
                    }));
    started.await();
    var reader =
        SyncTestSupport.call(
            ThreadKind.PLATFORM,
            () -> {
              once.run(() -> {});
              return config[0];
            });
    awaitParked(reader.thread());

    finish.countDown();

    assertEquals(42, reader.join());
    runner.join();
  }

  // "Because no call to Do returns until the one call to f returns, [...]"
  @Test
  void givenARunningFunction_whenAnotherCallIsMade_thenItDoesNotReturnBeforeTheFunction()
      throws Exception {
    Once once = Once.create();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    AtomicInteger returnedFromF = new AtomicInteger();
    Call<Void> runner =
        run(
            ThreadKind.VIRTUAL,
            () ->
                once.run(
                    () -> {
                      started.countDown();
                      finish.await();
                      returnedFromF.set(1);
                    }));
    started.await();
    Call<Integer> other =
        SyncTestSupport.call(
            ThreadKind.VIRTUAL,
            () -> {
              once.run(() -> {});
              return returnedFromF.get();
            });
    awaitParked(other.thread());

    finish.countDown();

    assertEquals(1, other.join(), "it returned only after f had returned");
    runner.join();
  }

  // "[...] if f causes Do to be called, it will deadlock." Sluice throws instead.
  @Test
  void givenAFunctionThatCallsDoOnItsOwnOnce_whenRun_thenIllegalStateExceptionNotDeadlock() {
    Once once = Once.create();

    var e = assertThrows(OnceFailedException.class, () -> once.run(() -> once.run(() -> {})));

    assertInstanceOf(IllegalStateException.class, e.getCause());
  }

  // "If f panics, Do considers it to have returned; future calls of Do return without calling f."
  // Sluice: future calls do not call f either, but throw OnceFailedException (as OnceFunc does).
  @Test
  void givenAFunctionThatPanicked_whenDoIsCalledAgain_thenItIsNotCalledAndTheFailureIsReported() {
    Once once = Once.create();
    RuntimeException panic = new RuntimeException("panic");
    assertThrows(
        OnceFailedException.class,
        () ->
            once.run(
                () -> {
                  throw panic;
                }));

    var e = assertThrows(OnceFailedException.class, () -> once.run(calls::incrementAndGet));

    assertEquals(0, calls.get());
    assertTrue(once.isDone());
    assertSame(panic, e.getCause());
  }

  // OnceFunc: "If f panics, the returned function will panic with the same value on every call."
  @Test
  void givenAPanickingOnceFunc_whenCalledRepeatedly_thenEveryCallFailsWithTheSameValue() {
    Once once = Once.create();
    Error panic = new Error("panic");
    Once.Action f =
        () -> {
          calls.incrementAndGet();
          throw panic;
        };

    for (int i = 0; i < 3; i++) {
      assertSame(panic, assertThrows(OnceFailedException.class, () -> once.run(f)).getCause());
    }
    assertEquals(1, calls.get());
  }

  // OnceValue: "OnceValue returns a function that invokes f only once and returns the value
  // returned by f. The returned function may be called concurrently."
  @Test
  void givenAOnceValueCalledConcurrently_whenAllReturn_thenFWasInvokedOnceAndAllGotItsValue()
      throws Exception {
    OnceValue<Integer> v = OnceValue.of(calls::incrementAndGet);
    CountDownLatch go = new CountDownLatch(1);
    List<Call<Integer>> callers = new ArrayList<>();
    for (int i = 0; i < 32; i++) {
      callers.add(
          SyncTestSupport.call(
              ThreadKind.VIRTUAL,
              () -> {
                go.await();
                return v.get();
              }));
    }

    go.countDown();

    for (Call<Integer> c : callers) {
      assertEquals(1, c.join());
    }
    assertEquals(1, calls.get());
  }

  // OnceValue: "If f panics, the returned function will panic with the same value on every call."
  @Test
  void givenAPanickingOnceValue_whenCalledRepeatedly_thenEveryCallFailsWithTheSameValue() {
    IllegalStateException panic = new IllegalStateException("panic");
    OnceValue<String> v =
        OnceValue.of(
            () -> {
              calls.incrementAndGet();
              throw panic;
            });

    for (int i = 0; i < 3; i++) {
      assertSame(panic, assertThrows(OnceFailedException.class, v::get).getCause());
    }
    assertEquals(1, calls.get());
  }
}
