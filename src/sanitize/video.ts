/**
 * Videos: MP4, MOV, M4V, 3GP, WebM, MKV and AVI.
 *
 * Threat: a phone video says where it was shot (Apple's ISO6709 key, Android's location tag, a GPS
 * telemetry subtitle track, a mebx timed-metadata track), on what (make, model, software), and when
 * (creation times in every box, a time-of-day timecode track). A cover picture brings its own EXIF;
 * MKV attachments can be any file; H.264/HEVC SEI and AV1 metadata units can carry encoder or
 * camera data inside the picture bitstream; MJPEG repeats EXIF in every frame.
 * Defence: ffmpeg (a child, under prlimit) remuxes only the plain audio and video streams we chose
 * by name from ffprobe's list, with no tags, no chapters, bitexact headers and blank handler names.
 * SEI units in MP4/MOV/3GP frames are blanked in place before the remux (video-sei-scrub.ts: a
 * fifth of the cost of a filter); elsewhere, or when that cannot be sure of every unit, SEI and AV1
 * metadata units are cut out by bitstream filters. MJPEG, whose EXIF sits in each frame, is
 * re-encoded, and so is a sound track whose codec configuration record holds more than a decoder
 * needs, or more than we can check (audio-config.ts: an AAC esds with bytes after its end, review
 * session 5; Vorbis, whose Matroska header keeps its comment tags, always; FLAC and ALAC always,
 * losslessly, for fields no decoder checks). Everything else
 * is copied bit for bit, so quality is untouched and a 2 GiB file costs our process no memory.
 * MP4, M4V and MOV are remuxed as a stream straight into the seal (video-stream.ts).
 * Limits: what the pictures and sound show is untouched. Codec-level user data we do not know of
 * (e.g. MPEG-4 Part 2 user_data, data elements inside AAC frames) is copied as is. Configuration
 * records are checked: an avcC must be plain for the fast path (video-sei-scrub.ts), an hvcC is
 * rebuilt unit by unit, an audio record must be plain to be copied (audio-config.ts) and, where
 * the output goes to scratch, be found unchanged in it (audio-output-check.ts).
 */
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { CleaningFailed } from '../errors.ts';
import { runTool } from './subprocess.ts';
import type { Cleaner, Scratch } from './types.ts';
import { ISO_FAMILY, planRemux, type RemuxPlan } from './video-plan.ts';
import { copiedRecordsKept } from './audio-output-check.ts';
import { stripHvccSei } from './video-hvcc.ts';
import { stripMkvHvccSei } from './video-hvcc-mkv.ts';
import { STREAMED, cleanVideoStream } from './video-stream.ts';

export const cleanVideo: Cleaner = async (input, sniffed, scratch) => {
  // Types the intake streams into the seal are cleaned the same way here, so tests of this cleaner
  // check the very bytes editors get.
  if (STREAMED.has(sniffed.ext)) {
    const c = await cleanVideoStream(input, sniffed);
    const out = scratch.path('.' + c.ext);
    try {
      await pipeline(c.stream, createWriteStream(out, { flags: 'wx', mode: 0o600 }));
      await c.done;
    } catch (e) {
      c.abort();
      rmSync(out, { force: true });
      throw e;
    }
    return { path: out, kind: c.kind, ext: c.ext, report: c.report };
  }
  const first = await planRemux(input, sniffed);
  let plan = first;
  // A muxer that wrote a sound record other than the one we checked (audio-output-check.ts), or
  // failed on one it was handed in the packets (Matroska, when it does not fit): once more, with
  // every sound track re-encoded.
  let out = await remux(first, sniffed.ext, scratch).catch((e: unknown) => {
    if (first.copiedAudio.length === 0) throw e;
    return undefined;
  });
  if (out === undefined || !(await copiedRecordsKept(out.path, first.muxer.ext, first.copiedAudio).catch(() => false))) {
    if (out) rmSync(out.path, { force: true });
    plan = await planRemux(input, sniffed, { reencodeAudio: true });
    out = await remux(plan, sniffed.ext, scratch);
  }
  // The SEI was blanked in place by the first plan: the second finds none left to count.
  const removed = { ...plan.removed, ...first.removed };
  if (out.sei > 0) removed.sei = (removed.sei ?? 0) + out.sei;
  return { path: out.path, kind: 'video', ext: plan.muxer.ext, report: { removed, warnings: plan.warnings } };
};

/** ffmpeg runs `plan` into scratch; for HEVC, the SEI left in the hvcC it wrote is removed. */
async function remux(plan: RemuxPlan, type: string, scratch: Scratch): Promise<{ path: string; sei: number }> {
  const { muxer } = plan;
  const out = scratch.path('.' + muxer.ext);
  const r = await runTool('ffmpeg', [...plan.args, '-f', muxer.format, out], plan.limits);
  if (r.code !== 0 || !nonEmpty(out)) {
    rmSync(out, { force: true });
    throw new CleaningFailed({ type }, 'ffmpeg could not remux the video');
  }
  const strip = ISO_FAMILY.has(muxer.format) ? stripHvccSei : muxer.format === 'matroska' ? stripMkvHvccSei : undefined;
  if (!strip || !plan.hevc) return { path: out, sei: 0 };
  // filter_units cleans the frames but not the hvcC copy of the SEI (the x265 build and options).
  const sei = await strip(out).catch(() => -1);
  if (sei < 0) {
    rmSync(out, { force: true });
    throw new CleaningFailed({ type }, 'could not remove SEI from the HEVC configuration');
  }
  return { path: out, sei };
}

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}
