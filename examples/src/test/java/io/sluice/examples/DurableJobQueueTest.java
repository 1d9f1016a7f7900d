package io.sluice.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.jobs.Admission;
import io.sluice.jobs.Job;
import io.sluice.jobs.JobState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The durable queue example: what it prints is what the engine did. */
@Timeout(60)
class DurableJobQueueTest {
  @TempDir Path dir;

  @Test
  void theNextProcessRunsEveryJobTheStoppedOneAccepted() throws Exception {
    Set<String> ran = DurableJobQueue.deploy(dir, 250);

    assertEquals(IntStream.range(0, 250).mapToObj(i -> "m" + i).collect(Collectors.toSet()), ran);
  }

  @Test
  void aBatchIsAcceptedWholeOrRefusedAtOnceWithItsReason() throws Exception {
    List<Admission> answers = DurableJobQueue.admit(dir);

    assertEquals(1, assertInstanceOf(Admission.Accepted.class, answers.get(0)).ids().size());
    assertEquals(
        Admission.Reason.QUEUE_FULL,
        assertInstanceOf(Admission.Rejected.class, answers.get(1)).reason());
    Admission.Rejected huge = assertInstanceOf(Admission.Rejected.class, answers.get(2));
    assertEquals(Admission.Reason.TOO_LARGE, huge.reason());
    assertTrue(huge.message().contains("3"), huge.message()); // names the capacity
  }

  @Test
  void aFailingJobIsRetriedThenKeptAsADeadLetterWithItsLastErrorThenRetriedOrDeleted()
      throws Exception {
    DurableJobQueue.DeadLetters letters = DurableJobQueue.deadLetters(dir);

    List<Job> dead = letters.listed();
    assertEquals(2, dead.size());
    Job bob = dead.stream().filter(j -> text(j).equals("bob")).findFirst().orElseThrow();
    assertEquals(JobState.DEAD, bob.state());
    assertEquals(3, bob.attempts());
    assertEquals("java.io.IOException: bob's server did not answer", bob.lastError().orElseThrow());
    Job nobody = dead.stream().filter(j -> text(j).equals("nobody")).findFirst().orElseThrow();
    assertEquals(1, nobody.attempts()); // a permanent failure is not retried
    assertTrue(nobody.lastError().orElseThrow().contains("no such recipient"));
    // once the cause is fixed, the dead letter is retried and sent; the hopeless one is deleted
    assertEquals(JobState.SUCCEEDED, letters.bobAfterRetry());
    assertTrue(letters.nobodyDeleted());
    assertEquals(0, letters.left());
  }

  private static String text(Job job) {
    return new String(job.payloadBytes(), StandardCharsets.UTF_8);
  }
}
