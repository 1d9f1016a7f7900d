package io.sluice.server;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code sluice dead-letters list|retry|delete}: payloads whose every upload attempt failed. */
@Command(
    name = "dead-letters",
    mixinStandardHelpOptions = true,
    description = {
      "Lists, retries and deletes dead letters: accepted payloads whose every upload attempt"
          + " failed (see 'sluice serve --max-attempts'). A dead letter stays in the journal until it"
          + " is retried or deleted.",
      ""
    },
    footer = {
      "",
      "Examples:",
      "  sluice dead-letters list",
      "  sluice dead-letters list --all --json > dead.json",
      "  sluice dead-letters retry ID1 ID2",
      "  sluice dead-letters delete ID"
    },
    subcommands = {
      DeadLettersCommand.ListDeadLetters.class,
      DeadLettersCommand.Retry.class,
      DeadLettersCommand.Delete.class
    })
final class DeadLettersCommand implements Callable<Integer> {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine()
        .getErr()
        .println("sluice dead-letters: say what to do: list, retry or delete");
    spec.commandLine().usage(spec.commandLine().getErr());
    return 2;
  }

  /** {@code sluice dead-letters list}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Lists dead letters, oldest first: id, attempts, when it was accepted, the last upload error.",
        ""
      },
      footer = {
        "",
        "Examples:",
        "  sluice dead-letters list                  the first 100",
        "  sluice dead-letters list --limit 10 --after ID   the 10 after ID",
        "  sluice dead-letters list --all --json     every one, as one JSON document"
      })
  static final class ListDeadLetters implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(
        names = "--limit",
        paramLabel = "N",
        defaultValue = "100",
        description =
            "Dead letters per page, 1 to 1000; without --all only one page is shown. Default:"
                + " ${DEFAULT-VALUE}.")
    int limit;

    @Option(
        names = "--all",
        description = "Page through every dead letter instead of showing one page.")
    boolean all;

    @Option(names = "--after", paramLabel = "ID", description = "Start after this dead letter.")
    String after;

    @Option(
        names = "--json",
        description =
            "Print {\"deadLetters\": [...], \"next\": id|null} as the service answers it.")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      if (limit < 1 || limit > 1000) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--limit must be from 1 to 1000, got " + limit);
      }
      return client.run(
          spec,
          "sluice dead-letters list",
          (api, out, err) -> {
            List<Object> letters = new ArrayList<>();
            Object next = after;
            do {
              String path =
                  "/v1/dead-letters?limit="
                      + limit
                      + (next == null
                          ? ""
                          : "&after=" + URLEncoder.encode(next.toString(), StandardCharsets.UTF_8));
              ApiClient.Response r = api.get(path);
              if (r.status() != 200) {
                err.println(
                    "sluice dead-letters list: the service answered "
                        + r.status()
                        + ": "
                        + r.problem());
                return 1;
              }
              Map<String, Object> page = r.json();
              if (page.get("deadLetters") instanceof List<?> items) {
                letters.addAll(items);
              }
              next = page.get("next");
            } while (all && next != null);
            if (json) {
              Map<String, Object> doc = new LinkedHashMap<>();
              doc.put("deadLetters", letters);
              doc.put("next", next);
              out.println(Json.write(doc, true));
            } else {
              table(out, letters, next);
            }
            return 0;
          });
    }

    /** An instant from the service, to the second, for a table; the JSON output keeps it whole. */
    private static String toSeconds(Object time) {
      if (time == null) {
        return "-";
      }
      try {
        return java.time.Instant.parse(time.toString())
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
            .toString();
      } catch (java.time.format.DateTimeParseException e) {
        return time.toString();
      }
    }

    private void table(PrintWriter out, List<Object> letters, Object next) {
      if (letters.isEmpty()) {
        out.println(after == null ? "No dead letters." : "No dead letters after " + after + ".");
        return;
      }
      String format = "%-36s  %8s  %-20s  %-20s  %s%n";
      out.printf(format, "ID", "ATTEMPTS", "ACCEPTED", "DEAD SINCE", "LAST ERROR");
      for (Object item : letters) {
        if (item instanceof Map<?, ?> job) {
          Object error = job.get("lastError");
          out.printf(
              format,
              job.get("id"),
              job.get("attempts"),
              toSeconds(job.get("createdAt")),
              toSeconds(job.get("finishedAt")),
              error == null ? "-" : oneLine(error.toString()));
        }
      }
      out.println(
          letters.size() + (letters.size() == 1 ? " dead letter" : " dead letters") + " shown.");
      if (next != null) {
        out.println(
            "More: sluice dead-letters list --after " + next + " --limit " + limit + ", or --all");
      }
    }

    private static String oneLine(String text) {
      String t = JobsCommand.visible(text.replaceAll("\\s+", " ").strip());
      return t.length() > 120 ? t.substring(0, 117) + "..." : t;
    }
  }

  /** {@code sluice dead-letters retry ID...} or {@code --all}. */
  @Command(
      name = "retry",
      mixinStandardHelpOptions = true,
      description = {"Queues dead letters for upload again, with a fresh set of attempts.", ""},
      footer = {
        "",
        "Examples:",
        "  sluice dead-letters retry ID1 ID2",
        "  sluice jobs ID1            then follows its state",
        "  sluice dead-letters retry --all",
        "                             every dead letter, e.g. once the store's settings are fixed",
        "",
        "Exit status: 0 when every id was queued, 1 otherwise."
      })
  static final class Retry implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Parameters(arity = "0..*", paramLabel = "ID", description = "Dead letter ids.")
    List<String> ids = List.of();

    @Option(
        names = "--all",
        description =
            "Retry every dead letter the service holds, oldest first, instead of the ids given.")
    boolean all;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      if (all == !ids.isEmpty()) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "give dead letter ids, or --all, not both or neither");
      }
      if (!all) {
        return eachId(spec, client, ids, "retry", id -> "/v1/dead-letters/" + id + "/retry", true);
      }
      return client.run(
          spec,
          "sluice dead-letters retry --all",
          (api, out, err) -> {
            int queued = 0;
            int failed = 0;
            boolean full = false;
            Object after = null;
            do {
              ApiClient.Response r =
                  api.get(
                      "/v1/dead-letters?limit=1000"
                          + (after == null
                              ? ""
                              : "&after="
                                  + URLEncoder.encode(after.toString(), StandardCharsets.UTF_8)));
              if (r.status() != 200) {
                err.println(
                    "sluice dead-letters retry --all: listing the dead letters, the service"
                        + " answered "
                        + r.status()
                        + ": "
                        + r.problem());
                return 1;
              }
              Map<String, Object> page = r.json();
              if (page.get("deadLetters") instanceof List<?> items) {
                for (Object item : items) {
                  if (item instanceof Map<?, ?> job && job.get("id") != null) {
                    String id = job.get("id").toString();
                    // retried ones leave the list, so the next page starts after the last id seen
                    after = id;
                    ApiClient.Response retried = api.post("/v1/dead-letters/" + id + "/retry");
                    if (retried.status() / 100 == 2) {
                      queued++;
                    } else if (retried.status() == 429) { // no room: the rest would not fit either
                      failed++;
                      full = true;
                      err.println(
                          "sluice dead-letters retry --all: stopped at "
                              + id
                              + ": "
                              + retried.problem()
                              + ". It and the ones after it stay dead letters; run this again"
                              + " once queued payloads have been uploaded");
                      break;
                    } else if (retried.status() != 404) { // 404: retried or deleted meanwhile
                      failed++;
                      err.println(
                          "sluice dead-letters retry --all: " + id + ": " + retried.problem());
                    }
                  }
                }
              }
              if (full || page.get("next") == null) {
                break;
              }
            } while (true);
            out.println(
                queued
                    + (queued == 1 ? " dead letter" : " dead letters")
                    + " queued for upload again"
                    + (failed == 0 ? "" : "; " + failed + " could not be (see above)"));
            return failed == 0 ? 0 : 1;
          });
    }
  }

  /** {@code sluice dead-letters delete ID...}. */
  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = {
        "Deletes dead letters for good: their payloads are dropped and never uploaded.",
        ""
      },
      footer = {
        "",
        "Example:",
        "  sluice dead-letters delete ID1 ID2",
        "",
        "Exit status: 0 when every id was deleted, 1 otherwise."
      })
  static final class Delete implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Parameters(arity = "1..*", paramLabel = "ID", description = "Dead letter ids.")
    List<String> ids;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      return eachId(spec, client, ids, "delete", id -> "/v1/dead-letters/" + id, false);
    }
  }

  private static int eachId(
      CommandLine.Model.CommandSpec spec,
      ClientOptions client,
      List<String> ids,
      String verb,
      java.util.function.UnaryOperator<String> path,
      boolean post)
      throws InterruptedException {
    return client.run(
        spec,
        "sluice dead-letters " + verb,
        (api, out, err) -> {
          int failed = 0;
          for (String raw : ids) {
            String id = raw.strip();
            String at = path.apply(ApiClient.segment(id));
            ApiClient.Response r = post ? api.post(at) : api.delete(at);
            if (r.status() / 100 == 2) {
              out.println(id + (post ? " queued for upload again" : " deleted"));
            } else {
              failed++;
              err.println(
                  "sluice dead-letters "
                      + verb
                      + ": "
                      + id
                      + ": "
                      + (r.status() == 404 && "not_a_dead_letter".equals(r.json().get("error"))
                          ? "not a dead letter at "
                              + api.base()
                              + " (already retried or deleted, never dead, or a mistyped id;"
                              + " 'sluice dead-letters list' shows them)"
                          : r.problem()));
            }
          }
          return failed == 0 ? 0 : 1;
        });
  }
}
