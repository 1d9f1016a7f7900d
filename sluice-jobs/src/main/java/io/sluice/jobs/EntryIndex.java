package io.sluice.jobs;

import java.util.function.Consumer;

/*
 * The store's entries by id.
 *
 * Design. An open-addressing hash table with linear probing whose slots hold the entries
 * themselves (no node per mapping, unlike HashMap): an array of references, at most half full, a
 * power of two long, and beside it an array of the entries' hashes (Entry.hash, from the id).
 * Probing reads only the two arrays, which are sequential in memory, and looks at an entry's id
 * only when its hash matches; a removal by identity never reads an id. Removal shifts the rest of
 * the probe run back into the hole (Knuth, TAOCP vol. 3, 6.4, Algorithm R), so there are no
 * tombstones and a lookup stops at the first empty slot. With the hashes beside the slots that
 * shift reads no entry (keeping them only in the entries cost a cache miss per entry of the run).
 * Not thread-safe: the store's lock guards it.
 *
 * Invariants (checkInvariants): every entry is reachable from its home slot without crossing an
 * empty slot; no two entries have the same id; size is the number of entries; at most half the
 * slots are full.
 */
final class EntryIndex {
  private static final int MIN_CAPACITY = 16;

  private Entry[] slots = new Entry[MIN_CAPACITY];
  private int[] hashes = new int[MIN_CAPACITY]; // hashes[i] == slots[i].hash where slots[i] is set
  private int size;

  /** The hash an entry with {@code id} keeps: the ids' random bits, mixed. */
  static int hash(JobId id) {
    return (int) (((id.msb() ^ id.lsb()) * 0x9E37_79B9_7F4A_7C15L) >>> 32);
  }

  int size() {
    return size;
  }

  /** The entry with {@code id}, or null. */
  Entry get(JobId id) {
    return slots[probe(id, hash(id))];
  }

  /** Adds {@code entry}, in place of an entry with the same id if there is one. */
  void put(Entry entry) {
    if (2 * (size + 1) > slots.length) {
      resize(2 * slots.length);
    }
    int i = probe(entry.id, entry.hash);
    if (slots[i] == null) {
      hashes[i] = entry.hash;
      size++;
    }
    slots[i] = entry;
  }

  /**
   * The slot of the entry with {@code id} (whose hash is {@code h}), or the empty slot that ends
   * its probe run, where it would go. The table is never full, so there is one.
   */
  private int probe(JobId id, int h) {
    Entry[] t = slots;
    int[] hs = hashes;
    int mask = t.length - 1;
    for (int i = h & mask; ; i = (i + 1) & mask) {
      Entry e = t[i];
      if (e == null || (hs[i] == h && e.id.equals(id))) {
        return i;
      }
    }
  }

  /** Removes {@code entry} itself (not another entry with its id); false if it is not here. */
  boolean remove(Entry entry) {
    Entry[] t = slots;
    int mask = t.length - 1;
    for (int i = entry.hash & mask; ; i = (i + 1) & mask) {
      Entry e = t[i];
      if (e == null) {
        return false;
      }
      if (e == entry) {
        delete(i);
        return true;
      }
    }
  }

  /** Empties slot {@code i}, moving later entries of its probe run back so none is cut off. */
  private void delete(int i) {
    Entry[] t = slots;
    int[] hs = hashes;
    int mask = t.length - 1;
    int hole = i;
    for (int j = (i + 1) & mask; ; j = (j + 1) & mask) {
      Entry e = t[j];
      if (e == null) {
        break;
      }
      // e may fill the hole if the hole lies on its probe path: from its home up to j.
      if (((j - hs[j]) & mask) >= ((j - hole) & mask)) {
        t[hole] = e;
        hs[hole] = hs[j];
        hole = j;
      }
    }
    t[hole] = null;
    size--;
  }

  private void resize(int capacity) {
    Entry[] old = slots;
    int[] oldHashes = hashes;
    Entry[] t = new Entry[capacity];
    int[] hs = new int[capacity];
    int mask = capacity - 1;
    for (int k = 0; k < old.length; k++) {
      if (old[k] != null) {
        int i = oldHashes[k] & mask;
        while (t[i] != null) {
          i = (i + 1) & mask;
        }
        t[i] = old[k];
        hs[i] = oldHashes[k];
      }
    }
    slots = t;
    hashes = hs;
  }

  /** The number of slots: it changes only when the table grows. */
  int capacity() {
    return slots.length;
  }

  /**
   * Calls {@code action} with the entries in the {@code count} slots from slot {@code from}, and
   * returns the slot after them, or -1 if they were the last. For a scan in parts with the lock
   * released between them: if the table changed meanwhile, a removal may have moved an entry not
   * yet seen into a slot already passed (it is missed), and growth moves every entry (the caller
   * starts again when {@link #capacity} changed).
   */
  int forEach(int from, int count, Consumer<Entry> action) {
    Entry[] t = slots;
    int end = (int) Math.min(t.length, (long) from + count);
    for (int i = from; i < end; i++) {
      if (t[i] != null) {
        action.accept(t[i]);
      }
    }
    return end == t.length ? -1 : end;
  }

  /** Calls {@code action} with every entry, in no particular order. */
  void forEach(Consumer<Entry> action) {
    for (Entry e : slots) {
      if (e != null) {
        action.accept(e);
      }
    }
  }

  void checkInvariants() {
    Entry[] t = slots;
    int mask = t.length - 1;
    int count = 0;
    java.util.Set<JobId> ids = new java.util.HashSet<>();
    for (int i = 0; i < t.length; i++) {
      Entry e = t[i];
      if (e == null) {
        continue;
      }
      count++;
      check(e.hash == hash(e.id) && hashes[i] == e.hash, "a stale hash for " + e.id);
      check(ids.add(e.id), "two entries for " + e.id);
      for (int j = e.hash & mask; j != i; j = (j + 1) & mask) {
        check(t[j] != null, "entry " + e.id + " is cut off from its home by an empty slot");
      }
    }
    check(count == size, "size " + size + " but " + count + " entries");
    check(2 * size <= t.length, size + " entries in " + t.length + " slots");
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new AssertionError(message);
    }
  }
}
