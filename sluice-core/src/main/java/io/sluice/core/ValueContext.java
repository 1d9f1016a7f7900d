package io.sluice.core;

import java.time.Instant;
import java.util.Optional;

/** {@link Context#withValue}: one key and value over a parent whose cancellation it shares. */
final class ValueContext extends BaseContext {
  private final BaseContext parent;
  private final Key<?> key;
  private final Object value;

  ValueContext(BaseContext parent, Key<?> key, Object value) {
    this.parent = parent;
    this.key = key;
    this.value = value;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <V> Optional<V> value(Key<V> k) {
    return k == key ? Optional.of((V) value) : parent.value(k);
  }

  @Override
  ContextHooks.Hook register(Runnable action) {
    return parent.register(action);
  }

  @Override
  boolean unregister(ContextHooks.Hook hook) {
    return parent.unregister(hook);
  }

  @Override
  boolean cancellable() {
    return parent.cancellable();
  }

  @Override
  public Optional<Instant> deadline() {
    return parent.deadline();
  }

  @Override
  public boolean isDone() {
    return parent.isDone();
  }

  @Override
  public ReceiveChannel<Void> done() {
    return parent.done();
  }

  @Override
  public Optional<ContextCancelledException> err() {
    return parent.err();
  }

  @Override
  public Optional<Throwable> cause() {
    return parent.cause();
  }

  @Override
  public Clock clock() {
    return parent.clock();
  }

  @Override
  public String toString() {
    return parent + ".WithValue(" + key + ", " + value + ")";
  }
}
