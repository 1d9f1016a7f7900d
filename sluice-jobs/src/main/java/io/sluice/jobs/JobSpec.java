package io.sluice.jobs;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What to run: a job type, its payload, and optionally where it came from and when it may start.
 *
 * <p>Immutable. {@link #of} copies the payload, so the caller may reuse its array; {@link #wrap}
 * keeps the caller's array, for a caller that made it for this job alone.
 */
public final class JobSpec {
  /** The longest type name, in characters. */
  public static final int MAX_TYPE_LENGTH = 128;

  /** The longest source, in characters. */
  public static final int MAX_SOURCE_LENGTH = 256;

  private final String type;
  private final byte[] payload;
  private final String source;
  private final Instant runAt;

  private JobSpec(String type, byte[] payload, String source, Instant runAt) {
    this.type = type;
    this.payload = payload;
    this.source = source;
    this.runAt = runAt;
  }

  /**
   * A job of {@code type} carrying {@code payload}, to run as soon as a worker is free.
   *
   * @param type the handler's type name: 1 to {@value #MAX_TYPE_LENGTH} characters, no control
   *     characters
   * @param payload the bytes the handler gets; copied
   * @return the spec
   * @throws IllegalArgumentException if the type is empty, too long, has control characters or an
   *     unpaired surrogate
   */
  public static JobSpec of(String type, byte[] payload) {
    return new JobSpec(checkType(type), payload.clone(), null, null);
  }

  /**
   * Like {@link #of}, but keeps {@code payload} itself instead of a copy: for a caller that built
   * the array for this job (a parser, a serializer) and saves a copy per job. The caller must not
   * change the array afterwards; a change would reach the handler and, for a job not yet journaled,
   * the journal.
   *
   * @param type the handler's type name, as for {@link #of}
   * @param payload the bytes the handler gets; not copied
   * @return the spec
   * @throws IllegalArgumentException if the type is empty, too long, has control characters or an
   *     unpaired surrogate
   */
  public static JobSpec wrap(String type, byte[] payload) {
    return new JobSpec(checkType(type), Objects.requireNonNull(payload, "payload"), null, null);
  }

  static JobSpec trusted(String type, byte[] payload, String source, Instant runAt) {
    return new JobSpec(type, payload, source, runAt);
  }

  /**
   * This spec with a source: free text saying where the job came from, kept with the job.
   *
   * @param source up to {@value #MAX_SOURCE_LENGTH} characters, valid UTF-16 (no unpaired
   *     surrogate: the journal keeps text as UTF-8)
   * @return a new spec
   * @throws IllegalArgumentException if {@code source} is too long or has an unpaired surrogate
   */
  public JobSpec withSource(String source) {
    Objects.requireNonNull(source, "source");
    if (source.length() > MAX_SOURCE_LENGTH) {
      throw new IllegalArgumentException(
          "source is " + source.length() + " characters; at most " + MAX_SOURCE_LENGTH);
    }
    checkUtf16(source, "source");
    return new JobSpec(type, payload, source, runAt);
  }

  /**
   * This spec with an earliest start: the job waits, durably, until {@code runAt}. A time in the
   * past means now.
   *
   * @param runAt the earliest start
   * @return a new spec
   */
  public JobSpec withRunAt(Instant runAt) {
    return new JobSpec(type, payload, source, Objects.requireNonNull(runAt, "runAt"));
  }

  /**
   * The type name, which picks the handler.
   *
   * @return the type
   */
  public String type() {
    return type;
  }

  /**
   * The payload, read-only.
   *
   * @return a read-only view of the payload
   */
  public ByteBuffer payload() {
    return ByteBuffer.wrap(payload).asReadOnlyBuffer();
  }

  /**
   * The payload's length in bytes.
   *
   * @return the length
   */
  public int payloadLength() {
    return payload.length;
  }

  byte[] payloadArray() {
    return payload;
  }

  /**
   * Where the job came from, if set.
   *
   * @return the source
   */
  public Optional<String> source() {
    return Optional.ofNullable(source);
  }

  /**
   * The earliest start, if set.
   *
   * @return the earliest start
   */
  public Optional<Instant> runAt() {
    return Optional.ofNullable(runAt);
  }

  static String checkType(String type) {
    Objects.requireNonNull(type, "type");
    if (type.isEmpty() || type.length() > MAX_TYPE_LENGTH) {
      throw new IllegalArgumentException(
          "job type must have 1 to " + MAX_TYPE_LENGTH + " characters, got " + type.length());
    }
    for (int i = 0; i < type.length(); i++) {
      if (Character.isISOControl(type.charAt(i))) {
        throw new IllegalArgumentException("job type has a control character at index " + i);
      }
    }
    checkUtf16(type, "job type");
    return type;
  }

  /**
   * Refuses text with an unpaired surrogate: UTF-8 cannot encode it, so the journal would write '?'
   * in its place and the job would come back from a restart with other text (a type no handler
   * has).
   */
  private static void checkUtf16(String text, String what) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(
            what + " is not valid UTF-16: an unpaired surrogate at index " + i);
      }
    }
  }

  @Override
  public String toString() {
    return "JobSpec[type="
        + type
        + ", payload="
        + payload.length
        + " bytes"
        + (source == null ? "" : ", source=" + source)
        + (runAt == null ? "" : ", runAt=" + runAt)
        + "]";
  }
}
