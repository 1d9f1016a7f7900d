package io.sluice.core;

/**
 * One case of a {@link Select}: made by {@link ReceiveChannel#onReceive}, {@link
 * ReceiveChannel#onReceiveOrClosed}, {@link SendChannel#onSend}, {@link Context#onDone}, {@link
 * Select#onTimeout}, {@link Select#onDefault} and {@link Select#never}.
 *
 * <p>A clause is a description, not an action: nothing happens until a select runs it. A clause
 * object may be passed to many selects, one at a time or concurrently.
 *
 * @param <R> the result the clause gives its select
 */
public sealed interface Clause<R> permits SelectClause {}
