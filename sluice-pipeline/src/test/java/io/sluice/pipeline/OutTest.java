package io.sluice.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.sluice.core.Context;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A stage's writer gathers what is left of the chunks a stage rewrote in place (a filter's) into
 * full chunks, keeps the order, and sends what is pending when flushed.
 */
@Timeout(30)
class OutTest {
  private static final Context CTX = Context.background();
  private static final int CAPACITY = 8;

  private final Edge edge = new Edge(64);
  private final Meter meter = new Meter("test", List.of(edge));
  private final Out out = new Out(meter, edge, CTX, CAPACITY);
  private int next;

  /** A chunk of the given capacity holding the next {@code n} integers. */
  private Chunk chunk(int capacity, int n) {
    Chunk c = new Chunk(capacity);
    for (int i = 0; i < n; i++) {
      c.add(next++);
    }
    return c;
  }

  private List<List<Object>> sent() {
    List<List<Object>> chunks = new ArrayList<>();
    Chunk c;
    while ((c = edge.tryReceive()) != Edge.EMPTY) {
      chunks.add(List.copyOf(Arrays.asList(c.items).subList(0, c.size)));
    }
    return chunks;
  }

  @Test
  void aChunkAtLeastHalfFullGoesOutAsItIsWhenNothingIsPending() throws Exception {
    Chunk half = chunk(CAPACITY, CAPACITY / 2);

    out.gather(half);

    assertSame(half, edge.tryReceive());
    assertEquals(CAPACITY / 2, meter.out.sum());
  }

  @Test
  void smallChunksAreGatheredIntoFullOnesInOrder() throws Exception {
    for (int i = 0; i < 6; i++) {
      out.gather(chunk(CAPACITY, 3));
    }

    assertEquals(
        List.of(List.of(0, 1, 2, 3, 4, 5, 6, 7), List.of(8, 9, 10, 11, 12, 13, 14, 15)), sent());

    out.flush();

    assertEquals(List.of(List.<Object>of(16, 17)), sent());
  }

  @Test
  void flushSendsWhatIsPendingAndNothingWhenNothingIs() throws Exception {
    out.gather(chunk(CAPACITY, 2));
    out.flush();
    out.flush();

    assertEquals(List.of(List.<Object>of(0, 1)), sent());
    assertEquals(2, meter.out.sum());
  }

  @Test
  void aChunkThatOverflowsThePendingOneFillsItAndGoesOnWithTheRest() throws Exception {
    out.gather(chunk(CAPACITY, 3));
    out.gather(chunk(CAPACITY, 7)); // 5 fill the pending chunk; 2 are left, less than half
    out.gather(chunk(CAPACITY, 7)); // 6 fill it again; 1 is left
    out.flush();

    assertEquals(
        List.of(
            List.of(0, 1, 2, 3, 4, 5, 6, 7),
            List.of(8, 9, 10, 11, 12, 13, 14, 15),
            List.<Object>of(16)),
        sent());
  }

  @Test
  void aSmallChunkWithASmallArrayIsGrownToHoldAWholeChunk() throws Exception {
    out.gather(chunk(2, 2)); // e.g. a range's last chunk, sized to what it holds
    out.gather(chunk(CAPACITY, 3));
    out.flush();

    assertEquals(List.of(List.<Object>of(0, 1, 2, 3, 4)), sent());
  }

  @Test
  void emptyChunksSendNothing() throws Exception {
    out.gather(chunk(CAPACITY, 0));
    out.gather(chunk(CAPACITY, 1));
    out.gather(chunk(CAPACITY, 0));
    out.flush();

    assertEquals(List.of(List.<Object>of(0)), sent());
  }
}
