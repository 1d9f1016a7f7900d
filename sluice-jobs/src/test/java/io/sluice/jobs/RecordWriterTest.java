package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class RecordWriterTest {

  /** What the records wrote before RecordWriter: a length, then String.getBytes(UTF_8). */
  private static byte[] expected(String s) {
    byte[] utf8 = s.getBytes(UTF_8);
    return ByteBuffer.allocate(Integer.BYTES + utf8.length).putInt(utf8.length).put(utf8).array();
  }

  private static byte[] written(String s) {
    return new RecordWriter(RecordWriter.stringSize(s)).putString(s).finish();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "upload",
        "üpload",
        "ß€𝄞",
        "日本語のジョブ",
        "\u007f\u0080\u07ff\u0800\uffff",
        "lone high \ud834 surrogate",
        "lone low \udd1e surrogate",
        "ends on a high surrogate \ud834",
        "\udd1e\ud834 reversed pair"
      })
  void aStringIsEncodedAsStringGetBytesEncodesIt(String s) {
    assertArrayEquals(expected(s), written(s));
  }

  @Test
  void randomStringsOfEveryKindOfCharEncodeAsStringGetBytesDoes() {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < 20_000; round++) {
      char[] chars = new char[random.nextInt(12)];
      for (int i = 0; i < chars.length; i++) {
        chars[i] =
            switch (random.nextInt(5)) {
              case 0 -> (char) random.nextInt(0x80);
              case 1 -> (char) random.nextInt(0x80, 0x800);
              case 2 -> (char) random.nextInt(0xd800, 0xe000); // surrogates, paired or not
              default -> (char) random.nextInt(0x10000);
            };
      }
      String s = new String(chars);
      assertArrayEquals(expected(s), written(s), () -> "for " + s.chars().boxed().toList());
    }
  }

  @Test
  void nullStringsAndArraysAreALengthOfMinusOne() {
    byte[] body =
        new RecordWriter(RecordWriter.stringSize(null) + RecordWriter.bytesSize(null))
            .putString(null)
            .putBytes(null)
            .finish();

    ByteBuffer in = ByteBuffer.wrap(body);
    assertEquals(-1, in.getInt());
    assertEquals(-1, in.getInt());
  }

  @Test
  void numbersAreBigEndianAsByteBufferWritesThem() {
    byte[] body =
        new RecordWriter(13).putLong(0x0102030405060708L).putInt(-2).put((byte) 9).finish();

    assertArrayEquals(
        ByteBuffer.allocate(13).putLong(0x0102030405060708L).putInt(-2).put((byte) 9).array(),
        body);
  }

  @Test
  void aBodyNotFilledToItsComputedSizeIsAnError() {
    RecordWriter out = new RecordWriter(12).putLong(1);

    IllegalStateException e = assertThrows(IllegalStateException.class, out::finish);
    assertEquals("a record body of 12 bytes holds 8 written bytes", e.getMessage());
  }
}
