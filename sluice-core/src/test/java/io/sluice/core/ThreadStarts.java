package io.sluice.core;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import jdk.jfr.consumer.RecordingStream;

/*
 * Counts the threads the JVM starts between begin() and end(), by two witnesses, since no one
 * JDK API sees both kinds of thread:
 *
 * - platform threads: ThreadMXBean's total started count (it counts no virtual thread) and, for the
 *   failure message, the platform threads Thread.getAllStackTraces() lists at the end but not at
 *   the start;
 * - virtual threads: JFR's jdk.VirtualThreadStart event, read in process by a RecordingStream. The
 *   event is committed by each virtual thread as it starts; RecordingStream.stop() returns once
 *   every event recorded before it has been delivered, so end() sees them all.
 *
 * The stream is started before the platform baseline is taken, so JFR's own threads are not
 * counted. Threads the JVM hides (JIT compiler threads) are in neither count.
 */
final class ThreadStarts {
  private final RecordingStream stream = new RecordingStream();
  private final ConcurrentLinkedQueue<String> virtual = new ConcurrentLinkedQueue<>();
  private final ThreadMXBean mx = ManagementFactory.getThreadMXBean();
  private final long platformStartedBefore;
  private final Set<Thread> platformBefore;

  /** What end() saw. */
  record Counted(long platformStarted, List<Thread> newPlatform, List<String> virtual) {
    @Override
    public String toString() {
      return platformStarted
          + " platform threads started (alive at the end and new: "
          + newPlatform.stream().map(Thread::getName).toList()
          + "), "
          + virtual.size()
          + " virtual threads started"
          + (virtual.isEmpty() ? "" : " (the first: " + virtual.getFirst() + ")");
    }
  }

  private ThreadStarts() {
    stream.enable("jdk.VirtualThreadStart");
    stream.onEvent(
        "jdk.VirtualThreadStart",
        e -> {
          var t = e.getThread();
          virtual.add(t == null ? "?" : t.getJavaName());
        });
    stream.startAsync();
    platformBefore = new HashSet<>(Thread.getAllStackTraces().keySet());
    platformStartedBefore = mx.getTotalStartedThreadCount();
  }

  /** Starts counting. */
  static ThreadStarts begin() {
    return new ThreadStarts();
  }

  /** Stops counting; every thread started since begin() is in the result. */
  Counted end() {
    long platformStarted = mx.getTotalStartedThreadCount() - platformStartedBefore;
    List<Thread> newPlatform = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (!platformBefore.contains(t)) {
        newPlatform.add(t);
      }
    }
    stream.stop();
    stream.close();
    return new Counted(platformStarted, newPlatform, List.copyOf(virtual));
  }
}
