package io.sluice.core;

/**
 * A root context: never done. {@link Context#background()} and {@link Context#background(Clock)}.
 */
final class BackgroundContext extends NeverDoneContext {
  static final BackgroundContext SYSTEM = new BackgroundContext(Clock.system());

  final Clock clock;

  BackgroundContext(Clock clock) {
    this.clock = clock;
  }

  @Override
  BaseContext parent() {
    return null;
  }

  @Override
  String label() {
    return clock == Clock.system() ? "context.Background" : "context.Background(" + clock + ")";
  }
}
