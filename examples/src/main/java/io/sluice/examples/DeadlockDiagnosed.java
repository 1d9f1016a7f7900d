package io.sluice.examples;

import io.sluice.core.Channel;
import io.sluice.core.Diagnostics;
import java.time.Duration;

/**
 * The seed's deadlock written literally — and how Sluice reports it.
 *
 * <p>The Go notes' first program sends on an unbuffered channel before anything receives; Go stops
 * it with "fatal error: all goroutines are asleep - deadlock!". A JVM always has other threads, so
 * it cannot prove the same; with {@link Diagnostics#warnWhenBlockedLongerThan} set, the stuck
 * sender logs a warning naming the channel (unbuffered, no receiver waiting), its own stack, and
 * the fixes. {@link SimplePipeline} shows the fix.
 */
public final class DeadlockDiagnosed {
  private DeadlockDiagnosed() {}

  /**
   * The Go producer, literally: fills an unbuffered channel before returning it.
   *
   * @param out the channel
   * @throws InterruptedException when the example gives up on it
   */
  static void naiveProducer(Channel<String> out) throws InterruptedException {
    for (String s : new String[] {"foo", "bar", "bax"}) {
      out.send(s); // blocks for ever: nobody receives yet
    }
  }

  /**
   * Starts the naive producer on a virtual thread named {@code naive-producer}.
   *
   * @param out the channel it fills
   * @return the thread; interrupt it to end the example
   */
  static Thread startNaiveProducer(Channel<String> out) {
    return Thread.ofVirtual()
        .name("naive-producer")
        .start(
            () -> {
              try {
                naiveProducer(out);
              } catch (InterruptedException e) {
                System.out.println("naive-producer: interrupted, as expected");
              }
            });
  }

  /**
   * Runs the example; the warning appears on standard error after one second.
   *
   * <p>The threshold is process-wide, so the example puts back whatever was set before it (the
   * {@code sluice.blockedWarning} property, or off) when it ends, however it ends: otherwise every
   * wait longer than a second in the rest of the process would be reported too.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted
   */
  public static void main(String[] args) throws InterruptedException {
    Duration previous = Diagnostics.blockedWarning();
    Diagnostics.warnWhenBlockedLongerThan(Duration.ofSeconds(1));
    try {
      Thread producer = startNaiveProducer(Channel.unbuffered());
      if (!producer.join(Duration.ofSeconds(2))) {
        System.out.println(
            "the producer is stuck, as the warning says; SimplePipeline shows the fix");
        producer.interrupt();
        producer.join();
      }
    } finally {
      Diagnostics.warnWhenBlockedLongerThan(previous);
    }
  }
}
