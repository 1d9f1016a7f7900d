package io.sluice.jobs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.SplittableRandom;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class JobIdTest {

  @Test
  void idsMadeInOneProcessSortInTheOrderTheyWereMade() {
    List<JobId> ids = new ArrayList<>();
    for (int i = 0; i < 100_000; i++) {
      ids.add(JobId.next());
    }
    for (int i = 1; i < ids.size(); i++) {
      assertTrue(ids.get(i - 1).compareTo(ids.get(i)) < 0, "at " + i);
    }
    assertEquals(ids.size(), new HashSet<>(ids).size());
  }

  @Test
  void moreThan4096IdsInOneMillisecondStayOrderedByBorrowingTheNextMillisecond() {
    long millis = System.currentTimeMillis() + 10_000_000;
    JobId previous = JobId.next(millis);
    for (int i = 0; i < 10_000; i++) {
      JobId id = JobId.next(millis);
      assertTrue(previous.compareTo(id) < 0);
      previous = id;
    }
    assertTrue(previous.timestamp().toEpochMilli() > millis);
  }

  @Test
  void anIdIsAVersion7UuidCarryingItsTimestamp() {
    Instant before = Instant.ofEpochMilli(System.currentTimeMillis());
    JobId id = JobId.next();
    UUID uuid = UUID.fromString(id.toString());
    assertEquals(7, uuid.version());
    assertEquals(2, uuid.variant());
    assertTrue(!id.timestamp().isBefore(before));
  }

  @Test
  void theTextFormReadsBack() {
    JobId id = JobId.next();
    assertEquals(id, JobId.parse(id.toString()));
  }

  @Test
  void parsingRejectsWhatIsNotAVersion7UuidAndSaysWhy() {
    var wrongVersion =
        assertThrows(
            IllegalArgumentException.class, () -> JobId.parse(UUID.randomUUID().toString()));
    assertTrue(wrongVersion.getMessage().contains("version 7"), wrongVersion.getMessage());
    var garbage = assertThrows(IllegalArgumentException.class, () -> JobId.parse("nope"));
    assertTrue(garbage.getMessage().contains("36 characters"), garbage.getMessage());
    var badHex =
        assertThrows(
            IllegalArgumentException.class,
            () -> JobId.parse("019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5z90"));
    assertTrue(badHex.getMessage().contains("not a job id"), badHex.getMessage());
    var long1 = assertThrows(IllegalArgumentException.class, () -> JobId.parse("x".repeat(10_000)));
    assertTrue(long1.getMessage().length() < 300, "the message quotes a bounded prefix");
  }

  @Test
  void parsingAcceptsOnlyTheCanonicalFormThatToStringWrites() {
    // given an id and texts that UUID.fromString reads as the same id or another one
    JobId id = JobId.parse("019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90");
    List<String> nonCanonical =
        List.of(
            "019AC3F2-6C1E-7A3B-9F04-2D8E1B7C5A90", // upper case
            "019ac3f2-6c1e-7a3b-9f04-2D8E1B7C5A90", // upper case in part
            "+19ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90", // a sign for a zero digit
            "019ac3f2-+c1e-7a3b-9f04-2d8e1b7c5a90",
            "019ac3f2-6c1e-7a3b-9f04-+d8e1b7c5a90",
            "0019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a9", // the dashes moved
            "019ac3f2-6c1e-7a3b-9f0-42d8e1b7c5a90");

    for (String text : nonCanonical) {
      // when it is parsed, then it is refused with a message that says why
      var e = assertThrows(IllegalArgumentException.class, () -> JobId.parse(text), text);
      assertTrue(e.getMessage().contains("not a job id"), e.getMessage());
      assertTrue(e.getMessage().contains(text), e.getMessage());
      assertTrue(e.getMessage().contains("lower-case"), e.getMessage());
    }
    assertEquals("019ac3f2-6c1e-7a3b-9f04-2d8e1b7c5a90", id.toString());
  }

  @Test
  void everyIdReadsBackFromItsTextAndOnlyFromIt() {
    SplittableRandom random = new SplittableRandom(4);
    for (int i = 0; i < 10_000; i++) {
      JobId id =
          new JobId(
              (random.nextLong() & ~0xF000L) | 0x7000L,
              (random.nextLong() >>> 2) | 0x8000_0000_0000_0000L);
      String text = id.toString();
      assertEquals(id, JobId.parse(text));
      String upper = text.toUpperCase(java.util.Locale.ROOT);
      if (!upper.equals(text)) {
        assertThrows(IllegalArgumentException.class, () -> JobId.parse(upper));
      }
    }
  }
}
