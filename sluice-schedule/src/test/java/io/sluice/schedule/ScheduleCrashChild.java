package io.sluice.schedule;

import io.sluice.core.Clock;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;

/**
 * The process {@link DurableSchedulerCrashTest} kills: opens a durable store, puts one hourly
 * recurring job starting at the given instant with the given misfire policy, says "ready", and
 * waits to be killed.
 */
final class ScheduleCrashChild {
  private ScheduleCrashChild() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    MisfirePolicy misfire = MisfirePolicy.parse(args[1]);
    Instant start = Instant.parse(args[2]);
    JobStore store = JobStore.open(JobStoreOptions.defaults().withDirectory(dir));
    DurableScheduler scheduler = DurableScheduler.start(store, Clock.system());
    scheduler.put(
        RecurringJob.of("hourly", Trigger.every(Duration.ofHours(1), start), "report", "{}")
            .withMisfire(misfire)
            .withOverlap(OverlapPolicy.ALLOW_CONCURRENT));
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
