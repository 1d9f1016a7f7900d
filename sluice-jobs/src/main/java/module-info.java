/**
 * Sluice jobs: durable job processing on virtual threads.
 *
 * <p>Everything public lives in {@link io.sluice.jobs}. The journal ({@code
 * io.sluice.jobs.journal}) is an implementation package and is not exported.
 */
module io.sluice.jobs {
  requires transitive io.sluice.core;
  // The journal writes through com.sun.nio.file.ExtendedOpenOption.DIRECT (O_DIRECT).
  requires jdk.unsupported;

  exports io.sluice.jobs;
}
