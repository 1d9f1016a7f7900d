package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice dead-letters} against a real service whose uploads fail until told otherwise. */
@Timeout(30)
class DeadLettersCommandTest {
  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();
  private RunningService service;
  private IngestApiTest.FailingObjectStore store;
  private List<String> dead;

  @BeforeEach
  void threeDeadLetters() throws Exception {
    store =
        new IngestApiTest.FailingObjectStore(
            FilesystemObjectStore.open(dataDir.resolve("objects")));
    service = services.start(dataDir, c -> c.withWorkers(2, Duration.ofSeconds(10), 1), store);
    dead = service.post("{\"payloads\": [1, 2, 3]}");
    for (String id : dead) {
      service.awaitState(id, "dead");
    }
  }

  @Test
  void listShowsEachDeadLetterWithWhenItDiedAndItsLastError() {
    CommandRun run = CommandRun.of("dead-letters", "list", "--url", service.url());

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("DEAD SINCE"), run.toString());
    String time = "\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z";
    for (String id : dead) {
      assertTrue(
          run.out()
              .matches(
                  "(?s).*"
                      + id
                      + " +\\d+ +"
                      + time
                      + " +"
                      + time
                      + " +java.io.IOException: storage unavailable.*"),
          run.toString());
    }
    assertTrue(run.out().contains("storage unavailable"), run.toString());
    assertTrue(run.out().contains("3 dead letters shown."), run.toString());
    assertFalse(run.out().contains("More:"), run.toString());
  }

  @Test
  void aLimitedListSaysHowToSeeTheRest() {
    CommandRun run = CommandRun.of("dead-letters", "list", "--limit", "2", "--url", service.url());

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("2 dead letters shown."), run.toString());
    assertTrue(
        run.out().contains("More: sluice dead-letters list --after " + dead.get(1)),
        run.toString());
    assertFalse(run.out().contains(dead.get(2)), run.toString());
  }

  @Test
  void allPagesThroughEveryDeadLetter() {
    CommandRun run =
        CommandRun.of(
            "dead-letters", "list", "--all", "--limit", "1", "--json", "--url", service.url());

    assertEquals(0, run.exit(), run.toString());
    Map<String, Object> doc = Json.object(run.out());
    List<?> letters = (List<?>) doc.get("deadLetters");
    assertEquals(dead, letters.stream().map(l -> ((Map<?, ?>) l).get("id")).toList());
    assertNull(doc.get("next"));
  }

  @Test
  void retryQueuesTheUploadAgain() throws Exception {
    store.failing = false;

    CommandRun run =
        CommandRun.of("dead-letters", "retry", "--url", service.url(), dead.getFirst());

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains(dead.getFirst() + " queued for upload again"), run.toString());
    service.awaitState(dead.getFirst(), "succeeded");
  }

  @Test
  void retryAllQueuesEveryDeadLetterAgain() throws Exception {
    store.failing = false;

    CommandRun run = CommandRun.of("dead-letters", "retry", "--all", "--url", service.url());

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("3 dead letters queued for upload again"), run.toString());
    for (String id : dead) {
      service.awaitState(id, "succeeded");
    }
    CommandRun none = CommandRun.of("dead-letters", "retry", "--all", "--url", service.url());
    assertEquals(0, none.exit(), none.toString());
    assertTrue(none.out().contains("0 dead letters queued"), none.toString());
  }

  @Test
  void retryAllStopsAtAFullQueueAndSaysTheRestStayDead() throws Exception {
    // given: the three dead letters in a service whose queue of 1 is taken by a held upload
    service.close();
    store =
        new IngestApiTest.FailingObjectStore(
            new IngestApiTest.GatedObjectStore(
                FilesystemObjectStore.open(dataDir.resolve("objects")),
                new java.util.concurrent.CountDownLatch(1)));
    store.failing = false;
    service =
        services.start(
            dataDir,
            c ->
                c.withLimits(1, 1 << 20, 1, 64)
                    .withWorkers(1, Duration.ofSeconds(10), 1)
                    .withShutdownGrace(Duration.ZERO),
            store);
    service.post("{\"payloads\": [4]}");

    // when
    CommandRun run = CommandRun.of("dead-letters", "retry", "--all", "--url", service.url());

    // then: one refusal, naming the first, and nothing queued
    assertEquals(1, run.exit(), run.toString());
    assertEquals(1, run.err().split("stopped at", -1).length - 1, run.toString());
    assertTrue(run.err().contains("stopped at " + dead.getFirst()), run.toString());
    assertTrue(run.err().contains("stay dead letters"), run.toString());
    assertTrue(run.out().contains("0 dead letters queued"), run.toString());
    for (String id : dead) {
      service.awaitState(id, "dead");
    }
  }

  @Test
  void retryWantsIdsOrAllButNotBoth() {
    CommandRun both =
        CommandRun.of("dead-letters", "retry", "--all", "--url", service.url(), dead.getFirst());
    CommandRun neither = CommandRun.of("dead-letters", "retry", "--url", service.url());

    assertEquals(2, both.exit(), both.toString());
    assertTrue(both.err().contains("give dead letter ids, or --all"), both.toString());
    assertEquals(2, neither.exit(), neither.toString());
  }

  @Test
  void deleteDropsTheDeadLettersAndASecondDeleteExplains404() {
    CommandRun first =
        CommandRun.of("dead-letters", "delete", "--url", service.url(), dead.get(0), dead.get(1));
    CommandRun again = CommandRun.of("dead-letters", "delete", "--url", service.url(), dead.get(0));

    assertEquals(0, first.exit(), first.toString());
    assertTrue(first.out().contains(dead.get(1) + " deleted"), first.toString());
    assertEquals(1, again.exit(), again.toString());
    assertTrue(again.err().contains(dead.get(0) + ": not a dead letter at"), again.toString());
    CommandRun left = CommandRun.of("dead-letters", "list", "--url", service.url());
    assertTrue(left.out().contains("1 dead letter shown."), left.toString());
  }

  @Test
  void anIdThatIsAPathToAnotherDeadLetterDeletesNothing() {
    CommandRun run =
        CommandRun.of(
            "dead-letters", "delete", "--url", service.url(), dead.get(0) + "/../" + dead.get(1));

    assertEquals(1, run.exit(), run.toString());
    CommandRun left = CommandRun.of("dead-letters", "list", "--url", service.url());
    assertTrue(left.out().contains("3 dead letters shown."), left.toString());
  }

  @Test
  void withoutAnActionItSaysWhichOnesThereAre() {
    CommandRun run = CommandRun.of("dead-letters");

    assertEquals(2, run.exit(), run.toString());
    assertTrue(run.err().contains("list, retry or delete"), run.toString());
  }

  @Test
  void whenNothingListensItAsksWhetherTheServiceIsRunning() throws Exception {
    String url = RunningService.deadUrl();

    CommandRun run = CommandRun.of("dead-letters", "list", "--url", url);

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains("is the service running at " + url + "?"), run.toString());
  }
}
