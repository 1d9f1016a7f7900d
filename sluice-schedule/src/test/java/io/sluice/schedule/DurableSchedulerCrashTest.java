package io.sluice.schedule;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.core.Clock;
import io.sluice.core.ManualClock;
import io.sluice.jobs.JobStore;
import io.sluice.jobs.JobStoreOptions;
import io.sluice.jobs.StoredSchedule;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A recurring job survives a SIGKILL of the process that put it, and the next process applies its
 * misfire policy to the fire times missed while nothing ran: the child puts an hourly schedule
 * whose first fire is an hour away and is killed; the test reopens the journal on a clock seven
 * hours and ten minutes later.
 */
@Timeout(120)
class DurableSchedulerCrashTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "{0}: {1} jobs")
  @CsvSource({"fire-once, 1, 6", "skip, 0, -1", "catch-up 3, 3, 6"})
  void aScheduleSurvivesASigkillAndItsMisfirePolicyDecidesWhatTheDowntimeMissed(
      String misfire, int jobs, int lastFireHour) throws Exception {
    Instant start = Instant.now().truncatedTo(ChronoUnit.SECONDS).plus(Duration.ofHours(1));
    Process child = startChild(misfire, start);
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), UTF_8))) {
      assertEquals("ready", out.readLine(), "the child's first line");
      // SIGKILL through the handle, as the job crash tests do.
      child.toHandle().destroyForcibly();
      assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the child died");
    }

    // Seven fire times (start .. start + 6 h) passed more than the one-minute threshold ago.
    ManualClock clock = Clock.manual(start.plus(Duration.ofHours(6)).plus(Duration.ofMinutes(10)));
    try (JobStore store =
            JobStore.open(JobStoreOptions.defaults().withDirectory(dir).withClock(clock));
        DurableScheduler scheduler = DurableScheduler.start(store, clock)) {
      assertEquals(jobs, store.counts().queued());
      StoredSchedule s = store.schedule("hourly").orElseThrow();
      assertEquals(
          lastFireHour < 0
              ? Optional.empty()
              : Optional.of(start.plus(Duration.ofHours(lastFireHour))),
          s.lastFire());
      assertEquals(
          Optional.of(start.plus(Duration.ofHours(7))),
          scheduler.status("hourly").orElseThrow().nextFire());
    }
  }

  private Process startChild(String misfire, Instant start) throws Exception {
    String classPath =
        Stream.of(System.getProperty("java.class.path"), System.getProperty("jdk.module.path"))
            .filter(p -> p != null && !p.isBlank())
            .collect(Collectors.joining(File.pathSeparator));
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(
            java,
            "-cp",
            classPath,
            "-Xmx128m",
            ScheduleCrashChild.class.getName(),
            dir.toString(),
            misfire,
            start.toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
  }
}
