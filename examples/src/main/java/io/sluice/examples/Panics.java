package io.sluice.examples;

import io.sluice.core.Context;
import io.sluice.core.TaskFailedException;
import io.sluice.core.TaskGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/**
 * The seed's "panic" notes in Java: where panics come from, what {@code recover} does, and how a
 * {@link TaskGroup} captures a task's panic — an exception or an {@link Error} — with its stack,
 * without killing the process or leaking a thread.
 *
 * <p>The seed lists two sources of panic, and Java has the same: the program calls {@code panic}
 * ({@code throw}; {@link #invariant} throws an {@link AssertionError}), or the runtime raises one
 * for it — the compiler's inserted divide check ({@code runtime.panicdivide}; {@link #divide}
 * throws {@link ArithmeticException}) and the nil-pointer signal turned into {@code panicmem}
 * ({@link #length} throws {@link NullPointerException}). A panic runs the goroutine's deferred
 * calls ({@code finally}); if none recovers it, Go prints the stack and exits the whole process.
 *
 * <p>Java's pitfall is the opposite one: an exception that escapes a raw thread kills only that
 * thread, the default handler prints it to standard error, and the code that started the thread
 * never learns of it — a caller waiting for its result waits for ever. Sluice makes both outcomes
 * impossible:
 *
 * <ul>
 *   <li>{@link #runAll}: in a {@link TaskGroup}, anything a task throws — checked, unchecked or an
 *       {@code Error} — is caught on its thread, never reaches the uncaught-exception handler,
 *       cancels the group's context, and comes out of {@link TaskGroup#await()} as the cause of a
 *       {@link TaskFailedException}, with the task's own stack; later failures are attached as
 *       suppressed. Every task thread has terminated by then.
 *   <li>{@link #recover}: Go's {@code defer func() { if r := recover(); r != nil { ... } }()} as a
 *       call that turns a panic into a value, so one bad request does not end a loop ({@link
 *       #serve}), as {@code net/http} recovers per connection. It rethrows {@link
 *       VirtualMachineError}s (out of memory, stack overflow): Go cannot recover its fatal errors
 *       either, and the JVM may not be in a state to go on after them.
 * </ul>
 *
 * <p>One Java detail: HotSpot may throw implicit exceptions ({@code NullPointerException}, {@code
 * ArithmeticException}) without a stack once compiled code has thrown them many times ({@code
 * -XX:+OmitStackTraceInFastThrow}, on by default); run with {@code -XX:-OmitStackTraceInFastThrow}
 * where every stack matters.
 */
public final class Panics {
  private Panics() {}

  /**
   * Integer division: Go's compiler-inserted {@code panicdivide}.
   *
   * @throws ArithmeticException if {@code b} is 0
   */
  static int divide(int a, int b) {
    return a / b;
  }

  /**
   * A dereference: Go's nil pointer, {@code SIGSEGV} turned into {@code panicmem}.
   *
   * @throws NullPointerException if {@code s} is null
   */
  static int length(String s) {
    return s.length();
  }

  /**
   * The program's own {@code panic("...")}: a broken invariant is an {@link Error}.
   *
   * @throws AssertionError if {@code ok} is false
   */
  static void invariant(boolean ok, String what) {
    if (!ok) {
      throw new AssertionError("invariant broken: " + what);
    }
  }

  /**
   * Runs every task in one group and reports how it went: empty if none failed, else {@code
   * await}'s exception — the first failure as its cause, the others suppressed.
   *
   * <p>The tasks all start before any of them runs: a failure cancels the group and a group whose
   * context is done refuses new tasks, so without the gate a fast first panic could keep the later
   * tasks from starting at all. (That refusal is right for real work; here every task should run so
   * that every panic is shown.)
   *
   * @param threads makes the task threads
   * @param tasks the tasks
   * @return the failure report, or empty
   * @throws InterruptedException if interrupted; the tasks have ended by then too
   */
  static Optional<TaskFailedException> runAll(ThreadFactory threads, List<TaskGroup.Task> tasks)
      throws InterruptedException {
    CountDownLatch gate = new CountDownLatch(1);
    TaskGroup.Options options =
        TaskGroup.Options.defaults().withName("panics").withThreadFactory(threads);
    try (TaskGroup g = TaskGroup.open(Context.background(), options)) {
      for (TaskGroup.Task task : tasks) {
        g.go(
            ctx -> {
              gate.await();
              task.run(ctx);
            });
      }
      gate.countDown();
      g.await();
      return Optional.empty();
    } catch (TaskFailedException e) {
      return Optional.of(e);
    }
  }

