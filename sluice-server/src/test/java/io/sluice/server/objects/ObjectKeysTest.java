package io.sluice.server.objects;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.JobId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ObjectKeysTest {

  private static final JobId ID = JobId.parse("019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90");

  @Test
  void aJobsKeyIsThePrefixTheUtcDateOfAcceptanceAndTheIdDotJson() {
    // given a payload accepted late on 3 Feb 2026 in UTC (already the 4th east of Greenwich)
    Instant acceptedAt = Instant.parse("2026-02-03T23:59:59.999Z");

    // when / then
    assertEquals(
        "payloads/2026/02/03/019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90.json",
        ObjectKeys.forJob("payloads/", ID, acceptedAt));
    assertEquals(
        "2026/02/04/019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90.json",
        ObjectKeys.forJob("", ID, acceptedAt.plusMillis(1)));
  }

  @Test
  void yearsAreFourDigitsAndMonthsAndDaysTwo() {
    assertEquals(
        "0987/01/09/019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90.json",
        ObjectKeys.forJob("", ID, Instant.parse("0987-01-09T00:00:00Z")));
  }

  @Test
  void aJobsKeyIsItselfAValidKey() {
    String key = ObjectKeys.forJob("a/b c/ü/", ID, Instant.now());
    assertEquals(key, ObjectKeys.validate(key));
  }

  @Test
  void theSameJobAlwaysGetsTheSameKey() {
    Instant acceptedAt = Instant.now();
    assertEquals(ObjectKeys.forJob("p/", ID, acceptedAt), ObjectKeys.forJob("p/", ID, acceptedAt));
  }

  @ParameterizedTest
  @ValueSource(strings = {"payloads", "/payloads/", "a//", "../", "a/../", "./", "a\\b/", "/"})
  void aBadPrefixIsRejectedWithAReason(String prefix) {
    var e =
        assertThrows(
            InvalidObjectKeyException.class, () -> ObjectKeys.forJob(prefix, ID, Instant.now()));
    assertTrue(e.getMessage().startsWith("invalid object key prefix"), e.getMessage());
    assertEquals(prefix, e.key());
  }

  @Test
  void aPrefixThatLeavesNoRoomForTheJobsKeyIsRejected() {
    String longest = "p".repeat(ObjectKeys.MAX_PREFIX_BYTES - 1) + "/";
    String key = ObjectKeys.forJob(longest, ID, Instant.now());
    assertEquals(ObjectKeys.MAX_KEY_BYTES, key.getBytes(StandardCharsets.UTF_8).length);

    var e =
        assertThrows(
            InvalidObjectKeyException.class, () -> ObjectKeys.validatePrefix("p" + longest));
    assertTrue(e.getMessage().contains("over the limit"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "a.json",
        "2026/01/02/x.json",
        "dir/.hidden",
        "..a/b..",
        "a/.../b",
        "spaces are fine/and+signs=too",
        "ünïcödé/日本語/😀.json",
        "~/x",
        "C:/x"
      })
  void ordinaryKeysAreValid(String key) {
    assertEquals(key, ObjectKeys.validate(key));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "/etc/passwd",
        "..",
        "../x",
        "a/../../x",
        "a/..",
        ".",
        "./x",
        "a/./b",
        "a//b",
        "a/",
        "a\\..\\..\\x",
        "..\\x",
        "a\u0000b",
        "a\nb",
        "a\rb",
        "a\tb",
        "a\u007Fb",
        "a\u0085b",
        "a\u009Fb",
        "a\uD800b",
        "a\uDC00",
        "x\uD83D"
      })
  void hostileKeysAreRejectedWithAReasonAndAnEscapedQuote(String key) {
    var e = assertThrows(InvalidObjectKeyException.class, () -> ObjectKeys.validate(key));
    assertEquals(key, e.key());
    assertTrue(e.getMessage().startsWith("invalid object key \""), e.getMessage());
    assertFalse(
        e.getMessage().chars().anyMatch(c -> c < 0x20 || (c >= 0x7F && c <= 0x9F)),
        "the message is safe to log: " + e.getMessage());
  }

  @Test
  void theLengthLimitCountsUtf8BytesNotChars() {
    // given keys of exactly the limit in 1-, 2-, 3- and 4-byte characters
    for (String unit : new String[] {"a", "é", "日", "😀"}) {
      int unitBytes = unit.getBytes(StandardCharsets.UTF_8).length;
      int units = ObjectKeys.MAX_KEY_BYTES / unitBytes;
      String atLimit =
          unit.repeat(units) + "a".repeat(ObjectKeys.MAX_KEY_BYTES - units * unitBytes);
      assertEquals(ObjectKeys.MAX_KEY_BYTES, atLimit.getBytes(StandardCharsets.UTF_8).length);

      // when / then: the limit passes, one more character does not
      assertEquals(atLimit, ObjectKeys.validate(atLimit));
      var e =
          assertThrows(InvalidObjectKeyException.class, () -> ObjectKeys.validate(atLimit + unit));
      assertTrue(
          e.getMessage()
              .contains("it is " + (ObjectKeys.MAX_KEY_BYTES + unitBytes) + " bytes in UTF-8"),
          e.getMessage());
    }
  }

  @Test
  void theQuoteInAMessageIsCutShort() {
    String key = "x".repeat(5000) + "\u0000";
    var e = assertThrows(InvalidObjectKeyException.class, () -> ObjectKeys.validate(key));
    assertTrue(e.getMessage().length() < 300, e.getMessage());
    assertTrue(e.getMessage().contains("(5001 chars)"), e.getMessage());
  }

  @Test
  void anAcceptanceTimeOutsideFourDigitYearsIsRejected() {
    assertThrows(
        IllegalArgumentException.class,
        () -> ObjectKeys.forJob("", ID, Instant.parse("+10000-01-01T00:00:00Z")));
  }
}
