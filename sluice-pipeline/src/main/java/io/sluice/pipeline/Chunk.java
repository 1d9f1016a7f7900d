package io.sluice.pipeline;

import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/*
 * The unit that travels through a pipeline's channels: up to `chunkSize` items in an array. Passing
 * chunks instead of single items divides the cost of a channel handoff (locks, a possible park and
 * unpark) by the chunk's length; stages that keep or drop items (map, filter, peek) rewrite the
 * chunk in place, so the common path allocates no array per stage.
 *
 * Ownership: a chunk belongs to exactly one thread at a time — the one that received it — and the
 * channel handoff orders every write before the next owner's reads. A chunk is never touched after
 * it was sent, except by the fan-out, which hands the same chunk to several read-only sinks.
 */
final class Chunk {
  Object[] items;
  int size;

  Chunk(int capacity) {
    items = new Object[capacity];
  }

  boolean isFull() {
    return size == items.length;
  }

  void add(Object item) {
    items[size++] = item;
  }

  /** An unmodifiable view of the first {@code size} items; valid as long as nobody reuses this. */
  List<Object> view() {
    return Collections.unmodifiableList(Arrays.asList(items).subList(0, size));
  }

  Chunk copy() {
    Chunk c = new Chunk(0);
    c.items = Arrays.copyOf(items, size);
    c.size = size;
    return c;
  }
}
