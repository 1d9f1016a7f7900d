package io.sluice.core;

import java.util.Optional;

/**
 * A context that is never done: a root ({@link BackgroundContext}) or one that cuts cancellation
 * off from its parent ({@link WithoutCancelContext}). It has no hooks to run, its done channel is
 * never closed, and it reports no error.
 */
abstract sealed class NeverDoneContext extends BaseContext
    permits BackgroundContext, WithoutCancelContext {
  private final Channel<Void> never = Channel.unbuffered();

  @Override
  final ContextHooks.Hook register(Runnable action) {
    return null;
  }

  @Override
  final boolean unregister(ContextHooks.Hook hook) {
    return false;
  }

  @Override
  final boolean cancellable() {
    return false;
  }

  @Override
  public final boolean isDone() {
    return false;
  }

  @Override
  public final ReceiveChannel<Void> done() {
    return never;
  }

  @Override
  public final Optional<ContextCancelledException> err() {
    return Optional.empty();
  }

  @Override
  public final Optional<Throwable> cause() {
    return Optional.empty();
  }
}
