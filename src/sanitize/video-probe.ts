/**
 * What a video or voice note holds, as ffprobe sees it, and how we run ffmpeg on tipster files.
 *
 * Threat: a container is a bag of streams and tags, and the ones that identify a tipster are not the
 * ones a player shows: a GPS subtitle track, an Apple timed-metadata (mebx) track, a cover picture
 * with its own EXIF, tags on every stream. Defence: we list every stream first and keep, by name,
 * only plain audio and video; everything else is counted and dropped. We force the demuxer that
 * matches the sniffed type, so a file cannot talk ffmpeg into a playlist or image-sequence reader
 * that opens other paths, and we allow only the file and pipe protocols.
 * Limit: ffprobe parses hostile bytes; it runs under prlimit like every tool (subprocess.ts).
 */
import { statSync } from 'node:fs';
import { z } from 'zod';
import { CleaningFailed } from '../errors.ts';
import { runTool } from './subprocess.ts';
import type { ToolLimits } from './subprocess.ts';

const Stream = z.object({
  index: z.number(),
  codec_type: z.string().optional(),
  codec_name: z.string().optional(),
  codec_tag_string: z.string().optional(),
  disposition: z.record(z.string(), z.number()).optional(),
  tags: z.record(z.string(), z.string()).optional(),
  // The H.264 decoder's own reading of the avcC (exported options, printed by ffprobe): the NAL
  // length size its frames use, for video-sei-scrub.ts.
  is_avc: z.string().optional(),
  nal_length_size: z.string().optional(),
  /** Bits per second, when the container says: a re-encoded sound track keeps to it (audio-config.ts). */
  bit_rate: z.string().optional(),
});
const Probe = z.object({
  streams: z.array(Stream).default([]),
  chapters: z.array(z.object({ tags: z.record(z.string(), z.string()).optional() })).default([]),
  format: z.object({ tags: z.record(z.string(), z.string()).optional() }).default({}),
});
export type ProbedStream = z.infer<typeof Stream>;
export type Probe = z.infer<typeof Probe>;

/** The ffmpeg demuxer for each sniffed type. The mov demuxer reads all the ISO family. */
export const DEMUXER: Record<string, string> = {
  mp4: 'mov', mov: 'mov', m4v: 'mov', '3gp': 'mov', m4a: 'mov',
  webm: 'matroska', mkv: 'matroska', avi: 'avi',
  ogg: 'ogg', opus: 'ogg', oga: 'ogg', mp3: 'mp3', wav: 'wav', amr: 'amr', flac: 'flac', aac: 'aac',
};

/** Flags for every ffmpeg/ffprobe input: no other protocol, no format guessing. */
export function inputArgs(sniffedExt: string, input: string): string[] {
  const demuxer = DEMUXER[sniffedExt];
  if (!demuxer) throw new CleaningFailed({ type: sniffedExt }, 'no demuxer');
  return ['-protocol_whitelist', 'file,pipe', '-f', demuxer, '-i', input];
}

/** Limits scaled to the file: a remux reads and writes each byte once, a re-encode takes longer. */
export function limitsFor(input: string, reencode: boolean): ToolLimits {
  const mib = Math.ceil(statSync(input).size / (1024 * 1024));
  return {
    timeoutMs: 60_000 + mib * (reencode ? 1_000 : 200),
    cpuSeconds: 60 + mib * (reencode ? 2 : 1),
    memoryBytes: 1536 * 1024 ** 2,
    // A remux is never much larger than its input; a re-encode of MJPEG may be, at worst, its size again.
    fileBytes: (mib * (reencode ? 2 : 1) + 64) * 1024 * 1024,
  };
}

const SHOW = ['-show_streams', '-show_chapters', '-show_format'];

export async function probe(input: string, sniffedExt: string): Promise<Probe> {
  const r = await runTool(
    'ffprobe',
    ['-v', 'error', '-hide_banner', '-of', 'json', ...SHOW, ...inputArgs(sniffedExt, input)],
    { timeoutMs: 60_000, cpuSeconds: 60, memoryBytes: 1024 ** 3, fileBytes: 0 },
  );
  if (r.code !== 0) throw new CleaningFailed({ type: sniffedExt }, 'ffprobe could not read the file');
  let json: unknown;
  try {
    json = JSON.parse(r.stdout.toString('utf8'));
  } catch {
    throw new CleaningFailed({ type: sniffedExt }, 'ffprobe gave no JSON');
  }
  const parsed = Probe.safeParse(json);
  if (!parsed.success) throw new CleaningFailed({ type: sniffedExt }, 'ffprobe JSON was unexpected');
  return parsed.data;
}

