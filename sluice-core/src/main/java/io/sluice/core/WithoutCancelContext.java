package io.sluice.core;

/** {@link Context#withoutCancel()}: the parent's values and clock, never done. */
final class WithoutCancelContext extends NeverDoneContext {
  private final BaseContext parent;

  WithoutCancelContext(BaseContext parent) {
    this.parent = parent;
  }

  @Override
  BaseContext parent() {
    return parent;
  }

  @Override
  String label() {
    return ".WithoutCancel";
  }
}
