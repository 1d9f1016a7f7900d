package io.sluice.server;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code sluice schedules [list|put|delete]}: recurring jobs that upload a payload on a schedule.
 */
@Command(
    name = "schedules",
    mixinStandardHelpOptions = true,
    description = {
      "Lists, creates, changes and deletes recurring jobs: each fire of a schedule uploads its"
          + " payload as a new object, like an accepted payload (with retries and dead letters)."
          + " Schedules live in the journal and survive restarts. Without a subcommand, lists them.",
      ""
    },
    footer = {
      "",
      "Triggers:",
      "  at 2026-12-24T18:00:00Z                 once",
      "  every PT15M from 2026-01-01T00:00:00Z   every 15 minutes, aligned to the start",
      "  daily 02:30 Europe/Berlin [skip-gap]    every day at a wall-clock time",
      "  cron unix Europe/Berlin 0 2 * * *       cron (unix, quartz or spring dialect) in a zone",
      "",
      "Examples:",
      "  sluice schedules",
      "  sluice schedules put nightly --trigger 'cron unix Europe/Berlin 30 2 * * *' \\",
      "      --payload '{\"report\": \"nightly\"}' --misfire 'catch-up 3'",
      "  sluice schedules delete nightly"
    },
    subcommands = {
      SchedulesCommand.ListSchedules.class,
      SchedulesCommand.Put.class,
      SchedulesCommand.Delete.class
    })
final class SchedulesCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    return list(spec, client, false, "sluice schedules");
  }

  /** {@code sluice schedules list}. */
  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = {"Lists the schedules by name: trigger, next and last fire, policies.", ""})
  static final class ListSchedules implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--json", description = "Print {\"schedules\": [...]} as the service answers.")
    boolean json;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      return list(spec, client, json, "sluice schedules list");
    }
  }

  /** {@code sluice schedules put NAME ...}. */
  @Command(
      name = "put",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Creates or replaces a schedule. Putting the same definition again changes nothing, so a"
            + " deployment can put its schedules every time; a changed one takes effect at once.",
        ""
      },
      footer = {
        "",
        "Example:",
        "  sluice schedules put hourly --trigger 'every PT1H from 2026-01-01T00:00:00Z' \\",
        "      --payload '{\"kind\": \"hourly\"}' --overlap allow-concurrent"
      })
  static final class Put implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Parameters(
        index = "0",
        paramLabel = "NAME",
        description = "The schedule's name: letters, digits, '.', '_' and '-'.")
    String name;

    @Option(
        names = "--trigger",
        required = true,
        paramLabel = "SPEC",
        description = "When it fires (see 'sluice schedules --help' for the forms).")
    String trigger;

    @Option(
        names = "--payload",
        required = true,
        paramLabel = "JSON",
        description =
            "The JSON each fire uploads, exactly as written here, e.g. '{\"report\":"
                + " \"nightly\"}'.")
    String payload;

    @Option(
        names = "--misfire",
        paramLabel = "POLICY",
        description =
            "Fire times missed while the service was down: fire-once (default), skip, or"
                + " 'catch-up N'.")
    String misfire;

    @Option(
        names = "--misfire-threshold",
        paramLabel = "DURATION",
        description = "How late a fire may be and still run as usual (ISO-8601, default PT1M).")
    String misfireThreshold;

    @Option(
        names = "--overlap",
        paramLabel = "POLICY",
        description =
            "When the previous fire's upload is unfinished: skip (default), queue-one, or"
                + " allow-concurrent.")
    String overlap;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      try {
        Json.parse(payload); // checked here; sent as written, which is what each fire uploads
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--payload is not JSON: " + e.getMessage());
      }
      Map<String, Object> body = new LinkedHashMap<>();
      body.put("trigger", trigger);
      body.put("payload", new Json.Raw(payload));
      if (misfire != null) {
        body.put("misfire", misfire);
      }
      if (misfireThreshold != null) {
        body.put("misfireThreshold", misfireThreshold);
      }
      if (overlap != null) {
        body.put("overlap", overlap);
      }
      return client.run(
          spec,
          "sluice schedules put",
          (api, out, err) -> {
            ApiClient.Response r =
                api.put("/v1/schedules/" + ApiClient.segment(name), Json.write(body, false));
            if (r.status() / 100 != 2) {
              err.println("sluice schedules put: " + name + ": " + r.problem());
              return 1;
            }
            Map<String, Object> s = r.json();
            out.println(
                name
                    + (r.status() == 201 ? " created" : " saved")
                    + "; next fire "
                    + (s.get("nextFire") == null ? "none" : s.get("nextFire")));
            return 0;
          });
    }
  }

  /** {@code sluice schedules delete NAME...}. */
  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = {
        "Deletes schedules. Uploads they already started stay; nothing fires afterwards.",
        ""
      },
      footer = {"", "Exit status: 0 when every schedule was deleted, 1 otherwise."})
  static final class Delete implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Parameters(arity = "1..*", paramLabel = "NAME", description = "Schedule names.")
    List<String> names;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
      return client.run(
          spec,
          "sluice schedules delete",
          (api, out, err) -> {
            int failed = 0;
            for (String name : names) {
              ApiClient.Response r = api.delete("/v1/schedules/" + ApiClient.segment(name.strip()));
              if (r.status() == 204) {
                out.println(name + " deleted");
              } else {
                failed++;
                err.println("sluice schedules delete: " + name + ": " + r.problem());
              }
            }
            return failed == 0 ? 0 : 1;
          });
    }
  }

  private static int list(
      CommandLine.Model.CommandSpec spec, ClientOptions client, boolean json, String command)
      throws InterruptedException {
    return client.run(
        spec,
        command,
        (api, out, err) -> {
          ApiClient.Response r = api.get("/v1/schedules");
          if (r.status() != 200) {
            err.println(command + ": the service answered " + r.status() + ": " + r.problem());
            return 1;
          }
          if (json) {
            out.println(Json.write(r.json(), true));
          } else {
            table(out, r.json().get("schedules") instanceof List<?> l ? l : List.of());
          }
          return 0;
        });
  }

  private static void table(PrintWriter out, List<?> schedules) {
    if (schedules.isEmpty()) {
      out.println("No schedules. Create one with 'sluice schedules put NAME --trigger ...'.");
      return;
    }
    String format = "%-24s  %-44s  %-24s  %-24s  %s%n";
    out.printf(format, "NAME", "TRIGGER", "NEXT FIRE", "LAST FIRE", "MISFIRE / OVERLAP");
    for (Object item : schedules) {
      if (item instanceof Map<?, ?> s) {
        out.printf(
            format,
            s.get("name"),
            s.get("trigger"),
            s.get("nextFire") == null ? "-" : s.get("nextFire"),
            s.get("lastFire") == null ? "-" : s.get("lastFire"),
            s.get("misfire") + " / " + s.get("overlap"));
      }
    }
  }
}
