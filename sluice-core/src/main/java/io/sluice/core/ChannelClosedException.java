package io.sluice.core;

import java.util.Optional;

/**
 * Thrown when a send meets a closed channel, or when a receive that must return a value meets a
 * channel that is closed and drained.
 *
 * <p>Sending on a closed channel is a bug in Go (a panic) and a loud failure here. Receiving from a
 * closed channel is the normal end of a stream: use {@link ReceiveChannel#receiveOrClosed()} or
 * iteration to treat it as such without an exception.
 *
 * <p>When the channel was closed with {@link SendChannel#close(Throwable)}, that error is this
 * exception's {@linkplain #getCause() cause}, so a consumer learns why the producer stopped.
 */
public class ChannelClosedException extends IllegalStateException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what was attempted on the closed channel
   * @param error the error the channel was closed with, or {@code null} if it was closed normally
   */
  public ChannelClosedException(String message, Throwable error) {
    super(error == null ? message : message + " (closed with error: " + error + ")", error);
  }

  /**
   * The error the producer closed the channel with.
   *
   * @return the error, or empty if the channel was closed normally
   */
  public Optional<Throwable> error() {
    return Optional.ofNullable(getCause());
  }
}
