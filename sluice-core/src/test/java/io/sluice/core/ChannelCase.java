package io.sluice.core;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * One configuration of the channel tests: a capacity (Go's {@code make(chan T, n)}) and the kind of
 * thread the counterparts run on. Sources for {@link TestWithCapacities} and friends.
 */
record ChannelCase(int capacity, ThreadKind threads) {
  static final int[] CAPACITIES = {0, 1, 2, 16, 1024, Channel.UNLIMITED};

  static Stream<ChannelCase> all() {
    return Stream.of(ThreadKind.values())
        .flatMap(k -> java.util.Arrays.stream(CAPACITIES).mapToObj(c -> new ChannelCase(c, k)));
  }

  /** The cases where a sender can be made to wait (every capacity but unlimited). */
  static Stream<ChannelCase> bounded() {
    return all().filter(ChannelCase::isBounded);
  }

  /** The cases with a buffer that can hold values without a receiver. */
  static Stream<ChannelCase> buffered() {
    return all().filter(c -> c.capacity > 0);
  }

  static Stream<ChannelCase> unbuffered() {
    return all().filter(c -> c.capacity == 0);
  }

  <T> Channel<T> newChannel() {
    return switch (capacity) {
      case 0 -> Channel.unbuffered();
      case Channel.UNLIMITED -> Channel.unlimited();
      default -> Channel.buffered(capacity);
    };
  }

  boolean isBounded() {
    return capacity != Channel.UNLIMITED;
  }

  <R> Spawned<R> spawn(Callable<R> body) {
    return Spawned.start(threads, body);
  }

  /** Fills a bounded channel's buffer with trySend; returns the values in order. */
  List<String> fill(Channel<String> ch) {
    if (!isBounded()) {
      throw new IllegalStateException("an unlimited channel cannot be filled");
    }
    List<String> values = new ArrayList<>();
    for (int i = 0; i < capacity; i++) {
      String v = "filler-" + i;
      if (!ch.trySend(v)) {
        throw new AssertionError("buffer full after " + i + " of " + capacity);
      }
      values.add(v);
    }
    if (ch.trySend("one-too-many")) {
      throw new AssertionError("a full " + this + " accepted one more value");
    }
    return values;
  }

  @Override
  public String toString() {
    String kind =
        switch (capacity) {
          case 0 -> "unbuffered";
          case Channel.UNLIMITED -> "unlimited";
          default -> "buffered(" + capacity + ")";
        };
    return kind + " on " + threads;
  }
}
