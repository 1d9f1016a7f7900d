package io.sluice.jobs;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class JobSpecTest {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"lone\ud834high", "lone\udd1elow", "ends high\ud834", "\udd1e\ud834"})
  void aTypeOrSourceThatIsNotValidUtf16IsRefusedSinceTheJournalCannotKeepIt(String text) {
    // given text with an unpaired surrogate, which UTF-8 cannot encode (the journal writes '?')
    // when it is a job's type or source, or a handler's type
    var type = assertThrows(IllegalArgumentException.class, () -> JobSpec.of(text, new byte[0]));
    var source =
        assertThrows(
            IllegalArgumentException.class, () -> JobSpec.of("t", new byte[0]).withSource(text));
    var handler =
        assertThrows(
            IllegalArgumentException.class,
            () -> JobEngine.builder(JobStore.inMemory(1)).handle(text, (job, ctx) -> {}));

    // then it is refused, saying where
    assertTrue(type.getMessage().contains("unpaired surrogate"), type.getMessage());
    assertTrue(source.getMessage().contains("unpaired surrogate"), source.getMessage());
    assertTrue(handler.getMessage().contains("unpaired surrogate"), handler.getMessage());
  }

  @Test
  void aTypeAndSourceOutsideTheBasicPlaneComeBackFromTheJournalAsTheyWere() throws Exception {
    // given a job whose type and source hold characters made of surrogate pairs
    String type = "upload-\ud83d\ude00";
    String source = "client \ud834\udd1e";
    JobStoreOptions options =
        JobStoreOptions.defaults().withDirectory(dir).withSegmentBytes(1 << 20);
    JobId id;
    try (JobStore store = JobStore.open(options)) {
      id =
          assertInstanceOf(
                  Admission.Accepted.class,
                  store.submit(
                      List.of(JobSpec.of(type, "x".getBytes(UTF_8)).withSource(source)),
                      Duration.ZERO))
              .ids()
              .getFirst();
    }

    // when the store is opened again
    try (JobStore store = JobStore.open(options)) {
      // then they are the same
      Job job = store.find(id).orElseThrow();
      assertEquals(type, job.type());
      assertEquals(source, job.source().orElseThrow());
    }
  }
}
