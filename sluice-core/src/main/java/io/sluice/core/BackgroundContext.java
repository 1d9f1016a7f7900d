package io.sluice.core;

import java.util.Optional;

/**
 * A root context: never done. {@link Context#background()} and {@link Context#background(Clock)}.
 */
final class BackgroundContext extends BaseContext {
  static final BackgroundContext SYSTEM = new BackgroundContext(Clock.system());

  final Clock clock;
  private final Channel<Void> never = Channel.unbuffered();

  BackgroundContext(Clock clock) {
    this.clock = clock;
  }

  @Override
  BaseContext parent() {
    return null;
  }

  @Override
  ContextHooks.Hook register(Runnable action) {
    return null;
  }

  @Override
  boolean unregister(ContextHooks.Hook hook) {
    return false;
  }

  @Override
  boolean cancellable() {
    return false;
  }

  @Override
  public boolean isDone() {
    return false;
  }

  @Override
  public ReceiveChannel<Void> done() {
    return never;
  }

  @Override
  public Optional<ContextCancelledException> err() {
    return Optional.empty();
  }

  @Override
  public Optional<Throwable> cause() {
    return Optional.empty();
  }

  @Override
  String label() {
    return clock == Clock.system() ? "context.Background" : "context.Background(" + clock + ")";
  }
}
