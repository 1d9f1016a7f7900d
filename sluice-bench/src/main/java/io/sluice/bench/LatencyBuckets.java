package io.sluice.bench;

import org.HdrHistogram.Histogram;

/**
 * One thread's latencies in log-linear buckets of fixed size: recording costs a few instructions
 * and allocates nothing, so a benchmark whose submitters record millions of latencies adds no
 * garbage and no growing live set to the heap it measures.
 *
 * <p>Why: {@link JournalAppendBench} used to keep every latency in a per-submitter {@code long[]}
 * that doubled as it filled. At 1,024 submitters and ~300,000 acknowledgements a second those
 * arrays held ~25 MB after eight seconds, all of it live, and every young collection of the
 * benchmark's JVM copied the newest of them: the pauses that set the measured p99 were partly the
 * benchmark's own. Recording into an HdrHistogram per submitter avoids that but cost ~10% of the
 * CPU in a profile.
 *
 * <p>Values below 64 ns have a bucket each; above, each power of two is split into 32 buckets, so a
 * bucket's midpoint is within 1.6% of any value in it. 1,888 counters (7.4 KB) cover every
 * non-negative {@code long}. {@link #addTo} replays the buckets' midpoints into an HdrHistogram for
 * the percentiles; the maximum is kept exactly.
 */
final class LatencyBuckets {
  private static final int LINEAR = 64;
  private static final int SUB = 32; // buckets per power of two above LINEAR
  private static final int SUB_BITS = 5;

  /** Buckets in all: the last one holds {@code Long.MAX_VALUE}. */
  static final int BUCKETS = LINEAR + (62 - SUB_BITS) * SUB;

  private final int[] counts = new int[BUCKETS];
  private long max;
  private long total;

  /**
   * Records one value.
   *
   * @param nanos a latency, at least 0
   */
  void record(long nanos) {
    long v = Math.max(0, nanos);
    counts[index(v)]++;
    total++;
    if (v > max) {
      max = v;
    }
  }

  /**
   * How many values were recorded.
   *
   * @return the count
   */
  long total() {
    return total;
  }

  /**
   * Adds every recorded value, as its bucket's midpoint (the maximum exactly), to {@code h}.
   *
   * @param h the histogram to add to
   */
  void addTo(Histogram h) {
    for (int i = 0; i < counts.length; i++) {
      if (counts[i] > 0) {
        h.recordValueWithCount(Math.min(midpoint(i), max), counts[i]);
      }
    }
    if (total > 0) {
      h.recordValue(max); // so the histogram's maximum is exact; one value among millions
    }
  }

  static int index(long v) {
    if (v < LINEAR) {
      return (int) v;
    }
    int shift = 63 - Long.numberOfLeadingZeros(v) - SUB_BITS; // at least 1
    int top = (int) (v >>> shift); // in [SUB, 2 * SUB)
    return LINEAR + (shift - 1) * SUB + (top - SUB);
  }

  static long lowest(int index) {
    if (index < LINEAR) {
      return index;
    }
    int shift = (index - LINEAR) / SUB + 1;
    long top = SUB + (index - LINEAR) % SUB;
    return top << shift;
  }

  static long midpoint(int index) {
    if (index < LINEAR) {
      return index;
    }
    int shift = (index - LINEAR) / SUB + 1;
    return lowest(index) + (1L << (shift - 1));
  }
}
