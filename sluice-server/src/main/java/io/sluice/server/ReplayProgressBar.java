package io.sluice.server;

import java.io.PrintStream;
import java.util.function.LongConsumer;

/**
 * Shows journal replay progress at start: a bar redrawn in place when its stream is a terminal, or
 * a line every 10% for a log (a file or a pipe), where redraws would pile up as carriage returns.
 * The caller says which its stream is ({@link Terminal#stderr()} for standard error). Silent for a
 * replay that is over at once.
 */
final class ReplayProgressBar implements LongConsumer {
  private static final int WIDTH = 40;

  private final PrintStream out;
  private final boolean terminal;
  private long lastShown = -1;
  private boolean drew;

  /**
   * @param out where to show the progress
   * @param terminal whether {@code out} is a terminal: redraw a bar in place, else write lines
   */
  ReplayProgressBar(PrintStream out, boolean terminal) {
    this.out = out;
    this.terminal = terminal;
  }

  @Override
  public synchronized void accept(long percent) {
    if (percent == lastShown || (lastShown < 0 && percent >= 100)) {
      return;
    }
    if (terminal) {
      int filled = (int) (WIDTH * percent / 100);
      out.print(
          "\rreplaying journal ["
              + "#".repeat(filled)
              + " ".repeat(WIDTH - filled)
              + "] "
              + percent
              + "%");
      drew = true;
    } else if (percent / 10 != lastShown / 10 || lastShown < 0) {
      out.println("sluice: replaying journal: " + percent + "%");
    }
    out.flush();
    lastShown = percent;
  }

  synchronized void done() {
    if (drew) {
      out.println();
    }
  }
}
