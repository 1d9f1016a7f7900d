package io.sluice.jobs;

/**
 * A batch was refused at once because the journal is stalled: a commit has been running longer than
 * {@link JobStoreOptions#stallThreshold()}, so the disk may be hung. Nothing was handed to the
 * journal and nothing of the batch is recorded, so submitting it again later is safe. Refusing
 * keeps submitters from queueing behind a disk that may never answer; the store accepts batches
 * again once the stalled commit ends.
 */
public final class JournalStalledException extends JobStoreException {
  private static final long serialVersionUID = 1L;

  JournalStalledException(String message) {
    super(message, null);
  }
}
