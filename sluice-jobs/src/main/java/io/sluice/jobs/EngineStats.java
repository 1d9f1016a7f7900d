package io.sluice.jobs;

import java.util.Map;

/**
 * What a {@link JobEngine} is doing: its workers, its store's counts, and totals per job type since
 * it started.
 *
 * @param workers worker threads
 * @param busy workers running an attempt now
 * @param jobs the store's counts
 * @param byType totals per job type
 */
public record EngineStats(int workers, int busy, JobCounts jobs, Map<String, TypeStats> byType) {
  /** Copies the map. */
  public EngineStats {
    byType = Map.copyOf(byType);
  }

  /**
   * Totals for one job type since the engine started.
   *
   * @param attempts attempts started
   * @param succeeded attempts that succeeded
   * @param failed attempts that threw
   * @param timedOut attempts that overran their timeout
   * @param retries retries scheduled
   * @param dead jobs that became dead letters
   * @param running attempts running now
   */
  public record TypeStats(
      long attempts,
      long succeeded,
      long failed,
      long timedOut,
      long retries,
      long dead,
      int running) {}
}
