package io.sluice.core;

import static io.sluice.core.SyncTestSupport.awaitParked;
import static io.sluice.core.SyncTestSupport.call;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.SyncTestSupport.Call;
import io.sluice.core.SyncTestSupport.ThreadKind;
import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(30)
class OnceValueTest {
  private final AtomicInteger computations = new AtomicInteger();
  private final CountDownLatch computing = new CountDownLatch(1);
  private final CountDownLatch finish = new CountDownLatch(1);

  @AfterEach
  void noInterruptLeaks() {
    Thread.interrupted(); // a test that interrupts itself must not leak the status
  }

  /** Counts computations and holds each until the test lets it finish. */
  private String heldComputation() throws InterruptedException {
    computations.incrementAndGet();
    computing.countDown();
    finish.await();
    return "value";
  }

  private Call<String> computingCaller(OnceValue<String> v) throws InterruptedException {
    Call<String> c = call(ThreadKind.VIRTUAL, v::get);
    computing.await();
    return c;
  }

  @Test
  void givenANewValue_whenGetTwice_thenItIsComputedOnceAndTheSameInstanceReturned()
      throws Exception {
    OnceValue<Object> v =
        OnceValue.of(
            () -> {
              computations.incrementAndGet();
              return new Object();
            });
    assertFalse(v.isDone());

    Object first = v.get();

    assertSame(first, v.get());
    assertEquals(1, computations.get());
    assertTrue(v.isDone());
  }

