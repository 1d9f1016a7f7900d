package io.sluice.jobs;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/*
 * Writes one journal record body whose size the caller computed first: big-endian, straight into
 * the array the journal takes, with strings encoded to UTF-8 in place. A SUBMITTED record is
 * written once per accepted batch, so its encoding is on the submit path: a ByteBuffer and a
 * String.getBytes array per string were a third of what a submit allocated besides the record
 * itself.
 *
 * Strings are encoded exactly as String.getBytes(UTF_8) does, an unpaired surrogate included (it
 * becomes '?'); RecordWriterTest compares the two.
 */
final class RecordWriter {
  private static final VarHandle LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
  private static final VarHandle INT =
      MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);

  private final byte[] bytes;
  private int position;

  RecordWriter(int size) {
    this.bytes = new byte[size];
  }

  /** The bytes {@link #putString} writes for {@code s}: its length, then its UTF-8 bytes. */
  static int stringSize(String s) {
    return Integer.BYTES + (s == null ? 0 : utf8Length(s));
  }

  /** The bytes {@link #putBytes} writes for {@code b}: its length, then {@code b}. */
  static int bytesSize(byte[] b) {
    return Integer.BYTES + (b == null ? 0 : b.length);
  }

  static int utf8Length(String s) {
    int n = s.length();
    int length = n;
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x80) {
        if (c < 0x800) {
          length += 1;
        } else if (Character.isHighSurrogate(c)
            && i + 1 < n
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          length += 2; // two chars, four bytes
          i++;
        } else if (!Character.isSurrogate(c)) {
          length += 2;
        } // an unpaired surrogate is one '?'
      }
    }
    return length;
  }

  /** The bytes written so far. */
  int position() {
    return position;
  }

  RecordWriter putLong(long v) {
    LONG.set(bytes, position, v);
    position += Long.BYTES;
    return this;
  }

  RecordWriter putInt(int v) {
    INT.set(bytes, position, v);
    position += Integer.BYTES;
    return this;
  }

  RecordWriter put(byte b) {
    bytes[position++] = b;
    return this;
  }

  /** Writes {@code b}'s length and {@code b}, or -1 for null. */
  RecordWriter putBytes(byte[] b) {
    if (b == null) {
      return putInt(-1);
    }
    putInt(b.length);
    System.arraycopy(b, 0, bytes, position, b.length);
    position += b.length;
    return this;
  }

  /** Writes {@code s}'s UTF-8 length and bytes, or -1 for null. */
  RecordWriter putString(String s) {
    if (s == null) {
      return putInt(-1);
    }
    int lengthAt = position;
    position += Integer.BYTES;
    int p = position;
    int n = s.length();
    for (int i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        bytes[p++] = (byte) c;
      } else if (c < 0x800) {
        bytes[p++] = (byte) (0xc0 | (c >> 6));
        bytes[p++] = (byte) (0x80 | (c & 0x3f));
      } else if (Character.isHighSurrogate(c)
          && i + 1 < n
          && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(++i));
        bytes[p++] = (byte) (0xf0 | (cp >> 18));
        bytes[p++] = (byte) (0x80 | ((cp >> 12) & 0x3f));
        bytes[p++] = (byte) (0x80 | ((cp >> 6) & 0x3f));
        bytes[p++] = (byte) (0x80 | (cp & 0x3f));
      } else if (Character.isSurrogate(c)) {
        bytes[p++] = '?';
      } else {
        bytes[p++] = (byte) (0xe0 | (c >> 12));
        bytes[p++] = (byte) (0x80 | ((c >> 6) & 0x3f));
        bytes[p++] = (byte) (0x80 | (c & 0x3f));
      }
    }
    INT.set(bytes, lengthAt, p - position);
    position = p;
    return this;
  }

  /**
   * The body, which must be full.
   *
   * @throws IllegalStateException if the size computed first does not match what was written
   */
  byte[] finish() {
    if (position != bytes.length) {
      throw new IllegalStateException(
          "a record body of " + bytes.length + " bytes holds " + position + " written bytes");
    }
    return bytes;
  }
}
