package io.sluice.core;

import java.util.Objects;
import java.util.concurrent.Callable;

/** {@link Once} over a {@link OnceCell}; see there for the algorithm. */
final class OnceImpl implements Once {
  private final OnceCell cell;

  OnceImpl(OnceCell cell) {
    this.cell = cell;
  }

  @Override
  public void run(Action action) throws InterruptedException {
    Objects.requireNonNull(action, "action");
    if (!cell.settled()) {
      cell.get(null, callable(action));
    }
  }

  @Override
  public void run(Context ctx, Action action) throws InterruptedException {
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(ctx, "ctx");
    if (!cell.settled()) {
      cell.get((BaseContext) ctx, callable(action));
    }
  }

  private static Callable<Object> callable(Action action) {
    return () -> {
      action.run();
      return null;
    };
  }

  @Override
  public boolean isDone() {
    return cell.isDone();
  }

  @Override
  public String toString() {
    return "Once[" + cell + "]";
  }

  void checkInvariants() {
    cell.checkInvariants();
  }
}
