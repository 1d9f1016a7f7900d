package io.sluice.jobs;

import java.util.Map;

/**
 * What a {@link JobEngine} is doing: its workers, its store's counts, and totals per job type since
 * it started.
 *
 * @param workers worker threads: the pool's size, which a stuck attempt's replacement keeps
 * @param busy workers running an attempt now
 * @param stuck attempts stuck now: past their timeout and their interrupt, their handlers have not
 *     returned; each holds a thread beyond {@code workers} (see {@link
 *     JobEngine.Builder#interruptGrace})
 * @param jobs the store's counts
 * @param byType totals per job type
 * @param unhandledAtStart pending jobs the store held at the engine's start whose type has no
 *     handler, by type: they stay queued until an engine with a handler for them runs (the engine
 *     warned of them once at start)
 */
public record EngineStats(
    int workers,
    int busy,
    int stuck,
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
   * @param running attempts running now, stuck ones included (they still hold the type's
   *     concurrency)
   * @param stuck attempts reported stuck: they overran their timeout and did not return within the
   *     interrupt grace after it (each is also counted in {@code timedOut} if it ever returns)
   */
  public record TypeStats(
      long attempts,
      long succeeded,
      long failed,
      long timedOut,
      long retries,
      long dead,
      int running,
      long stuck) {}
}
