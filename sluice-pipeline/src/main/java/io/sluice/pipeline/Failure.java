package io.sluice.pipeline;

import java.util.Objects;

/**
 * One item that a stage could not process, as handed to the error sink of {@link
 * ErrorPolicy#skip(Sink)} or the dead-letter sink of {@link ErrorPolicy#retry(int,
 * java.time.Duration, Sink)}.
 *
 * @param stage the name of the stage that failed
 * @param item the item the stage was processing (for a {@link Sink}'s batch write, the batch as a
 *     {@code List})
 * @param error what the stage's function threw
 * @param attempts how many times the function was called with this item (1 unless retried)
 */
public record Failure(String stage, Object item, Throwable error, int attempts) {

  /**
   * Checks the components.
   *
   * @param stage the name of the stage that failed
   * @param item the item the stage was processing
   * @param error what the stage's function threw
   * @param attempts how many times the function was called with this item
   */
  public Failure {
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(item, "item");
    Objects.requireNonNull(error, "error");
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1, was " + attempts);
    }
  }
}
