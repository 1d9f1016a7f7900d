/**
 * Object stores: where each accepted payload ends up, one object per job.
 *
 * <table>
 *   <caption>The stores</caption>
 *   <tr><th>type</th><th>made by</th><th>writes</th></tr>
 *   <tr><td>{@link io.sluice.server.objects.FilesystemObjectStore}</td>
 *       <td>{@code open(root)}</td>
 *       <td>a file under the root, atomically (temp file, fsync, rename, fsync of the directory)</td></tr>
 *   <tr><td>{@link io.sluice.server.objects.S3ObjectStore}</td>
 *       <td>{@code create(S3Options)}</td>
 *       <td>one {@code PutObject} to an S3 or S3-compatible bucket</td></tr>
 * </table>
 *
 * <p>Keys come from {@link io.sluice.server.objects.ObjectKeys#forJob}: {@code
 * {prefix}{yyyy}/{MM}/{dd}/{job id}.json}, so a retried upload overwrites the same object. Every
 * store validates keys with {@link io.sluice.server.objects.ObjectKeys#validate} and reports a bad
 * key as an {@link io.sluice.server.objects.InvalidObjectKeyException}.
 */
package io.sluice.server.objects;
