package io.sluice.pipeline;

import java.util.Optional;

/**
 * Thrown by a terminal when a stage failed under the fail-fast policy: names the stage and the
 * item, has the original failure as its cause, and carries the run's report. Failures that happened
 * in other stages before the run stopped are attached as {@linkplain #getSuppressed() suppressed}.
 */
public final class PipelineException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final int MAX_ITEM_TEXT = 200;

  private final String stage;
  private final transient Object item;
  private transient volatile Report report;

  PipelineException(String stage, Object item, Throwable cause) {
    super(message(stage, item, cause), cause);
    this.stage = stage;
    this.item = item;
  }

  private static String message(String stage, Object item, Throwable cause) {
    String what = item == null ? "" : " on item " + abbreviate(text(item));
    return "stage '" + stage + "' failed" + what + ": " + text(cause);
  }

  /**
   * {@code o}'s text, or a stand-in naming its class if its {@code toString} throws: the message
   * must not replace the failure it reports with one of its own.
   */
  private static String text(Object o) {
    try {
      return String.valueOf(o);
    } catch (Throwable t) {
      return o.getClass().getName()
          + "@"
          + Integer.toHexString(System.identityHashCode(o))
          + " (its toString threw "
          + t.getClass().getName()
          + ")";
    }
  }

  private static String abbreviate(String s) {
    return s.length() <= MAX_ITEM_TEXT ? s : s.substring(0, MAX_ITEM_TEXT) + "...";
  }

  /**
   * The name of the stage that failed first.
   *
   * @return the stage name
   */
  public String stage() {
    return stage;
  }

  /**
   * The item that stage was processing, if the failure concerned one item (a source or a stage's
   * own machinery can fail without one; for a {@link Sink}, the item is the batch).
   *
   * @return the item, or empty
   */
  public Optional<Object> item() {
    return Optional.ofNullable(item);
  }

  /**
   * The run's report, with {@link Outcome#FAILED}.
   *
   * @return the report
   */
  public Report report() {
    return report;
  }

  void report(Report report) {
    this.report = report;
  }
}
