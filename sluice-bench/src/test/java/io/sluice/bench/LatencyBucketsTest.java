package io.sluice.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;

/** The benchmark's latency buckets put every value where its midpoint is close to it. */
class LatencyBucketsTest {
  @Test
  void everyValueFallsInTheBucketThatCoversItAndItsMidpointIsWithinOnePointSixPercent() {
    SplittableRandom random = new SplittableRandom(7);
    for (int i = 0; i < 1_000_000; i++) {
      long v = random.nextLong(Long.MAX_VALUE) >>> random.nextInt(63);
      int b = LatencyBuckets.index(v);
      assertTrue(LatencyBuckets.lowest(b) <= v, v + " below bucket " + b);
      assertTrue(
          b + 1 == LatencyBuckets.BUCKETS || v < LatencyBuckets.lowest(b + 1),
          v + " above bucket " + b);
      long mid = LatencyBuckets.midpoint(b);
      assertTrue(Math.abs(mid - v) <= v / 62 + 1, v + " vs midpoint " + mid);
    }
    assertEquals(0, LatencyBuckets.index(0));
    assertEquals(63, LatencyBuckets.index(63));
    assertEquals(64, LatencyBuckets.index(64));
    assertEquals(LatencyBuckets.BUCKETS - 1, LatencyBuckets.index(Long.MAX_VALUE));
  }

  @Test
  void percentilesComeOutAsTheRecordedValuesGiveThemAndTheMaximumExactly() {
    LatencyBuckets l = new LatencyBuckets();
    for (long v = 1; v <= 100_000; v++) {
      l.record(v * 1_000); // 1 µs .. 100 ms, uniform
    }
    Histogram h = new Histogram(60_000_000_000L, 3);
    l.addTo(h);

    assertEquals(100_000, l.total());
    assertEquals(50_000_000, h.getValueAtPercentile(50), 50_000_000 * 0.02);
    assertEquals(99_000_000, h.getValueAtPercentile(99), 99_000_000 * 0.02);
    assertEquals(100_000_000, h.getMaxValue(), 100_000_000 * 0.001);
  }
}
