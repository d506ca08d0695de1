/**
 * What the video cleaner will keep of a file and the ffmpeg arguments that keep only that; shared by
 * the cleaner that writes to scratch (video.ts) and the one that streams into the seal
 * (video-stream.ts), so both make the same choices. See video.ts for the threat and the defence.
 */
import { CleaningFailed } from '../errors.ts';
import type { ToolLimits } from './subprocess.ts';
import type { Sniffed } from './types.ts';
import {
  QUIET, copyArgs, countRemoved, isCoverArt, limitsFor, listPackets, probe,
} from './video-probe.ts';
import type { Probe, ProbedStream } from './video-probe.ts';
import { configRecords, scrubSeiInPlace, type ConfigRecords } from './video-sei-scrub.ts';
import { plainAudioConfig, rebuiltByMuxer, reencodeAudio } from './audio-config.ts';

/** Output muxer and extension per sniffed type: the container type is kept. */
export const MUXER: Record<string, { format: string; ext: string }> = {
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

export const ISO_FAMILY = new Set(['mp4', 'mov', '3gp']);

/** A video stream that is a real picture track: not cover art, not a poster thumbnail, not a stub. */
function isPlainVideo(s: ProbedStream): boolean {
  return s.codec_type === 'video' && !isCoverArt(s) && (s.disposition?.timed_thumbnails ?? 0) === 0
    && s.codec_name !== undefined && s.codec_name !== 'none';
}

function isPlainAudio(s: ProbedStream): boolean {
  return s.codec_type === 'audio' && s.codec_name !== undefined && s.codec_name !== 'none';
}

/** The streams a remux keeps: picture and sound tracks, nothing else. */
export function keptStreams(p: { streams: ProbedStream[] }): ProbedStream[] {
  return p.streams.filter((s) => isPlainVideo(s) || isPlainAudio(s));
}

export interface RemuxPlan {
  muxer: { format: string; ext: string };
  /** Every ffmpeg argument but the output's muxer flags and target. */
  args: string[];
  limits: ToolLimits;
  removed: Record<string, number>;
  warnings: string[];
  /** An HEVC stream is kept: its hvcC still holds SEI after the remux (video-hvcc.ts). */
  hevc: boolean;
  /** Sound tracks copied as they are, by output index, with the record approved for each (audio-output-check.ts). */
  copiedAudio: Array<{ out: number; bytes: Buffer }>;
}

/**
 * A sound track whose packets bring a record of their own (a chunk that points at a second sample
 * entry): a muxer may write that one, which we never checked (review, session 6).
 */
function bringsRecords(packets: unknown[] | undefined, index: number): boolean {
  if (packets === undefined) return true;
  return packets.some((e) => {
    if (typeof e !== 'object' || e === null) return true;
    const { stream_index: i, side_data_list: side } = e as Record<string, unknown>;
    // Other side data is ordinary: the first AAC packet's skip-samples (the encoder's priming).
    return i === index && side !== undefined
      && (!Array.isArray(side) || side.some((d) => (d as { side_data_type?: unknown })?.side_data_type === 'New Extradata'));
  });
}

/** What a plan is decided from: ffprobe's view of the file, its records, its packets, and the SEI scrub's count. */
export interface PlanInputs {
  probe: Probe;
  records: ConfigRecords | undefined;
  /** ffprobe's packet list (MP4/MOV/3GP only); undefined when unsure of it. */
  packets: unknown[] | undefined;
  /** SEI units blanked in place; undefined when the scrub did not run or was unsure (a filter then). */
  scrubbed: number | undefined;
}

/** What planRemux learnt of the file, for video-early-check.ts. */
export interface Seen {
  packets?: unknown[] | undefined;
  streams?: ProbedStream[];
  records?: ConfigRecords | undefined;
}

/** `reencodeAudio`: every sound track is re-encoded (a copied record did not survive the remux as approved). */
export async function planRemux(
  input: string, sniffed: Sniffed,
  /**
   * For video-early-check.ts: `fills` and `seen` receive the units to blank and what ffprobe read,
   * and `dryScrub` leaves the file as it is (the check only looks; a refusal puts our bytes back).
   */
  opts: { reencodeAudio?: boolean; fills?: number[]; seen?: Seen; dryScrub?: boolean } = {},
): Promise<RemuxPlan> {
  const muxer = MUXER[sniffed.ext];
  if (!muxer) throw new CleaningFailed({ type: sniffed.ext }, 'not a video type');
  // MP4/MOV/3GP: one ffprobe run lists the streams and, for the SEI scrub, every packet. When that
  // run fails, probe() alone decides whether the file is refused, as it always has. Beside it, at
  // the same time, a run reads every codec configuration record, for the SEI scrub and the audio check.
  const iso = ISO_FAMILY.has(muxer.format);
  const [listed, records, probed] = await Promise.all([
    iso ? listPackets(input, sniffed.ext) : undefined,
    configRecords(input, sniffed.ext, { ...limitsFor(input, false), fileBytes: 0 }),
    iso ? undefined : probe(input, sniffed.ext),
  ]);
  const p = listed?.probe ?? probed ?? await probe(input, sniffed.ext);
  if (opts.seen) Object.assign(opts.seen, { packets: listed?.packets, streams: p.streams, records });
  // SEI blanked in place (video-sei-scrub.ts) needs no filter: a remux then costs a fifth of the time.
  const scrubbable = scrubbableStreams(keptStreams(p));
  const scrubbed = listed && scrubbable.length > 0
    ? await scrubSeiInPlace(input, scrubbable, { streams: p.streams, packets: listed.packets, records }, undefined, opts.fills, opts.dryScrub) : undefined;
  const plan = decidePlan(input, sniffed, { probe: p, records, packets: listed?.packets, scrubbed }, opts);
  return { ...plan, limits: limitsFor(input, plan.reencode) };
}

/** The H.264 and HEVC picture tracks among those kept: the SEI scrub's work. */
export function scrubbableStreams(kept: ProbedStream[]): Array<{ index: number; codec: 'h264' | 'hevc' }> {
  return kept.flatMap((s) => (s.codec_type === 'video' && (s.codec_name === 'h264' || s.codec_name === 'hevc')
    ? [{ index: s.index, codec: s.codec_name as 'h264' | 'hevc' }] : []));
}

/**
 * The plan itself, from what was learnt of the file: the same inputs give the same arguments, so a
 * plan made early from an upload's moov (video-early.ts) can be checked against the one made from
 * the whole file.
 */
export function decidePlan(
  input: string, sniffed: Sniffed, { probe: p, records, packets, scrubbed }: PlanInputs, opts: { reencodeAudio?: boolean } = {},
): Omit<RemuxPlan, 'limits'> & { reencode: boolean } {
  const muxer = MUXER[sniffed.ext];
  if (!muxer) throw new CleaningFailed({ type: sniffed.ext }, 'not a video type');
  const iso = ISO_FAMILY.has(muxer.format);
  const kept = keptStreams(p);
  if (kept.length === 0) throw new CleaningFailed({ type: sniffed.ext }, 'no audio or video stream');
  const removed = countRemoved(p, new Set(kept.map((s) => s.index)));
  if (scrubbed) removed.sei = scrubbed;

  const warnings: string[] = [];
  const perStream: string[] = [];
  const copiedAudio: RemuxPlan['copiedAudio'] = [];
  let reencode = false;
  kept.forEach((s, out) => {
    const record = records?.byIndex.get(s.index)?.bytes;
    const codec = s.codec_name ?? '';
    const plain = s.codec_type === 'audio' && plainAudioConfig(codec, record, muxer.format);
    if (s.codec_type === 'video' && STILL_FRAME_CODECS.has(codec)) {
      // Each frame is a JPEG (or PNG...) with its own EXIF; only new frames leave it behind.
      perStream.push(`-c:${out}`, 'mjpeg', `-q:${out}`, '2');
      reencode = true;
      warnings.push('MJPEG video re-encoded: its frames carried their own metadata');
    } else if (s.codec_type === 'audio' && (opts.reencodeAudio || !plain || (iso && bringsRecords(packets, s.index)))) {
      const unseenPackets = iso && packets === undefined && !opts.reencodeAudio && plain;
      // `-c copy` would write its configuration record as it is (audio-config.ts); Matroska
      // stores Vorbis' comment header there too, tags and all.
      const r = reencodeAudio(codec, muxer.format, out, s.bit_rate);
      if (!r) throw new CleaningFailed({ type: sniffed.ext }, 'the audio codec header could not be checked or rebuilt');
      perStream.push(...r.args);
      reencode = true;
      // Say why: a header we read and refused, or packets we could not all see.
      warnings.push(unseenPackets ? `${codec} audio re-encoded: its packets could not all be checked` : r.warning);
    } else {
      if (s.codec_type === 'audio' && record !== undefined && !rebuiltByMuxer(codec, muxer.format)) copiedAudio.push({ out, bytes: record });
      const bsf = s.codec_type === 'video' && !(scrubbed !== undefined && (codec === 'h264' || codec === 'hevc')) ? BITSTREAM_FILTER[codec] : undefined;
      if (bsf) perStream.push(`-bsf:${out}`, bsf);
    }
  });

  const args = [
    ...QUIET,
    // A container that promises samples it does not hold (a truncated file, a lying box) is refused,
    // not remuxed into a shorter video the tipster never meant to send.
    '-xerror',
    ...copyArgs(sniffed.ext, input, kept.map((s) => s.index), perStream),
    ...(ISO_FAMILY.has(muxer.format) ? ['-empty_hdlr_name', '1', '-write_tmcd', '0'] : []),
  ];
  return {
    muxer,
    args,
    reencode,
    removed,
    warnings: [...new Set(warnings)],
    hevc: kept.some((s) => s.codec_name === 'hevc'),
    copiedAudio,
  };
}
