/**
 * Whether a video remuxed during its upload (video-early.ts) may be kept: the proof that ffmpeg
 * read what the ordinary path would give it. See video-early.ts for the threat.
 *
 * ffmpeg read the scratch file itself, with our fillers already in it. Once the upload is whole,
 * the ordinary plan is made from that file. The remux is kept only when:
 * - the ordinary SEI scrub finds nothing left to blank: every SEI unit ffprobe's reading sees was
 *   blanked before ffmpeg could read it;
 * - every unit we blanked is a whole unit of a frame in ffprobe's reading: nothing else was touched,
 *   so the file is the upload with exactly its SEI units blanked, as the ordinary scrub makes it;
 *   and there are not so many that the ordinary scrub would have left them to the filter;
 * - the plan's arguments are the ordinary ones, but for reading the file as it grew;
 * - the file is one ftyp, free space, one moov, free space and one mdat that ends the file, where
 *   the early reading found them, and every packet lies in that mdat, apart from the others:
 *   ffmpeg's reading up to the mdat's end is its reading of the file, and reads nothing twice.
 * Otherwise the caller drops the output and puts back the bytes we blanked.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { topLevelBoxes } from './iso-boxes.ts';
import { packetSpan } from './video-packets.ts';
import type { Sniffed } from './types.ts';
import type { EarlyResult } from './video-early.ts';
import { followArgs } from './video-early-plan.ts';
import { planRemux, scrubbableStreams, keptStreams, type RemuxPlan, type Seen } from './video-plan.ts';
import { FILL_CODECS, lengthSizes, tooManySei, walkSample } from './video-sei-scrub.ts';

const FREE = new Set(['free', 'skip', 'wide']);

export interface EarlyVerdict {
  keep: boolean;
  /** The ordinary plan made here (its report says what else was removed). */
  plan: RemuxPlan;
  /** Why not, for the tests; never logged. */
  why?: string;
}

export async function checkEarly(early: EarlyResult, input: string, sniffed: Sniffed): Promise<EarlyVerdict> {
  const fills: number[] = [];
  const seen: Seen = {};
  const plan = await planRemux(input, sniffed, { fills, seen, dryScrub: true });
  const no = (why: string): EarlyVerdict => ({ keep: false, plan, why });
  if (sniffed.ext !== early.sniffed.ext) return no('type');
  if (!layoutAsRead(input, early)) return no('layout');
  const args = followArgs(plan.args, input, early.layout.end);
  if (JSON.stringify(args) !== JSON.stringify(early.plan.args) || plan.hevc !== early.plan.hevc || plan.muxer.format !== early.plan.muxer.format) return no('plan');
  if (fills.length > 0) return no('missed');
  // So many units that the ordinary scrub would not trust itself and would filter them out instead.
  if (tooManySei(early.fills.length / 3, scrubbedPackets(seen))) return no('too many');
  if (!apartInsideMdat(seen.packets, early.layout)) return no('packets');
  if (!blankedWholeUnits(input, early.fills, seen)) return no('fills');
  return { keep: true, plan };
}

function layoutAsRead(input: string, early: EarlyResult): boolean {
  const fd = openSync(input, 'r');
  try {
    const size = fstatSync(fd).size;
    const boxes = topLevelBoxes(fd, size, 1_000);
    if (!boxes || boxes[0]?.type !== 'ftyp' || size !== early.layout.end) return false;
    const moov = boxes.findIndex((b) => b.type === 'moov');
    const mdat = boxes.length - 1;
    if (moov < 0 || boxes[mdat]!.type !== 'mdat' || boxes[moov]!.start !== early.layout.moovAt || boxes[mdat]!.start !== early.layout.mdatAt) return false;
    return boxes.every((b, i) => i === 0 || i === moov || i === mdat || FREE.has(b.type));
  } finally {
    closeSync(fd);
  }
}

/** How many packets the ordinary scrub walks: those of the H.264/HEVC streams kept. */
function scrubbedPackets(seen: Seen): number {
  const indexes = new Set(scrubbableStreams(keptStreams({ streams: seen.streams ?? [] })).map((s) => s.index));
  return (seen.packets ?? []).filter((e) => indexes.has((e as { stream_index?: number } | null)?.stream_index ?? -1)).length;
}

/**
 * Every packet of every stream lies in the mdat's payload, apart from the others: what ffmpeg read
 * up to the mdat's end is all there is, and no sample is read twice (a small file asking for a huge
 * output: review, session 7).
 */
function apartInsideMdat(packets: unknown[] | undefined, layout: EarlyResult['layout']): boolean {
  if (packets === undefined) return false;
  const spans: Array<[number, number]> = [];
  for (const e of packets) {
    const span = packetSpan(e);
    if (!span) return false;
    spans.push(span);
  }
  spans.sort((a, b) => a[0] - b[0]);
  let prevEnd = layout.dataAt;
  for (const [pos, size] of spans) {
    if (pos < prevEnd || pos + size > layout.end) return false;
    prevEnd = pos + size;
  }
  return true;
}

/** Each (offset, length) we blanked is a unit of a frame of a scrubbed stream, in ffprobe's listing. */
function blankedWholeUnits(input: string, ours: number[], seen: Seen): boolean {
  if (ours.length === 0) return true;
  const { packets, streams, records } = seen;
  if (!packets || !streams || !records?.sure) return false;
  const sizes = lengthSizes(scrubbableStreams(keptStreams({ streams })), streams, records);
  if (!sizes) return false;
  const frames: Array<[number, number, number]> = [];
  for (const e of packets) {
    const { stream_index: i } = e as { stream_index?: unknown };
    if (typeof i !== 'number' || !sizes.has(i)) continue;
    // apartInsideMdat refused any listing with a packet we cannot place, so this never refuses.
    const span = packetSpan(e);
    if (!span) return false;
    frames.push([...span, i]);
  }
  frames.sort((a, b) => a[0] - b[0]);
  const fd = openSync(input, 'r');
  try {
    const peek = (at: number, n: number) => {
      const b = Buffer.alloc(n);
      if (readSync(fd, b, 0, n, at) !== n) throw new RangeError('short read');
      return b;
    };
    let f = 0;
    for (let j = 0; j < ours.length; j += 3) {
      const at = ours[j]!;
      while (f < frames.length && frames[f]![0] + frames[f]![1] <= at) f++;
      const frame = frames[f];
      if (!frame || frame[0] > at) return false;
      const { L, codec } = sizes.get(frame[2])!;
      if (FILL_CODECS[ours[j + 2]!] !== codec) return false;
      let whole = false;
      walkSample(peek, frame[0], frame[1], L, codec, [], (u, len) => { if (u === at && len === ours[j + 1]) whole = true; });
      if (!whole) return false;
    }
    return true;
  } finally {
    closeSync(fd);
  }
}
