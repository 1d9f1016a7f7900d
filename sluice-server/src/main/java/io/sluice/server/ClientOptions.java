package io.sluice.server;

import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Optional;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** The options every client command shares: where the service is and its token. */
final class ClientOptions {
  @Option(
      names = "--url",
      paramLabel = "URL",
      defaultValue = "${SLUICE_URL:-http://localhost:8080}",
      description = "The service's base URL (SLUICE_URL). Default: ${DEFAULT-VALUE}.")
  String url;

  @Option(
      names = "--token",
      paramLabel = "TOKEN",
      defaultValue = "${SLUICE_TOKEN:-}",
      description =
          "Sent as 'Authorization: Bearer <token>' when the service requires one"
              + " (SLUICE_TOKEN). Default: none.")
  String token;

  /**
   * The base URL without a trailing slash.
   *
   * @throws CommandLine.ParameterException if it is not an http or https URL
   */
  URI baseUri(CommandLine.Model.CommandSpec spec) {
    String text = url.strip();
    while (text.endsWith("/")) {
      text = text.substring(0, text.length() - 1);
    }
    try {
      URI uri = new URI(text);
      if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          && uri.getHost() != null) {
        return uri;
      }
    } catch (URISyntaxException e) {
      // reported below
    }
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "--url '" + url + "' is not an http(s) URL; write e.g. http://localhost:8080");
  }

  Optional<String> bearer() {
    return token == null || token.isBlank() ? Optional.empty() : Optional.of(token.strip());
  }

  /** What a client command does with the service, given its output streams. */
  @FunctionalInterface
  interface Session {
    /**
     * Talks to the service.
     *
     * @return the exit status
     */
    int run(ApiClient api, PrintWriter out, PrintWriter err)
        throws ApiClient.ApiException, InterruptedException;
  }

  /**
   * Runs a client command's session against the service: a service that cannot be reached or
   * refuses the token is one line on stderr ({@code command: what to do}) and exit status 1.
   */
  int run(CommandLine.Model.CommandSpec spec, String command, Session session)
      throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (ApiClient api = new ApiClient(baseUri(spec), bearer())) {
      return session.run(api, out, err);
    } catch (ApiClient.ApiException e) {
      err.println(command + ": " + e.getMessage());
      return 1;
    } finally {
      out.flush();
      err.flush();
    }
  }
}
