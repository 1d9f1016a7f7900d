package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class EntryIndexTest {
  private final EntryIndex index = new EntryIndex();

  private static Entry entry(JobId id) {
    return new Entry(id, "a", new byte[0], null, Instant.EPOCH, null);
  }

  @Test
  void anAddedEntryIsFoundByAnEqualIdAndGoneOnceRemoved() {
    Entry e = entry(JobId.next());

    index.put(e);

    assertSame(e, index.get(JobId.parse(e.id.toString())));
    assertTrue(index.remove(e));
    assertNull(index.get(e.id));
    assertFalse(index.remove(e));
    assertEquals(0, index.size());
  }

  @Test
  void anEntryWithAnIdAlreadyThereReplacesTheOldOneWhichCanNoLongerBeRemoved() {
    JobId id = JobId.next();
    Entry old = entry(id);
    Entry fresh = entry(id);
    index.put(old);

    index.put(fresh);

    assertSame(fresh, index.get(id));
    assertEquals(1, index.size());
    assertFalse(index.remove(old), "removal is by identity");
    assertSame(fresh, index.get(id));
    index.checkInvariants();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 16, 1024, 100_000})
  void randomAddsAndRemovesAgreeWithAHashMap(int liveAtMost) {
    SplittableRandom random = new SplittableRandom(liveAtMost);
    Map<JobId, Entry> model = new HashMap<>();
    List<Entry> live = new ArrayList<>();
    Map<Entry, Boolean> removed = new IdentityHashMap<>();
    int ops = Math.max(200_000, 4 * liveAtMost);
    for (int op = 0; op < ops; op++) {
      int dice = random.nextInt(10);
      if (live.size() < liveAtMost && (dice < 5 || live.isEmpty())) {
        Entry e = entry(JobId.next());
        index.put(e);
        model.put(e.id, e);
        live.add(e);
      } else if (dice < 9) {
        Entry e = live.remove(random.nextInt(live.size()));
        assertTrue(index.remove(e));
        model.remove(e.id);
        removed.put(e, true);
      } else if (!removed.isEmpty() && random.nextBoolean()) {
        Entry gone = removed.keySet().iterator().next();
        assertNull(index.get(gone.id));
        assertFalse(index.remove(gone));
      } else if (!live.isEmpty()) {
        Entry e = live.get(random.nextInt(live.size()));
        assertSame(e, index.get(e.id));
      }
      if (op % 50_000 == 0) {
        index.checkInvariants();
      }
    }

    index.checkInvariants();
    assertEquals(model.size(), index.size());
    for (Entry e : model.values()) {
      assertSame(e, index.get(e.id));
    }
    List<Entry> all = new ArrayList<>();
    index.forEach(all::add);
    assertEquals(model.size(), all.size());
  }
}
