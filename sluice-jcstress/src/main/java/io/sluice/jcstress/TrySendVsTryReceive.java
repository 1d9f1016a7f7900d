package io.sluice.jcstress;

import io.sluice.core.Channel;
import io.sluice.core.Received;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A trySend and a tryReceive racing on an empty channel of capacity 1: the receive takes the value
 * or finds nothing, and in the second case the value waits in the buffer. Neither loses nor
 * duplicates it.
 *
 * <p>r1: whether the send went through; r2: what the receive got (the value, or 0 for nothing); r3:
 * how many values the buffer holds afterwards.
 */
@JCStressTest
@Outcome(id = "1, 1, 0", expect = Expect.ACCEPTABLE, desc = "send first: the receive takes it")
@Outcome(
    id = "1, 0, 1",
    expect = Expect.ACCEPTABLE,
    desc = "receive first: it finds nothing, the value stays buffered")
@Outcome(expect = Expect.FORBIDDEN, desc = "a value refused, lost or received twice")
@State
public class TrySendVsTryReceive {
  private final Channel<Integer> ch = Channel.buffered(1);

  @Actor
  public void sender(III_Result r) {
    r.r1 = ch.trySend(1) ? 1 : 0;
  }

  @Actor
  public void receiver(III_Result r) {
    r.r2 = ch.tryReceive() instanceof Received.Value<Integer>(Integer v) ? v : 0;
  }

  @Arbiter
  public void bufferAfterwards(III_Result r) {
    r.r3 = ch.len();
  }
}
