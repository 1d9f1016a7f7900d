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
 * @param unhandledAtStart pending jobs the store held at the engine's start whose type has no
 *     handler, by type: they stay queued until an engine with a handler for them runs (the engine
 *     warned of them once at start)
 */
public record EngineStats(
    int workers,
    int busy,
    JobCounts jobs,
    Map<String, TypeStats> byType,
    Map<String, Long> unhandledAtStart) {
  /** Copies the maps. */
  public EngineStats {
    byType = Map.copyOf(byType);
    unhandledAtStart = Map.copyOf(unhandledAtStart);
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
