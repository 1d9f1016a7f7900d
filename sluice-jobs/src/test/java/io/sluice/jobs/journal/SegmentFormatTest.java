package io.sluice.jobs.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SegmentFormatTest {
  @Test
  void theMaskIsSipHash24AsItsAuthorsPublishedIt() {
    // the reference implementation's test vector for the 8-byte message 00..07 under the key
    // 00..0f: 62 24 93 9a 79 f5 f5 93 (vectors.h, vectors_sip64[8]), all read little-endian
    long k0 = 0x0706_0504_0302_0100L;
    long k1 = 0x0f0e_0d0c_0b0a_0908L;
    long m = 0x0706_0504_0302_0100L;
    assertEquals(0x93f5_f579_9a93_2462L, SegmentFormat.sipHash24(k0, k1, m));
  }

  @Test
  void theMaskDependsOnTheOffsetAndTheSalt() {
    // given one salt, then another
    long salt = 0x1234_5678_9abc_def0L;
    Set<Long> masks = new HashSet<>();
    // when masks of consecutive offsets are taken under each
    for (long offset = 64; offset < 64 + 4096; offset++) {
      masks.add(SegmentFormat.mask(salt, offset));
      masks.add(SegmentFormat.mask(salt + 1, offset));
    }
    // then no two are alike
    assertEquals(2 * 4096, masks.size());
  }

  @Test
  void version1ChecksHaveNoMask() {
    assertEquals(0, SegmentFormat.Checks.VERSION_1_CHECKS.mask(64));
    assertNotEquals(0, new SegmentFormat.Checks(SegmentFormat.newSalt()).mask(64));
  }
}
