/**
 * Scheduling on virtual threads: {@link io.sluice.schedule.Scheduler} runs tasks at an instant, at
 * a fixed rate aligned to a start, with a fixed delay, daily, or by cron expression (Unix, Quartz
 * or Spring syntax) in a time zone; {@link io.sluice.schedule.Trigger} is the pure rule behind
 * each, with a canonical text form; {@link io.sluice.schedule.MisfirePolicy}, {@link
 * io.sluice.schedule.OverlapPolicy} and {@link io.sluice.schedule.DstPolicy} make the behaviour
 * after pauses, during long runs and across DST changes explicit.
 *
 * <p>{@code docs/scheduling.md} in the repository explains the concepts and the policy table.
 */
package io.sluice.schedule;
