package io.sluice.schedule;

import java.time.Instant;
import java.util.List;

/*
 * A trigger schedule that runs a task. The runs of one fire (usually one; several when a misfire
 * policy catches up) form a batch that executes one after another on one thread. The overlap
 * policy looks at `running`, the batches still executing:
 *   SKIP             running > 0 -> the batch is dropped;
 *   QUEUE_ONE        running > 0 -> its last fire time waits in `queued` (one slot; later ones are
 *                    dropped while it is taken), and the thread that ends the running batch runs it;
 *                    if the trigger runs out meanwhile, the schedule stays live (`exhausted`) and
 *                    finishes when that thread takes the queued run;
 *   ALLOW_CONCURRENT another thread.
 * Runs are counted when handed over (recordRunLocked), so after a ManualClock advance the counts
 * are exact whatever the bodies are doing; a cancel that stops a catch-up batch takes back the runs
 * it prevented (withdrawRunsLocked).
 */
final class TaskSchedule extends TriggerSchedule {
  private final Runnable task;

  // Guarded by this.
  private int running;
  private Instant queued;
  private boolean exhausted; // the trigger ran out while `queued` waited; finish once it starts

  TaskSchedule(SchedulerImpl scheduler, Trigger trigger, Runnable task, ScheduleOptions options) {
    super(scheduler, trigger, options);
    this.task = task;
  }

  @Override
  boolean finishesLaterLocked() {
    exhausted = queued != null;
    return exhausted;
  }

  @Override
  boolean deliverLocked(List<Instant> runs) {
    if (runs.isEmpty()) {
      return true;
    }
    if (running > 0) {
      switch (options.overlapPolicy()) {
        case SKIP -> {
          return true;
        }
        case QUEUE_ONE -> {
          if (queued == null) {
            queued = runs.getLast();
          }
          return true;
        }
        case ALLOW_CONCURRENT -> {
          // start another batch below
        }
      }
    }
    if (scheduler.startRun(this, () -> runBatches(runs))) {
      running++;
      runs.forEach(this::recordRunLocked);
    }
    return true;
  }

  /**
   * On the run's own thread: the batch, then whatever was queued meanwhile. A cancel stops a
   * catch-up batch before its next run; the runs not made are taken back from the handle's count.
   */
  private void runBatches(List<Instant> first) {
    List<Instant> batch = first;
    while (true) {
      for (int i = 0; i < batch.size(); i++) {
        if (i > 0) {
          synchronized (this) {
            if (cancelled) {
              withdrawRunsLocked(batch.size() - i, batch.get(i - 1));
              break;
            }
          }
        }
        scheduler.runTask(this, task);
      }
      boolean last;
      synchronized (this) {
        // Only a cancel (shutdown cancels too) drops the queued run: a trigger that ran out after
        // queuing it has still made it due, and the schedule is not done until it starts.
        if (queued == null || cancelled) {
          queued = null;
          running--;
          return;
        }
        batch = List.of(queued);
        queued = null;
        recordRunLocked(batch.getFirst());
        last = exhausted;
      }
      if (last) {
        finish();
      }
    }
  }
}
