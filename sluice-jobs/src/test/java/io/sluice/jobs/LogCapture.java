package io.sluice.jobs;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Captures what one logger records while open. The code under test logs through {@link
 * System.Logger}, which java.util.logging backs when nothing else is configured.
 */
public final class LogCapture implements AutoCloseable {
  private final Logger logger; // held, so the logger and its handler are not collected
  private final Level levelBefore;
  private final List<LogRecord> records = new CopyOnWriteArrayList<>();
  private final Handler handler =
      new Handler() {
        @Override
        public void publish(LogRecord r) {
          records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  private LogCapture(String name) {
    logger = Logger.getLogger(name);
    levelBefore = logger.getLevel();
    logger.setLevel(Level.ALL); // the tests' logging.properties quiets some loggers
    logger.addHandler(handler);
  }

  /**
   * Starts capturing what the logger named after {@code source} records.
   *
   * @param source the class whose name the logger has
   * @return the capture; close it to stop
   */
  public static LogCapture of(Class<?> source) {
    return new LogCapture(source.getName());
  }

  /**
   * The warnings recorded so far.
   *
   * @return their messages, oldest first
   */
  public List<String> warnings() {
    return records.stream()
        .filter(r -> r.getLevel() == Level.WARNING)
        .map(LogRecord::getMessage)
        .toList();
  }

  /**
   * The errors recorded so far.
   *
   * @return their messages, oldest first
   */
  public List<String> errors() {
    return records.stream()
        .filter(r -> r.getLevel() == Level.SEVERE)
        .map(LogRecord::getMessage)
        .toList();
  }

  @Override
  public void close() {
    logger.removeHandler(handler);
    logger.setLevel(levelBefore);
  }
}
