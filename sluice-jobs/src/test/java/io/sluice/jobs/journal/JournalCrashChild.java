package io.sluice.jobs.journal;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The child JVM of {@link JournalCrashTest}: opens the journal, then appends from several virtual
 * threads for ever, printing {@code <id> <seq>} after each acknowledged append, until it is killed.
 * Each writer appends its next record only after the previous one was acknowledged.
 */
final class JournalCrashChild {
  private JournalCrashChild() {}

  /**
   * Runs until killed.
   *
   * @param args journal directory, round number, writer count
   * @throws Exception if the journal cannot be opened or an append fails
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int round = Integer.parseInt(args[1]);
    int writers = Integer.parseInt(args[2]);
    PrintStream out = new PrintStream(System.out, true);
    Journal journal = Journal.open(JournalCrashTest.options(dir), ReplayVisitor.IGNORE);
    out.println("OPEN");
    List<Thread> threads = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      int id = round * 1000 + w;
      threads.add(
          Thread.ofVirtual()
              .start(
                  () -> {
                    try {
                      for (long seq = 0; ; seq++) {
                        // sizes from tiny to several blocks, so kills also tear multi-block writes
                        int length = (int) ((seq * 7919 + id) % 9000);
                        journal.append(id, JournalTesting.body(id, seq, length));
                        synchronized (out) {
                          out.println(id + " " + seq);
                        }
                      }
                    } catch (Throwable t) {
                      t.printStackTrace();
                      System.exit(3);
                    }
                  }));
    }
    for (Thread t : threads) {
      t.join();
    }
  }
}
