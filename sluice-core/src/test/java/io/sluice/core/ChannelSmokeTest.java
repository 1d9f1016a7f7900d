package io.sluice.core;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class ChannelSmokeTest {
  @Test
  @Timeout(60)
  void handsOverAMillionValuesThroughEachKind() throws Exception {
    for (int cap : new int[] {0, 1, 16, Channel.UNLIMITED}) {
      Channel<Integer> ch = cap == Channel.UNLIMITED ? Channel.unlimited() : Channel.buffered(cap);
      int n = 100_000;
      Thread p =
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (int i = 0; i < n; i++) {
                        ch.send(i);
                      }
                    } catch (InterruptedException e) {
                      throw new RuntimeException(e);
                    } finally {
                      ch.close();
                    }
                  });
      long sum = 0;
      int expected = 0;
      for (int v : ch) {
        assertEquals(expected++, v);
        sum += v;
      }
      p.join();
      assertEquals((long) n * (n - 1) / 2, sum);
      ((ChannelImpl<Integer>) ch).checkInvariants();
    }
  }

  @Test
  @Timeout(60)
  void selectsOverTwoChannels() throws Exception {
    Channel<Integer> a = Channel.unbuffered();
    Channel<Integer> b = Channel.unbuffered();
    int n = 50_000;
    for (Channel<Integer> c : List.of(a, b)) {
      Thread.ofVirtual()
          .start(
              () -> {
                try {
                  for (int i = 0; i < n; i++) {
                    c.send(i);
                  }
                } catch (InterruptedException e) {
                  throw new RuntimeException(e);
                } finally {
                  c.close();
                }
              });
    }
    List<Integer> got = new ArrayList<>();
    boolean aOpen = true;
    boolean bOpen = true;
    while (aOpen || bOpen) {
      int r =
          Select.select(
              aOpen ? a.onReceiveOrClosed(x -> x.ok() ? 1 : -1) : Select.never(),
              bOpen ? b.onReceiveOrClosed(x -> x.ok() ? 2 : -2) : Select.never());
      if (r == -1) aOpen = false;
      else if (r == -2) bOpen = false;
      else got.add(r);
    }
    assertEquals(2 * n, got.size());
  }
}
