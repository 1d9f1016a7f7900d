/**
 * <strong>Not API.</strong> Internals of {@code io.sluice.core} shared with other Sluice modules
 * (the module exports this package to {@code io.sluice.schedule} only). Nothing here is covered by
 * any compatibility promise.
 */
package io.sluice.core.internal;
