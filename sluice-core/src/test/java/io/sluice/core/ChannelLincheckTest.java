package io.sluice.core;

import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.StressOptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Linearizability of a buffered channel's non-blocking operations (trySend, tryReceive, close, len)
 * under Lincheck: every concurrent history it produces must be explained by some sequential order
 * of the same calls. Lincheck's model checker explores thread interleavings deterministically at
 * shared-memory accesses; it assumes sequential consistency, so the stress tests stay. Blocking
 * calls are left out: Lincheck models blocking only for Kotlin coroutines.
 *
 * <p>Public, with public operations, because Lincheck instantiates and calls it reflectively.
 */
public class ChannelLincheckTest {
  private final Channel<Integer> ch = Channel.buffered(2);

  /** Lincheck creates one instance per scenario. */
  public ChannelLincheckTest() {}

  /**
   * trySend, with its three outcomes.
   *
   * @param v the value
   * @return sent, full or closed
   */
  @Operation
  public String trySend(int v) {
    try {
      return ch.trySend(v) ? "sent" : "full";
    } catch (ChannelClosedException e) {
      return "closed";
    }
  }

  /**
   * tryReceive.
   *
   * @return a value, closed, or would block
   */
  @Operation
  public TryReceived<Integer> tryReceive() {
    return ch.tryReceive();
  }

  /**
   * close.
   *
   * @return whether this call closed it
   */
  @Operation
  public boolean close() {
    return ch.close();
  }

  /**
   * len.
   *
   * @return the buffered count
   */
  @Operation
  public int len() {
    return ch.len();
  }

  @Test
  @Timeout(120)
  void everyInterleavingTheModelCheckerTriesIsLinearizable() {
    new ModelCheckingOptions().iterations(8).invocationsPerIteration(200).check(getClass());
  }

  @Test
  @Tag("stress-long")
  @Timeout(600)
  void manyMoreInterleavingsAreLinearizable() {
    new ModelCheckingOptions().iterations(100).invocationsPerIteration(1_000).check(getClass());
  }

  @Test
  @Tag("stress-long")
  @Timeout(600)
  void concurrentRunsAreLinearizable() {
    new StressOptions().iterations(50).invocationsPerIteration(1_000).check(getClass());
  }
}
