package io.sluice.server.objects;

import io.sluice.jobs.JobId;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * Object keys: the key of a job's object, and the rules every store checks keys against.
 *
 * <p>A job's key is {@code {prefix}{yyyy}/{MM}/{dd}/{id}.json}, the date being the UTC date the
 * payload was accepted. The key depends only on the job, so a retried or recovered upload
 * overwrites the same object instead of adding a duplicate.
 *
 * <p>A valid key is a {@code /}-separated path that cannot escape a directory or confuse an S3
 * client: it is not empty; it is at most {@value #MAX_KEY_BYTES} bytes in UTF-8 (S3's limit); it
 * does not start with {@code /}; it holds no backslash, no control character (C0, DEL or C1) and no
 * unpaired surrogate; and no segment is empty, {@code .} or {@code ..}. A valid prefix is empty, or
 * a valid key followed by {@code /}.
 */
public final class ObjectKeys {

  /** The longest key, in UTF-8 bytes: S3's limit. */
  public static final int MAX_KEY_BYTES = 1024;

  /** What {@link #forJob} appends to the prefix: {@code yyyy/MM/dd/} and a 36-char id + ".json". */
  private static final int JOB_SUFFIX_BYTES = 11 + 36 + 5;

  /** The longest prefix {@link #forJob} accepts, in UTF-8 bytes. */
  public static final int MAX_PREFIX_BYTES = MAX_KEY_BYTES - JOB_SUFFIX_BYTES;

  private ObjectKeys() {}

  /**
   * The key of a job's object.
   *
   * @param prefix a valid prefix: empty, or ending with {@code /} (see {@link #validatePrefix})
   * @param id the job's id
   * @param acceptedAt when the payload was accepted; its UTC date names the directories
   * @return {@code {prefix}{yyyy}/{MM}/{dd}/{id}.json}
   * @throws InvalidObjectKeyException if the prefix is not valid
   * @throws IllegalArgumentException if {@code acceptedAt}'s UTC year is not in 0..9999
   */
  public static String forJob(String prefix, JobId id, Instant acceptedAt) {
    validatePrefix(prefix);
    Objects.requireNonNull(id, "id");
    LocalDate date = LocalDate.ofInstant(Objects.requireNonNull(acceptedAt, "acceptedAt"), UTC);
    if (date.getYear() < 0 || date.getYear() > 9999) {
      throw new IllegalArgumentException("acceptedAt out of range (year 0..9999): " + acceptedAt);
    }
    StringBuilder key = new StringBuilder(prefix.length() + JOB_SUFFIX_BYTES + 4);
    key.append(prefix);
    appendPadded(key, date.getYear(), 4).append('/');
    appendPadded(key, date.getMonthValue(), 2).append('/');
    appendPadded(key, date.getDayOfMonth(), 2).append('/');
    key.append(id).append(".json");
    return key.toString();
  }

  /**
   * Checks a key against the rules in the class comment.
   *
   * @param key the key
   * @return {@code key}, for chaining
   * @throws InvalidObjectKeyException naming the rule the key breaks
   */
  public static String validate(String key) {
    Objects.requireNonNull(key, "key");
    String problem = problemWithKey(key, MAX_KEY_BYTES);
    if (problem != null) {
      throw new InvalidObjectKeyException(key, "invalid object key " + quote(key) + ": " + problem);
    }
    return key;
  }

  /**
   * Checks a key prefix: empty, or a valid key followed by {@code /}, short enough to leave room
   * for a job's key ({@value #MAX_PREFIX_BYTES} bytes at most).
   *
   * @param prefix the prefix
   * @return {@code prefix}, for chaining
   * @throws InvalidObjectKeyException naming the rule the prefix breaks
   */
  public static String validatePrefix(String prefix) {
    Objects.requireNonNull(prefix, "prefix");
    if (prefix.isEmpty()) {
      return prefix;
    }
    String problem;
    if (!prefix.endsWith("/")) {
      problem = "a non-empty prefix must end with '/', like \"payloads/\"";
    } else {
      problem = problemWithKey(prefix.substring(0, prefix.length() - 1), MAX_PREFIX_BYTES - 1);
    }
    if (problem != null) {
      throw new InvalidObjectKeyException(
          prefix, "invalid object key prefix " + quote(prefix) + ": " + problem);
    }
    return prefix;
  }

  /**
   * A key quoted for a log line or an error message: control characters escaped as {@code \\uXXXX},
   * cut after 100 characters.
   */
  static String quote(String key) {
    StringBuilder out = new StringBuilder(Math.min(key.length(), 100) + 8).append('"');
    for (int i = 0; i < key.length(); i++) {
      if (i == 100) {
        out.append("...(").append(key.length()).append(" chars)");
        break;
      }
      char c = key.charAt(i);
      if (isControl(c) || c == '"' || Character.isSurrogate(c)) {
        out.append(String.format("\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private static final ZoneOffset UTC = ZoneOffset.UTC;

  /** The first rule {@code key} breaks, or null. */
  private static String problemWithKey(String key, int maxBytes) {
    if (key.isEmpty()) {
      return "it is empty";
    }
    if (key.charAt(0) == '/') {
      return "it starts with '/' (keys are relative)";
    }
    int segmentStart = 0;
    for (int i = 0; i <= key.length(); i++) {
      char c = i < key.length() ? key.charAt(i) : '/';
      if (c == '/') {
        String problem = problemWithSegment(key, segmentStart, i);
        if (problem != null) {
          return problem;
        }
        segmentStart = i + 1;
      } else if (c == '\\') {
        return "it holds a backslash at index " + i;
      } else if (isControl(c)) {
        return String.format("it holds the control character U+%04X at index %d", (int) c, i);
      } else if (Character.isHighSurrogate(c)) {
        if (i + 1 >= key.length() || !Character.isLowSurrogate(key.charAt(i + 1))) {
          return "it is not valid UTF-16 (unpaired surrogate at index " + i + ")";
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return "it is not valid UTF-16 (unpaired surrogate at index " + i + ")";
      }
    }
    int bytes = utf8Length(key);
    if (bytes > maxBytes) {
      return "it is " + bytes + " bytes in UTF-8, over the limit of " + maxBytes;
    }
    return null;
  }

  private static String problemWithSegment(String key, int start, int end) {
    int length = end - start;
    if (length == 0) {
      return "it has an empty segment at index " + start + " (\"//\" or a trailing '/')";
    }
    if (key.charAt(start) == '.'
        && (length == 1 || (length == 2 && key.charAt(start + 1) == '.'))) {
      return "it has a '" + key.substring(start, end) + "' segment at index " + start;
    }
    return null;
  }

  private static boolean isControl(char c) {
    return c < 0x20 || (c >= 0x7F && c <= 0x9F);
  }

  /** The UTF-8 length of a string already known to be valid UTF-16. */
  private static int utf8Length(String s) {
    int bytes = s.length();
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        bytes += c < 0x800 || Character.isSurrogate(c) ? 1 : 2;
      }
    }
    return bytes;
  }

  private static StringBuilder appendPadded(StringBuilder out, int value, int width) {
    String digits = Integer.toString(value);
    for (int i = digits.length(); i < width; i++) {
      out.append('0');
    }
    return out.append(digits);
  }
}
