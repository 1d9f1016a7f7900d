package io.sluice.core;

import java.util.List;

final class SelectImpl {
  private SelectImpl() {}

  static <R> R run(Context ctx, List<? extends Clause<? extends R>> clauses)
      throws InterruptedException {
    throw new UnsupportedOperationException("select: being written");
  }
}
