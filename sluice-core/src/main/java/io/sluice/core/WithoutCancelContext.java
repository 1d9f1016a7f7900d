package io.sluice.core;

import java.util.Optional;

/** {@link Context#withoutCancel()}: the parent's values and clock, never done. */
final class WithoutCancelContext extends BaseContext {
  private final BaseContext parent;
  private final Channel<Void> never = Channel.unbuffered();

  WithoutCancelContext(BaseContext parent) {
    this.parent = parent;
  }

  @Override
  BaseContext parent() {
    return parent;
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
    return ".WithoutCancel";
  }
}
