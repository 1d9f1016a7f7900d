package io.sluice.core;

/** The two kinds of thread every channel test runs its counterparts on. */
enum ThreadKind {
  PLATFORM {
    @Override
    Thread start(Runnable body) {
      return Thread.ofPlatform().daemon().name("test-platform").start(body);
    }
  },
  VIRTUAL {
    @Override
    Thread start(Runnable body) {
      return Thread.ofVirtual().name("test-virtual").start(body);
    }
  };

  abstract Thread start(Runnable body);

  @Override
  public String toString() {
    return name().toLowerCase(java.util.Locale.ROOT) + " threads";
  }
}
