package io.sluice.server;

import java.util.concurrent.atomic.AtomicLong;

/*
 * The bytes of request bodies being received, over all requests at once (--max-inflight-body-bytes).
 *
 * The job store bounds the payloads it has admitted (--queue-bytes), but a body is held before
 * that: while it arrives, while it is parsed, while its batch is journaled. Without a bound here,
 * many clients that each declare a large body and then stall would make the service hold (or
 * allocate for) all of them at once. So a request reserves its body's bytes before it reads them —
 * the whole Content-Length up front, or, for a chunked body, each step of its buffer's growth —
 * and gives them back when its handler is done with the body, whatever way it ends.
 *
 * A reservation never waits: it fits now or it is refused, and the caller answers at once. One
 * counter, changed by compare-and-set, so a reservation that fits is never refused because of a
 * race, and the sum never passes the limit. Invariant: 0 <= inFlight <= limit.
 */
final class BodyBudget {
  private final long limit;
  private final AtomicLong inFlight = new AtomicLong();

  BodyBudget(long limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("the body budget must be positive, got " + limit);
    }
    this.limit = limit;
  }

  /**
   * Reserves {@code bytes} if they fit beside what is reserved now; never waits.
   *
   * @param bytes not negative
   * @return true if reserved (give them back with {@link #release}); false if they do not fit
   */
  boolean tryReserve(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes must not be negative, got " + bytes);
    }
    while (true) {
      long now = inFlight.get();
      if (bytes > limit - now) {
        return false;
      }
      if (inFlight.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  /**
   * Gives back bytes reserved earlier.
   *
   * @param bytes at most what the caller reserved and has not given back
   */
  void release(long bytes) {
    long after = inFlight.addAndGet(-bytes);
    if (after < 0 || bytes < 0) {
      throw new IllegalStateException(
          "released " + bytes + " bytes of the body budget that were not reserved");
    }
  }

  /** The bytes reserved now. */
  long inFlight() {
    return inFlight.get();
  }

  /** The most bytes reserved at once. */
  long limit() {
    return limit;
  }

  void checkInvariants() {
    long now = inFlight.get();
    if (now < 0 || now > limit) {
      throw new AssertionError("body budget: " + now + " bytes reserved of " + limit);
    }
  }
}