/** runTool keeps at most this much of a tool's output: past it, a listing may be cut. */
const MAX_LISTING = 64 * 1024 * 1024;

/**
 * What probe() shows plus every packet's stream, size and position, in one ffprobe run instead of
 * three (a probe, then the avcC/hvcC and the packet list for the SEI scrub): ~0.1 s of start-up each.
 * `packets` is what ffprobe printed, unchecked (video-sei-scrub.ts checks each one it uses), and is
 * undefined when ffprobe said anything at all: it may then have skipped or cut a packet.
 * Undefined when the run failed or its output was too long to trust whole: the caller then runs
 * probe(), which decides alone, as before, whether the file is refused.
 */
export async function listPackets(input: string, sniffedExt: string): Promise<{ probe: Probe; packets: unknown[] | undefined } | undefined> {
  const r = await runTool(
    'ffprobe',
    ['-v', 'error', '-hide_banner', '-of', 'json=c=1', ...SHOW,
      // Not -show_data: it would hex-dump every packet (two minutes for 1 GiB) to print none of it.
      '-show_entries', 'packet=stream_index,size,pos:packet_side_data=side_data_type', ...inputArgs(sniffedExt, input)],
    // Reading every packet takes longer than probe()'s minute on a big file; memory stays probe()'s.
    { ...limitsFor(input, false), memoryBytes: 1024 ** 3, fileBytes: 0 },
  );
  if (r.code !== 0 || r.stdout.length >= MAX_LISTING) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(r.stdout.toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = Probe.safeParse(json);
  if (!parsed.success) return undefined;
  const packets = (json as { packets?: unknown }).packets;
  return { probe: parsed.data, packets: r.stderr === '' && Array.isArray(packets) ? packets : undefined };
}

/** A picture glued to the file (album art, a poster frame): a still that can carry its own EXIF. */
export function isCoverArt(s: ProbedStream): boolean {
  return s.codec_type === 'video' && (s.disposition?.attached_pic ?? 0) === 1;
}

/** Counts what a probe shows we are about to drop: tags, chapters and every stream we do not keep. */
export function countRemoved(p: Probe, kept: ReadonlySet<number>): Record<string, number> {
  const removed: Record<string, number> = {};
  const add = (k: string, n = 1): void => {
    if (n > 0) removed[k] = (removed[k] ?? 0) + n;
  };
  add('container_tags', Object.keys(p.format.tags ?? {}).length);
  add('chapters', p.chapters.length);
  for (const s of p.streams) {
    if (kept.has(s.index)) {
      add('stream_tags', Object.keys(s.tags ?? {}).length);
      continue;
    }
    if (isCoverArt(s)) add('cover_art');
    else if (s.codec_type === 'subtitle') add('subtitle');
    else if (s.codec_type === 'attachment') add('attachment');
    else if (s.codec_type === 'data' || s.codec_type === undefined) add('data');
    else add('other_stream');
  }
  return removed;
}

/** Flags that keep ffmpeg from writing its own identity, the input's tags, or a timestamp. */
export const BITEXACT = ['-fflags', '+bitexact', '-flags:v', '+bitexact', '-flags:a', '+bitexact'];
export const NO_METADATA = ['-map_metadata', '-1', '-map_chapters', '-1'];
export const QUIET = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];

/**
 * The input, the streams kept (by input index), everything copied unless `perStream` says otherwise,
 * and nothing else: no tags, no chapters, no encoder name. Shared by the audio and video cleaners.
 */
export function copyArgs(sniffedExt: string, input: string, indexes: number[], perStream: string[]): string[] {
  return [
    ...inputArgs(sniffedExt, input),
    ...indexes.flatMap((i) => ['-map', `0:${i}`]),
    '-c', 'copy',
    ...perStream,
    ...NO_METADATA,
    ...BITEXACT,
  ];
}
