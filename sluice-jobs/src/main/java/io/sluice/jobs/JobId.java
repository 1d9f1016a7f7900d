package io.sluice.jobs;

import java.time.Instant;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A job's identity: a UUID version 7 (RFC 9562), so ids sort by the time they were made.
 *
 * <p>The first 48 bits are the Unix time in milliseconds, the next 12 a counter that keeps ids made
 * in the same millisecond in order within this process, and the last 62 bits are random, so ids
 * made by different processes do not collide. {@link #compareTo} orders by that time, then by the
 * counter: ids from one process come out in the order {@link #next()} made them.
 *
 * <p>The text form ({@link #toString()}) is the usual 36-character UUID form, in lower case; {@link
 * #parse} reads it back and rejects anything else, including other spellings of the same UUID and
 * UUIDs of other versions.
 *
 * @param msb the most significant 64 bits
 * @param lsb the least significant 64 bits
 */
public record JobId(long msb, long lsb) implements Comparable<JobId> {

  /* Monotonic state: (unix millis << 12) | counter. A counter overflow within one millisecond borrows
   * from the next millisecond, so ids stay ordered and unique at any rate; the borrowed time is
   * given back as soon as the real clock passes it. */
  private static final AtomicLong LAST = new AtomicLong();

  /**
   * Checks that the bits are a version 7, RFC 9562 variant UUID.
   *
   * @throws IllegalArgumentException if they are not
   */
  public JobId {
    if (((msb >>> 12) & 0xF) != 7 || (lsb >>> 62) != 0b10) {
      throw new IllegalArgumentException(
          "not a version 7 UUID: " + new UUID(msb, lsb) + " (job ids are UUIDv7)");
    }
  }

  /**
   * A new id, later than every id this process made before.
   *
   * @return the id
   */
  public static JobId next() {
    return next(System.currentTimeMillis());
  }

  static JobId next(long nowMillis) {
    long candidate = nowMillis << 12;
    long stamp;
    while (true) {
      long last = LAST.get();
      stamp = Math.max(candidate, last + 1);
      if (LAST.compareAndSet(last, stamp)) {
        break;
      }
    }
    long millis = stamp >>> 12;
    long counter = stamp & 0xFFF;
    long msb = (millis << 16) | 0x7000L | counter;
    long lsb = (ThreadLocalRandom.current().nextLong() >>> 2) | 0x8000_0000_0000_0000L;
    return new JobId(msb, lsb);
  }

  /**
   * Reads the text form of an id: exactly what {@link #toString()} writes, 36 characters,
   * lower-case hex digits in groups of 8, 4, 4, 4 and 12 separated by dashes. Other spellings that
   * {@link UUID#fromString} would take (upper case, a sign, groups of other lengths) are refused,
   * so that one id has one text form (in URLs, logs and object keys alike).
   *
   * @param text a version 7 UUID in its canonical 36-character form
   * @return the id
   * @throws IllegalArgumentException if {@code text} is not that form of a version 7 UUID, with a
   *     message saying why
   */
  public static JobId parse(String text) {
    Objects.requireNonNull(text, "text");
    if (text.length() != 36) {
      throw new IllegalArgumentException(
          "not a job id: \""
              + abbreviate(text)
              + "\" (expected 36 characters like "
              + SAMPLE
              + ")");
    }
    long msb = 0;
    long lsb = 0;
    for (int i = 0; i < 36; i++) {
      char c = text.charAt(i);
      if (i == 8 || i == 13 || i == 18 || i == 23) {
        if (c != '-') {
          throw notCanonical(text, i, "a dash");
        }
        continue;
      }
      int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (digit < 0) {
        throw notCanonical(text, i, "a lower-case hex digit");
      }
      if (i < 18) {
        msb = (msb << 4) | digit;
      } else {
        lsb = (lsb << 4) | digit;
      }
    }
    return new JobId(msb, lsb);
  }

  private static IllegalArgumentException notCanonical(String text, int index, String expected) {
    return new IllegalArgumentException(
        "not a job id: \""
            + text
            + "\" (character "
            + (index + 1)
            + " should be "
            + expected
            + "; a job id is written in lower-case hex digits grouped 8-4-4-4-12, like "
            + SAMPLE
            + ")");
  }

  private static final String SAMPLE = "019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90";

  private static String abbreviate(String text) {
    return text.length() <= 64 ? text : text.substring(0, 64) + "...";
  }

  /**
   * The moment the id was made, to the millisecond.
   *
   * @return the instant
   */
  public Instant timestamp() {
    return Instant.ofEpochMilli(msb >>> 16);
  }

  @Override
  public int compareTo(JobId other) {
    int c = Long.compareUnsigned(msb, other.msb);
    return c != 0 ? c : Long.compareUnsigned(lsb, other.lsb);
  }

  @Override
  public String toString() {
    return new UUID(msb, lsb).toString();
  }
}
