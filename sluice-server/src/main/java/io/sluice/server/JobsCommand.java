package io.sluice.server;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice jobs ID...}: what became of accepted payloads. */
@Command(
    name = "jobs",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Shows what became of accepted payloads: each id that POST /v1/payloads returned is a job"
          + " whose state is queued, running, failed-waiting-retry, succeeded or dead, with its"
          + " upload attempts, the last upload error and the object key it is (or will be)"
          + " written to.",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  sluice jobs 0192f3c4-a1b2-7c3d-9e8f-00a1b2c3d4e5",
      "  sluice jobs --url http://ingest:8080 --token \"$TOKEN\" ID1 ID2",
      "  sluice jobs --json ID | jq -r .state",
      "",
      "Exit status: 0 when every job was found, 1 otherwise.",
      "A job that succeeded long ago (past the service's --finished-retention) is shown from its"
          + " object, without attempts or times; 'unknown job' means it was never accepted by"
          + " that service, or its dead letter or object was deleted."
    })
final class JobsCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Option(names = "--json", description = "Print the service's JSON answer, one line per job.")
  boolean json;

  @Parameters(
      arity = "1..*",
      paramLabel = "ID",
      description = "Job ids, as POST /v1/payloads returned them.")
  List<String> ids;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    return client.run(
        spec,
        "sluice jobs",
        (api, out, err) -> {
          int failed = 0;
          for (int i = 0; i < ids.size(); i++) {
            String id = ids.get(i).strip();
            ApiClient.Response r = api.get("/v1/jobs/" + ApiClient.segment(id));
            if (r.status() == 200) {
              if (json) {
                out.println(Json.write(r.json(), false));
              } else {
                if (i > 0) {
                  out.println();
                }
                print(out, r.json());
              }
            } else {
              failed++;
              err.println("sluice jobs: " + id + ": " + explain(r, api));
            }
          }
          return failed == 0 ? 0 : 1;
        });
  }

  private static String explain(ApiClient.Response r, ApiClient api) {
    if (r.status() == 404 && "unknown_job".equals(r.json().get("error"))) {
      return "unknown job at "
          + api.base()
          + " (never accepted by this service, or its dead letter or object was deleted)";
    }
    return r.status() / 100 == 4
        ? r.problem()
        : "the service answered " + r.status() + ": " + r.problem();
  }

  static void print(PrintWriter out, Map<String, Object> job) {
    boolean forgotten = Boolean.TRUE.equals(job.get("forgotten"));
    out.println("Job         " + job.get("id"));
    out.println(
        "State       "
            + job.get("state")
            + (forgotten
                ? "  (its object is written; the service no longer remembers its attempts)"
                : describeState(String.valueOf(job.get("state")), job.get("nextAttemptAt"))));
    out.println("Attempts    " + orDash(job.get("attempts")));
    out.println("Last error  " + orDash(visible(job.get("lastError"))));
    out.println("Object key  " + job.get("key"));
    if (job.get("source") != null) {
      out.println("Source      " + visible(job.get("source")));
    }
    out.println("Accepted    " + orDash(job.get("createdAt")));
    out.println("Last start  " + orDash(job.get("lastAttemptAt")));
    if (job.get("nextAttemptAt") != null) {
      out.println("Next start  " + job.get("nextAttemptAt"));
    }
    out.println("Finished    " + orDash(job.get("finishedAt")));
  }

  /**
   * {@code value} as text safe for a terminal: a client's {@code source} or an upload's error may
   * hold control characters, and an escape sequence printed as is would drive the user's terminal
   * (colours, cursor moves, a title, worse). Line breaks and tabs become spaces, other control
   * characters {@code ?}. Null stays null.
   */
  static String visible(Object value) {
    if (value == null) {
      return null;
    }
    return value.toString().replaceAll("[\\t\\n\\r]", " ").replaceAll("\\p{Cc}", "?");
  }

  /** Whether {@code time}, an ISO-8601 instant from the service or null, is still ahead. */
  private static boolean startsLater(Object time) {
    try {
      return time != null && Instant.parse(time.toString()).isAfter(Instant.now());
    } catch (DateTimeParseException e) {
      return false;
    }
  }

  private static Object orDash(Object value) {
    return value == null ? "-" : value;
  }

  private static String describeState(String state, Object nextAttemptAt) {
    return switch (state) {
      case "queued" ->
          startsLater(nextAttemptAt)
              ? "  (waiting for its start time)"
              : "  (waiting for an upload worker)";
      case "running" -> "  (being uploaded now)";
      case "failed-waiting-retry" -> "  (the last upload failed; it will be retried)";
      case "succeeded" -> "  (the object is written)";
      case "dead" ->
          "  (every attempt failed; 'sluice dead-letters retry ID' tries again, 'delete' drops it)";
      default -> "";
    };
  }
}
