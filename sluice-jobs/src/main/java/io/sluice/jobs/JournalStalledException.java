package io.sluice.jobs;

/**
 * A change was refused at once because the journal is stalled: a commit has been running longer
 * than {@link JobStoreOptions#stallThreshold()}, so the disk may be hung. Nothing was handed to the
 * journal and nothing of the change is recorded, so trying it again later is safe. Refusing keeps
 * callers from queueing behind a disk that may never answer; the store accepts changes again once
 * the stalled commit ends.
 *
 * <p>A change to a schedule is refused the same way while an earlier change to that schedule is not
 * yet confirmed durable ({@link DurabilityUnknownException}), even before the journal counts as
 * stalled: until the journal answers, the store cannot know which state the new change follows. So
 * is a retry or deletion of a dead letter whose earlier retry or deletion is still not confirmed
 * after {@link JobStoreOptions#ackTimeout()}.
 */
public final class JournalStalledException extends JobStoreException {
  private static final long serialVersionUID = 1L;

  JournalStalledException(String message) {
    super(message, null);
  }
}
