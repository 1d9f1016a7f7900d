package io.sluice.server;

import java.io.Console;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Whether standard error is a terminal: progress drawn there in place (a carriage return, then the
 * line again) is then seen as one line changing, where in a file or a pipe every redraw would pile
 * up.
 *
 * <p>{@link System#console()} cannot tell: it is about standard input and output, not error, so
 * {@code sluice serve 2>file} typed in a terminal has a console while its standard error is a file
 * (and with standard output redirected it has none while standard error is the terminal). On Linux
 * the answer comes from the file that descriptor 2 is open on, {@code /proc/self/fd/2}: a terminal
 * device ({@code /dev/pts/N}, {@code /dev/ttyN}, {@code /dev/console}) or not. Elsewhere, or
 * without {@code /proc}, the console is the best guess the JDK offers: a terminal on standard input
 * and output, which is right when nothing was redirected.
 */
final class Terminal {
  private static final Path STDERR = Path.of("/proc/self/fd/2");

  private Terminal() {}

  /** Whether standard error is a terminal, as the class comment says; asked anew each call. */
  static boolean stderr() {
    Path device;
    try {
      device = Files.readSymbolicLink(STDERR);
    } catch (IOException | UnsupportedOperationException | SecurityException noProc) {
      Console console = System.console();
      return console != null && console.isTerminal();
    }
    return isTerminalDevice(device.toString());
  }

  /** Whether a file descriptor open on {@code path} (as /proc names it) is on a terminal. */
  static boolean isTerminalDevice(String path) {
    return path.startsWith("/dev/pts/")
        || path.startsWith("/dev/tty")
        || path.equals("/dev/console");
  }
}
