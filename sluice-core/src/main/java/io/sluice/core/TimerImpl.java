package io.sluice.core;

import java.time.Duration;
import java.time.Instant;

/** A channel timer's public face; the state machine is {@link ChannelTimer}. */
final class TimerImpl implements Timer {
  private final ChannelTimer core;

  TimerImpl(ChannelTimer core) {
    this.core = core;
  }

  ChannelTimer core() {
    return core;
  }

  @Override
  public ReceiveChannel<Instant> channel() {
    return core.channel;
  }

  @Override
  public boolean stop() {
    return core.stop();
  }

  @Override
  public boolean reset(Duration delay) {
    return core.reset(Clock.delayNanos(delay));
  }

  @Override
  public String toString() {
    return core.toString();
  }
}
