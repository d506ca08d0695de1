/**
 * A cleaner's output, read from the moment it exists, with a count of the bytes that passed.
 *
 * Why: the openpgp.js seal starts reading only once it has a seal slot, and Node empties a child's
 * unread output pipe when the child exits (it resumes it with no reader, to let the child go). A
 * small video whose ffmpeg finished while every slot was busy was sealed empty, and its tip
 * committed (review, session 8). Piped into a PassThrough at once, the bytes wait in memory instead,
 * bounded by back-pressure; and the count lets the caller refuse a seal that did not get them all.
 * A source stopped before its end (abort()) errors the PassThrough, so the seal fails rather than
 * waits for ever (review, session 8).
 */
import { PassThrough, pipeline, type Readable } from 'node:stream';

export function readAtOnce(source: Readable): { stream: PassThrough; bytes(): number } {
  let bytes = 0;
  const stream = new PassThrough({ highWaterMark: 1024 * 1024 });
  source.on('data', (b: Buffer) => { bytes += b.length; });
  // Errors and early closes reach both ends: the PassThrough is destroyed with the error.
  pipeline(source, stream, () => {});
  return { stream, bytes: () => bytes };
}
