package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.sluice.server.objects.FilesystemObjectStore;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice jobs} against a real service. */
@Timeout(30)
class JobsCommandTest {
  private static final String UNKNOWN = "0192f3c4-a1b2-7c3d-9e8f-00a1b2c3d4e5";

  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();

  @Test
  void showsAJobReadablyWithItsStateAttemptsErrorKeyAndSource() throws Exception {
    RunningService service = services.start(dataDir);
    String id = service.post("{\"source\": \"sensor-7\", \"payloads\": [{\"n\": 1}]}").getFirst();
    service.awaitState(id, "succeeded");

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), id);

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("Job         " + id), run.toString());
    assertTrue(run.out().contains("State       succeeded"), run.toString());
    assertTrue(run.out().contains("Attempts    1"), run.toString());
    assertTrue(run.out().contains("Last error  -"), run.toString());
    assertTrue(
        run.out().matches("(?s).*Object key  \\d{4}/\\d{2}/\\d{2}/" + id + "\\.json.*"),
        run.toString());
    assertTrue(run.out().contains("Source      sensor-7"), run.toString());
    String time = "\\d{4}-\\d{2}-\\d{2}T[0-9:.]+Z";
    for (String label : List.of("Accepted    ", "Last start  ", "Finished    ")) {
      assertTrue(run.out().matches("(?s).*" + label + time + "\n.*"), label + run);
    }
    assertFalse(run.out().contains("Next start"), "shown only while a retry waits");
  }

  @Test
  void givenAJobQueuedWithAStartTimeWhenShownThenItSaysItWaitsForThatTime() throws Exception {
    RunningService service = services.start(dataDir);
    String id =
        service
            .post("{\"runAt\": \"2099-01-01T00:00:00Z\", \"payloads\": [{\"n\": 1}]}")
            .getFirst();

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), id);

    assertEquals(0, run.exit(), run.toString());
    assertTrue(
        run.out().contains("State       queued  (waiting for its start time)"), run.toString());
    assertTrue(run.out().contains("Next start  2099-01-01T00:00:00Z"), run.toString());
  }

  @Test
  void controlCharactersInASourceDoNotReachTheTerminal() throws Exception {
    RunningService service = services.start(dataDir);
    String id =
        service
            .post("{\"source\": \"a\\u001b[2Jb\\u009bc\\nd\", \"payloads\": [{\"n\": 1}]}")
            .getFirst();

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), id);

    assertEquals(0, run.exit(), run.toString());
    assertTrue(run.out().contains("Source      a?[2Jb?c d\n"), run.toString());
    assertFalse(run.out().chars().anyMatch(c -> c == 0x1b || c == 0x9b), run.toString());
  }

  @Test
  void aSuccessTheServiceNoLongerRemembersIsShownFromItsObjectWithoutAttempts() throws Exception {
    RunningService service =
        services.start(
            dataDir,
            c -> c.withFinishedRetention(0),
            FilesystemObjectStore.open(dataDir.resolve("objects")));
    String id = service.post("{\"payloads\": [{\"n\": 1}]}").getFirst();
    service.awaitState(id, "succeeded");

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), id);

    assertEquals(0, run.exit(), run.toString());
    assertTrue(
        run.out().contains("State       succeeded  (its object is written; the service no longer"),
        run.toString());
    assertTrue(run.out().contains("Attempts    -"), run.toString());
    assertTrue(run.out().contains("Last error  -"), run.toString());
    assertTrue(run.out().contains("Finished    -"), run.toString());
  }

  @Test
  void jsonPrintsTheServicesAnswerOneLinePerJob() throws Exception {
    RunningService service = services.start(dataDir);
    var ids = service.post("{\"payloads\": [1, 2]}");

    CommandRun run =
        CommandRun.of("jobs", "--json", "--url", service.url(), ids.get(0), ids.get(1));

    assertEquals(0, run.exit(), run.toString());
    String[] lines = run.out().strip().split("\n");
    assertEquals(2, lines.length, run.toString());
    Map<String, Object> first = Json.object(lines[0]);
    assertEquals(ids.get(0), first.get("id"));
    assertTrue(first.containsKey("state") && first.containsKey("key"), lines[0]);
  }

  @Test
  void anUnknownJobIsExplainedAndExitsWithStatus1() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), UNKNOWN);

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains(UNKNOWN + ": unknown job at " + service.url()), run.toString());
  }

  @Test
  void aMalformedIdGetsTheServicesExplanation() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), "nonsense");

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains("not a job id"), run.toString());
  }

  @Test
  void anIdThatIsAPathElsewhereIsNotFollowedThere() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), "../../health/live");

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains("../../health/live: no such resource"), run.toString());
    assertEquals("", run.out(), run.toString());
  }

  @Test
  void anIdWithCharactersAUrlCannotHoldIsExplainedInOneLine() throws Exception {
    RunningService service = services.start(dataDir);

    CommandRun run = CommandRun.of("jobs", "--url", service.url(), "not an id");

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains("not an id: id: not a job id"), run.toString());
    assertFalse(run.err().contains("Exception"), run.toString());
  }

  @Test
  void whenNothingListensItAsksWhetherTheServiceIsRunning() throws Exception {
    String url = RunningService.deadUrl();

    CommandRun run = CommandRun.of("jobs", "--url", url, UNKNOWN);

    assertEquals(1, run.exit(), run.toString());
    assertTrue(run.err().contains("connection refused"), run.toString());
    assertTrue(run.err().contains("is the service running at " + url + "?"), run.toString());
  }

  @Test
  void aServiceWithATokenAsksForOneAndAcceptsTheRightOne() throws Exception {
    RunningService service =
        services.start(
            dataDir,
            c -> c.withToken("s3cret"),
            io.sluice.server.objects.FilesystemObjectStore.open(dataDir.resolve("objects")));
    String id = service.post("{\"payloads\": [1]}").getFirst();

    CommandRun without = CommandRun.of("jobs", "--url", service.url(), id);
    CommandRun wrong = CommandRun.of("jobs", "--url", service.url(), "--token", "nope", id);
    CommandRun right = CommandRun.of("jobs", "--url", service.url(), "--token", "s3cret", id);

    assertEquals(1, without.exit(), without.toString());
    assertTrue(
        without.err().contains("needs a token: pass --token or set SLUICE_TOKEN"),
        without.toString());
    assertEquals(1, wrong.exit(), wrong.toString());
    assertTrue(wrong.err().contains("refused the token"), wrong.toString());
    assertEquals(0, right.exit(), right.toString());
  }

  @Test
  void theUrlCanComeFromSluiceUrl() throws Exception {
    RunningService service = services.start(dataDir);
    String id = service.post("{\"payloads\": [1]}").getFirst();
    // picocli reads ${SLUICE_URL} from a system property before the environment.
    System.setProperty("SLUICE_URL", service.url());
    try {
      CommandRun run = CommandRun.of("jobs", id);

      assertEquals(0, run.exit(), run.toString());
    } finally {
      System.clearProperty("SLUICE_URL");
    }
  }

  @Test
  void anUrlThatIsNotHttpIsAUsageError() {
    CommandRun run = CommandRun.of("jobs", "--url", "localhost:8080", UNKNOWN);

    assertEquals(2, run.exit(), run.toString());
    assertTrue(run.err().contains("is not an http(s) URL"), run.toString());
  }
}
