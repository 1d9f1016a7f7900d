package io.sluice.server;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine;

/**
 * {@code sluice serve} for a child JVM whose start is held at the first journal replay progress
 * report: it prints {@value #HELD} and waits until a line (or the end) arrives on its standard
 * input, so a test can act while the service is replaying, however fast the replay.
 */
final class HeldServe {
  static final String HELD = "held at the first replay progress report";

  private HeldServe() {}

  public static void main(String[] args) {
    System.setProperty(
        "java.util.logging.SimpleFormatter.format", "%1$tFT%1$tT.%1$tL %4$s %3$s: %5$s%6$s%n");
    CommandLine cli = Main.commandLine(args, System.getenv());
    ServeCommand serve = (ServeCommand) cli.getSubcommands().get("serve").getCommand();
    AtomicBoolean held = new AtomicBoolean();
    serve.startHook =
        new SluiceServer.StartObserver() {
          @Override
          public void replayProgress(long percent) {
            if (held.compareAndSet(false, true)) {
              System.err.println(HELD + " (" + percent + "%)");
              System.err.flush();
              try {
                System.in.read();
              } catch (IOException e) {
                // the test is gone: go on
              }
            }
          }
        };
    System.exit(cli.execute(args));
  }
}
