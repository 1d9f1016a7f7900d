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
 * The up-front reservation means an admitted body can always complete. Reserving as bytes arrive
 * instead would let many large bodies each hold part of what they need and wait for the rest, none
 * completing: a livelock, ended only by the body timeout. The price is that clients declaring large
 * bodies and stalling can fill the budget, and then every small request is refused with 503 until
 * the body timeout ends them. So the budget keeps a share for small bodies: a reservation that
 * takes its request's total above the small-body size (smallBodyBytes: 64 KiB, or a sixteenth of
 * --max-body-bytes if that is less) may only use the budget up to three quarters of its limit
 * (largeShare); smaller ones may use all of it. A request's first steps count as small while its
 * total is small, so a chunked body that grows past the size is held to three quarters from then
 * on. Invariant, besides 0 <= inFlight <= limit: the bytes held by large steps are at most
 * largeShare, since each was admitted only while inFlight, which includes them all, stayed within
 * it. So a quarter of the budget always serves small requests: with the default budget of an
 * eighth of a 512 MiB heap, 256 small bodies of 64 KiB at once; and with the least budget allowed
 * (minimumLimit: a body of the largest size must fit the large share, so 4/3 of --max-body-bytes),
 * at least five of the largest small bodies, which are at most a sixteenth of the largest body.
 *
 * Why 64 KiB: it is a batch of hundreds of typical payloads (sluice load sends one payload of 100
 * bytes per request by default) and a sixteenth of the default 1 MiB body limit, so the requests
 * it lets into the reserved quarter are many and cheap, and the ones it holds back are the few
 * large enough to fill a budget by stalling. Capping it at a sixteenth of --max-body-bytes keeps
 * "small" small when the body limit is lowered.
 *
 * A reservation never waits: it fits now or it is refused, and the caller answers at once. One
 * counter, changed by compare-and-set, so a reservation that fits is never refused because of a
 * race, and the sum never passes the limit. Invariant: 0 <= inFlight <= limit.
 */
final class BodyBudget {
  private static final long SMALL_BODY_CAP = 64 << 10;

  private final long limit;
  private final long largeShare;
  private final long smallBodyBytes;
  private final AtomicLong inFlight = new AtomicLong();

  /**
   * @param limit the most bytes reserved at once; positive
   * @param smallBodyBytes requests whose total stays within this may use the whole limit; larger
   *     ones only {@link #largeShare(long)} of it
   */
  BodyBudget(long limit, long smallBodyBytes) {
    if (limit < 1) {
      throw new IllegalArgumentException("the body budget must be positive, got " + limit);
    }
    if (smallBodyBytes < 0) {
      throw new IllegalArgumentException(
          "the small-body size must not be negative, got " + smallBodyBytes);
    }
    this.limit = limit;
    this.largeShare = largeShare(limit);
    this.smallBodyBytes = smallBodyBytes;
  }

  /**
   * The size up to which a body is small: 64 KiB, or a sixteenth of the largest body if less.
   *
   * @param maxBodyBytes the largest request body (--max-body-bytes)
   * @return the small-body size in bytes
   */
  static long smallBodyBytes(int maxBodyBytes) {
    return Math.min(SMALL_BODY_CAP, maxBodyBytes / 16);
  }

  /**
   * How much of a budget large bodies may use together: three quarters of it.
   *
   * @param limit the budget
   * @return the bytes large bodies may hold at once
   */
  static long largeShare(long limit) {
    return limit - limit / 4;
  }

  /**
   * The least budget whose {@linkplain #largeShare large share} holds a body of the largest size:
   * about 4/3 of it.
   *
   * @param maxBodyBytes the largest request body; positive
   * @return the least limit {@code l} with {@code largeShare(l) >= maxBodyBytes}
   */
  static long minimumLimit(long maxBodyBytes) {
    // largeShare(l) = ceil(3l/4) >= m  <=>  3l > 4m - 4
    return (4 * maxBodyBytes - 4) / 3 + 1;
  }

  /**
   * Reserves {@code bytes} if they fit beside what is reserved now; never waits. They fit if the
   * bytes reserved then stay within the limit, or, when the request's total is above the small-body
   * size, within three quarters of it.
   *
   * @param bytes not negative
   * @param requestTotal what the request holds once these are reserved: at least {@code bytes}
   * @return true if reserved (give them back with {@link #release}); false if they do not fit
   */
  boolean tryReserve(long bytes, long requestTotal) {
    if (bytes < 0 || requestTotal < bytes) {
      throw new IllegalArgumentException(
          "bytes must be in 0..requestTotal, got " + bytes + " of " + requestTotal);
    }
    long ceiling = requestTotal > smallBodyBytes ? largeShare : limit;
    while (true) {
      long now = inFlight.get();
      if (bytes > ceiling - now) {
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

  /** The size up to which a request's body is small and may use the whole limit. */
  long smallBodyBytes() {
    return smallBodyBytes;
  }

  void checkInvariants() {
    long now = inFlight.get();
    if (now < 0 || now > limit) {
      throw new AssertionError("body budget: " + now + " bytes reserved of " + limit);
    }
  }
}
