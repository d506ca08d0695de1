/**
 * After a remux into scratch: each sound track we copied must hold, in the output, the very codec
 * configuration record we approved (audio-config.ts).
 *
 * Threat: a muxer does not always write the record it was given. It takes one from the packets
 * when the stream came without (a second sample entry, the ADTS-to-MP4 filter ffmpeg inserts on
 * its own, with a program config element's free-text comment), and Matroska's writer replaces its
 * CodecPrivate with such a record when it can seek back (review, session 6). The input-side checks
 * close the routes we know; this one reads what was actually written.
 * Defence: ffprobe reads the output's records as a demuxer would; any copied track whose record is
 * missing or differs makes the caller remux again with every sound track re-encoded.
 * Limit: the streamed MP4/MOV path writes into the seal, not to scratch, and relies on the input
 * checks alone: ffmpeg's MP4 writer keeps the first record it is given (video-plan.ts).
 */
import { configRecords } from './video-sei-scrub.ts';
import { limitsFor } from './video-probe.ts';

/** Whether every `copied` track (output index, approved record) holds that record in `out`, read as `ext`. */
export async function copiedRecordsKept(out: string, ext: string, copied: ReadonlyArray<{ out: number; bytes: Buffer }>): Promise<boolean> {
  if (copied.length === 0) return true;
  const records = await configRecords(out, ext, { ...limitsFor(out, false), fileBytes: 0 });
  if (records === undefined) return false;
  return copied.every((c) => records.byIndex.get(c.out)?.bytes.equals(c.bytes) === true);
}
