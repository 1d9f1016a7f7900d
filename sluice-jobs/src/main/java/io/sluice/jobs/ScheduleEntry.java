package io.sluice.jobs;

import java.time.Instant;
import java.util.Optional;

/** A recurring job definition as a store holds it. Mutable; guarded by the store's locks. */
final class ScheduleEntry {
  final String name;
  String definition;
  Instant updatedAt;
  Instant lastFire;
  JobId lastJob;

  /** The journal segment holding this schedule's latest record (0 in memory). */
  long home;

  ScheduleEntry(String name, String definition, Instant updatedAt) {
    this.name = name;
    this.definition = definition;
    this.updatedAt = updatedAt;
  }

  ScheduleEntry copy() {
    ScheduleEntry c = new ScheduleEntry(name, definition, updatedAt);
    c.lastFire = lastFire;
    c.lastJob = lastJob;
    c.home = home;
    return c;
  }

  StoredSchedule snapshot() {
    return new StoredSchedule(
        name, definition, updatedAt, Optional.ofNullable(lastFire), Optional.ofNullable(lastJob));
  }
}
