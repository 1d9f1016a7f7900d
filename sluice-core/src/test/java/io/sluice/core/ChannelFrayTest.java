package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.ExtendWith;
import org.pastalab.fray.junit.junit5.FrayTestExtension;
import org.pastalab.fray.junit.junit5.annotations.FrayTest;

/**
 * Channel and select under Fray, which runs each test many times on an instrumented JDK and picks
 * the thread interleaving itself at every synchronization point (locks, atomics, park/unpark,
 * yield), so races that stress tests hit rarely are explored deterministically; a failure prints a
 * recording that replays it.
 *
 * <p>Platform threads only: Fray schedules platform threads. Each test ends by checking what was
 * delivered against what senders saw succeed (nothing lost, nothing duplicated, per-sender order
 * kept) and {@link ChannelImpl#checkInvariants()}.
 *
 * <p>Not run by the default build: it cannot be loaded outside Fray's JDK. {@code ./mvnw verify
 * -Pstress} runs it in a surefire execution of its own (see sluice-core/pom.xml).
 */
@ExtendWith(FrayTestExtension.class)
class ChannelFrayTest {
  private static final int ITERATIONS = 1_000;

  @FrayTest(iterations = ITERATIONS)
  void bufferedTwoSendersOneReceiverLoseNothingAndKeepOrder() throws Exception {
    twoSendersOneReceiver(1);
  }

  @FrayTest(iterations = ITERATIONS)
  void unbufferedTwoSendersOneReceiverLoseNothingAndKeepOrder() throws Exception {
    twoSendersOneReceiver(0);
  }

  @FrayTest(iterations = ITERATIONS)
  void bufferedCloseRacingSendAndReceiveDeliversExactlyTheSentValues() throws Exception {
    closeRacingSendAndReceive(1);
  }

  @FrayTest(iterations = ITERATIONS)
  void unbufferedCloseRacingSendAndReceiveDeliversExactlyTheSentValues() throws Exception {
    closeRacingSendAndReceive(0);
  }

  /**
   * A select that sends on one of two channels and a plain sender race a receiving select: the
   * receiver gets the value of the clause the sender's select chose, and the plain send, once each.
   */
  @FrayTest(iterations = ITERATIONS)
  void selectOverTwoChannelsDeliversEachValueOnce() throws Exception {
    initializeSelectClasses();
    ChannelImpl<Integer> a = impl(Channel.unbuffered());
    ChannelImpl<Integer> b = impl(Channel.buffered(1));
    String[] chosen = new String[1];
    Thread selector =
        start(() -> chosen[0] = Select.select(a.onSend(10, () -> "a"), b.onSend(20, () -> "b")));
    Thread sender = start(() -> b.send(30));
    List<Integer> got = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      got.add(Select.select(a.onReceive(v -> v), b.onReceive(v -> v)));
    }
    selector.join();
    sender.join();
    int fromSelect = chosen[0].equals("a") ? 10 : 20;
    assertEquals(List.of(fromSelect, 30), got.stream().sorted().toList());
    assertInstanceOf(TryReceived.WouldBlock.class, a.tryReceive());
    assertInstanceOf(TryReceived.WouldBlock.class, b.tryReceive());
    a.checkInvariants();
    b.checkInvariants();
  }

  /** A select over a channel being closed and one being sent on ends, on either, exactly once. */
  @FrayTest(iterations = ITERATIONS)
  void selectSeesCloseOrValue() throws Exception {
    initializeSelectClasses();
    ChannelImpl<Integer> a = impl(Channel.unbuffered());
    ChannelImpl<Integer> b = impl(Channel.unbuffered());
    boolean[] sent = new boolean[1];
    Thread closer = start(a::close);
    Thread sender =
        start(
            () -> {
              try {
                b.send(1);
                sent[0] = true;
              } catch (ChannelClosedException e) {
                // b closed by the main thread below: the value was not delivered
              }
            });
    String first =
        Select.select(
            a.onReceiveOrClosed(r -> r.ok() ? "value on a" : "a closed"),
            b.onReceive(v -> "b " + v));
    closer.join();
    b.close();
    sender.join();
    assertTrue(first.equals("a closed") || first.equals("b 1"), first);
    assertEquals(first.equals("b 1"), sent[0], "b's send succeeded iff the select took it");
    a.checkInvariants();
    b.checkInvariants();
  }

  private static void twoSendersOneReceiver(int capacity) throws Exception {
    ChannelImpl<Integer> ch = impl(capacity == 0 ? Channel.unbuffered() : Channel.buffered(1));
    Thread s1 = start(() -> sendAll(ch, 1, 2));
    Thread s2 = start(() -> sendAll(ch, 11, 12));
    List<Integer> got = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      got.add(ch.receive());
    }
    s1.join();
    s2.join();
    assertEquals(List.of(1, 2, 11, 12), got.stream().sorted().toList());
    assertTrue(got.indexOf(1) < got.indexOf(2) && got.indexOf(11) < got.indexOf(12), "" + got);
    assertTrue(ch.close());
    assertInstanceOf(Received.Closed.class, ch.tryReceive());
    ch.checkInvariants();
  }

  private static void closeRacingSendAndReceive(int capacity) throws Exception {
    ChannelImpl<Integer> ch = impl(capacity == 0 ? Channel.unbuffered() : Channel.buffered(1));
    List<Integer> sent = new ArrayList<>();
    List<Integer> received = new ArrayList<>();
    Thread sender =
        start(
            () -> {
              for (int v = 1; v <= 3; v++) {
                try {
                  ch.send(v);
                  sent.add(v);
                } catch (ChannelClosedException e) {
                  return;
                }
              }
            });
    Thread receiver =
        start(
            () -> {
              for (Received<Integer> r = ch.receiveOrClosed();
                  r instanceof Received.Value<Integer> v;
                  r = ch.receiveOrClosed()) {
                received.add(v.value());
              }
            });
    ch.close();
    sender.join();
    receiver.join();
    assertEquals(sent, received, "received exactly the sends that returned, in order");
    ch.checkInvariants();
  }

  /**
   * Select shuffles its clauses with ThreadLocalRandom. Fray does not model class initialization: a
   * thread it pauses inside ThreadLocalRandom's static initializer (which does atomic operations)
   * blocks every other thread that touches the class on the JVM's init lock, which Fray cannot see,
   * and the run hangs. Initializing it first, while only the test thread runs, avoids that.
   */
  private static void initializeSelectClasses() {
    ThreadLocalRandom.current().nextInt();
  }

  private static void sendAll(Channel<Integer> ch, int... values) throws InterruptedException {
    for (int v : values) {
      ch.send(v);
    }
  }

  private static ChannelImpl<Integer> impl(Channel<Integer> ch) {
    return (ChannelImpl<Integer>) ch;
  }

  private interface Body {
    void run() throws Exception;
  }

  private static Thread start(Body body) {
    Thread t =
        new Thread(
            () -> {
              try {
                body.run();
              } catch (Exception e) {
                throw new AssertionError(e);
              }
            });
    t.start();
    return t;
  }
}
