package io.sluice.core;

import java.util.Objects;
import java.util.concurrent.Callable;

/** {@link OnceValue} over a {@link OnceCell}; see there for the algorithm. */
final class OnceValueImpl<T> implements OnceValue<T> {
  private final OnceCell cell;
  private final Callable<? extends T> compute;

  OnceValueImpl(OnceCell cell, Callable<? extends T> compute) {
    this.cell = cell;
    this.compute = Objects.requireNonNull(compute, "compute");
  }

  @Override
  @SuppressWarnings("unchecked") // the cell only ever holds what compute returned
  public T get() throws InterruptedException {
    return (T) cell.get(null, compute);
  }

  @Override
  @SuppressWarnings("unchecked")
  public T get(Context ctx) throws InterruptedException {
    return (T) cell.get((BaseContext) Objects.requireNonNull(ctx, "ctx"), compute);
  }

  @Override
  public boolean isDone() {
    return cell.isDone();
  }

  @Override
  public String toString() {
    return "OnceValue[" + cell + "]";
  }

  void checkInvariants() {
    cell.checkInvariants();
  }
}
