package io.sluice.core;

import java.util.Optional;

/*
 * Context.withValue: one key and value over a parent whose cancellation it shares.
 *
 * Everything but values goes straight to `source`, the nearest ancestor that is not a value
 * context, so a long run of withValue calls costs one hop, not one call per value: deep enough,
 * the calls through every link overflowed the stack (in withCancel, isDone, and in the cancelling
 * of a child below such a run). Values are looked up by BaseContext's loop up the parents.
 */
final class ValueContext extends BaseContext {
  private final BaseContext parent;
  private final BaseContext source; // never a ValueContext
  private final Key<?> key;
  private final Object value;

  ValueContext(BaseContext parent, Key<?> key, Object value) {
    this.parent = parent;
    this.source = parent instanceof ValueContext v ? v.source : parent;
    this.key = key;
    this.value = value;
  }

  @Override
  BaseContext parent() {
    return parent;
  }

  /** This context's value if {@code k} is its key, else null. */
  @Override
  Object ownValue(Key<?> k) {
    return k == key ? value : null;
  }

  @Override
  ContextHooks.Hook register(Runnable action) {
    return source.register(action);
  }

  @Override
  boolean unregister(ContextHooks.Hook hook) {
    return source.unregister(hook);
  }

  @Override
  boolean cancellable() {
    return source.cancellable();
  }

  @Override
  public boolean isDone() {
    return source.isDone();
  }

  @Override
  public ReceiveChannel<Void> done() {
    return source.done();
  }

  @Override
  public Optional<ContextCancelledException> err() {
    return source.err();
  }

  @Override
  public Optional<Throwable> cause() {
    return source.cause();
  }

  @Override
  String label() {
    return ".WithValue(" + key + ", " + value + ")";
  }
}
