package io.sluice.jcstress;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Received;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A trySend racing a close on an empty buffered channel: the send either lands before the close,
 * and its value is still there to receive after it, or fails with {@link ChannelClosedException}. A
 * value accepted and then lost, or a send refused for a full buffer, is a bug.
 *
 * <p>r1: the send (1 sent, 0 refused, -1 closed); r2: whether close() closed it; r3: what a receive
 * finds afterwards (the value, or -1 for the end of the stream).
 */
@JCStressTest
@Outcome(
    id = "1, 1, 1",
    expect = Expect.ACCEPTABLE,
    desc = "send first: the value is received after the close")
@Outcome(id = "-1, 1, -1", expect = Expect.ACCEPTABLE, desc = "close first: the send fails")
@Outcome(expect = Expect.FORBIDDEN, desc = "a value lost, refused or made up")
@State
public class CloseVsTrySend {
  private final Channel<Integer> ch = Channel.buffered(1);

  @Actor
  public void sender(III_Result r) {
    try {
      r.r1 = ch.trySend(1) ? 1 : 0;
    } catch (ChannelClosedException e) {
      r.r1 = -1;
    }
  }

  @Actor
  public void closer(III_Result r) {
    r.r2 = ch.close() ? 1 : 0;
  }

  @Arbiter
  public void receiveAfterwards(III_Result r) {
    r.r3 = ch.tryReceive() instanceof Received.Value<Integer>(Integer v) ? v : -1;
  }
}
