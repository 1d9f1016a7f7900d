/**
 * The Sluice ingest service: HTTP in, durable jobs, one object per payload out.
 *
 * <p>An application, not a library: it runs on the class path and has no module descriptor.
 */
package io.sluice.server;
