package io.sluice.jcstress;

import io.sluice.core.Channel;
import io.sluice.core.Received;
import io.sluice.core.TryReceived;
import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Arbiter;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.III_Result;

/**
 * A plain close racing a close with an error: exactly one closes the channel, and receivers see the
 * error if and only if the close that carried it won. A value buffered before both is still
 * received first.
 *
 * <p>r1: whether close() closed it; r2: whether close(error) did; r3: what a receive, after one
 * more, finds at the end (1 for the end with the error, 0 for a plain end, -1 for anything else).
 */
@JCStressTest
@Outcome(id = "1, 0, 0", expect = Expect.ACCEPTABLE, desc = "the plain close won")
@Outcome(id = "0, 1, 1", expect = Expect.ACCEPTABLE, desc = "the close with the error won")
@Outcome(expect = Expect.FORBIDDEN, desc = "both or neither closed it, or the wrong error")
@State
public class CloseVsCloseWithError {
  private static final RuntimeException ERROR = new RuntimeException("closed with an error");
  private final Channel<Integer> ch = Channel.buffered(1);

  public CloseVsCloseWithError() {
    if (!ch.trySend(7)) {
      throw new AssertionError("an empty buffered channel refused a value");
    }
  }

  @Actor
  public void close(III_Result r) {
    r.r1 = ch.close() ? 1 : 0;
  }

  @Actor
  public void closeWithError(III_Result r) {
    r.r2 = ch.close(ERROR) ? 1 : 0;
  }

  @Arbiter
  public void receiveAfterwards(III_Result r) {
    TryReceived<Integer> first = ch.tryReceive();
    TryReceived<Integer> end = ch.tryReceive();
    if (!(first instanceof Received.Value<Integer>(Integer v)) || v != 7) {
      r.r3 = -1;
    } else if (end instanceof Received.Closed<Integer>(var error)) {
      r.r3 = error.isEmpty() ? 0 : error.get() == ERROR ? 1 : -1;
    } else {
      r.r3 = -1;
    }
  }
}
