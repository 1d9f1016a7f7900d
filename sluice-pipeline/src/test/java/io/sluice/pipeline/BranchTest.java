package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Context;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Branches made with {@link Sink#through}: nested inside one another and inside fan-outs, they run
 * as part of the run; where a branch cannot run (an error or dead-letter sink, a direct write) it
 * is rejected up front with an explanation.
 */
@Timeout(30)
class BranchTest {
  private static final Context CTX = Context.background();

  private static List<Integer> ints(int from, int to) {
    return IntStream.range(from, to).boxed().toList();
  }

  @Test
  void aBranchInsideABranchRunsBothBranchesStages() throws Exception {
    List<String> got = new CopyOnWriteArrayList<>();
    Sink<Integer> inner = Sink.<Integer, String>through(p -> p.map(x -> "#" + x), got::addAll);
    Sink<Integer> outer = Sink.<Integer, Integer>through(p -> p.map(x -> x * 10), inner);

    Result<Long> r = Pipeline.range(0, 5).to(CTX, outer);

    assertEquals(List.of("#0", "#10", "#20", "#30", "#40"), got);
    assertEquals(5L, r.value());
    assertEquals(Outcome.COMPLETED, r.outcome());
  }

  @Test
  void aBranchNestedInABranchOfASplitGetsItsItems() throws Exception {
    List<Integer> evens = new CopyOnWriteArrayList<>();
    List<String> odds = new CopyOnWriteArrayList<>();
    Sink<Integer> nested =
        Sink.<Integer, Integer>through(
            p -> p.map(x -> x + 1000),
            Sink.<Integer, String>through(p -> p.map(x -> "odd" + x), odds::addAll));

    Pipeline.range(0, 10).split(CTX, x -> x % 2, List.of(Sink.<Integer>each(evens::add), nested));

    assertEquals(List.of(0, 2, 4, 6, 8), evens);
    assertEquals(List.of("odd1001", "odd1003", "odd1005", "odd1007", "odd1009"), odds);
  }

  @Test
  void aBranchCanFanOutAgainWithBranchesOfItsOwn() throws Exception {
    List<Integer> all = new CopyOnWriteArrayList<>();
    List<Integer> small = new CopyOnWriteArrayList<>();
    List<String> big = new CopyOnWriteArrayList<>();
    Sink<Integer> routed =
        Sink.split(
            x -> x < 50 ? 0 : 1,
            List.of(
                Sink.<Integer>each(small::add),
                Sink.<Integer, String>through(p -> p.map(x -> "big" + x), big::addAll)));
    Sink<Integer> branch =
        Sink.<Integer, Integer>through(
            p -> p.filter(x -> x % 10 == 0), Sink.broadcast(List.of(all::addAll, routed)));

    Pipeline.range(0, 100).broadcast(CTX, List.of(branch));

    assertEquals(List.of(0, 10, 20, 30, 40, 50, 60, 70, 80, 90), all);
    assertEquals(List.of(0, 10, 20, 30, 40), small);
    assertEquals(List.of("big50", "big60", "big70", "big80", "big90"), big);
  }

  @Test
  void aBranchIsRejectedAsAnErrorSinkWhenThePolicyIsMade() {
    Sink<Failure> branch = Sink.<Failure, String>through(p -> p.map(Failure::toString), b -> {});

    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> ErrorPolicy.skip(branch));

    assertTrue(e.getMessage().contains("Sink.through"), e.getMessage());
    assertTrue(e.getMessage().contains("instead"), e.getMessage());
  }

  @Test
  void aBranchIsRejectedAsADeadLetterSinkWhenThePolicyIsMade() {
    Sink<Failure> branch = Sink.<Failure, String>through(p -> p.map(Failure::toString), b -> {});

    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> ErrorPolicy.retry(3, Duration.ZERO, branch));

    assertTrue(e.getMessage().contains("dead-letter"), e.getMessage());
  }

  @Test
  void aBranchWrittenToDirectlySaysHowToUseIt() {
    Sink<Integer> branch = Sink.<Integer, Integer>through(p -> p, b -> {});

    UnsupportedOperationException e =
        assertThrows(UnsupportedOperationException.class, () -> branch.write(List.of(1)));

    assertTrue(e.getMessage().contains("Pipeline.to"), e.getMessage());
  }

  @Test
  void aBranchThatEndsEarlyInsideANestedFanOutLeavesTheOthersRunning() throws Exception {
    List<Integer> first = new CopyOnWriteArrayList<>();
    List<Integer> rest = new CopyOnWriteArrayList<>();
    Sink<Integer> fan =
        Sink.broadcast(
            List.of(Sink.<Integer, Integer>through(p -> p.take(3), first::addAll), rest::addAll));

    Pipeline.range(0, 100).to(CTX, Sink.<Integer, Integer>through(p -> p, fan));

    assertEquals(List.of(0, 1, 2), first);
    assertEquals(ints(0, 100), rest);
  }

  @Test
  void aFanOutOfPlainSinksCanBeAnErrorSink() throws Exception {
    List<Object> a = new CopyOnWriteArrayList<>();
    List<Object> b = new CopyOnWriteArrayList<>();

    Pipeline.range(0, 4)
        .map(
            x -> {
              if (x % 2 == 1) {
                throw new IllegalArgumentException("odd");
              }
              return x;
            })
        .onError(
            ErrorPolicy.skip(
                Sink.<Failure>broadcast(
                    List.of(Sink.<Failure>each(f -> a.add(f.item())), f -> b.addAll(f)))))
        .toList(CTX);

    assertEquals(List.of(1, 3), a);
    assertEquals(2, b.size());
  }
}