  /**
   * The result of a {@link #recover}ed call: a value or the panic.
   *
   * @param <T> the value type
   */
  sealed interface Recovered<T> {
    /**
     * The call returned.
     *
     * @param value what it returned
     * @param <T> the value type
     */
    record Value<T>(T value) implements Recovered<T> {}

    /**
     * The call threw; the stack is the thrower's.
     *
     * @param panic what it threw
     * @param <T> the value type
     */
    record Panicked<T>(Throwable panic) implements Recovered<T> {}
  }

  /**
   * Calls {@code body}, turning whatever it throws into a value: Go's {@code defer} + {@code
   * recover}. A thrown {@link InterruptedException} is recovered too, and the thread's interrupt
   * status set again so the caller still sees it.
   *
   * @param body the call
   * @param <T> its result type
   * @return the value or the panic
   * @throws VirtualMachineError rethrown: not recoverable, as Go's fatal errors are not
   */
  static <T> Recovered<T> recover(Callable<? extends T> body) {
    try {
      return new Recovered.Value<>(body.call());
    } catch (VirtualMachineError fatal) {
      throw fatal;
    } catch (Throwable panic) {
      if (panic instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return new Recovered.Panicked<>(panic);
    }
  }

  /**
   * Answers every request with {@code handler}, recovering each panic into a 500 answer so the loop
   * serves the next request.
   *
   * @param requests the requests, in order
   * @param handler computes a response body; may throw
   * @return one answer per request, in order: {@code "200 body"} or {@code "500 exception"}
   */
  static List<String> serve(List<String> requests, Function<String, Object> handler) {
    List<String> answers = new ArrayList<>();
    for (String request : requests) {
      answers.add(
          switch (recover(() -> handler.apply(request))) {
            case Recovered.Value<Object>(Object body) -> "200 " + body;
            case Recovered.Panicked<Object>(Throwable panic) -> "500 " + panic;
          });
    }
    return answers;
  }

  /**
   * Computes {@code "a/b"}: divides, so a zero divisor and a missing request panic.
   *
   * @param request {@code "a/b"}, or null
   * @return the quotient
   */
  static Object quotient(String request) {
    int slash = request.indexOf('/'); // null: NullPointerException
    return divide(
        Integer.parseInt(request.substring(0, slash)),
        Integer.parseInt(request.substring(slash + 1)));
  }

  /**
   * Runs four panicking tasks in a group and prints what {@code await} reports, then serves four
   * requests of which two panic.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Optional<TaskFailedException> report =
        runAll(
            Thread.ofVirtual().name("panics-", 0).factory(),
            List.of(
                ctx -> divide(1, 0),
                ctx -> length(null),
                ctx -> invariant(false, "queue length is never negative"),
                ctx -> {
                  throw new IllegalStateException("panic(\"explicit\")");
                }));
    TaskFailedException e = report.orElseThrow();
    System.out.println("await reported: " + e.getCause());
    System.out.println("  thrown at " + e.getCause().getStackTrace()[0]);
    for (Throwable later : e.getSuppressed()) {
      System.out.println("  and later: " + later);
    }
    System.out.println("the process goes on; every task thread has ended");

    List<String> requests = new ArrayList<>(List.of("6/3", "1/0"));
    requests.add(null);
    requests.add("8/2");
    for (String answer : serve(requests, Panics::quotient)) {
      System.out.println(answer);
    }
  }
}
