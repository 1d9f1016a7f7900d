package io.sluice.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code sluice schedules} against a real service. */
@Timeout(30)
class SchedulesCommandTest {
  @TempDir Path dataDir;
  @RegisterExtension final Services services = new Services();
  private RunningService service;

  @BeforeEach
  void start() throws Exception {
    service = services.start(dataDir);
  }

  private CommandRun run(String... args) {
    String[] all = new String[args.length + 2];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--url";
    all[args.length + 1] = service.url();
    return CommandRun.of(all);
  }

  @Test
  void withoutSchedulesTheListSaysHowToCreateOne() {
    CommandRun r = run("schedules");

    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("No schedules."), r.toString());
  }

  @Test
  void aPutScheduleIsListedWithItsTriggerAndNextFire() {
    CommandRun put =
        run(
            "schedules",
            "put",
            "nightly",
            "--trigger",
            "cron unix Europe/Berlin 30 2 * * *",
            "--payload",
            "{\"report\": \"nightly\"}",
            "--misfire",
            "catch-up 3");

    CommandRun list = run("schedules");

    assertEquals(0, put.exit(), put.toString());
    assertTrue(put.out().contains("nightly created; next fire 20"), put.toString());
    assertEquals(0, list.exit(), list.toString());
    assertTrue(list.out().contains("cron unix Europe/Berlin 30 2 * * *"), list.toString());
    assertTrue(list.out().contains("catch-up 3 / skip"), list.toString());
  }

  @Test
  void aBadTriggerIsExplainedAndExitsWithOne() {
    CommandRun r = run("schedules", "put", "x", "--trigger", "sometimes", "--payload", "{}");

    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("invalid trigger spec 'sometimes'"), r.toString());
  }

  @Test
  void aPayloadThatIsNotJsonIsRefusedBeforeAnythingIsSent() {
    CommandRun r =
        run("schedules", "put", "x", "--trigger", "at 2030-01-01T00:00:00Z", "--payload", "{oops");

    assertEquals(2, r.exit(), r.toString());
    assertTrue(r.err().contains("--payload is not JSON"), r.toString());
  }

  @Test
  void givenAPayloadWithNumbersDoublesCannotHoldWhenItIsPutThenEachFireUploadsItExactlyAsGiven()
      throws Exception {
    String payload = "{\"n\": 1E5, \"big\": 0.12345678901234567890123, \"a\": [ 1 , -0.0 ]}";

    CommandRun put =
        run("schedules", "put", "x", "--trigger", "at 2030-01-01T00:00:00Z", "--payload", payload);

    assertEquals(0, put.exit(), put.toString());
    String shown = service.send("/v1/schedules/x", java.net.http.HttpRequest.Builder::GET).body();
    assertTrue(shown.contains("\"payload\":" + payload), shown);
  }

  @Test
  void givenAPayloadCutShortOrFollowedByMoreWhenItIsPutThenItIsRefusedBeforeAnythingIsSent() {
    for (String payload : new String[] {"{\"a\": 1", "[1, 2", "1 2", "{} []"}) {
      CommandRun r =
          run(
              "schedules",
              "put",
              "x",
              "--trigger",
              "at 2030-01-01T00:00:00Z",
              "--payload",
              payload);

      assertEquals(2, r.exit(), payload + ": " + r);
      assertTrue(r.err().contains("--payload is not JSON"), r.toString());
    }
    CommandRun list = run("schedules");
    assertTrue(list.out().contains("No schedules."), list.toString());
  }

  @Test
  void deleteRemovesAScheduleAndReportsAnUnknownOne() {
    run("schedules", "put", "s", "--trigger", "at 2030-01-01T00:00:00Z", "--payload", "1");

    CommandRun r = run("schedules", "delete", "s", "ghost");

    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.out().contains("s deleted"), r.toString());
    assertTrue(r.err().contains("no schedule named ghost"), r.toString());
  }

  @Test
  void aNameThatIsAPathElsewhereDeletesNothingElse() {
    run("schedules", "put", "s", "--trigger", "at 2030-01-01T00:00:00Z", "--payload", "1");

    CommandRun r = run("schedules", "delete", "x/../s");

    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("x/../s: "), r.toString());
    assertTrue(run("schedules").out().contains("at 2030-01-01T00:00:00Z"), "s is still there");
  }

  @Test
  void aNameWithCharactersAUrlCannotHoldIsExplainedInOneLine() {
    CommandRun r = run("schedules", "delete", "a b");

    assertEquals(1, r.exit(), r.toString());
    assertTrue(r.err().contains("a b: "), r.toString());
    assertFalse(r.err().contains("Exception"), r.toString());
  }

  @Test
  void listAsJsonIsTheServicesAnswer() {
    run("schedules", "put", "s", "--trigger", "at 2030-01-01T00:00:00Z", "--payload", "[1]");

    CommandRun r = run("schedules", "list", "--json");

    assertEquals(0, r.exit(), r.toString());
    assertTrue(r.out().contains("\"trigger\" : \"at 2030-01-01T00:00:00Z\""), r.toString());
  }
}
