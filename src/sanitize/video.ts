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
 * SEI/metadata units are cut out by bitstream filters; MJPEG, whose EXIF sits in each frame, and
 * Vorbis in Matroska, whose private header keeps its comment tags, are re-encoded. Everything else
 * is copied bit for bit, so quality is untouched and a 2 GiB file costs our process no memory.
 * Limits: what the pictures and sound show is untouched. Codec-level user data we do not know of
 * (e.g. MPEG-4 Part 2 user_data) is copied as is.
 */
import { rmSync, statSync } from 'node:fs';
import { CleaningFailed } from '../errors.ts';
import { runTool } from './subprocess.ts';
import type { Cleaner } from './types.ts';
import {
  BITEXACT, NO_METADATA, QUIET, countRemoved, inputArgs, isCoverArt, limitsFor, probe,
} from './video-probe.ts';
import type { ProbedStream } from './video-probe.ts';
import { stripHvccSei } from './video-hvcc.ts';
import { stripMkvHvccSei } from './video-hvcc-mkv.ts';

/** Output muxer and extension per sniffed type: the container type is kept. */
const MUXER: Record<string, { format: string; ext: string }> = {
  mp4: { format: 'mp4', ext: 'mp4' },
  m4v: { format: 'mp4', ext: 'm4v' },
  mov: { format: 'mov', ext: 'mov' },
  '3gp': { format: '3gp', ext: '3gp' },
  webm: { format: 'webm', ext: 'webm' },
  mkv: { format: 'matroska', ext: 'mkv' },
  avi: { format: 'avi', ext: 'avi' },
};

/** Units that carry free-form data inside the bitstream, by codec: SEI (H.264 6, HEVC 39/40), AV1 metadata OBUs. */
const BITSTREAM_FILTER: Record<string, string> = {
  h264: 'filter_units=remove_types=6',
  hevc: 'filter_units=remove_types=39|40',
  av1: 'filter_units=remove_types=5',
};

/** Codecs whose every frame is a still image with its own metadata segments. */
const STILL_FRAME_CODECS = new Set(['mjpeg', 'jpeg2000', 'png', 'tiff', 'bmp']);

const ISO_FAMILY = new Set(['mp4', 'mov', '3gp']);

/** A video stream that is a real picture track: not cover art, not a poster thumbnail, not a stub. */
function isPlainVideo(s: ProbedStream): boolean {
  return s.codec_type === 'video' && !isCoverArt(s) && (s.disposition?.timed_thumbnails ?? 0) === 0
    && s.codec_name !== undefined && s.codec_name !== 'none';
}

function isPlainAudio(s: ProbedStream): boolean {
  return s.codec_type === 'audio' && s.codec_name !== undefined && s.codec_name !== 'none';
}

export const cleanVideo: Cleaner = async (input, sniffed, scratch) => {
  const muxer = MUXER[sniffed.ext];
  if (!muxer) throw new CleaningFailed({ type: sniffed.ext }, 'not a video type');
  const p = await probe(input, sniffed.ext);
  const kept = p.streams.filter((s) => isPlainVideo(s) || isPlainAudio(s));
  if (kept.length === 0) throw new CleaningFailed({ type: sniffed.ext }, 'no audio or video stream');

  const warnings: string[] = [];
  const perStream: string[] = [];
  let reencode = false;
  kept.forEach((s, out) => {
    const codec = s.codec_name ?? '';
    if (s.codec_type === 'video' && STILL_FRAME_CODECS.has(codec)) {
      // Each frame is a JPEG (or PNG...) with its own EXIF; only new frames leave it behind.
      perStream.push(`-c:${out}`, 'mjpeg', `-q:${out}`, '2');
      reencode = true;
      warnings.push('MJPEG video re-encoded: its frames carried their own metadata');
    } else if (s.codec_type === 'audio' && codec === 'vorbis' && muxer.format !== 'ogg') {
      // Matroska stores Vorbis' comment header verbatim in CodecPrivate, tags and all.
      perStream.push(`-c:${out}`, 'libvorbis', `-q:${out}`, '6');
      reencode = true;
      warnings.push('Vorbis audio re-encoded: its header carried tags');
    } else {
      const bsf = s.codec_type === 'video' ? BITSTREAM_FILTER[codec] : undefined;
      if (bsf) perStream.push(`-bsf:${out}`, bsf);
    }
  });

  const out = scratch.path('.' + muxer.ext);
  const args = [
    ...QUIET,
    // A container that promises samples it does not hold (a truncated file, a lying box) is refused,
    // not remuxed into a shorter video the tipster never meant to send.
    '-xerror',
    ...inputArgs(sniffed.ext, input),
    ...kept.flatMap((s) => ['-map', `0:${s.index}`]),
    '-c', 'copy',
    ...perStream,
    ...NO_METADATA,
    ...BITEXACT,
    ...(ISO_FAMILY.has(muxer.format) ? ['-empty_hdlr_name', '1', '-write_tmcd', '0'] : []),
    '-f', muxer.format,
    out,
  ];
  const r = await runTool('ffmpeg', args, limitsFor(input, reencode));
  if (r.code !== 0 || !nonEmpty(out)) {
    rmSync(out, { force: true });
    throw new CleaningFailed({ type: sniffed.ext }, 'ffmpeg could not remux the video');
  }
  const removed = countRemoved(p, new Set(kept.map((s) => s.index)));
  const strip = ISO_FAMILY.has(muxer.format) ? stripHvccSei : muxer.format === 'matroska' ? stripMkvHvccSei : undefined;
  if (strip && kept.some((s) => s.codec_name === 'hevc')) {
    // filter_units cleans the frames but not the hvcC copy of the SEI (the x265 build and options).
    const sei = await strip(out).catch(() => -1);
    if (sei < 0) {
      rmSync(out, { force: true });
      throw new CleaningFailed({ type: sniffed.ext }, 'could not remove SEI from the HEVC configuration');
    }
    if (sei > 0) removed.sei = (removed.sei ?? 0) + sei;
  }
  return { path: out, kind: 'video', ext: muxer.ext, report: { removed, warnings: [...new Set(warnings)] } };
};

function nonEmpty(path: string): boolean {
  try {
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}
