package io.sluice.jobs.journal;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A visitor that keeps every replayed record (copied) and the progress calls. */
final class Recorded implements ReplayVisitor {
  /** One replayed record. */
  record Rec(long segment, int type, byte[] body) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Rec r
          && r.segment == segment
          && r.type == type
          && Arrays.equals(r.body, body);
    }

    @Override
    public int hashCode() {
      return Long.hashCode(segment) * 31 + type * 17 + Arrays.hashCode(body);
    }

    @Override
    public String toString() {
      return "Rec[segment=" + segment + ", type=" + type + ", " + body.length + " bytes]";
    }
  }

  final List<Rec> records = new ArrayList<>();
  final List<long[]> progress = new ArrayList<>();

  @Override
  public void record(long segment, int type, ByteBuffer body) {
    byte[] b = new byte[body.remaining()];
    body.get(b);
    records.add(new Rec(segment, type, b));
  }

  @Override
  public void progress(long bytesDone, long totalBytes) {
    progress.add(new long[] {bytesDone, totalBytes});
  }

  List<byte[]> bodies() {
    return records.stream().map(Rec::body).toList();
  }
}
