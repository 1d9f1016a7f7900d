/**
 * <strong>Not API.</strong> Internals of {@code io.sluice.core} shared with other Sluice modules
 * (the module exports this package to {@code io.sluice.schedule} only): the timer engine ({@link
 * io.sluice.core.internal.TimerWheel}), its subclassable entry ({@link
 * io.sluice.core.internal.TimerEntry}), and {@link io.sluice.core.internal.TimerEngine}, through
 * which other modules reach a clock's engine. Nothing here is covered by any compatibility promise.
 */
package io.sluice.core.internal;
