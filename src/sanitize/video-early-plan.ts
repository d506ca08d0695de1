/**
 * The plan of an early remux (video-early.ts), made from the upload's start: the moov, read by us
 * for where each frame lies, and by ffprobe for everything a plan is made of, as the ordinary path
 * makes it from the whole file (decidePlan). video-early-check.ts compares the two once the upload
 * is whole. See video-early.ts for the threat.
 */
import { sampleRanges } from './iso-sample-table.ts';
import { sniff } from './index.ts';
import type { Sniffed } from './types.ts';
import { decidePlan, keptStreams, scrubbableStreams, type RemuxPlan } from './video-plan.ts';
import { probe } from './video-probe.ts';
import { FILL_CODECS, configRecords, lengthSizes } from './video-sei-scrub.ts';
import { STREAMED } from './video-stream.ts';

const MIB = 1024 * 1024;
/** More tracks than this and we do not stream (the merge of their tables grows with their number). */
const MAX_TRACKS = 16;
/** ffmpeg gives up when the upload stalls this long (microseconds), e.g. if we died. */
const STALL_US = 10 * 60 * 1_000_000;
/** An upload may take long over Tor; ffmpeg is killed if its whole run takes longer. */
const UPLOAD_WAIT_MS = 3 * 3600_000;

export interface EarlyPlan {
  sniffed: Sniffed;
  /** The ordinary plan's arguments, reading the file as it grows (followArgs). */
  plan: RemuxPlan;
  /** Frames to walk, flat (pos, size, NAL length size, codec index) quadruples, in file order. */
  samples: Float64Array;
}

/** The plan's input, a plain file, read instead as it grows and only up to `end`. */
export function followArgs(args: string[], path: string, end: number): string[] {
  const out = [...args];
  const i = out.indexOf('-i');
  const w = out.indexOf('-protocol_whitelist');
  if (i < 0 || w < 0 || out[i + 1] !== path) throw new Error('unexpected plan arguments');
  out[i + 1] = `subfile,,start,0,end,${end},,:${path}`;
  out[w + 1] = 'subfile,file';
  out.splice(w + 2, 0, '-follow', '1', '-rw_timeout', String(STALL_US));
  return out;
}

/**
 * The plan for the upload in `path` (its moov whole, its mdat's header written), or undefined when
 * it is not one we remux early. `maxBytes`: the size the upload declared, for the limits.
 */
export async function planEarly(path: string, moovBody: Buffer, mdat: { dataAt: number; end: number }, maxBytes: number): Promise<EarlyPlan | undefined> {
  const tracks = sampleRanges(moovBody);
  if (!tracks) return undefined;
  // ffprobe reads the upload's start: the moov, with no frame yet, gives every field a plan uses.
  const sniffed = await sniff(path);
  if (!sniffed || !STREAMED.has(sniffed.ext)) return undefined;
  const lim = { timeoutMs: 60_000, cpuSeconds: 60, memoryBytes: 1024 ** 3, fileBytes: 0 };
  const [p, records] = await Promise.all([probe(path, sniffed.ext), configRecords(path, sniffed.ext, lim)]);
  // The mov demuxer makes one stream per trak, in order: anything else and our tables are not its.
  // Phones write two to four tracks; a thousand would make the merge below cost seconds.
  if (tracks.length > MAX_TRACKS || p.streams.length !== tracks.length || p.streams.some((s, i) => s.index !== i)) return undefined;
  // Every track's samples, not only those we walk, must lie in the mdat apart from each other:
  // samples that overlap let a small file ask for a huge output (review, session 7).
  const scrubbable = lengthSizes(scrubbableStreams(keptStreams(p)), p.streams, records);
  if (!scrubbable) return undefined;
  const walk = tracks.map((_, index) => {
    const s = scrubbable.get(index);
    return s && { L: s.L, codec: FILL_CODECS.indexOf(s.codec) };
  });
  const samples = mergeInFileOrder(tracks, walk, mdat.dataAt, mdat.end);
  if (!samples) return undefined;

  // No packet is known yet: we plan as if none brought a record of its own, as a whole file's
  // listing usually says, and the check compares this plan with the one made from that listing.
  const { reencode, ...decided } = decidePlan(path, sniffed, { probe: p, records, packets: [], scrubbed: scrubbable.size > 0 ? 0 : undefined });
  // A re-encode (MJPEG, a sound record we refuse) costs far more than a copy: it waits for the
  // whole file, under the ordinary limits.
  if (reencode) return undefined;
  // The ordinary limits for a file of the size the upload declared.
  const mib = Math.ceil(maxBytes / MIB);
  return {
    sniffed,
    plan: {
      ...decided,
      args: followArgs(decided.args, path, mdat.end),
      limits: { timeoutMs: UPLOAD_WAIT_MS, cpuSeconds: 60 + mib, memoryBytes: 1536 * MIB, fileBytes: (mib + 64) * MIB },
    },
    samples,
  };
}

/**
 * Checks that the samples of every track rise and lie inside the mdat without overlapping, and
 * lists the frames to walk (those of `walk`'s tracks) as flat (pos, size, NAL length size, codec)
 * quadruples in file order: a linear merge (sorting a crafted table of millions of entries would
 * hold the event loop for seconds: review, session 7).
 */
function mergeInFileOrder(
  tracks: Float64Array[], walk: Array<{ L: number; codec: number } | undefined>, from: number, to: number,
): Float64Array | undefined {
  const heads = tracks.map(() => 0);
  const out = new Float64Array(tracks.reduce((n, t, i) => n + (walk[i] ? t.length * 2 : 0), 0));
  let o = 0;
  let prevEnd = from;
  for (;;) {
    let best = -1;
    for (const [t, q] of tracks.entries()) {
      if (heads[t]! < q.length && (best < 0 || q[heads[t]!]! < tracks[best]![heads[best]!]!)) best = t;
    }
    if (best < 0) return out;
    const q = tracks[best]!;
    const i = heads[best]!;
    const [pos, size] = [q[i]!, q[i + 1]!];
    if (pos < prevEnd || pos + size > to) return undefined;
    prevEnd = pos + size;
    const w = walk[best];
    if (w) {
      out.set([pos, size, w.L, w.codec], o);
      o += 4;
    }
    heads[best] = i + 2;
  }
}