  @Test
  void givenAComputationReturningNull_whenGet_thenNullIsTheValueAndNotRecomputed()
      throws Exception {
    OnceValue<String> v =
        OnceValue.of(
            () -> {
              computations.incrementAndGet();
              return null;
            });

    assertNull(v.get());
    assertNull(v.get());

    assertEquals(1, computations.get());
    assertTrue(v.isDone());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAComputationInProgress_whenAnotherThreadGets_thenItWaitsAndGetsTheSameValue(
      ThreadKind kind) throws Exception {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    Call<String> first = computingCaller(v);
    Call<String> second = call(kind, v::get);
    awaitParked(second.thread());

    finish.countDown();

    assertEquals("value", first.join());
    assertEquals("value", second.join());
    assertEquals(1, computations.get());
  }

  @Test
  void givenAFailedComputation_whenGetAgain_thenEveryCallReportsTheSameCause() {
    IOException boom = new IOException("disk gone");
    OnceValue<String> v =
        OnceValue.of(
            () -> {
              computations.incrementAndGet();
              throw boom;
            });

    var first = assertThrows(OnceFailedException.class, v::get);
    var second = assertThrows(OnceFailedException.class, v::get);

    assertSame(boom, first.getCause());
    assertSame(boom, second.getCause());
    assertEquals(1, computations.get());
    assertTrue(v.isDone());
  }

  @Test
  void givenARetryingValueWhoseComputationFailed_whenGetAgain_thenItIsComputedAgain()
      throws Exception {
    OnceValue<String> v =
        OnceValue.retrying(
            () -> {
              if (computations.incrementAndGet() == 1) {
                throw new IOException("transient");
              }
              return "value";
            });
    assertThrows(OnceFailedException.class, v::get);
    assertFalse(v.isDone());

    assertEquals("value", v.get());
    assertEquals("value", v.get());

    assertEquals(2, computations.get());
  }

  @Test
  void givenAComputation_whenItGetsItsOwnValue_thenIllegalStateExceptionInsteadOfDeadlock()
      throws Exception {
    AtomicReference<OnceValue<String>> self = new AtomicReference<>();
    AtomicReference<Throwable> inner = new AtomicReference<>();
    self.set(
        OnceValue.of(
            () -> {
              try {
                return self.get().get();
              } catch (IllegalStateException e) {
                inner.set(e);
                return "recovered";
              }
            }));

    assertEquals("recovered", self.get().get());

    assertInstanceOf(IllegalStateException.class, inner.get());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAComputationInProgressAndAnInterruptedThread_whenGet_thenInterruptedException(
      ThreadKind kind) throws Exception {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    Call<String> first = computingCaller(v);

    Call<String> second =
        call(
            kind,
            () -> {
              Thread.currentThread().interrupt();
              return v.get();
            });

    assertInstanceOf(InterruptedException.class, second.joinFailure());
    finish.countDown();
    assertEquals("value", first.join());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaitingGet_whenInterrupted_thenInterruptedExceptionAndTheComputationGoesOn(
      ThreadKind kind) throws Exception {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    Call<String> first = computingCaller(v);
    Call<String> second = call(kind, v::get);
    awaitParked(second.thread());

    second.thread().interrupt();

    assertInstanceOf(InterruptedException.class, second.joinFailure());
    finish.countDown();
    assertEquals("value", first.join());
    assertEquals("value", v.get());
  }

  @Test
  void givenAComputationInProgressAndAnInterruptedThread_whenGetWithAContext_thenInterruptedAtOnce()
      throws Exception {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    Call<String> first = computingCaller(v);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Thread.currentThread().interrupt();

    assertThrows(InterruptedException.class, () -> v.get(ctx));

    assertFalse(Thread.interrupted(), "the status is consumed, as in j.u.c");
    assertEquals(0, ctx.pendingHooks());
    finish.countDown();
    assertEquals("value", first.join());
  }

  @Test
  void
      givenAnInterruptedThreadAndNothingComputed_whenGetWithAContext_thenItComputesKeepingTheStatus()
          throws Exception {
    OnceValue<Boolean> v = OnceValue.of(() -> Thread.currentThread().isInterrupted());
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Thread.currentThread().interrupt();

    boolean computationSawTheInterrupt = v.get(ctx);

    assertTrue(computationSawTheInterrupt);
    assertTrue(Thread.interrupted());
    assertEquals(0, ctx.pendingHooks());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaitingGetWithAContext_whenInterrupted_thenInterruptedExceptionAndTheComputationGoesOn(
      ThreadKind kind) throws Exception {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    Call<String> first = computingCaller(v);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<String> second = call(kind, () -> v.get(ctx));
    awaitParked(second.thread());

    second.thread().interrupt();

    assertInstanceOf(InterruptedException.class, second.joinFailure());
    assertEquals(0, ctx.pendingHooks());
    assertFalse(ctx.isDone());
    finish.countDown();
    assertEquals("value", first.join());
    assertEquals("value", v.get(ctx));
  }

  @Test
  void givenADoneContextAndNothingComputed_whenGet_thenContextCancelledWithoutComputing() {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    assertThrows(ContextCancelledException.class, () -> v.get(ctx));

    assertEquals(0, computations.get());
  }

  @ParameterizedTest
  @EnumSource(ThreadKind.class)
  void givenAWaitingGetWithAContext_whenCancelled_thenContextCancelledAndTheComputationGoesOn(
      ThreadKind kind) throws Exception {
    OnceValue<String> v = OnceValue.of(this::heldComputation);
    Call<String> first = computingCaller(v);
    CancelContext ctx = (CancelContext) Context.background().withCancel();
    Call<String> second = call(kind, () -> v.get(ctx));
    awaitParked(second.thread());

    ctx.cancel();

    assertInstanceOf(ContextCancelledException.class, second.joinFailure());
    assertEquals(0, ctx.pendingHooks());
    finish.countDown();
    assertEquals("value", first.join());
  }

  @Test
  void givenAComputedValueAndADoneContext_whenGet_thenTheValue() throws Exception {
    OnceValue<String> v = OnceValue.of(() -> "value");
    v.get();
    CancelableContext ctx = Context.background().withCancel();
    ctx.cancel();

    assertEquals("value", v.get(ctx));
  }
}
