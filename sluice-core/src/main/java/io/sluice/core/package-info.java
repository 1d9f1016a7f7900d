/**
 * Go's concurrency model on Java virtual threads.
 *
 * <table class="striped">
 *   <caption>Go and Sluice</caption>
 *   <thead><tr><th>Go</th><th>Sluice</th></tr></thead>
 *   <tbody>
 *     <tr><td>{@code make(chan T)}, {@code make(chan T, n)}</td><td>{@link Channel#unbuffered()}, {@link Channel#buffered(int)}, {@link Channel#unlimited()}</td></tr>
 *     <tr><td>{@code ch <- v}, {@code v := <-ch}, {@code v, ok := <-ch}</td><td>{@link SendChannel#send}, {@link ReceiveChannel#receive()}, {@link ReceiveChannel#receiveOrClosed()}</td></tr>
 *     <tr><td>{@code select}</td><td>{@link Select#select(Clause[])}</td></tr>
 *     <tr><td>{@code context.Context}</td><td>{@link Context}</td></tr>
 *     <tr><td>{@code errgroup.WithContext}, {@code g.Go}, {@code g.TryGo}, {@code g.SetLimit}, {@code g.Wait}</td><td>{@link TaskGroup#open(Context, TaskGroup.Options)}, {@link TaskGroup#go}, {@link TaskGroup#tryGo}, {@link TaskGroup.Options#withLimit(int)}, {@link TaskGroup#await()}</td></tr>
 *     <tr><td>{@code semaphore.NewWeighted}, {@code Acquire}, {@code TryAcquire}, {@code Release}</td><td>{@link Semaphore#weighted(long)}, {@link Semaphore#acquire(Context, long)}, {@link Semaphore#tryAcquire(long)}, {@link Semaphore#release(long)}</td></tr>
 *     <tr><td>{@code sync.Once}, {@code once.Do(f)}</td><td>{@link Once#create()}, {@link Once#run(Once.Action)}</td></tr>
 *     <tr><td>{@code sync.OnceValue(f)}</td><td>{@link OnceValue#of(java.util.concurrent.Callable)}</td></tr>
 *     <tr><td>{@code time.Timer}, {@code time.Ticker}</td><td>{@link Timer}, {@link Ticker}, {@link Time}</td></tr>
 *   </tbody>
 * </table>
 *
 * <p>The README's "Go to Sluice" table is the complete mapping.
 */
package io.sluice.core;
