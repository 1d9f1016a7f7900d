package io.sluice.core;

import java.time.Instant;

/** A clock for tests; being written. */
public final class ManualClock extends Clock {
  private final Instant start;

  ManualClock(Instant start) {
    this.start = start;
  }

  @Override
  public Instant now() {
    return start;
  }

  @Override
  public long nanoTime() {
    return 0;
  }

  @Override
  TimerHandle schedule(long deadlineNanos, Runnable action) {
    throw new UnsupportedOperationException("timer engine: being written");
  }
}
