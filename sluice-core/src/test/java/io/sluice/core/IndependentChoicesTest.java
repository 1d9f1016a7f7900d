package io.sluice.core;

import static io.sluice.core.IndependentChoices.assertIndependentUniform;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.IntUnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The select fairness check rejects what a fair select must not do, and accepts a fair coin. */
class IndependentChoicesTest {
  private static final int N = 60_000;

  @ParameterizedTest(name = "{0} options")
  @ValueSource(ints = {2, 3})
  void independentUniformDrawsPass(int k) {
    SplittableRandom rnd = new SplittableRandom(42);

    assertIndependentUniform(sequence(i -> rnd.nextInt(k)), k);
  }

  @ParameterizedTest(name = "{0} options")
  @ValueSource(ints = {2, 3})
  void aRoundRobinFails(int k) {
    assertRejectedBy("changes", sequence(i -> i % k), k);
  }

  @Test
  void aReverseRotationOfThreeFails() {
    assertRejectedBy("changes", sequence(i -> 2 - i % 3), 3);
  }

  @Test
  void aRepeatingPatternWithFairSharesAndFairChangesFails() {
    // 0011 repeated: half zeros, and a change every other step, as a fair coin; only its triples
    // give it away
    assertRejectedBy("pattern", sequence(i -> i / 2 % 2), 2);
  }

  @Test
  void aRandomStartFollowedByARotationFails() {
    int start = new SplittableRandom(7).nextInt(3);

    assertRejectedBy("changes", sequence(i -> (start + i) % 3), 3);
  }

  @ParameterizedTest(name = "{0} options")
  @ValueSource(ints = {2, 3})
  void aRandomChoiceThatNeverRepeatsTheLastFails(int k) {
    SplittableRandom rnd = new SplittableRandom(42);
    int[] last = {0};

    int[] choices =
        sequence(
            i -> {
              last[0] = (last[0] + 1 + rnd.nextInt(k - 1)) % k;
              return last[0];
            });

    assertRejectedBy("changes", choices, k);
  }

  @ParameterizedTest(name = "{0} options")
  @ValueSource(ints = {2, 3})
  void aRandomChoiceThatTendsToRepeatTheLastFails(int k) {
    // uniform shares, but the previous choice is kept 60% of the time
    SplittableRandom rnd = new SplittableRandom(42);
    int[] last = {0};

    int[] choices =
        sequence(
            i -> {
              if (rnd.nextInt(10) >= 6) {
                last[0] = (last[0] + 1 + rnd.nextInt(k - 1)) % k;
              }
              return last[0];
            });

    assertRejectedBy("changes", choices, k);
  }

  @Test
  void tooFewChoicesToBiteAreRefused() {
    SplittableRandom rnd = new SplittableRandom(42);
    int[] choices = new int[300];
    for (int i = 0; i < choices.length; i++) {
      choices[i] = rnd.nextInt(3);
    }

    assertThrows(IllegalArgumentException.class, () -> assertIndependentUniform(choices, 3));
  }

  /** Asserts that the check rejects the choices, and for the expected reason. */
  private static void assertRejectedBy(String check, int[] choices, int k) {
    AssertionError e =
        assertThrows(AssertionError.class, () -> assertIndependentUniform(choices, k));
    assertTrue(e.getMessage().contains(check), e.getMessage());
  }

  private static int[] sequence(IntUnaryOperator choice) {
    int[] choices = new int[N];
    for (int i = 0; i < N; i++) {
      choices[i] = choice.applyAsInt(i);
    }
    return choices;
  }
}
