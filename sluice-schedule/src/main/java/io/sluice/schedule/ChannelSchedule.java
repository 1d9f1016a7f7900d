package io.sluice.schedule;

import io.sluice.core.Channel;
import io.sluice.core.ChannelClosedException;
import io.sluice.core.Context;
import java.lang.ref.WeakReference;
import java.time.Instant;
import java.util.List;

/*
 * Scheduler.fireTimes: a trigger schedule whose runs are values offered on a channel with a buffer
 * of one (trySend; a full buffer drops the value, as Go's ticker drops ticks for a slow reader).
 *
 * The schedule holds the channel weakly: the consumer's reference is what keeps it alive. When the
 * consumer drops the channel without ending the context, the next fire finds the reference cleared
 * and stops the schedule, so an abandoned stream costs one engine entry until its next fire time
 * after a collection, and no thread at all. The context ends the stream two ways: an afterFunc
 * cancels the schedule when the context is done (that hook runs on a virtual thread of its own), and
 * each fire checks the context first, so a done context never gets another value.
 */
final class ChannelSchedule extends TriggerSchedule {
  private final WeakReference<Channel<Instant>> channel;
  private final Context ctx;
  private Context.AfterFunc onDone; // guarded by this

  ChannelSchedule(
      SchedulerImpl scheduler,
      Context ctx,
      Trigger trigger,
      ScheduleOptions options,
      Channel<Instant> channel) {
    super(scheduler, trigger, options);
    this.ctx = ctx;
    this.channel = new WeakReference<>(channel);
  }

  /** Stops the schedule when {@code ctx} is done; call once, after start(). */
  void bindContext() {
    Context.AfterFunc hook = ctx.afterFunc(this::cancel);
    boolean stopped;
    synchronized (this) {
      stopped = stoppedLocked();
      if (!stopped) {
        onDone = hook;
      }
    }
    if (stopped) {
      hook.stop();
    }
  }

  @Override
  boolean deliverLocked(List<Instant> runs) {
    Channel<Instant> ch = channel.get();
    if (ch == null || ctx.isDone()) {
      return false;
    }
    try {
      for (Instant fireTime : runs) {
        if (ch.trySend(fireTime)) {
          recordRunLocked(fireTime);
        }
      }
    } catch (ChannelClosedException e) {
      return false;
    }
    return true;
  }

  @Override
  void onStopped() {
    Channel<Instant> ch = channel.get();
    if (ch != null) {
      ch.close();
    }
    Context.AfterFunc hook;
    synchronized (this) {
      hook = onDone;
      onDone = null;
    }
    if (hook != null) {
      hook.stop();
    }
  }
}
