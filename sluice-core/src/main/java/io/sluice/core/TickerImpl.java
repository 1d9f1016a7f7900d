package io.sluice.core;

import java.time.Duration;
import java.time.Instant;

/** A ticker's public face; the state machine is {@link ChannelTimer}. */
final class TickerImpl implements Ticker {
  private final ChannelTimer core;

  TickerImpl(ChannelTimer core) {
    this.core = core;
  }

  @Override
  public ReceiveChannel<Instant> channel() {
    return core.channel;
  }

  @Override
  public void stop() {
    core.stop();
  }

  @Override
  public void reset(Duration period) {
    core.resetPeriod(Clock.periodNanos(period));
  }

  @Override
  public String toString() {
    return core.toString();
  }
}
