package io.sluice.schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Enumerating fire times for {@link MisfirePolicy#resolve}. */
final class Misfires {
  private Misfires() {}

  /** The fire times in {@code [from, to]}, oldest first. */
  static List<Instant> between(Trigger trigger, Instant from, Instant to) {
    List<Instant> times = new ArrayList<>();
    for (Optional<Instant> f = trigger.nextAtOrAfter(from);
        f.isPresent() && !f.get().isAfter(to);
        f = trigger.nextAfter(f.get())) {
      times.add(f.get());
    }
    return times;
  }

  /**
   * The last {@code n} fire times in {@code [from, cutoff)}, oldest first. Looks back from {@code
   * cutoff} in windows that start at one second and grow fourfold until one holds {@code n} fire
   * times, so a long outage costs time in proportion to the fire times of the last window (about
   * {@code n}, or a second's worth), not to all the fire times it swallowed.
   */
  static List<Instant> lastBefore(Trigger trigger, Instant from, Instant cutoff, int n) {
    Duration outage = Duration.between(from, cutoff);
    Duration span = Duration.ofSeconds(1);
    while (true) {
      boolean whole = span.compareTo(outage) >= 0;
      Instant start = whole ? from : cutoff.minus(span);
      ArrayDeque<Instant> last = new ArrayDeque<>();
      for (Optional<Instant> f = trigger.nextAtOrAfter(start);
          f.isPresent() && f.get().isBefore(cutoff);
          f = trigger.nextAfter(f.get())) {
        last.addLast(f.get());
        if (last.size() > n) {
          last.removeFirst();
        }
      }
      if (last.size() >= n || whole) {
        return List.copyOf(last);
      }
      span = span.multipliedBy(4);
    }
  }
}
